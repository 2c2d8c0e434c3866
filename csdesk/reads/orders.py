"""The one JSON shape of an order. Each screen shows a projection of it (a tuple of field
names, below), but every field is written once here: contact data always masked (reveal is
a separate, audited write), times ISO 8601, amounts in fen."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from csdesk.reads.conversations import iso
from csdesk.reads.masking import mask_address, mask_name, mask_phone
from csdesk.storage.models import Order

_FIELDS: Final[Mapping[str, Callable[[Order], object]]] = {
    "id": lambda o: o.id,
    "external_id": lambda o: o.external_id,
    "buyer_id": lambda o: o.buyer_id,
    "status": lambda o: o.status.value,
    "amount_fen": lambda o: o.amount_fen,
    "items": lambda o: o.items,
    "gifts": lambda o: o.gifts,
    "campaign": lambda o: o.campaign,
    "invoice_title": lambda o: o.invoice_title,
    "receiver_name": lambda o: mask_name(o.receiver_name),
    "receiver_phone": lambda o: mask_phone(o.receiver_phone),
    "address": lambda o: mask_address(o.address),
    "created_at": lambda o: o.created_at.isoformat(),
    "paid_at": lambda o: iso(o.paid_at),
    "shipped_at": lambda o: iso(o.shipped_at),
}

REF: Final = ("id", "external_id", "status")
"""An order named beside something else (the refund of a refund item)."""
SUMMARY: Final = (*REF, "amount_fen")
"""A row in a list (outbound calls)."""
CALLER_CARD: Final = (*SUMMARY, "campaign", "created_at")
"""The hotline's caller card: the buyer's recent orders."""
CHASE: Final = (*SUMMARY, "items", "created_at", "receiver_phone")
"""A payment chase: what the buyer left unpaid and the number to call."""
REVIEW: Final = (
    "id",
    "external_id",
    "buyer_id",
    "status",
    "amount_fen",
    "items",
    "gifts",
    "campaign",
    "invoice_title",
    "receiver_name",
    "receiver_phone",
    "address",
    "created_at",
    "paid_at",
)
"""Order review (订单审核): everything the checks look at."""
PANEL: Final = (
    *SUMMARY,
    "items",
    "gifts",
    "campaign",
    "created_at",
    "paid_at",
    "shipped_at",
    "tracking_no",
    "receiver_name",
    "receiver_phone",
    "address",
    "focus",
)
"""The agent's buyer panel (``panel_order_json``)."""


def order_json(order: Order, fields: tuple[str, ...], **screen: object) -> dict[str, Any]:
    """The order as ``fields`` (a projection above). ``screen`` gives the values of fields
    the order alone does not know (``tracking_no``, ``focus``) or a screen's own rendering
    of one (the panel's item lines); they keep their place in ``fields``, others go last."""
    data: dict[str, Any] = {
        name: screen[name] if name in screen else _FIELDS[name](order) for name in fields
    }
    data.update(screen)
    return data


def panel_order_json(order: Order, tracking_no: str | None, *, focus: bool) -> dict[str, Any]:
    """The buyer panel's order card: item lines as title and quantity, the waybill, and
    whether it is the conversation's focus order (the one quick-reply variables fill from)."""
    lines = [{"title": item.get("title", ""), "qty": item.get("qty", 1)} for item in order.items]
    return order_json(order, PANEL, items=lines, tracking_no=tracking_no, focus=focus)


__all__ = [
    "CALLER_CARD",
    "CHASE",
    "PANEL",
    "REF",
    "REVIEW",
    "SUMMARY",
    "order_json",
    "panel_order_json",
]
