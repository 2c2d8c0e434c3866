"""What the workbench reads: my conversations with their waiting clocks, one conversation,
its transcript page by page, the buyer panel, and the roles a chat can be transferred to.

Reads only (writes go through ``csdesk.actions``). Every function that takes a
conversation id checks the caller may read it: agents their own, QC and supervisors the
shop's (``conversations.read``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk import errors
from csdesk.actions import quick_replies
from csdesk.actions.pii import mask_address, mask_name, mask_phone
from csdesk.actions.quick_reply_library import LIBRARY
from csdesk.actions.shifts import roster_roles
from csdesk.auth.access import AccessDeniedError, can, can_read_conversation
from csdesk.auth.current import CurrentUser
from csdesk.clock import SHOP_TZ
from csdesk.routing.facts import ShopContext, load_shop_context, protection_owner
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ConversationStatus, MessageSender, ServiceRole
from csdesk.storage.models import (
    AgentProfile,
    Buyer,
    Conversation,
    Message,
    Order,
    Refund,
    Shop,
    User,
)

DEFAULT_PAGE: Final = 30
MAX_PAGE: Final = 100
PANEL_ROWS: Final = 10
"""Orders, refunds and earlier conversations shown in the buyer panel (newest first)."""


class NotFoundError(errors.NotFoundError):
    """No such object in the caller's shop (other shops' ids look the same as unknown ones)."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def readable_conversation(
    session: AsyncSession, user: CurrentUser, conversation_id: int
) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.shop_id != user.shop_id:
        raise NotFoundError(f"conversation {conversation_id}: not found")
    if not can_read_conversation(user, conversation):
        raise AccessDeniedError(user, f"conversations.read (conversation {conversation_id})")
    return conversation


async def check_readable(sessions: SessionFactory, user: CurrentUser, conversation_id: int) -> None:
    """Raise unless ``user`` may open this conversation (for the HTML page)."""
    async with sessions() as session:
        await readable_conversation(session, user, conversation_id)


async def _shop_tz(session: AsyncSession, shop_id: str) -> ZoneInfo:
    name = await session.scalar(select(Shop.timezone).where(Shop.id == shop_id))
    try:
        return ZoneInfo(name) if name else SHOP_TZ
    except (ValueError, KeyError):
        return SHOP_TZ


def sla_seconds(ctx: ShopContext, role: str) -> int | None:
    """The role's first-response target: the threshold at which a waiting row turns red."""
    try:
        return ctx.routing.sla.first_response_s.get(ServiceRole(role))
    except ValueError:
        return None


# -- rows of the conversation list ---------------------------------------------------------------


def _message_json(message: Message, author_name: str | None = None) -> dict[str, Any]:
    return {
        "id": message.id,
        "sender": message.sender.value,
        "author_id": message.author_id,
        "author_name": author_name,
        "text": message.text,
        "sent_at": message.sent_at.isoformat(),
    }


def waiting_since(
    conversation: Conversation, last_buyer_at: datetime | None, last_agent_at: datetime | None
) -> datetime | None:
    """Since when the buyer (or the task) has been waiting for this agent; None when the
    last word is the agent's."""
    if last_buyer_at is not None:
        if last_agent_at is None or last_buyer_at > last_agent_at:
            return last_buyer_at
        return None
    if conversation.first_response_at is None:
        return conversation.enqueued_at or conversation.assigned_at or conversation.opened_at
    return None


async def _rows(
    session: AsyncSession, ctx: ShopContext, conversations: Sequence[Conversation]
) -> list[dict[str, Any]]:
    ids = [c.id for c in conversations]
    if not ids:
        return []
    buyer_ids = {c.buyer_id for c in conversations if c.buyer_id is not None}
    buyers = {b.id: b for b in await session.scalars(select(Buyer).where(Buyer.id.in_(buyer_ids)))}
    last_ids = (
        select(func.max(Message.id))
        .where(
            Message.conversation_id.in_(ids),
            Message.sender.in_((MessageSender.BUYER, MessageSender.AGENT)),
        )
        .group_by(Message.conversation_id)
    )
    last = {
        m.conversation_id: m
        for m in await session.scalars(select(Message).where(Message.id.in_(last_ids)))
    }
    latest: dict[tuple[int, MessageSender], datetime] = {}
    for conversation_id, sender, at in await session.execute(
        select(Message.conversation_id, Message.sender, func.max(Message.sent_at))
        .where(
            Message.conversation_id.in_(ids),
            Message.sender.in_((MessageSender.BUYER, MessageSender.AGENT)),
        )
        .group_by(Message.conversation_id, Message.sender)
    ):
        latest[(conversation_id, sender)] = at
    rows = []
    for conversation in conversations:
        buyer = buyers.get(conversation.buyer_id) if conversation.buyer_id else None
        message = last.get(conversation.id)
        since = waiting_since(
            conversation,
            latest.get((conversation.id, MessageSender.BUYER)),
            latest.get((conversation.id, MessageSender.AGENT)),
        )
        rows.append(
            {
                "id": conversation.id,
                "role": conversation.role,
                "kind": conversation.kind,
                "channel": conversation.channel.value,
                "status": conversation.status.value,
                "intent": conversation.intent,
                "risk": conversation.risk,
                "assigned_agent_id": conversation.assigned_agent_id,
                "buyer": (
                    {"id": buyer.id, "nick": buyer.nick, "tier": buyer.tier.value}
                    if buyer
                    else None
                ),
                "last_message": _message_json(message) if message else None,
                "waiting_since": _iso(since),
                "sla_s": sla_seconds(ctx, conversation.role),
                "opened_at": conversation.opened_at.isoformat(),
                "assigned_at": _iso(conversation.assigned_at),
            }
        )
    return rows


