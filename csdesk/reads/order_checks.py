"""订单审核 (order review) as read: an ``order_check`` item with its order and the flags
standing now (the same inputs the intake used), and the gifts each SKU promises."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import only_own, require
from csdesk.auth.current import CurrentUser
from csdesk.errors import NotFoundError
from csdesk.reads import orders
from csdesk.reads.conversations import conversation_json, readable_item
from csdesk.roles import order_review as rules
from csdesk.routing import facts as loaded
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus
from csdesk.storage.models import Conversation, Order

ACCESS: Final = "order_review.work"
KINDS: Final = ("order_check",)
INVOICE_CONFIRMED: Final = "invoice_confirmed"
"""Tag: the invoice title was confirmed, so the standing "invoice requested" flag is done."""


async def standing_flags(
    session: AsyncSession, conversation: Conversation, order: Order
) -> tuple[rules.Flag, ...]:
    """The checks as they stand now (the same inputs the intake used)."""
    ctx = await loaded.load_shop_context(session, order.shop_id)
    promised, recent = await loaded.order_check_inputs(session, ctx, order)
    flags = rules.check_order(
        loaded.order_facts(order), ctx.routing, promised_gifts=promised, recent_orders=recent
    )
    if INVOICE_CONFIRMED in conversation.tags:
        flags = tuple(f for f in flags if f.code is not rules.FlagCode.INVOICE_REQUESTED)
    return flags


def flags_json(flags: Sequence[rules.Flag]) -> list[dict[str, str]]:
    return [{"code": f.code.value, "reason": f.reason} for f in flags]


async def review_json(
    session: AsyncSession, conversation: Conversation, order: Order
) -> dict[str, Any]:
    """The item, its order as a reviewer sees it and the flags standing now: what the view
    shows and what every review action answers with."""
    flags = await standing_flags(session, conversation, order)
    return {
        "conversation": conversation_json(conversation),
        "order": orders.order_json(order, orders.REVIEW),
        "flags": flags_json(flags),
    }


async def order_check_view(
    sessions: SessionFactory, actor: CurrentUser, conversation_id: int
) -> dict[str, Any]:
    """The item, its order and the flags standing now, with the gifts each SKU promises."""
    async with sessions() as session:
        conversation = await readable_item(session, actor, conversation_id, ACCESS, KINDS)
        order = await session.get(Order, conversation.order_id) if conversation.order_id else None
        if order is None or order.shop_id != conversation.shop_id:
            raise NotFoundError(f"conversation {conversation.id}: its order is gone")
        products = await loaded.products_by_sku(
            session, order.shop_id, [i["sku"] for i in order.items]
        )
        result = await review_json(session, conversation, order)
    result["promised_gifts"] = {sku: list(p.gifts) for sku, p in products.items() if p.gifts}
    return result


async def next_order_check(sessions: SessionFactory, actor: CurrentUser) -> int | None:
    """The order check to open next: the oldest due in my hands (supervisors: the shop's
    oldest open one, held or queued); None when there is none."""
    require(actor, ACCESS)
    query = select(Conversation.id).where(
        Conversation.shop_id == actor.shop_id, Conversation.kind.in_(KINDS)
    )
    if only_own(actor, ACCESS):
        query = query.where(
            Conversation.status == ConversationStatus.ASSIGNED,
            Conversation.assigned_agent_id == actor.id,
        )
    else:
        query = query.where(
            Conversation.status.in_((ConversationStatus.ASSIGNED, ConversationStatus.QUEUED))
        )
    async with sessions() as session:
        found: int | None = await session.scalar(
            query.order_by(Conversation.due_at, Conversation.id).limit(1)
        )
    return found


__all__ = [
    "ACCESS",
    "INVOICE_CONFIRMED",
    "KINDS",
    "flags_json",
    "next_order_check",
    "order_check_view",
    "review_json",
    "standing_flags",
]
