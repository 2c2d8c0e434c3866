"""One buyer's whole history on one timeline (买家档案): every conversation and who served
it, every order and refund, and the protection owner (客户保护期) while protection runs.
Phone and name are masked here as in the buyer panel (revealed there, with a reason)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import or_, select

from csdesk.auth.access import only_own, require
from csdesk.auth.current import CurrentUser
from csdesk.errors import NotFoundError
from csdesk.reads.search import mask_phone
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import Buyer, Conversation, Order, Refund, User

HISTORY_ACCESS: Final = "conversations.read"
MAX_EVENTS: Final = 500


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


async def buyer_history(
    sessions: SessionFactory, viewer: CurrentUser, buyer_id: int, now: datetime
) -> dict[str, Any]:
    """Newest first. An agent sees a buyer they have served (or own under protection);
    anyone else of the shop with ``conversations.read`` sees any buyer of the shop."""
    require(viewer, HISTORY_ACCESS)
    async with sessions() as session:
        buyer = await session.get(Buyer, buyer_id)
        if buyer is None or buyer.shop_id != viewer.shop_id:
            raise NotFoundError(f"buyer {buyer_id}: not found", field="buyer_id")
        if only_own(viewer, HISTORY_ACCESS):
            served = await session.scalar(
                select(Conversation.id)
                .where(
                    Conversation.buyer_id == buyer_id,
                    or_(
                        Conversation.assigned_agent_id == viewer.id,
                        Conversation.protection_owner_id == viewer.id,
                    ),
                )
                .limit(1)
            )
            if served is None:
                raise NotFoundError(f"buyer {buyer_id}: not found", field="buyer_id")
        names = dict(
            (
                await session.execute(
                    select(User.id, User.display_name).where(User.shop_id == viewer.shop_id)
                )
            ).all()
        )
        conversations = list(
            await session.scalars(
                select(Conversation)
                .where(Conversation.buyer_id == buyer_id)
                .order_by(Conversation.opened_at.desc())
                .limit(MAX_EVENTS)
            )
        )
        orders = list(
            await session.scalars(
                select(Order).where(Order.buyer_id == buyer_id).order_by(Order.created_at.desc())
            )
        )
        refunds = list(
            await session.scalars(
                select(Refund)
                .where(Refund.buyer_id == buyer_id)
                .order_by(Refund.requested_at.desc())
            )
        )
    order_numbers = {order.id: order.external_id for order in orders}
    events: list[dict[str, Any]] = []
    for c in conversations:
        served_by = c.assigned_agent_id or c.protection_owner_id
        events.append(
            {
                "at": _iso(c.opened_at),
                "type": "conversation",
                "id": c.id,
                "kind": c.kind,
                "role": c.role,
                "status": c.status.value,
                "intent": c.intent,
                "agent": names.get(served_by) if served_by else None,
                "closed_at": _iso(c.closed_at),
                "disposition": c.disposition,
                "order": order_numbers.get(c.order_id) if c.order_id else None,
            }
        )
    for order in orders:
        events.append(
            {
                "at": _iso(order.created_at),
                "type": "order",
                "order": order.external_id,
                "status": order.status.value,
                "amount": _yuan(order.amount_fen),
                "paid_at": _iso(order.paid_at),
                "shipped_at": _iso(order.shipped_at),
            }
        )
    for refund in refunds:
        events.append(
            {
                "at": _iso(refund.requested_at),
                "type": "refund",
                "refund": refund.external_id,
                "order": order_numbers.get(refund.order_id),
                "kind": refund.kind.value,
                "status": refund.status.value,
                "amount": _yuan(refund.amount_fen),
                "reason": refund.reason,
                "resolved_at": _iso(refund.resolved_at),
            }
        )
    events.sort(key=lambda event: event["at"] or "", reverse=True)
    protected = next(
        (
            c
            for c in conversations
            if c.protection_owner_id is not None
            and c.protection_until is not None
            and c.protection_until > now
        ),
        None,
    )
    return {
        "buyer": {
            "id": buyer.id,
            "nick": buyer.nick,
            "tier": buyer.tier.value,
            "phone": mask_phone(buyer.phone),
            "since": _iso(buyer.created_at),
        },
        "protection": None
        if protected is None
        else {
            "owner_id": protected.protection_owner_id,
            "owner": names.get(protected.protection_owner_id or 0),
            "until": _iso(protected.protection_until),
        },
        "counts": {
            "conversations": len(conversations),
            "orders": len(orders),
            "refunds": len(refunds),
        },
        "timeline": events[:MAX_EVENTS],
    }
