"""A shop's own configuration as read (店铺规则): the stored overrides of the routing,
assignment and promotion defaults, and what the page's form shows beside them (the built-in
values, the promotion profiles, the built-in triage phrases). Replacing it, and trying a
draft, are ``actions.shop_config``."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.roles.config import RoutingConfig
from csdesk.roles.triage_rules import DEFAULT_PHRASES, Intent, Risk
from csdesk.routing.assignment import AssignmentConfig
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import Shop

READ_ACCESS: Final = "shop_config.read"
SECTIONS: Final = ("routing", "assignment", "promotion", "qc", "dashboard", "training")

# The settings the page offers as form fields (everything else stays in the JSON view):
# dotted key in the document, its unit on the page, and the built-in value in that unit.
_ROUTING = RoutingConfig()
_ASSIGNMENT = AssignmentConfig()
FORM_FIELDS: Final = (
    ("routing.payment_chasing.delay_s", "minutes", _ROUTING.payment_chasing.delay_s),
    ("routing.payment_chasing.max_attempts", "count", _ROUTING.payment_chasing.max_attempts),
    ("routing.payment_chasing.quiet_start", "clock", str(_ROUTING.payment_chasing.quiet_start)),
    ("routing.payment_chasing.quiet_end", "clock", str(_ROUTING.payment_chasing.quiet_end)),
    ("routing.payment_chasing.big_order_fen", "yuan", _ROUTING.payment_chasing.big_order_fen),
    ("routing.refund.unshipped_deadline_s", "hours", _ROUTING.refund.unshipped_deadline_s),
    ("routing.refund.shipped_deadline_s", "hours", _ROUTING.refund.shipped_deadline_s),
    ("assignment.protection_s", "hours", _ASSIGNMENT.protection_s),
    ("assignment.unanswered_reassign_s", "minutes", _ASSIGNMENT.unanswered_reassign_s),
)


async def stored_config(sessions: SessionFactory, shop_id: str) -> dict[str, Any]:
    async with sessions() as session:
        config = await session.scalar(select(Shop.config).where(Shop.id == shop_id))
    return dict(config or {})


async def read_shop_config(sessions: SessionFactory, actor: CurrentUser) -> dict[str, Any]:
    require(actor, READ_ACCESS)
    return {"config": await stored_config(sessions, actor.shop_id), "sections": list(SECTIONS)}


def form_defaults() -> dict[str, Any]:
    """What the page's form needs besides the document: the built-in values it shows when
    the shop has not changed them, the promotion profiles, and the built-in phrases (so an
    owner sees that 退款 already exists, and with what weight)."""
    return {
        "fields": [
            {"key": key, "unit": unit, "default": default} for key, unit, default in FORM_FIELDS
        ],
        "promotions": sorted(_ROUTING.scoring.promotions),
        "intents": [intent.value for intent in Intent],
        "risks": [risk.value for risk in Risk],
        "phrases": {
            rule.phrase: {
                "intent": rule.intent.value if rule.intent else None,
                "risk": rule.risk.value if rule.risk else None,
                "weight": rule.weight,
            }
            for rule in DEFAULT_PHRASES
        },
    }


__all__ = [
    "FORM_FIELDS",
    "READ_ACCESS",
    "SECTIONS",
    "form_defaults",
    "read_shop_config",
    "stored_config",
]
