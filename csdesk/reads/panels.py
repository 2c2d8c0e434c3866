"""The panels beside a conversation: its header (who holds it, whether I may reply, the
quick-reply variables) and the buyer panel (tier, masked contact data, orders with status,
refunds, earlier conversations and who served them, the protection owner 客户保护期)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import select

from csdesk.auth.access import can, can_read_conversation
from csdesk.auth.current import CurrentUser
from csdesk.reads import quick_replies
from csdesk.reads.conversations import display_names, iso, readable_conversation, shop_zone
from csdesk.reads.lists import conversation_rows
from csdesk.reads.masking import mask_address, mask_name, mask_phone
from csdesk.reads.orders import panel_order_json
from csdesk.reads.suggestions import suggest
from csdesk.routing.facts import load_shop_context, protection_owner
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus, MessageSender
from csdesk.storage.models import AgentProfile, Buyer, Conversation, Message, Order, Refund

PANEL_ROWS: Final = 10
"""Orders, refunds and earlier conversations shown in the buyer panel (newest first)."""
PANEL_NOTES: Final = 20
"""Internal notes (内部备注) about the buyer, from all their conversations, newest first."""


async def conversation_detail(
    sessions: SessionFactory, user: CurrentUser, conversation_id: int, now: datetime
) -> dict[str, Any]:
    """The list row plus who holds it, whether I may reply, and the quick-reply variables."""
    async with sessions() as session:
        conversation = await readable_conversation(session, user, conversation_id)
        ctx = await load_shop_context(session, user.shop_id)
        tz = await shop_zone(session, user.shop_id)
        (row,) = await conversation_rows(session, ctx, [conversation], now)
        values, order = await quick_replies.variable_values(session, conversation, tz)
        names = await display_names(session, [conversation.assigned_agent_id])
        can_reply = (
            conversation.status is ConversationStatus.ASSIGNED
            and conversation.assigned_agent_id == user.id
        )
        suggestion = None
        if can_reply and conversation.intent:
            profile = await session.get(AgentProfile, user.id)
            held = (
                frozenset(str(r) for r in profile.service_roles)
                if profile is not None and profile.service_roles
                else None
            )
            groups = [
                g
                for g in await quick_replies.load_groups(session, user.shop_id, user.id)
                if quick_replies.visible_to(g, held)
            ]
            buyer_text = await session.scalar(
                select(Message.text)
                .where(
                    Message.conversation_id == conversation.id,
                    Message.sender == MessageSender.BUYER,
                )
                .order_by(Message.id.desc())
                .limit(1)
            )
            suggestion = suggest(conversation.intent, buyer_text or "", groups, values)
    return {
        **row,
        "assigned_agent": (
            {
                "id": conversation.assigned_agent_id,
                "display_name": names.get(conversation.assigned_agent_id),
            }
            if conversation.assigned_agent_id is not None
            else None
        ),
        "can_reply": can_reply,
        "suggestion": suggestion.to_json() if suggestion is not None else None,
        "can_note": can(user, "conversations.note", conversation),
        "disposition": conversation.disposition,
        "tags": list(conversation.tags),
        "closed_at": iso(conversation.closed_at),
        "focus_order_id": order.id if order else None,
        "variables": values,
        "server_now": now.isoformat(),
    }


def panel_refund_json(refund: Refund, order_refs: dict[int, str]) -> dict[str, Any]:
    return {
        "id": refund.id,
        "external_id": refund.external_id,
        "order_external_id": order_refs.get(refund.order_id),
        "kind": refund.kind.value,
        "status": refund.status.value,
        "amount_fen": refund.amount_fen,
        "reason": refund.reason,
        "requested_at": refund.requested_at.isoformat(),
        "deadline_at": refund.deadline_at.isoformat(),
        "resolved_at": iso(refund.resolved_at),
    }


async def buyer_panel(
    sessions: SessionFactory, user: CurrentUser, conversation_id: int, now: datetime
) -> dict[str, Any]:
    """Tier, masked contact data, orders with status, refunds, earlier conversations and
    who served them, and the protection owner (客户保护期)."""
    async with sessions() as session:
        conversation = await readable_conversation(session, user, conversation_id)
        if conversation.buyer_id is None:
            return {"conversation_id": conversation_id, "buyer": None}
        buyer = await session.get(Buyer, conversation.buyer_id)
        assert buyer is not None
        focus = await quick_replies.focus_order(session, conversation)
        orders = list(
            await session.scalars(
                select(Order)
                .where(Order.shop_id == buyer.shop_id, Order.buyer_id == buyer.id)
                .order_by(Order.created_at.desc(), Order.id.desc())
                .limit(PANEL_ROWS)
            )
        )
        if focus is not None and all(o.id != focus.id for o in orders):
            orders.insert(0, focus)
        tracking = await quick_replies.tracking_numbers(
            session, buyer.shop_id, [o.external_id for o in orders if o.shipped_at]
        )
        refunds = list(
            await session.scalars(
                select(Refund)
                .where(Refund.shop_id == buyer.shop_id, Refund.buyer_id == buyer.id)
                .order_by(Refund.requested_at.desc(), Refund.id.desc())
                .limit(PANEL_ROWS)
            )
        )
        refund_orders = dict(
            (
                await session.execute(
                    select(Order.id, Order.external_id).where(
                        Order.id.in_({r.order_id for r in refunds})
                    )
                )
            ).all()
        )
        history = list(
            await session.scalars(
                select(Conversation)
                .where(
                    Conversation.shop_id == buyer.shop_id,
                    Conversation.buyer_id == buyer.id,
                    Conversation.id != conversation.id,
                )
                .order_by(Conversation.opened_at.desc(), Conversation.id.desc())
                .limit(PANEL_ROWS)
            )
        )
        owner = await protection_owner(session, buyer.shop_id, buyer.id, now)
        notes = list(
            await session.scalars(
                select(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(
                    Conversation.shop_id == buyer.shop_id,
                    Conversation.buyer_id == buyer.id,
                    Message.sender == MessageSender.NOTE,
                )
                .order_by(Message.id.desc())
                .limit(PANEL_NOTES)
            )
        )
        names = await display_names(
            session,
            [c.assigned_agent_id for c in history]
            + [owner[0] if owner else None]
            + [n.author_id for n in notes],
        )
    return {
        "conversation_id": conversation_id,
        "buyer": {
            "id": buyer.id,
            "nick": buyer.nick,
            "tier": buyer.tier.value,
            "name": mask_name(buyer.name),
            "phone": mask_phone(buyer.phone),
            "address": mask_address(buyer.address),
            "since": buyer.created_at.isoformat(),
        },
        "protection": (
            {"owner_id": owner[0], "owner_name": names.get(owner[0]), "until": iso(owner[1])}
            if owner
            else None
        ),
        "orders": [
            panel_order_json(
                o, tracking.get(o.external_id), focus=focus is not None and o.id == focus.id
            )
            for o in orders
        ],
        "refunds": [panel_refund_json(r, refund_orders) for r in refunds],
        "notes": [
            {
                "id": n.id,
                "conversation_id": n.conversation_id,
                "this_conversation": n.conversation_id == conversation.id,
                "author_id": n.author_id,
                "author_name": names.get(n.author_id) if n.author_id else None,
                "text": n.text,
                "sent_at": n.sent_at.isoformat(),
            }
            for n in notes
        ],
        "history": [
            {
                "id": c.id,
                "role": c.role,
                "kind": c.kind,
                "status": c.status.value,
                "intent": c.intent,
                "opened_at": c.opened_at.isoformat(),
                "closed_at": iso(c.closed_at),
                "disposition": c.disposition,
                "served_by": names.get(c.assigned_agent_id) if c.assigned_agent_id else None,
                "readable": can_read_conversation(user, c),
            }
            for c in history
        ],
    }


__all__ = ["PANEL_ROWS", "buyer_panel", "conversation_detail", "panel_refund_json"]
