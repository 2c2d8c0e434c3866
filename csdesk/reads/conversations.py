"""One conversation as read: the JSON shape of a routable item (a chat, call or task, with
its score breakdown when the caller passes the shop's routing context and ``now``) and of a
message, who may open it, its header panel and its transcript page by page.

Every read that takes a conversation id checks the caller may read it: agents their own,
QC and supervisors the shop's (``conversations.read``); another shop's id answers like an
unknown one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import AccessDeniedError, can_read_conversation, only_own, require
from csdesk.auth.current import CurrentUser
from csdesk.clock import SHOP_TZ
from csdesk.errors import ConflictError, NotFoundError
from csdesk.reads import deliveries
from csdesk.roles.scoring import Score, ScoreReason, explain
from csdesk.routing.facts import ShopContext
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import MessageSender
from csdesk.storage.models import Buyer, Conversation, Message, Shop, User

DEFAULT_PAGE: Final = 30
MAX_PAGE: Final = 100


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def seconds_since(now: datetime, earlier: datetime | None) -> float | None:
    """Seconds from ``earlier`` to ``now``, one decimal; None when there is no start."""
    return round((now - earlier).total_seconds(), 1) if earlier else None


def stored_score(conversation: Conversation) -> Score:
    return Score.of(
        tuple(
            ScoreReason(r["factor"], float(r["points"]), r["reason"])
            for r in conversation.score_breakdown
        )
    )


def conversation_json(
    conversation: Conversation, ctx: ShopContext | None = None, now: datetime | None = None
) -> dict[str, object]:
    data: dict[str, object] = {
        "id": conversation.id,
        "role": conversation.role,
        "kind": conversation.kind,
        "channel": conversation.channel.value,
        "status": conversation.status.value,
        "buyer_id": conversation.buyer_id,
        "order_id": conversation.order_id,
        "refund_id": conversation.refund_id,
        "intent": conversation.intent,
        "risk": conversation.risk,
        "assigned_agent_id": conversation.assigned_agent_id,
        "opened_at": conversation.opened_at.isoformat(),
        "enqueued_at": iso(conversation.enqueued_at),
        "due_at": iso(conversation.due_at),
        "deadline_at": iso(conversation.deadline_at),
        "score": conversation.priority_score,
    }
    if ctx is not None and now is not None and conversation.enqueued_at is not None:
        full = explain(
            stored_score(conversation),
            conversation.deadline_at,
            conversation.enqueued_at,
            now,
            ctx.routing,
        )
        data["score"] = round(full.points, 2)
        data["breakdown"] = full.to_json()
    return data


def message_json(message: Message, author_name: str | None = None) -> dict[str, Any]:
    return {
        "id": message.id,
        "sender": message.sender.value,
        "author_id": message.author_id,
        "author_name": author_name,
        "text": message.text,
        "sent_at": message.sent_at.isoformat(),
        "kind": message.kind,
        "attachments": list(message.attachments or ()),
    }


def _delivery_of(outbound: dict[int, dict[str, Any]], message_id: int) -> dict[str, Any]:
    found = outbound.get(message_id)
    return {} if found is None else {"delivery": found}


async def readable_conversation(
    session: AsyncSession, user: CurrentUser, conversation_id: int
) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.shop_id != user.shop_id:
        raise NotFoundError(f"conversation {conversation_id}: not found")
    if not can_read_conversation(user, conversation):
        raise AccessDeniedError(user, f"conversations.read (conversation {conversation_id})")
    return conversation


async def readable_item(
    session: AsyncSession,
    actor: CurrentUser,
    conversation_id: int,
    access: str,
    kinds: Sequence[str] | None,
) -> Conversation:
    """A role workbench's item as ``actor`` may open it under ``access`` (closed ones too):
    the checks and answers of ``actions.work_items.load_item``, without its row lock.

    Agents (own-only roles) see only items assigned to them: an item nobody holds is a
    state problem (409), one another agent holds is not theirs (403). ``kinds`` None
    accepts any kind.
    """
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.shop_id != actor.shop_id:
        raise NotFoundError(f"conversation {conversation_id}: not found")
    if only_own(actor, access) and conversation.assigned_agent_id is None:
        raise ConflictError(
            f"conversation {conversation_id}: not assigned to you (it is "
            f"{conversation.status.value})"
        )
    require(actor, access, conversation)
    if kinds is not None and conversation.kind not in kinds:
        raise ConflictError(
            f"conversation {conversation_id}: is a {conversation.kind} item, "
            f"not {' / '.join(kinds)}"
        )
    return conversation


async def check_readable(sessions: SessionFactory, user: CurrentUser, conversation_id: int) -> None:
    """Raise unless ``user`` may open this conversation (for the HTML page)."""
    async with sessions() as session:
        await readable_conversation(session, user, conversation_id)


async def shop_zone(session: AsyncSession, shop_id: str) -> ZoneInfo:
    """The shop's zone for display (Asia/Shanghai when unset or unknown)."""
    name = await session.scalar(select(Shop.timezone).where(Shop.id == shop_id))
    try:
        return ZoneInfo(name) if name else SHOP_TZ
    except (ValueError, KeyError):
        return SHOP_TZ


