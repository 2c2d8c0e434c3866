"""Each event type's validated data becomes its typed record (what the engine matches on)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from csdesk.ingest.schema import parse_event
from csdesk.platform_events import (
    EVENT_TYPES,
    CallInbound,
    MessageReceived,
    OrderCreated,
    OrderLine,
    OrderPaid,
    OrderShipped,
    PlatformEvent,
    RatingReceived,
    RefundCancelled,
    RefundRequested,
    ReturnReceived,
    record_of,
)

CASES: list[tuple[str, dict[str, Any], PlatformEvent]] = [
    (
        "message.received",
        {"buyer_nick": "小王", "text": "在吗", "buyer_tier": "vip"},
        MessageReceived("小王", "在吗", "vip", None),
    ),
    (
        "order.created",
        {
            "buyer_nick": "小王",
            "order_id": "T-1",
            "amount": "12.50",
            "items": [{"sku": "CUP-1", "title": "保温杯", "qty": 2, "price": "6.25"}],
            "gifts": ["杯套"],
        },
        OrderCreated(
            buyer_nick="小王",
            order_id="T-1",
            amount_fen=1250,
            items=(OrderLine("CUP-1", "保温杯", 2, 625),),
            gifts=("杯套",),
        ),
    ),
    ("order.paid", {"order_id": "T-1"}, OrderPaid("T-1")),
    ("order.shipped", {"order_id": "T-1", "tracking_no": "SF1"}, OrderShipped("T-1", "SF1")),
    (
        "refund.requested",
        {
            "refund_id": "R-1",
            "order_id": "T-1",
            "kind": "refund_only",
            "amount": 3,
            "reason": "不想要了",
        },
        RefundRequested("R-1", "T-1", "refund_only", 300, "不想要了"),
    ),
    ("refund.cancelled", {"refund_id": "R-1"}, RefundCancelled("R-1")),
    ("return.received", {"refund_id": "R-1"}, ReturnReceived("R-1")),
    (
        "call.inbound",
        {"call_id": "C-1", "caller_phone": "13800001234"},
        CallInbound("C-1", "13800001234", None),
    ),
    (
        "rating.received",
        {"buyer_nick": "小王", "score": 2, "comment": " 回复太慢 "},
        RatingReceived("小王", 2, "回复太慢"),
    ),
]


def test_every_type_has_a_case() -> None:
    assert [event_type for event_type, _, _ in CASES] == list(EVENT_TYPES)


@pytest.mark.parametrize(("event_type", "data", "record"), CASES, ids=[c[0] for c in CASES])
def test_validated_data_becomes_its_record(
    event_type: str, data: dict[str, Any], record: PlatformEvent
) -> None:
    body = {
        "event_id": "e-1",
        "type": event_type,
        "occurred_at": "2026-11-11T00:00:00+08:00",
        "shop_id": "shop-1",
        "data": data,
    }
    event = parse_event(json.dumps(body).encode())
    # Stored as JSON, applied later: the record comes from the stored form.
    stored = json.loads(json.dumps(event.data))
    assert record_of(event_type, stored) == record


def test_an_unknown_type_has_no_record() -> None:
    with pytest.raises(KeyError):
        record_of("order.exploded", {})


def test_a_rating_without_comment_has_none() -> None:
    body = {
        "event_id": "e-2",
        "type": "rating.received",
        "occurred_at": "2026-11-11T00:00:00+08:00",
        "shop_id": "shop-1",
        "data": {"buyer_nick": "小王", "score": 5, "comment": "   "},
    }
    event = parse_event(json.dumps(body).encode())
    assert record_of(event.type, event.data) == RatingReceived("小王", 5, None)
