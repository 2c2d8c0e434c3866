"""The supervisor's live board (主管看板).

Per role: queued, scheduled, with an agent, agent silent, unanswered past the shop's
response window (Tmall's 3 minutes), the oldest wait. Per agent: status, roles and duties
on shift, load against capacity, silent items, guided-mode skips. The open items to act
on (queued best first, then those with an agent, longest held first), the silent and
unanswered lists, the recent skips, and the platform events that failed after they were
accepted (they wait for a fix and a retry).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.reads.conversations import iso, seconds_since
from csdesk.reads.deliveries import KIND_MESSAGE, KIND_WEBHOOK
from csdesk.reads.deliveries import counts as delivery_counts
from csdesk.reads.events import FailedEvent, recent_failed
from csdesk.reads.metrics import unprocessed_events
from csdesk.reads.queues import queue_depths
from csdesk.reads.roster import on_shift_duties
from csdesk.routing import facts as loaded
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus, EventStatus, MessageSender, ServiceRole
from csdesk.storage.kinds import BUYER_FACING_KINDS, OPEN
from csdesk.storage.models import AuditLog, Buyer, Conversation, Message, User

BOARD_ACCESS: Final = "supervisor.board"
BOARD_LIST_LIMIT: Final = 100
SKIP_AUDIT: Final = "guided.skip"
"""The audit action of a guided-mode skip (written by ``actions.guided``)."""
SKIP_MEMORY: Final = timedelta(hours=24)
"""Skips the board shows, and guided "next" does not offer an agent again, for this long."""


@dataclass(frozen=True, slots=True)
class RoleCounts:
    queued: int
    scheduled: int
    with_agent: int
    agent_silent: int
    unanswered: int
    oldest_wait_s: float

    def to_json(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "scheduled": self.scheduled,
            "with_agent": self.with_agent,
            "agent_silent": self.agent_silent,
            "unanswered": self.unanswered,
            "oldest_wait_s": self.oldest_wait_s,
        }


@dataclass(frozen=True, slots=True)
class AgentRow:
    agent_id: int
    username: str | None
    display_name: str | None
    status: str
    service_roles: tuple[str, ...]
    duties: Mapping[str, list[str]]
    chat_load: int
    hotline_load: int
    chat_capacity: int
    hotline_capacity: int
    silent: int
    skips_24h: int

    def to_json(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "username": self.username,
            "display_name": self.display_name,
            "status": self.status,
            "service_roles": list(self.service_roles),
            "duties": dict(self.duties),
            "load": {"chat": self.chat_load, "hotline": self.hotline_load},
            "capacity": {"chat": self.chat_capacity, "hotline": self.hotline_capacity},
            "silent": self.silent,
            "skips_24h": self.skips_24h,
        }


@dataclass(frozen=True, slots=True)
class SilentItem:
    conversation_id: int
    role: str
    kind: str
    assigned_agent_id: int | None
    buyer_nick: str | None
    silent_s: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "role": self.role,
            "kind": self.kind,
            "assigned_agent_id": self.assigned_agent_id,
            "buyer_nick": self.buyer_nick,
            "silent_s": self.silent_s,
        }


@dataclass(frozen=True, slots=True)
class OpenItem:
    conversation_id: int
    role: str
    kind: str
    status: str
    intent: str | None
    risk: str | None
    buyer_id: int | None
    buyer_nick: str | None
    assigned_agent_id: int | None
    waiting_s: float | None
    with_agent_s: float | None
    silent: bool
    unanswered: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "role": self.role,
            "kind": self.kind,
            "status": self.status,
            "intent": self.intent,
            "risk": self.risk,
            "buyer_id": self.buyer_id,
            "buyer_nick": self.buyer_nick,
            "assigned_agent_id": self.assigned_agent_id,
            "waiting_s": self.waiting_s,
            "with_agent_s": self.with_agent_s,
            "silent": self.silent,
            "unanswered": self.unanswered,
        }


@dataclass(frozen=True, slots=True)
class UnansweredItem:
    conversation_id: int
    role: str
    kind: str
    status: str
    buyer_id: int | None
    buyer_nick: str | None
    assigned_agent_id: int | None
    waiting_s: float | None
    last_reply_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "role": self.role,
            "kind": self.kind,
            "status": self.status,
            "buyer_id": self.buyer_id,
            "buyer_nick": self.buyer_nick,
            "assigned_agent_id": self.assigned_agent_id,
            "waiting_s": self.waiting_s,
            "last_reply_at": iso(self.last_reply_at),
        }


@dataclass(frozen=True, slots=True)
class Skip:
    agent_id: int | None
    conversation_id: int
    reason: str | None
    at: datetime
    role: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "conversation_id": self.conversation_id,
            "reason": self.reason,
            "at": self.at.isoformat(),
            "role": self.role,
        }


@dataclass(frozen=True, slots=True)
class Board:
    generated_at: datetime
    silent_s: int
    unanswered_window_s: int
    roles: Mapping[str, RoleCounts]
    agents: tuple[AgentRow, ...]
    agent_silent: tuple[SilentItem, ...]
    items: tuple[OpenItem, ...]
    unanswered: tuple[UnansweredItem, ...]
    skips: tuple[Skip, ...]
    failed_events: int
    """Platform events accepted and then failed to apply (``GET /api/v1/events/{id}``)."""
    outbound: Mapping[str, Any]
    """Buyer-visible messages on their way out: ``sending`` (being tried), ``failed`` (dead
    letters, retried from the workbench), ``webhooks_failed``, ``channel_configured``."""
    recent_failed: tuple[FailedEvent, ...] = ()
    """The latest failed platform events (``reads/events.py``), for the notice and its
    retry buttons."""

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "silent_s": self.silent_s,
            "unanswered_window_s": self.unanswered_window_s,
            "roles": {role: counts.to_json() for role, counts in self.roles.items()},
            "agents": [a.to_json() for a in self.agents],
            "agent_silent": [s.to_json() for s in self.agent_silent],
            "items": [i.to_json() for i in self.items],
            "unanswered": [u.to_json() for u in self.unanswered],
            "skips": [s.to_json() for s in self.skips],
            "failed_events": self.failed_events,
            "recent_failed": [f.to_json() for f in self.recent_failed],
            "outbound": dict(self.outbound),
        }


async def board(
    sessions: SessionFactory, actor: CurrentUser, now: datetime, *, silent_s: int
) -> Board:
    """The live board. ``silent_s``: an item assigned this long without any reply counts as
    "agent silent". The unanswered list uses the shop's response window (3 min)."""
    require(actor, BOARD_ACCESS)
    shop_id = actor.shop_id
    async with sessions() as session:
        ctx = await loaded.load_shop_context(session, shop_id)
        window_s = ctx.routing.sla.response_rate_window_s
        silent_since = now - timedelta(seconds=silent_s)
        counts: dict[tuple[str, ConversationStatus], int] = {}
        for role, status, count in await session.execute(
            select(Conversation.role, Conversation.status, func.count())
            .where(Conversation.shop_id == shop_id, Conversation.status.in_(OPEN))
            .group_by(Conversation.role, Conversation.status)
        ):
            counts[(role, status)] = int(count)
        depths = await queue_depths(session, shop_id)
        silent_items = list(
            await session.scalars(
                select(Conversation)
                .where(
                    Conversation.shop_id == shop_id,
                    Conversation.status == ConversationStatus.ASSIGNED,
                    Conversation.first_response_at.is_(None),
                    Conversation.assigned_at <= silent_since,
                )
                .order_by(Conversation.assigned_at, Conversation.id)
            )
        )
        unanswered = await _unanswered(session, shop_id, now - timedelta(seconds=window_s))
        open_items = await _open_items(session, shop_id)
        skips = await recent_skips(session, shop_id, now)
        agents = await _agent_rows(session, shop_id, now, silent_items, skips)
        nicks = await _nicks(
            session,
            [c.buyer_id for c in (*(c for c, _ in unanswered), *silent_items, *open_items)],
        )
        events = await unprocessed_events(session, shop_id)
        failed = await recent_failed(session, shop_id) if events.get("failed") else ()
        outbound = await delivery_counts(session, shop_id, now)
    silent_ids = {c.id for c in silent_items}
    unanswered_ids = {c.id for c, _ in unanswered}
    roles = {
        role.value: RoleCounts(
            queued=counts.get((role.value, ConversationStatus.QUEUED), 0),
            scheduled=counts.get((role.value, ConversationStatus.SCHEDULED), 0),
            with_agent=counts.get((role.value, ConversationStatus.ASSIGNED), 0),
            agent_silent=sum(1 for c in silent_items if c.role == role.value),
            unanswered=sum(1 for c, _ in unanswered if c.role == role.value),
            oldest_wait_s=seconds_since(now, depths[role.value].oldest_enqueued_at) or 0.0,
        )
        for role in ServiceRole
    }
    return Board(
        generated_at=now,
        silent_s=silent_s,
        unanswered_window_s=window_s,
        roles=roles,
        agents=agents,
        agent_silent=tuple(
            SilentItem(
                conversation_id=c.id,
                role=c.role,
                kind=c.kind,
                assigned_agent_id=c.assigned_agent_id,
                buyer_nick=nicks.get(c.buyer_id or 0),
                silent_s=seconds_since(now, c.assigned_at),
            )
            for c in silent_items[:BOARD_LIST_LIMIT]
        ),
        items=tuple(
            OpenItem(
                conversation_id=c.id,
                role=c.role,
                kind=c.kind,
                status=c.status.value,
                intent=c.intent,
                risk=c.risk,
                buyer_id=c.buyer_id,
                buyer_nick=nicks.get(c.buyer_id or 0),
                assigned_agent_id=c.assigned_agent_id,
                waiting_s=seconds_since(now, c.enqueued_at or c.opened_at),
                with_agent_s=seconds_since(now, c.assigned_at)
                if c.status is ConversationStatus.ASSIGNED
                else None,
                silent=c.id in silent_ids,
                unanswered=c.id in unanswered_ids,
            )
            for c in open_items
        ),
        unanswered=tuple(
            UnansweredItem(
                conversation_id=c.id,
                role=c.role,
                kind=c.kind,
                status=c.status.value,
                buyer_id=c.buyer_id,
                buyer_nick=nicks.get(c.buyer_id or 0),
                assigned_agent_id=c.assigned_agent_id,
                waiting_s=seconds_since(now, c.last_buyer_message_at),
                last_reply_at=last_reply,
            )
            for c, last_reply in unanswered[:BOARD_LIST_LIMIT]
        ),
        skips=skips,
        failed_events=events.get(EventStatus.FAILED.value, 0),
        recent_failed=failed,
        outbound={
            "sending": outbound.sending[KIND_MESSAGE],
            "failed": outbound.failed[KIND_MESSAGE],
            "webhooks_failed": outbound.failed[KIND_WEBHOOK],
            "channel_configured": outbound.channel_configured,
        },
    )