async def shop_zone_name(sessions: SessionFactory, shop_id: str) -> str:
    """The zone name the shop's clocks show on a page (``shop_zone``)."""
    async with sessions() as session:
        return (await shop_zone(session, shop_id)).key


async def item_extras(sessions: SessionFactory, conversation_id: int) -> dict[str, Any]:
    """What an item's JSON view leaves out but its page shows: the buyer's nick, the tags."""
    async with sessions() as session:
        conversation = await session.get(Conversation, conversation_id)
        buyer = (
            await session.get(Buyer, conversation.buyer_id)
            if conversation is not None and conversation.buyer_id is not None
            else None
        )
    return {
        "buyer_nick": buyer.nick if buyer is not None else None,
        "tags": list(conversation.tags or []) if conversation is not None else [],
    }


async def display_names(session: AsyncSession, user_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {uid for uid in user_ids if uid is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return dict(rows.all())


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
        # Buyer-visible messages carry their delivery to the shop's channel (if any).
        outbound = await deliveries.for_messages(
            session,
            [m.id for m, _ in items if m.sender in (MessageSender.AGENT, MessageSender.AUTO)],
        )
    return {
        "conversation_id": conversation_id,
        "items": [
            {**message_json(message, name), **_delivery_of(outbound, message.id)}
            for message, name in items
        ],
        "has_more": has_more,
        "has_newer": has_newer,
    }


__all__ = [
    "DEFAULT_PAGE",
    "MAX_PAGE",
    "NotFoundError",
    "check_readable",
    "conversation_json",
    "display_names",
    "iso",
    "item_extras",
    "message_json",
    "readable_conversation",
    "readable_item",
    "seconds_since",
    "shop_zone",
    "shop_zone_name",
    "stored_score",
    "transcript",
]


async def message_by_id(
    sessions: SessionFactory, user: CurrentUser, message_id: int
) -> dict[str, Any]:
    """One message of a conversation the user may read, as the transcript shows it."""
    async with sessions() as session:
        message = await session.get(Message, message_id)
        if message is None or message.shop_id != user.shop_id:
            raise NotFoundError(f"message {message_id}: not found")
        await readable_conversation(session, user, message.conversation_id)
        names = await display_names(session, [message.author_id])
        outbound = await deliveries.for_messages(session, [message.id])
    return {
        **message_json(message, names.get(message.author_id) if message.author_id else None),
        **_delivery_of(outbound, message.id),
    }


async def watchable(
    sessions: SessionFactory, user: CurrentUser, conversation_id: int
) -> int | None:
    """Collision: the holder of a conversation the user may open (raises otherwise)."""
    async with sessions() as session:
        conversation = await readable_conversation(session, user, conversation_id)
        return conversation.assigned_agent_id
