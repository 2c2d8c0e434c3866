"""Orders (订单) as the marketplace reports them: created (unpaid), paid, shipped, received, closed.

Writers here take the caller's ``AsyncSession`` and never commit (see ``catalog``): the
event-ingestion path records one ``order.created`` event's order together with the event
row; seeding records a thousand per transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.batch import insert_returning_ids_by_key
from csdesk.clock import require_aware
from csdesk.storage.enums import OrderStatus
from csdesk.storage.models import Conversation, Order

# Which timestamp each status needs. Closed needs only closed_at: an order closes unpaid
# (timeout), or after a full refund at any later stage.
_REQUIRED_TIMES: dict[OrderStatus, tuple[str, ...]] = {
    OrderStatus.CREATED: (),
    OrderStatus.PAID: ("paid_at",),
    OrderStatus.SHIPPED: ("paid_at", "shipped_at"),
    OrderStatus.RECEIVED: ("paid_at", "shipped_at", "received_at"),
    OrderStatus.CLOSED: ("closed_at",),
}
_TIMELINE = ("created_at", "paid_at", "shipped_at", "received_at", "closed_at")


@dataclass(frozen=True)
class OrderItem:
    sku: str
    title: str
    qty: int
    price_fen: int
    """Unit price at purchase (campaign price included), frozen with the order."""

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError(f"order item {self.sku}: qty must be positive")
        if self.price_fen < 0:
            raise ValueError(f"order item {self.sku}: price_fen must not be negative")

    @property
    def subtotal_fen(self) -> int:
        return self.qty * self.price_fen

    def as_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "title": self.title, "qty": self.qty, "price_fen": self.price_fen}


@dataclass(frozen=True)
class OrderSpec:
    external_id: str
    """The marketplace's order number (订单号), unique within the shop."""
    buyer_id: int
    status: OrderStatus
    items: tuple[OrderItem, ...]
    created_at: datetime
    amount_fen: int | None = None
    """What the buyer pays; defaults to the sum of the items (set it for shop-wide discounts)."""
    gifts: tuple[str, ...] = ()
    """Gifts and promo items the system attached (order review compares them to the campaign)."""
    campaign: str | None = None
    invoice_title: str | None = None
    receiver_name: str | None = None
    receiver_phone: str | None = None
    address: str | None = None
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    received_at: datetime | None = None
    closed_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.external_id:
            raise ValueError("order external_id must not be empty")
        if not self.items:
            raise ValueError(f"order {self.external_id}: no items")
        for name in _REQUIRED_TIMES[self.status]:
            if getattr(self, name) is None:
                raise ValueError(f"order {self.external_id}: status {self.status} needs {name}")
        if self.status is OrderStatus.CREATED and self.paid_at is not None:
            raise ValueError(f"order {self.external_id}: an unpaid order has no paid_at")
        times = [getattr(self, name) for name in _TIMELINE]
        present = [require_aware(t, "order time") for t in times if t is not None]
        if present != sorted(present):
            raise ValueError(f"order {self.external_id}: timestamps out of order")
        if self.amount_fen is not None and self.amount_fen < 0:
            raise ValueError(f"order {self.external_id}: amount_fen must not be negative")

    @property
    def total_fen(self) -> int:
        if self.amount_fen is not None:
            return self.amount_fen
        return sum(item.subtotal_fen for item in self.items)


async def record_orders(
    session: AsyncSession, shop_id: str, orders: Sequence[OrderSpec]
) -> list[int]:
    """Insert orders new to the shop; returns their ids in input order."""
    rows = [
        {
            "shop_id": shop_id,
            "external_id": order.external_id,
            "buyer_id": order.buyer_id,
            "status": order.status,
            "amount_fen": order.total_fen,
            "items": [item.as_json() for item in order.items],
            "gifts": list(order.gifts),
            "campaign": order.campaign,
            "invoice_title": order.invoice_title,
            "receiver_name": order.receiver_name,
            "receiver_phone": order.receiver_phone,
            "address": order.address,
            "created_at": order.created_at,
            "paid_at": order.paid_at,
            "shipped_at": order.shipped_at,
            "received_at": order.received_at,
            "closed_at": order.closed_at,
        }
        for order in orders
    ]
    ids = await insert_returning_ids_by_key(session, Order, Order.id, Order.external_id, rows)
    await stamp_conversions(
        session, shop_id, [order.buyer_id for order in orders if order.paid_at is not None]
    )
    return ids


async def stamp_conversions(session: AsyncSession, shop_id: str, buyer_ids: Sequence[int]) -> None:
    """Each chat of these buyers gets ``converted_at``: their first payment at or after it
    opened (询单转化率). One UPDATE, recomputed from the buyers' orders, so payments applied
    in any order leave the same stamp; call it after an order's ``paid_at`` is set."""
    if not buyer_ids:
        return
    await session.flush()
    first_payment = (
        select(func.min(Order.paid_at))
        .where(
            Order.shop_id == Conversation.shop_id,
            Order.buyer_id == Conversation.buyer_id,
            Order.paid_at >= Conversation.opened_at,
        )
        .scalar_subquery()
    )
    await session.execute(
        update(Conversation)
        .where(
            Conversation.shop_id == shop_id,
            Conversation.buyer_id.in_(sorted(set(buyer_ids))),
            Conversation.kind == "chat",
        )
        .values(converted_at=first_payment)
        .execution_options(synchronize_session=False)
    )


def mark_paid(order: Order, at: datetime) -> bool:
    """``order.paid``: an unpaid order is paid at ``at`` (never before it was created).
    False if it was not unpaid (paid twice, shipped already): nothing changes."""
    if order.status is not OrderStatus.CREATED:
        return False
    order.status = OrderStatus.PAID
    order.paid_at = max(at, order.created_at)
    return True


def mark_shipped(order: Order, at: datetime) -> bool:
    """``order.shipped``: shipped at ``at`` (an order shipped unannounced as paid counts as
    paid then). False if it had shipped, arrived or closed already."""
    if order.status in (OrderStatus.SHIPPED, OrderStatus.RECEIVED, OrderStatus.CLOSED):
        return False
    if order.status is OrderStatus.CREATED:
        order.paid_at = order.paid_at or at
    order.status = OrderStatus.SHIPPED
    order.shipped_at = max(at, order.paid_at or at)
    return True