# -- the workbench ------------------------------------------------------------------------------


async def workbench_state(
    sessions: SessionFactory, user: CurrentUser, now: datetime
) -> dict[str, Any]:
    """Who I am on shift, the roles I could hold, and my open conversations."""
    async with sessions() as session:
        ctx = await load_shop_context(session, user.shop_id)
        tz = await _shop_tz(session, user.shop_id)
        profile = await session.get(AgentProfile, user.id)
        roster = await roster_roles(session, user.shop_id, user.id, now)
        mine = list(
            await session.scalars(
                select(Conversation)
                .where(
                    Conversation.shop_id == user.shop_id,
                    Conversation.assigned_agent_id == user.id,
                    Conversation.status == ConversationStatus.ASSIGNED,
                )
                .order_by(Conversation.assigned_at, Conversation.id)
            )
        )
        rows = await _rows(session, ctx, mine)
    return {
        "server_now": now.isoformat(),
        "timezone": tz.key,
        "me": {
            "id": user.id,
            "display_name": user.display_name,
            "role": user.role.value,
            "has_profile": profile is not None,
            "status": profile.status.value if profile else AgentStatus.OFFLINE.value,
            "service_roles": list(profile.service_roles) if profile else [],
            "roster_roles": [role.value for role in roster],
            "chat_capacity": profile.chat_capacity if profile else 0,
            "auto_suspend_at": profile.auto_suspend_at if profile else None,
            "auto_suspend_default": ctx.assignment.auto_suspend_at,
            "auto_suspended": bool(profile and profile.auto_suspended),
        },
        "roles": [
            {"key": role.value, "sla_s": ctx.routing.sla.first_response_s.get(role)}
            for role in ServiceRole
        ],
        "conversations": rows,
    }


async def role_board(sessions: SessionFactory, user: CurrentUser, now: datetime) -> dict[str, Any]:
    """Per service role: agents online and busy, queue depth, oldest wait (transfer picker)."""
    async with sessions() as session:
        profiles = list(
            await session.scalars(
                select(AgentProfile).where(
                    AgentProfile.shop_id == user.shop_id,
                    AgentProfile.status.in_((AgentStatus.ONLINE, AgentStatus.BUSY)),
                )
            )
        )
        queued = {
            role: (int(depth), oldest)
            for role, depth, oldest in await session.execute(
                select(Conversation.role, func.count(), func.min(Conversation.enqueued_at))
                .where(
                    Conversation.shop_id == user.shop_id,
                    Conversation.status == ConversationStatus.QUEUED,
                )
                .group_by(Conversation.role)
            )
        }
    roles = []
    for role in ServiceRole:
        holders = [p for p in profiles if role.value in p.service_roles]
        depth, oldest = queued.get(role.value, (0, None))
        roles.append(
            {
                "key": role.value,
                "online": sum(p.status is AgentStatus.ONLINE for p in holders),
                "busy": sum(p.status is AgentStatus.BUSY for p in holders),
                "depth": depth,
                "oldest_wait_s": round((now - oldest).total_seconds()) if oldest else 0,
            }
        )
    return {"generated_at": now.isoformat(), "roles": roles}


# -- one conversation ---------------------------------------------------------------------------