async def _unanswered(
    session: AsyncSession, shop_id: str, waiting_since: datetime
) -> list[tuple[Conversation, datetime | None]]:
    """Open buyer chats and calls whose last buyer message is older than the window and has
    no agent reply after it (Tmall's 3-minute response rate, live)."""
    last_reply = (
        select(
            Message.conversation_id.label("conversation_id"),
            func.max(Message.sent_at).label("at"),
        )
        .where(Message.shop_id == shop_id, Message.sender == MessageSender.AGENT)
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = await session.execute(
        select(Conversation, last_reply.c.at)
        .outerjoin(last_reply, last_reply.c.conversation_id == Conversation.id)
        .where(
            Conversation.shop_id == shop_id,
            Conversation.status.in_((ConversationStatus.QUEUED, ConversationStatus.ASSIGNED)),
            Conversation.kind.in_(BUYER_FACING_KINDS),
            Conversation.last_buyer_message_at <= waiting_since,
            (last_reply.c.at.is_(None)) | (last_reply.c.at < Conversation.last_buyer_message_at),
        )
        .order_by(Conversation.last_buyer_message_at, Conversation.id)
    )
    return [(conversation, at) for conversation, at in rows.all()]


async def _open_items(session: AsyncSession, shop_id: str) -> list[Conversation]:
    """What the board lists to act on: the queued items, best first, then the items with
    an agent, longest held first (each up to ``BOARD_LIST_LIMIT``)."""
    queued = await session.scalars(
        select(Conversation)
        .where(Conversation.shop_id == shop_id, Conversation.status == ConversationStatus.QUEUED)
        .order_by(Conversation.sort_key.desc().nulls_last(), Conversation.id)
        .limit(BOARD_LIST_LIMIT)
    )
    held = await session.scalars(
        select(Conversation)
        .where(Conversation.shop_id == shop_id, Conversation.status == ConversationStatus.ASSIGNED)
        .order_by(Conversation.assigned_at, Conversation.id)
        .limit(BOARD_LIST_LIMIT)
    )
    return [*queued, *held]


async def _nicks(session: AsyncSession, buyer_ids: Sequence[int | None]) -> dict[int, str]:
    wanted = sorted({b for b in buyer_ids if b is not None})
    if not wanted:
        return {}
    rows = await session.execute(select(Buyer.id, Buyer.nick).where(Buyer.id.in_(wanted)))
    return {int(buyer_id): str(nick) for buyer_id, nick in rows.all()}


async def _agent_rows(
    session: AsyncSession,
    shop_id: str,
    now: datetime,
    silent_items: Sequence[Conversation],
    skips: Sequence[Skip],
) -> tuple[AgentRow, ...]:
    facts = {a.user_id: a for a in await loaded.agent_facts(session, shop_id, online_only=False)}
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(list(facts))))}
    duties = await on_shift_duties(session, shop_id, now)
    silent: dict[int, int] = {}
    for item in silent_items:
        if item.assigned_agent_id is not None:
            silent[item.assigned_agent_id] = silent.get(item.assigned_agent_id, 0) + 1
    skipped: dict[int, int] = {}
    for skip in skips:
        if skip.agent_id is not None:
            skipped[skip.agent_id] = skipped.get(skip.agent_id, 0) + 1
    rows = []
    for agent_id in sorted(facts):
        agent = facts[agent_id]
        user = users.get(agent_id)
        rows.append(
            AgentRow(
                agent_id=agent_id,
                username=user.username if user else None,
                display_name=user.display_name if user else None,
                status=agent.status.value,
                service_roles=tuple(sorted(agent.roles)),
                duties=duties.get(agent_id, {}),
                chat_load=agent.chat_load,
                hotline_load=agent.hotline_load,
                chat_capacity=agent.chat_capacity,
                hotline_capacity=agent.hotline_capacity,
                silent=silent.get(agent_id, 0),
                skips_24h=skipped.get(agent_id, 0),
            )
        )
    return tuple(rows)


async def recent_skips(session: AsyncSession, shop_id: str, now: datetime) -> tuple[Skip, ...]:
    """Guided-mode skips of the last ``SKIP_MEMORY``, newest first."""
    rows = await session.scalars(
        select(AuditLog)
        .where(
            AuditLog.shop_id == shop_id,
            AuditLog.action == SKIP_AUDIT,
            AuditLog.at >= now - SKIP_MEMORY,
        )
        .order_by(AuditLog.id.desc())
        .limit(BOARD_LIST_LIMIT)
    )
    return tuple(
        Skip(
            agent_id=row.actor_id,
            conversation_id=int(row.target_id),
            reason=row.reason,
            at=row.at,
            role=row.detail.get("role"),
        )
        for row in rows
    )


__all__ = [
    "BOARD_ACCESS",
    "BOARD_LIST_LIMIT",
    "SKIP_AUDIT",
    "SKIP_MEMORY",
    "AgentRow",
    "Board",
    "OpenItem",
    "RoleCounts",
    "SilentItem",
    "Skip",
    "UnansweredItem",
    "board",
    "recent_skips",
]
