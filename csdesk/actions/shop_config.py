"""A shop's own configuration (``Shop.config``): its overrides of the built-in routing,
assignment and promotion defaults (``routing.config``, ``routing.assignment``).

Owners and admins replace it as a whole document. It is checked exactly as the engine will
read it, so a saved configuration can never fail later at event time, and a mistake is
refused naming its key (``routing.payment_chasing.delay_s: ...``). Every change is
audited with the document before and after. Routing picks it up within the engine's
configuration cache (``RoutingEngine.config_ttl_s``, 2 s by default).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.promotions import after_promotion_change, scheduled_profiles
from csdesk.actions.qc.common import qc_settings
from csdesk.actions.work_items import InputError
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.reads.dashboard import MAX_CONVERSION_DAYS
from csdesk.reads.shop_config import READ_ACCESS, SECTIONS, stored_config
from csdesk.roles.config import ConfigError, RoutingConfig
from csdesk.roles.triage import classify
from csdesk.routing.assignment import AssignmentConfig
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import Shop
from csdesk.training.courses import CourseError
from csdesk.training.settings import parse_training_settings

EDIT_ACCESS: Final = "shop_config.edit"
AUDIT_ACTION: Final = "shop.config"
MAX_REASON: Final = 500
MAX_PREVIEW_TEXT: Final = 500


def check_config(config: dict[str, Any]) -> RoutingConfig:
    """Raise :class:`InputError` naming the first key the engine could not use; else the
    routing configuration the document makes."""
    for key in config:
        if key not in SECTIONS:
            raise InputError(key, f"unknown section; the sections are {', '.join(SECTIONS)}")
    try:
        routing = RoutingConfig.from_overrides(_section(config, "routing"))
    except ConfigError as exc:
        raise InputError(f"routing.{exc.key}", exc.message) from None
    try:
        AssignmentConfig.from_overrides(config.get("assignment"))
    except ValueError as exc:
        field, _, problem = str(exc).partition(": ")
        raise InputError(field or "assignment", problem or str(exc)) from None
    qc_settings(config)  # the QC section (dispute window, sampling plan), named when bad
    _check_dashboard(_section(config, "dashboard"))
    try:
        parse_training_settings(config)  # training: QC boost, reminders, points rules
    except CourseError as exc:
        raise InputError(exc.field, exc.message) from None
    promotion = config.get("promotion")
    if promotion is not None and (
        not isinstance(promotion, str) or promotion not in routing.scoring.promotions
    ):
        names = ", ".join(sorted(routing.scoring.promotions)) or "none defined"
        raise InputError(
            "promotion", f"must be null or a profile in routing.scoring.promotions ({names})"
        )
    return routing


def _check_dashboard(section: dict[str, Any] | None) -> None:
    """``dashboard.conversion_days``: the N of 询单转化率 (buyers who paid within N days of
    asking), 1 to ``MAX_CONVERSION_DAYS``."""
    for key, value in (section or {}).items():
        if key != "conversion_days":
            raise InputError(f"dashboard.{key}", "unknown setting; the one is conversion_days")
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not 1 <= value <= MAX_CONVERSION_DAYS
        ):
            raise InputError(
                "dashboard.conversion_days", f"must be a whole number 1-{MAX_CONVERSION_DAYS}"
            )


def _section(config: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = config.get(name)
    if value is not None and not isinstance(value, dict):
        raise InputError(name, "must be an object")
    return value


async def preview_triage(
    sessions: SessionFactory, actor: CurrentUser, config: dict[str, Any], text: str
) -> dict[str, Any]:
    """How a buyer's message would be triaged under ``config`` (not saved) and under the
    saved configuration: an owner tries a phrase edit before routing uses it."""
    require(actor, READ_ACCESS)
    draft = check_config(config)
    if not text.strip():
        raise InputError("text", "is required: a buyer message to try")
    if len(text) > MAX_PREVIEW_TEXT:
        raise InputError("text", f"is longer than {MAX_PREVIEW_TEXT} characters")
    saved = await stored_config(sessions, actor.shop_id)
    results = {}
    for name, routing in (
        ("draft", draft),
        ("saved", RoutingConfig.from_overrides(saved.get("routing"))),
    ):
        result = classify(text, routing.triage)
        results[name] = {**result.to_json(), "proactive_call": result.proactive_call}
    return results


async def replace_shop_config(
    deps: Deps,
    actor: CurrentUser,
    config: dict[str, Any],
    now: datetime,
    *,
    reason: str = "",
) -> dict[str, Any]:
    """Replace the shop's overrides with ``config`` (checked first); returns the stored one.
    A change of the live promotion re-scores the open items as its switch does
    (``actions.promotions.after_promotion_change``); a profile a schedule still names
    cannot be dropped."""
    require(actor, EDIT_ACCESS)
    routing = check_config(config)
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InputError("reason", f"is longer than {MAX_REASON} characters")
    async with transaction(deps) as (session, outbox):
        shop = await session.get(Shop, actor.shop_id, with_for_update=True)
        if shop is None:
            raise InputError("shop_id", f"unknown shop {actor.shop_id!r}")
        for profile, schedule_id in (await scheduled_profiles(session, shop.id)).items():
            if profile not in routing.scoring.promotions:
                raise InputError(
                    f"routing.scoring.promotions.{profile}",
                    f"is scheduled (#{schedule_id}): cancel the schedule before removing it",
                )
        before = dict(shop.config or {})
        shop.config = config
        if before.get("promotion") != config.get("promotion"):
            previous = before.get("promotion")
            await after_promotion_change(
                session,
                outbox,
                shop.id,
                previous if isinstance(previous, str) else None,
                now,
                by=actor.id,
            )
        audit.record(
            session,
            shop_id=shop.id,
            actor_id=actor.id,
            action=AUDIT_ACTION,
            target_type="shop",
            target_id=shop.id,
            at=now,
            reason=reason or None,
            detail={"before": before, "after": config},
        )
    return {"config": config, "sections": list(SECTIONS)}