async def _names(session: AsyncSession, user_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {uid for uid in user_ids if uid is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return dict(rows.all())


async def conversation_detail(
    sessions: SessionFactory, user: CurrentUser, conversation_id: int, now: datetime
) -> dict[str, Any]:
    """The list row plus who holds it, whether I may reply, and the quick-reply variables."""
    async with sessions() as session:
        conversation = await readable_conversation(session, user, conversation_id)
        ctx = await load_shop_context(session, user.shop_id)
        tz = await _shop_tz(session, user.shop_id)
        (row,) = await _rows(session, ctx, [conversation])
        values, order = await quick_replies.variable_values(session, conversation, tz)
        names = await _names(session, [conversation.assigned_agent_id])
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
        "can_reply": conversation.status is ConversationStatus.ASSIGNED
        and conversation.assigned_agent_id == user.id,
        "can_note": can(user, "conversations.note", conversation),
        "disposition": conversation.disposition,
        "tags": list(conversation.tags),
        "closed_at": _iso(conversation.closed_at),
        "focus_order_id": order.id if order else None,
        "variables": values,
        "server_now": now.isoformat(),
    }


async def transcript(
    sessions: SessionFactory,
    user: CurrentUser,
    conversation_id: int,
    *,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int = DEFAULT_PAGE,
) -> dict[str, Any]:
    """A page of messages, oldest first: the newest page, the one before ``before_id``, or
    everything after ``after_id`` (catching up). ``has_more``: older messages remain."""
    async with sessions() as session:
        await readable_conversation(session, user, conversation_id)
        query = select(Message, User.display_name).outerjoin(User, User.id == Message.author_id)
        query = query.where(Message.conversation_id == conversation_id)
        if after_id is not None:
            rows = list(
                await session.execute(
                    query.where(Message.id > after_id).order_by(Message.id).limit(limit + 1)
                )
            )
            items = rows[:limit]
            has_more = False
            has_newer = len(rows) > limit
        else:
            if before_id is not None:
                query = query.where(Message.id < before_id)
            rows = list(await session.execute(query.order_by(Message.id.desc()).limit(limit + 1)))
            has_more = len(rows) > limit
            items = list(reversed(rows[:limit]))
            has_newer = False
    return {
        "conversation_id": conversation_id,
        "items": [_message_json(message, name) for message, name in items],
        "has_more": has_more,
        "has_newer": has_newer,
    }


# -- the buyer panel ----------------------------------------------------------------------------


def _order_json(order: Order, tracking: dict[str, str], focus_id: int | None) -> dict[str, Any]:
    return {
        "id": order.id,
        "external_id": order.external_id,
        "status": order.status.value,
        "amount_fen": order.amount_fen,
        "items": [
            {"title": item.get("title", ""), "qty": item.get("qty", 1)} for item in order.items
        ],
        "gifts": list(order.gifts),
        "campaign": order.campaign,
        "created_at": order.created_at.isoformat(),
        "paid_at": _iso(order.paid_at),
        "shipped_at": _iso(order.shipped_at),
        "tracking_no": tracking.get(order.external_id),
        "receiver_name": mask_name(order.receiver_name),
        "receiver_phone": mask_phone(order.receiver_phone),
        "address": mask_address(order.address),
        "focus": order.id == focus_id,
    }


def _refund_json(refund: Refund, order_refs: dict[int, str]) -> dict[str, Any]:
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
        "resolved_at": _iso(refund.resolved_at),
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
        names = await _names(
            session, [c.assigned_agent_id for c in history] + [owner[0] if owner else None]
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
            {"owner_id": owner[0], "owner_name": names.get(owner[0]), "until": _iso(owner[1])}
            if owner
            else None
        ),
        "orders": [_order_json(o, tracking, focus.id if focus else None) for o in orders],
        "refunds": [_refund_json(r, refund_orders) for r in refunds],
        "history": [
            {
                "id": c.id,
                "role": c.role,
                "kind": c.kind,
                "status": c.status.value,
                "intent": c.intent,
                "opened_at": c.opened_at.isoformat(),
                "closed_at": _iso(c.closed_at),
                "disposition": c.disposition,
                "served_by": names.get(c.assigned_agent_id) if c.assigned_agent_id else None,
                "readable": can_read_conversation(user, c),
            }
            for c in history
        ],
    }


# -- quick replies -----------------------------------------------------------------------------


async def quick_reply_library(sessions: SessionFactory, user: CurrentUser) -> dict[str, Any]:
    """The phrases of the roles I hold (everything for people without an agent profile)."""
    async with sessions() as session:
        profile = await session.get(AgentProfile, user.id)
    phrases = (
        quick_replies.phrases_for(profile.service_roles)
        if profile is not None and profile.service_roles
        else list(LIBRARY)
    )
    return {
        "variables": list(quick_replies.VARIABLES),
        "groups": [
            {
                "name": name,
                "phrases": [{"code": p.code, "text": p.text} for p in items],
            }
            for name, items in quick_replies.grouped(phrases)
        ],
    }
