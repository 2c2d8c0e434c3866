"""Which console gets which bus event: recipients, roles on shift, shop boundaries."""

from __future__ import annotations

import pytest

from csdesk.bus.base import BusEvent
from csdesk.realtime.audience import Audience, receives
from csdesk.storage.enums import UserRole

SHOP = "shop-a"
AGENT = Audience(SHOP, 7, UserRole.AGENT, frozenset({"presales", "refund"}))
OFF_SHIFT = Audience(SHOP, 8, UserRole.AGENT)
LEAD = Audience(SHOP, 9, UserRole.SUPERVISOR)
OWNER = Audience(SHOP, 10, UserRole.OWNER)
ADMIN = Audience(SHOP, 11, UserRole.ADMIN)
QC = Audience(SHOP, 12, UserRole.QC_INSPECTOR)
OTHER_SHOP_AGENT = Audience("shop-b", 7, UserRole.AGENT, frozenset({"presales"}))
OTHER_SHOP_OWNER = Audience("shop-b", 13, UserRole.OWNER)


def event(*recipients: str, shop: str = SHOP) -> BusEvent:
    return BusEvent("conversation.queued", shop, recipients)


@pytest.mark.parametrize(
    ("audience", "bus_event", "expected"),
    [
        (AGENT, event("user:7"), True),
        (AGENT, event("user:8"), False),
        (AGENT, event("user:70"), False),
        (AGENT, event("role:presales"), True),
        (AGENT, event("role:refund", "supervisors"), True),
        (AGENT, event("role:hotline"), False),
        (AGENT, event("supervisors"), False),
        (OFF_SHIFT, event("role:presales"), False),
        (OFF_SHIFT, event("user:8"), True),
        (LEAD, event("supervisors"), True),
        (LEAD, event("role:presales", "supervisors"), True),
        (LEAD, event("role:presales"), False),
        (OWNER, event("supervisors"), True),
        (ADMIN, event("supervisors"), True),
        (QC, event("supervisors"), False),
        (QC, event("user:12"), True),
        (AGENT, event(), False),
        # Same user id, same role, other shop: never.
        (OTHER_SHOP_AGENT, event("user:7", "role:presales"), False),
        (OTHER_SHOP_OWNER, event("supervisors"), False),
        (OTHER_SHOP_OWNER, event("supervisors", shop="shop-b"), True),
    ],
)
def test_receives(audience: Audience, bus_event: BusEvent, expected: bool) -> None:
    assert receives(audience, bus_event) is expected


def test_recipients_follow_roles_on_shift() -> None:
    assert AGENT.recipients == {"user:7", "role:presales", "role:refund"}
    moved = AGENT.with_roles(["hotline"])
    assert moved.recipients == {"user:7", "role:hotline"}
    assert LEAD.with_roles(["refund"]).recipients == {"user:9", "role:refund", "supervisors"}
