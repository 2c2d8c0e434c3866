"""Payment chasing: arq-style tables for the chase schedule, quiet hours, big orders."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from csdesk.roles import payment_chasing
from csdesk.roles.base import BuyerFacts, OrderFacts
from csdesk.roles.config import RoutingConfig
from csdesk.storage.enums import BuyerTier, OrderStatus, ServiceRole

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG = RoutingConfig()


def sh(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A Shanghai wall-clock time in November 2024, as UTC (how facts arrive)."""
    return datetime(2024, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("created", "attempts", "last", "now", "expected"),
    [
        # first chase: 15 min after the order
        (sh(11, 10), 0, None, sh(11, 10, 1), sh(11, 10, 15)),
        (sh(11, 10), 0, None, sh(11, 10), sh(11, 10, 15)),
        # overdue (the job ran late): due now
        (sh(11, 10), 0, None, sh(11, 11), sh(11, 11)),
        # quiet hours 22:00-08:00: wait for 08:00 shop time
        (sh(11, 21, 50), 0, None, sh(11, 21, 50), sh(12, 8)),
        (sh(11, 21, 44), 0, None, sh(11, 21, 44), sh(11, 21, 59)),
        (sh(11, 21, 45), 0, None, sh(11, 21, 45), sh(12, 8)),
        (sh(11, 23, 30), 0, None, sh(11, 23, 30), sh(12, 8)),
        (sh(12, 2), 0, None, sh(12, 2), sh(12, 8)),
        (sh(12, 7, 50), 0, None, sh(12, 7, 50), sh(12, 8, 5)),
        # later attempts: 4 h after the previous one
        (sh(11, 9), 1, sh(11, 9, 15), sh(11, 9, 16), sh(11, 13, 15)),
        (sh(11, 9), 2, sh(11, 13, 15), sh(11, 13, 16), sh(11, 17, 15)),
        (sh(11, 15), 1, sh(11, 19), sh(11, 19), sh(12, 8)),
        # at most 3 attempts
        (sh(11, 9), 3, sh(11, 17, 15), sh(11, 17, 16), None),
        (sh(11, 9), 4, sh(11, 17, 15), sh(11, 17, 16), None),
        # all attempts within 24 h of the order
        (sh(11, 7), 2, sh(11, 20, 30), sh(11, 20, 31), None),  # 08:00 next day >= 07:00
        (sh(11, 9), 2, sh(11, 21), sh(11, 21, 1), sh(12, 8)),  # 08:00 next day < 09:00
        (sh(11, 9), 0, None, sh(12, 9), None),  # nobody chased it in 24 h: too late now
        # across a month end
        (sh(30, 23, 50), 0, None, sh(30, 23, 50), sh(1, 8, month=12)),
    ],
)
def test_next_chase_at(
    created: datetime,
    attempts: int,
    last: datetime | None,
    now: datetime,
    expected: datetime | None,
) -> None:
    assert payment_chasing.next_chase_at(created, attempts, last, now, CONFIG) == expected


def test_next_chase_needs_the_last_attempt_after_the_first() -> None:
    with pytest.raises(ValueError, match="last_attempt_at"):
        payment_chasing.next_chase_at(sh(11, 9), 1, None, sh(11, 10), CONFIG)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        payment_chasing.next_chase_at(datetime(2024, 11, 11, 9), 0, None, sh(11, 10), CONFIG)


SHOP = RoutingConfig.from_overrides(
    {
        "payment_chasing": {
            "delay_s": 300,
            "quiet_start": "23:00",
            "quiet_end": "07:30",
            "max_attempts": 1,
        }
    }
)


@pytest.mark.parametrize(
    ("created", "attempts", "last", "expected"),
    [
        (sh(11, 10), 0, None, sh(11, 10, 5)),
        (sh(11, 22, 50), 0, None, sh(11, 22, 55)),
        (sh(11, 22, 56), 0, None, sh(12, 7, 30)),
        (sh(11, 10), 1, sh(11, 10, 5), None),
    ],
)
def test_shop_settings_change_the_schedule(
    created: datetime, attempts: int, last: datetime | None, expected: datetime | None
) -> None:
    assert payment_chasing.next_chase_at(created, attempts, last, created, SHOP) == expected


@pytest.mark.parametrize(
    ("at", "quiet"),
    [
        (sh(11, 21, 59), False),
        (sh(11, 22, 0), True),
        (sh(11, 23, 59), True),
        (sh(12, 0, 0), True),
        (sh(12, 7, 59), True),
        (sh(12, 8, 0), False),
        (sh(12, 12, 0), False),
    ],
)
def test_is_quiet(at: datetime, quiet: bool) -> None:
    assert payment_chasing.is_quiet(at, CONFIG) is quiet


