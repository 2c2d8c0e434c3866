"""What the QC actions share: access names, the shop's QC settings, bus events, lookups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeGuard

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.errors import BadInputError, NotFoundError
from csdesk.qc.aql import PlanInputError, parse_aql, parse_level
from csdesk.qc.check import Message as CheckMessage
from csdesk.qc.check import Sender, Transcript
from csdesk.qc.sampling import FixedCount, FixedPercent, Iso2859, LotBy, SamplingPolicy, SizeRule
from csdesk.storage.enums import MessageSender, ServiceRole
from csdesk.storage.models import Conversation, Message, Shop

# Bus events (recipients: the agent, the inspector, the supervisors).
FINDING_CREATED: Final = "qc.finding.created"
FINDING_CHANGED: Final = "qc.finding.changed"
SAMPLE_ASSIGNED: Final = "qc.sample.assigned"

DEFAULT_DISPUTE_DAYS: Final = 7
MAX_COMMENT: Final = 1000


@dataclass(frozen=True)
class QcSettings:
    """The shop's ``qc`` section (``Shop.config["qc"]``), defaults filled in."""

    dispute_days: int = DEFAULT_DISPUTE_DAYS
    """Agents acknowledge or dispute a finding within this many days; the QC lead answers
    a dispute within the same."""
    sampling: SamplingPolicy = field(default_factory=SamplingPolicy)
    seed: str = "csdesk"


def _size_rule(spec: Mapping[str, Any], field: str) -> SizeRule:
    kind = spec.get("kind", "iso2859")
    try:
        if kind == "iso2859":
            return Iso2859(
                level=parse_level(str(spec.get("level", "II"))),
                aql=parse_aql(str(spec.get("aql", "2.5"))),
            )
        if kind == "percent":
            return FixedPercent(float(spec.get("percent", 5)))
        if kind == "count":
            return FixedCount(int(spec.get("count", 3)))
    except (PlanInputError, ValueError, TypeError) as exc:
        raise BadInputError(field, str(exc)) from None
    raise BadInputError(f"{field}.kind", "must be iso2859, percent or count")


def qc_settings(config: Mapping[str, Any] | None) -> QcSettings:
    """Read (and check) a shop's ``qc`` section; :class:`BadInputError` names a bad key."""
    section = (config or {}).get("qc") or {}
    if not isinstance(section, Mapping):
        raise BadInputError("qc", "must be an object")
    days = section.get("dispute_days", DEFAULT_DISPUTE_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 60:
        raise BadInputError("qc.dispute_days", "must be a whole number of days, 1-60")
    raw = section.get("sampling") or {}
    if not isinstance(raw, Mapping):
        raise BadInputError("qc.sampling", "must be an object")
    lot_by = raw.get("lot_by", LotBy.AGENT_DAY.value)
    if lot_by not in {m.value for m in LotBy}:
        raise BadInputError("qc.sampling.lot_by", "must be agent_day or role_day")
    roles = raw.get("roles") or {}
    if not isinstance(roles, Mapping):
        raise BadInputError("qc.sampling.roles", "must be an object: role → rule")
    role_rules: dict[str, SizeRule] = {}
    for role, spec in roles.items():
        if role not in {r.value for r in ServiceRole} or not isinstance(spec, Mapping):
            raise BadInputError(f"qc.sampling.roles.{role}", "a service role → {kind, ...}")
        role_rules[role] = _size_rule(spec, f"qc.sampling.roles.{role}")
    policy = SamplingPolicy(
        rule=_size_rule(raw, "qc.sampling"), lot_by=LotBy(lot_by), role_rules=role_rules
    )
    return QcSettings(dispute_days=days, sampling=policy, seed=str(section.get("seed", "csdesk")))


async def shop_config(session: AsyncSession, shop_id: str) -> dict[str, Any]:
    config = await session.scalar(select(Shop.config).where(Shop.id == shop_id))
    if config is None:
        raise NotFoundError(f"shop {shop_id}: not found")
    return dict(config)


def transcript_of(role: ServiceRole, messages: list[Message]) -> Transcript:
    return Transcript(
        role,
        tuple(
            CheckMessage(
                Sender.AGENT if m.sender is MessageSender.AGENT else Sender.BUYER, m.text, m.sent_at
            )
            for m in messages
        ),
    )


def service_role(conversation: Conversation) -> ServiceRole:
    try:
        return ServiceRole(conversation.role)
    except ValueError:
        return ServiceRole.PRESALES


def to_user_event(
    kind: str, shop_id: str, user_id: int | None, payload: dict[str, Any]
) -> BusEvent:
    recipients = (ev.SUPERVISORS,) if user_id is None else (ev.to_user(user_id), ev.SUPERVISORS)
    return BusEvent(kind, shop_id, recipients, payload)


def text_field(value: str, field: str, *, required: bool, limit: int = MAX_COMMENT) -> str:
    cleaned = value.strip()
    if required and not cleaned:
        raise BadInputError(field, "is required (必填)")
    if len(cleaned) > limit:
        raise BadInputError(field, f"at most {limit} characters")
    return cleaned


def is_id(value: object) -> TypeGuard[int]:
    """A database id: a positive integer within 64 bits (PostgreSQL's bigint)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63
