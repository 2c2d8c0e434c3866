"""退款审核 / 退款处理 as read: a refund item with its refund, the deadline countdown (the
platform decides by itself at the deadline) and the duties it needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from csdesk.auth.current import CurrentUser
from csdesk.errors import NotFoundError
from csdesk.reads.conversations import conversation_json, iso, readable_item
from csdesk.reads.orders import REF, order_json
from csdesk.roles import refund as refund_role
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import Conversation, Order, Refund

REVIEW_ACCESS: Final = "refund.review"
ANY_REFUND_ITEM: Final = ("refund_review", "refund_processing")


def seconds_until(deadline: datetime | None, now: datetime) -> int | None:
    """Whole seconds left (negative once passed): the countdown consoles show."""
    if deadline is None:
        return None
    return int((deadline - now).total_seconds() // 1)


def countdown(deadline_at: datetime, now: datetime) -> dict[str, Any]:
    """The deadline as consoles show it: seconds left, negative once the platform decided."""
    left = seconds_until(deadline_at, now)
    return {
        "deadline_at": deadline_at.isoformat(),
        "seconds_left": left,
        "overdue": left is not None and left < 0,
    }


def refund_json(refund: Refund, now: datetime) -> dict[str, Any]:
    return {
        "id": refund.id,
        "external_id": refund.external_id,
        "order_id": refund.order_id,
        "kind": refund.kind.value,
        "status": refund.status.value,
        "amount_fen": refund.amount_fen,
        "reason": refund.reason,
        "requested_at": refund.requested_at.isoformat(),
        "resolved_at": iso(refund.resolved_at),
        **countdown(refund.deadline_at, now),
    }


def refund_item_json(
    conversation: Conversation, refund: Refund, order: Order, now: datetime
) -> dict[str, Any]:
    """The item, its refund with the countdown, its order, the duties it needs: what the
    view shows and what every refund action answers with."""
    return {
        "conversation": conversation_json(conversation),
        "refund": refund_json(refund, now),
        "order": order_json(order, REF),
        "duties": list(refund_role.duties_for(refund.kind, order.status)),
    }


async def refund_item_view(
    sessions: SessionFactory, actor: CurrentUser, conversation_id: int, now: datetime
) -> dict[str, Any]:
    """A refund item with its refund, the deadline countdown and the duties it needs."""
    async with sessions() as session:
        conversation = await readable_item(
            session, actor, conversation_id, REVIEW_ACCESS, ANY_REFUND_ITEM
        )
        refund = (
            await session.get(Refund, conversation.refund_id) if conversation.refund_id else None
        )
        order = await session.get(Order, refund.order_id) if refund is not None else None
        if refund is None or order is None or refund.shop_id != conversation.shop_id:
            raise NotFoundError(f"conversation {conversation.id}: its refund is gone")
        return refund_item_json(conversation, refund, order, now)


__all__ = [
    "ANY_REFUND_ITEM",
    "REVIEW_ACCESS",
    "countdown",
    "refund_item_json",
    "refund_item_view",
    "refund_json",
    "seconds_until",
]