@pytest.mark.parametrize(
    ("amount_fen", "role"),
    [
        (0, ServiceRole.PAYMENT_CHASING),
        (199_999, ServiceRole.PAYMENT_CHASING),
        (200_000, ServiceRole.HOTLINE),
        (1_000_000, ServiceRole.HOTLINE),
    ],
)
def test_big_orders_are_chased_by_phone(amount_fen: int, role: ServiceRole) -> None:
    assert payment_chasing.chase_role(amount_fen, CONFIG) is role


def order(amount_fen: int = 9_900, status: OrderStatus = OrderStatus.CREATED) -> OrderFacts:
    return OrderFacts(
        order_id=1, buyer_id=7, status=status, amount_fen=amount_fen, created_at=sh(11, 10)
    )


BUYER = BuyerFacts(7, BuyerTier.VIP)


@pytest.mark.parametrize(
    ("facts", "role", "kind", "due", "escalated"),
    [
        (order(), ServiceRole.PAYMENT_CHASING, "payment_chase", sh(11, 10, 15), False),
        (order(250_000), ServiceRole.HOTLINE, "phone_chase", sh(11, 10, 15), True),
        (order(status=OrderStatus.PAID), None, None, None, False),
        (order(status=OrderStatus.CLOSED), None, None, None, False),
    ],
)
def test_plan_chase(
    facts: OrderFacts,
    role: ServiceRole | None,
    kind: str | None,
    due: datetime | None,
    escalated: bool,
) -> None:
    decision = payment_chasing.plan_chase(facts, BUYER, 0, None, sh(11, 10, 1), CONFIG)
    if role is None:
        assert decision is None
        return
    assert decision is not None
    assert (decision.role, decision.kind, decision.due_at) == (role, kind, due)
    assert (decision.escalation is not None) is escalated
    assert "VIP买家 +5" in [r.reason for r in decision.score.reasons]


def test_plan_chase_respects_quiet_hours_for_phone_chases() -> None:
    late = OrderFacts(1, 7, OrderStatus.CREATED, 300_000, sh(11, 21, 50))
    decision = payment_chasing.plan_chase(late, BUYER, 0, None, sh(11, 21, 51), CONFIG)
    assert decision is not None
    assert (decision.role, decision.due_at) == (ServiceRole.HOTLINE, sh(12, 8))


@pytest.mark.parametrize(
    ("buyer_id", "chasers", "designated", "expected"),
    [
        (7, {}, 100, 100),  # nobody chases this buyer yet: the day's designated chaser
        (7, {7: 55}, 100, 55),  # one chaser per buyer: keep the one already chasing
        (7, {8: 55}, 100, 100),
        (7, {}, None, None),  # nobody designated today: the engine decides
    ],
)
def test_pick_chaser(
    buyer_id: int, chasers: dict[int, int], designated: int | None, expected: int | None
) -> None:
    assert payment_chasing.pick_chaser(buyer_id, chasers, designated) == expected


# Chat chases keep 22:00-08:00; this shop's hotline calls out only 09:00-21:00.
CALLS_9_TO_21 = RoutingConfig.from_overrides(
    {"hotline": {"outbound_quiet_start": "21:00", "outbound_quiet_end": "09:00"}}
)


@pytest.mark.parametrize(
    ("at", "phone", "expected"),
    [
        (sh(11, 12), False, sh(11, 12)),
        (sh(11, 12), True, sh(11, 12)),
        (sh(11, 23), False, sh(12, 8)),
        (sh(11, 23), True, sh(12, 9)),  # a call also waits for the hotline's hours
        (sh(12, 8, 30), False, sh(12, 8, 30)),
        (sh(12, 8, 30), True, sh(12, 9)),
        (sh(11, 21, 30), False, sh(11, 21, 30)),
        (sh(11, 21, 30), True, sh(12, 9)),
    ],
)
def test_contact_allowed_at(at: datetime, phone: bool, expected: datetime) -> None:
    assert payment_chasing.contact_allowed_at(at, CALLS_9_TO_21, phone=phone) == expected


def test_chat_chase_script_names_the_buyer_order_and_amount() -> None:
    script = payment_chasing.chat_chase_script("某某旗舰店", "小鱼", "T-1001", 129_905, "投影仪")
    for part in ("小鱼您好", "某某旗舰店", "T-1001", "¥1299.05", "投影仪"):
        assert part in script
    # An offer to help, once: no pressure words.
    assert not any(word in script for word in ("赶紧", "马上付款", "最后机会", "不知道"))
    assert payment_chasing.chat_chase_script("某某旗舰店", "", "T-1", 5, "").startswith("亲您好")
