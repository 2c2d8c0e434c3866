"""Platform events (``POST /api/v1/events``): the list of types, and one typed record each.

This is the one list of event types: the validator (``ingest.schema``) accepts these, the
engine dispatches on the records with ``match``, and a test holds the OpenAPI document and
``docs/events.md`` to it. An event is validated and normalized at the door (amounts in fen,
times aware UTC), stored as that JSON, and turned into its record once when it is applied
(:func:`record_of`); handlers read typed fields, never the dict.

Pure: no I/O, nothing from the rest of csdesk, so every layer may import it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final


@dataclass(frozen=True)
class PlatformEventIn:
    """A validated event envelope as accepted (``ingest.schema.parse_event``); ``data`` is
    normalized (amounts in fen, times aware UTC) and stored as it is."""

    event_id: str
    type: str
    occurred_at: datetime
    shop_id: str
    data: dict[str, Any] = field(default_factory=dict)
    body_hash: str | None = None
    """:func:`fingerprint` of what it says (None: not from HTTP, e.g. the demo)."""


def fingerprint(event_type: str, occurred_at: datetime, data: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of an event's content as validated (type, time, normalized data), so a
    repeat sent with other spacing, key order or ``"199.00"`` for ``199`` is the same event,
    and one with another text or amount is not."""
    canonical = json.dumps(
        [event_type, occurred_at.isoformat(), data],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    title: str
    qty: int
    price_fen: int


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A buyer wrote in the shop's chat (旺旺)."""

    buyer_nick: str
    text: str
    buyer_tier: str | None = None
    order_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrderCreated:
    buyer_nick: str
    order_id: str
    amount_fen: int
    items: tuple[OrderLine, ...]
    buyer_tier: str | None = None
    gifts: tuple[str, ...] = ()
    campaign: str | None = None
    invoice_title: str | None = None
    receiver_name: str | None = None
    receiver_phone: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class OrderPaid:
    order_id: str


@dataclass(frozen=True, slots=True)
class OrderShipped:
    order_id: str
    tracking_no: str | None = None


@dataclass(frozen=True, slots=True)
class RefundRequested:
    refund_id: str
    order_id: str
    kind: str
    """``refund_only`` or ``return_and_refund``."""
    amount_fen: int
    reason: str


@dataclass(frozen=True, slots=True)
class RefundCancelled:
    refund_id: str


@dataclass(frozen=True, slots=True)
class ReturnReceived:
    refund_id: str


@dataclass(frozen=True, slots=True)
class CallInbound:
    call_id: str
    caller_phone: str
    buyer_nick: str | None = None


@dataclass(frozen=True, slots=True)
class RatingReceived:
    """The buyer rated the service (服务评价, 1-5 stars): it rates their most recent
    conversation with the shop."""

    buyer_nick: str
    score: int
    """1 (very dissatisfied) to 5 (very satisfied)."""
    comment: str | None = None


PlatformEvent = (
    MessageReceived
    | OrderCreated
    | OrderPaid
    | OrderShipped
    | RefundRequested
    | RefundCancelled
    | ReturnReceived
    | CallInbound
    | RatingReceived
)


def _order_created(data: Mapping[str, Any]) -> OrderCreated:
    return OrderCreated(
        buyer_nick=data["buyer_nick"],
        order_id=data["order_id"],
        amount_fen=data["amount_fen"],
        items=tuple(
            OrderLine(i["sku"], i["title"], i["qty"], i["price_fen"]) for i in data["items"]
        ),
        buyer_tier=data.get("buyer_tier"),
        gifts=tuple(data.get("gifts") or ()),
        campaign=data.get("campaign"),
        invoice_title=data.get("invoice_title"),
        receiver_name=data.get("receiver_name"),
        receiver_phone=data.get("receiver_phone"),
        address=data.get("address"),
    )


_RECORDS: Final[Mapping[str, Callable[[Mapping[str, Any]], PlatformEvent]]] = {
    "message.received": lambda d: MessageReceived(
        d["buyer_nick"], d["text"], d.get("buyer_tier"), d.get("order_id")
    ),
    "order.created": _order_created,
    "order.paid": lambda d: OrderPaid(d["order_id"]),
    "order.shipped": lambda d: OrderShipped(d["order_id"], d.get("tracking_no")),
    "refund.requested": lambda d: RefundRequested(
        d["refund_id"], d["order_id"], d["kind"], d["amount_fen"], d["reason"]
    ),
    "refund.cancelled": lambda d: RefundCancelled(d["refund_id"]),
    "return.received": lambda d: ReturnReceived(d["refund_id"]),
    "call.inbound": lambda d: CallInbound(d["call_id"], d["caller_phone"], d.get("buyer_nick")),
    "rating.received": lambda d: RatingReceived(d["buyer_nick"], d["score"], d.get("comment")),
}

EVENT_TYPES: Final[tuple[str, ...]] = tuple(_RECORDS)
"""Every platform event type, in the order the docs list them."""

MESSAGE_RECEIVED: Final = "message.received"
"""The hot one (most of 双十一's traffic), which the engine applies in runs."""


def record_of(event_type: str, data: Mapping[str, Any]) -> PlatformEvent:
    """The typed record of a validated event's ``data``; ``KeyError`` for an unknown type
    (the door accepts only :data:`EVENT_TYPES`)."""
    return _RECORDS[event_type](data)


__all__ = [
    "EVENT_TYPES",
    "MESSAGE_RECEIVED",
    "CallInbound",
    "MessageReceived",
    "OrderCreated",
    "OrderLine",
    "OrderPaid",
    "OrderShipped",
    "PlatformEvent",
    "PlatformEventIn",
    "RatingReceived",
    "RefundCancelled",
    "RefundRequested",
    "ReturnReceived",
    "record_of",
]
