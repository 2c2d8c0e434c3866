"""Refund: platform deadlines, duties, urgency rising as the deadline nears."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csdesk.roles import refund
from csdesk.roles.base import BuyerFacts, ContactFacts, Intent, RefundFacts, Risk
from csdesk.roles.config import RoutingConfig
from csdesk.storage.enums import BuyerTier, Channel, OrderStatus, RefundKind, ServiceRole

CONFIG = RoutingConfig()
T0 = datetime(2024, 11, 12, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai: finance has gone home
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("kind", "status", "after"),
    [
        (RefundKind.REFUND_ONLY, OrderStatus.CREATED, DAY),
        (RefundKind.REFUND_ONLY, OrderStatus.PAID, DAY),
        (RefundKind.REFUND_ONLY, OrderStatus.SHIPPED, 5 * DAY),
        (RefundKind.REFUND_ONLY, OrderStatus.RECEIVED, 5 * DAY),
        (RefundKind.RETURN_AND_REFUND, OrderStatus.SHIPPED, 5 * DAY),
        (RefundKind.RETURN_AND_REFUND, OrderStatus.RECEIVED, 5 * DAY),
        (RefundKind.RETURN_AND_REFUND, OrderStatus.PAID, 5 * DAY),
    ],
)
def test_refund_deadline(kind: RefundKind, status: OrderStatus, after: timedelta) -> None:
    assert refund.refund_deadline(kind, status, T0, CONFIG) == T0 + after


def test_deadlines_are_shop_config() -> None:
    shop = RoutingConfig.from_overrides(
        {"refund": {"unshipped_deadline_s": 12 * 3600, "shipped_deadline_s": 3 * 86400}}
    )
    paid = refund.refund_deadline(RefundKind.REFUND_ONLY, OrderStatus.PAID, T0, shop)
    shipped = refund.refund_deadline(RefundKind.REFUND_ONLY, OrderStatus.SHIPPED, T0, shop)
    assert (paid, shipped) == (T0 + timedelta(hours=12), T0 + 3 * DAY)


@pytest.mark.parametrize(
    ("kind", "status", "duties"),
    [
        (RefundKind.REFUND_ONLY, OrderStatus.PAID, ("review", "processing")),
        (RefundKind.REFUND_ONLY, OrderStatus.SHIPPED, ("review",)),
        (RefundKind.RETURN_AND_REFUND, OrderStatus.RECEIVED, ("review", "processing")),
    ],
)
def test_duties(kind: RefundKind, status: OrderStatus, duties: tuple[str, ...]) -> None:
    assert refund.duties_for(kind, status) == duties


@pytest.mark.parametrize(
    ("elapsed", "points"),
    [
        (timedelta(0), 4.0),  # 24 h left
        (timedelta(hours=13), 8.0),  # 11 h left
        (timedelta(hours=19), 12.0),  # 5 h left
        (timedelta(hours=22), 18.0),  # 2 h left
        (timedelta(hours=23, minutes=30), 25.0),
        (timedelta(hours=25), 30.0),  # overdue
    ],
)
def test_urgency_rises_as_the_deadline_nears(elapsed: timedelta, points: float) -> None:
    deadline = refund.refund_deadline(RefundKind.REFUND_ONLY, OrderStatus.PAID, T0, CONFIG)
    reason = refund.urgency(deadline, T0 + elapsed, CONFIG)
    assert reason is not None
    assert reason.points == points


def test_next_urgency_change() -> None:
    deadline = T0 + DAY
    assert refund.next_urgency_change(deadline, T0, CONFIG) == deadline - timedelta(hours=12)


def facts(
    kind: RefundKind = RefundKind.REFUND_ONLY, status: OrderStatus = OrderStatus.PAID
) -> RefundFacts:
    return RefundFacts(
        refund_id=5,
        order_id=1,
        kind=kind,
        order_status=status,
        amount_fen=59_900,
        requested_at=T0,
        buyer=BuyerFacts(7, BuyerTier.VIP),
    )


def test_intake_unshipped_refund() -> None:
    decision = refund.intake(facts(), CONFIG)
    assert (decision.role, decision.kind) == (ServiceRole.REFUND, "refund_review")
    assert decision.deadline_at == T0 + DAY
    assert decision.notes == ("duty:review", "duty:processing")
    by_factor = {r.factor: r.points for r in decision.score.reasons}
    assert by_factor == {
        "role": 20.0,
        "intent": 10.0,
        "order_value": 4.0,
        "buyer_tier": 5.0,
        "unshipped": 4.0,
    }


def test_intake_shipped_refund_has_no_intercept_bonus() -> None:
    decision = refund.intake(facts(status=OrderStatus.SHIPPED), CONFIG)
    assert decision.deadline_at == T0 + 5 * DAY
    assert "unshipped" not in {r.factor for r in decision.score.reasons}


def test_double11_boosts_refunds() -> None:
    plain = refund.intake(facts(), CONFIG).score.points
    promo = refund.intake(facts(), CONFIG, promotion="double11").score.points
    assert promo == plain + 10


def test_return_received_is_processing() -> None:
    decision = refund.intake_return_received(
        facts(RefundKind.RETURN_AND_REFUND, OrderStatus.RECEIVED), T0 + DAY, CONFIG
    )
    assert (decision.kind, decision.notes) == ("refund_processing", ("duty:processing",))
    assert decision.deadline_at == T0 + 6 * DAY


def contact(risk: Risk) -> ContactFacts:
    return ContactFacts(Channel.CHAT, Intent.REFUND, risk, T0, BuyerFacts(7))


@pytest.mark.parametrize(("risk", "calls"), [(Risk.LOW, 0), (Risk.MEDIUM, 0), (Risk.HIGH, 1)])
def test_refund_chat(risk: Risk, calls: int) -> None:
    decision = refund.intake_chat(contact(risk), CONFIG)
    assert decision.due_at == T0 + timedelta(seconds=30)
    assert len(decision.followups) == calls


@pytest.mark.parametrize(("risk", "calls"), [(Risk.LOW, 0), (Risk.MEDIUM, 1), (Risk.HIGH, 1)])
def test_rejecting_a_risky_buyer_asks_the_hotline_to_call(risk: Risk, calls: int) -> None:
    followups = refund.reject_followups(contact(risk), T0, CONFIG)
    assert len(followups) == calls
    if followups:
        # 23:00 in Shanghai is quiet: the call waits for 08:00 (00:00 UTC)
        assert followups[0].due_at == datetime(2024, 11, 13, 0, 0, tzinfo=UTC)
        assert followups[0].role is ServiceRole.HOTLINE
