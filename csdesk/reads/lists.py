"""The workbench's lists: my open conversations with their waiting clocks (the reception
list, 接待列表) and, for the transfer picker, each role's agents and queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.current import CurrentUser
from csdesk.reads.conversations import iso, message_json, shop_zone
from csdesk.reads.queues import queue_depths
from csdesk.reads.roster import roster_roles
from csdesk.routing.facts import ShopContext, load_shop_context
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ConversationStatus, MessageSender, ServiceRole
from csdesk.storage.models import AgentProfile, Buyer, Conversation, Message, User


def sla_seconds(ctx: ShopContext, role: str) -> int | None:
    """The role's first-response target: the threshold at which a waiting row turns red."""
    try:
        return ctx.routing.sla.first_response_s.get(ServiceRole(role))
    except ValueError:
        return None


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


def snoozed_until(conversation: Conversation, now: datetime | None) -> datetime | None:
    """稍后处理: until when the holder put the chat aside, while that still holds (not past,
    the buyer has not written since, and it was not handed to someone since)."""
    until, since = conversation.snoozed_until, conversation.snoozed_at
    if until is None or since is None or now is None or until <= now:
        return None
    if (
        conversation.last_buyer_message_at is not None
        and conversation.last_buyer_message_at > since
    ):
        return None
    if conversation.assigned_at is not None and conversation.assigned_at > since:
        return None
    return until


async def conversation_rows(
    session: AsyncSession,
    ctx: ShopContext,
    conversations: Sequence[Conversation],
    now: datetime | None = None,
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
                "last_message": message_json(message) if message else None,
                "waiting_since": iso(since),
                "sla_s": sla_seconds(ctx, conversation.role),
                "opened_at": conversation.opened_at.isoformat(),
                "assigned_at": iso(conversation.assigned_at),
                "snoozed_until": iso(snoozed_until(conversation, now)),
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
        tz = await shop_zone(session, user.shop_id)
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
        rows = await conversation_rows(session, ctx, mine, now)
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
    """Per service role: agents online and busy, queue depth, oldest wait; and each agent on
    shift with their status and load (open items against chat capacity): the transfer
    picker (转接) shows whom a chat would go to."""
    async with sessions() as session:
        profiles = list(
            await session.scalars(
                select(AgentProfile).where(
                    AgentProfile.shop_id == user.shop_id,
                    AgentProfile.status.in_(
                        (AgentStatus.ONLINE, AgentStatus.BUSY, AgentStatus.AWAY)
                    ),
                )
            )
        )
        queued = await queue_depths(session, user.shop_id)
        ids = [p.user_id for p in profiles]
        names: dict[int, str] = {}
        loads: dict[int, int] = {}
        if ids:
            names = dict(
                (
                    await session.execute(
                        select(User.id, User.display_name).where(
                            User.id.in_(ids), User.is_active.is_(True)
                        )
                    )
                ).all()
            )
            for agent_id, count in await session.execute(
                select(Conversation.assigned_agent_id, func.count())
                .where(
                    Conversation.assigned_agent_id.in_(ids),
                    Conversation.status == ConversationStatus.ASSIGNED,
                )
                .group_by(Conversation.assigned_agent_id)
            ):
                if agent_id is not None:
                    loads[agent_id] = int(count)
    working = [p for p in profiles if p.status is not AgentStatus.AWAY and p.user_id in names]
    roles = []
    for role in ServiceRole:
        holders = [p for p in working if role.value in p.service_roles]
        depth = queued[role.value]
        roles.append(
            {
                "key": role.value,
                "online": sum(p.status is AgentStatus.ONLINE for p in holders),
                "busy": sum(p.status is AgentStatus.BUSY for p in holders),
                "depth": depth.depth,
                # Whole seconds here (0 for an empty queue): the picker shows minutes.
                "oldest_wait_s": round(depth.oldest_wait_s(now)) if depth.depth else 0,
            }
        )
    agents = sorted(
        (
            {
                "id": p.user_id,
                "display_name": names[p.user_id],
                "status": p.status.value,
                "service_roles": list(p.service_roles),
                "open": int(loads.get(p.user_id, 0)),
                "capacity": p.chat_capacity,
                "me": p.user_id == user.id,
            }
            for p in profiles
            if p.user_id in names
        ),
        key=lambda a: (a["status"] != "online", a["open"], str(a["display_name"])),
    )
    return {"generated_at": now.isoformat(), "roles": roles, "agents": agents}


async def colleagues(sessions: SessionFactory, user: CurrentUser) -> list[dict[str, Any]]:
    """Everyone active in my shop (for @mentions), by username."""
    async with sessions() as session:
        rows = await session.execute(
            select(User.id, User.username, User.display_name, User.role)
            .where(User.shop_id == user.shop_id, User.is_active.is_(True))
            .order_by(User.username)
        )
        return [
            {"id": uid, "username": name, "display_name": shown, "role": role.value}
            for uid, name, shown, role in rows
        ]


__all__ = [
    "colleagues",
    "conversation_rows",
    "role_board",
    "sla_seconds",
    "waiting_since",
    "workbench_state",
]
