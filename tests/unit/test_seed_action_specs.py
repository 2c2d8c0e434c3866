"""The typed specs the batch write actions take: what they accept and what they refuse.

These actions are shared by seeding and event ingestion, so a malformed spec is refused
before it reaches the database, with a message that names the problem.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csdesk.actions.agents import AgentProfileSpec, ShiftSpec
from csdesk.actions.conversations import ConversationSpec, MessageSpec
from csdesk.actions.orders import OrderItem, OrderSpec
from csdesk.actions.refunds import RefundDeadlines, RefundSpec
from csdesk.storage.enums import (
    Channel,
    ConversationStatus,
    MessageSender,
    OrderStatus,
    RefundKind,
    RefundStatus,
    ServiceRole,
)

T0 = datetime(2026, 11, 11, 0, 5, tzinfo=UTC)
HOUR = timedelta(hours=1)
ITEM = OrderItem("TV-0001", "云川 65英寸 电视", 1, 299_900)


def order(**changes: Any) -> OrderSpec:
    fields: dict[str, Any] = {
        "external_id": "3000000000000000001",
        "buyer_id": 1,
        "status": OrderStatus.CREATED,
        "items": (ITEM,),
        "created_at": T0,
    }
    fields.update(changes)
    return OrderSpec(**fields)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"status": OrderStatus.PAID, "paid_at": T0 + HOUR},
        {"status": OrderStatus.SHIPPED, "paid_at": T0 + HOUR, "shipped_at": T0 + 5 * HOUR},
        {
            "status": OrderStatus.RECEIVED,
            "paid_at": T0 + HOUR,
            "shipped_at": T0 + 5 * HOUR,
            "received_at": T0 + 50 * HOUR,
        },
        {"status": OrderStatus.CLOSED, "closed_at": T0 + 72 * HOUR},
        {"status": OrderStatus.CLOSED, "paid_at": T0 + HOUR, "closed_at": T0 + 3 * HOUR},
    ],
)
def test_orders_in_every_status_are_accepted(changes: dict[str, Any]) -> None:
    assert order(**changes).total_fen == 299_900


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"status": OrderStatus.PAID}, "needs paid_at"),
        ({"status": OrderStatus.SHIPPED, "paid_at": T0 + HOUR}, "needs shipped_at"),
        ({"status": OrderStatus.CLOSED}, "needs closed_at"),
        ({"paid_at": T0 + HOUR}, "unpaid order has no paid_at"),
        ({"status": OrderStatus.PAID, "paid_at": T0 - HOUR}, "out of order"),
        ({"items": ()}, "no items"),
        ({"external_id": ""}, "must not be empty"),
        ({"created_at": datetime(2026, 11, 11)}, "timezone-aware"),
        ({"amount_fen": -1}, "must not be negative"),
    ],
)
def test_malformed_orders_are_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        order(**changes)


def test_the_amount_defaults_to_the_items_and_can_carry_a_discount() -> None:
    two = OrderItem("FD-0001", "每日坚果", 2, 8_900)
    assert order(items=(ITEM, two)).total_fen == 299_900 + 17_800
    assert order(items=(ITEM, two), amount_fen=287_700).total_fen == 287_700


@pytest.mark.parametrize(
    ("shipped", "deadline"),
    [(False, T0 + timedelta(hours=24)), (True, T0 + timedelta(days=5))],
)
def test_platform_refund_deadlines(shipped: bool, deadline: datetime) -> None:
    assert RefundDeadlines().deadline(T0, goods_shipped=shipped) == deadline


def test_refund_deadlines_are_configurable() -> None:
    promotion = RefundDeadlines(unshipped=timedelta(hours=48), shipped=timedelta(days=7))
    assert promotion.deadline(T0, goods_shipped=False) == T0 + timedelta(hours=48)


def refund(**changes: Any) -> RefundSpec:
    fields: dict[str, Any] = {
        "external_id": "20000000000000001",
        "order_id": 1,
        "buyer_id": 1,
        "kind": RefundKind.REFUND_ONLY,
        "status": RefundStatus.REQUESTED,
        "amount_fen": 100,
        "reason": "拍错了/多拍了",
        "requested_at": T0,
        "goods_shipped": False,
    }
    fields.update(changes)
    return RefundSpec(**fields)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"kind": RefundKind.RETURN_AND_REFUND}, "nothing to return before shipping"),
        ({"status": RefundStatus.RETURN_RECEIVED}, "refund-only has no return parcel"),
        ({"status": RefundStatus.REFUNDED}, "needs resolved_at"),
        ({"resolved_at": T0 - HOUR}, "resolved before it was requested"),
        ({"amount_fen": 0}, "must be positive"),
    ],
)
def test_malformed_refunds_are_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        refund(**changes)


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda: AgentProfileSpec(1, ()), "holds no service role"),
        (
            lambda: AgentProfileSpec(1, (ServiceRole.REFUND, ServiceRole.REFUND)),
            "listed twice",
        ),
        (lambda: AgentProfileSpec(1, (ServiceRole.HOTLINE,), chat_capacity=-1), "negative"),
        (lambda: ShiftSpec(1, ServiceRole.REFUND, T0, T0), "ends before it starts"),
        (
            lambda: MessageSpec(MessageSender.BUYER, "在吗", T0, author_id=3),
            "only agent messages",
        ),
        (
            lambda: ConversationSpec(
                Channel.CHAT, ServiceRole.PRESALES, ConversationStatus.CLOSED, T0
            ),
            "needs closed_at",
        ),
        (
            lambda: ConversationSpec(
                Channel.CHAT,
                ServiceRole.PRESALES,
                ConversationStatus.QUEUED,
                T0,
                messages=(
                    MessageSpec(MessageSender.BUYER, "在吗", T0 + HOUR),
                    MessageSpec(MessageSender.BUYER, "人呢", T0),
                ),
            ),
            "order they were sent",
        ),
    ],
)
def test_malformed_team_and_conversation_specs_are_refused(build: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        build()
