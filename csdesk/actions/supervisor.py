"""What supervisors (主管) do to the floor: the live board, moving work between agents,
roles and the roster (排班), and the guided mode agents use on a backlog.

- The board counts per role (queued, with an agent, agent silent) and lists the buyers
  waiting longer than the 3-minute response window and the open items to act on (queued
  best first, then those with an agent); per agent: status, roles and duties on shift,
  load against capacity, guided-mode skips.
- Reassign / transfer / close act on any open item of the shop; bulk runs one transaction
  per item, so one item that changed meanwhile does not undo the others.
- The roster editor replaces one shop-local day; role swaps change an agent's on-shift
  roles and duties from now to the end of the shift (e.g. refund review ↔ processing
  during a promotion), audited.
- Guided mode (Zendesk's): "next" opens the agent's oldest untouched item or claims the
  best queued one; a skip needs a reason, puts the item back and shows on the board.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.agents import ShiftSpec, set_roster
from csdesk.actions.chasing import CHASE_CLAIM
from csdesk.actions.outbox import Deps, Outbox, transaction
from csdesk.actions.routing import (
    CHASE_KINDS,
    assign,
    conversation_json,
    fill_agent,
    item_facts,
    place,
    requeue,
    reserved_for,
    tell_buyer_of_transfer,
)
from csdesk.actions.work_items import (
    InputError,
    ItemConflictError,
    ItemNotFoundError,
    close_item,
    free_capacity,
    load_item,
    note,
    optional_text,
    publish_queue_depths,
    required_text,
)
from csdesk.auth import audit
from csdesk.auth.access import only_own, require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.roles import ROLES
from csdesk.routing import facts as loaded
from csdesk.routing.assignment import may_take
from csdesk.routing.queues.base import WorkQueue
from csdesk.routing.scoring import ROLE_ZH
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import (
    AgentStatus,
    Channel,
    ConversationStatus,
    MessageSender,
    ServiceRole,
)
from csdesk.storage.models import (
    AgentProfile,
    AuditLog,
    Buyer,
    BuyerClaim,
    Conversation,
    Message,
    RosterShift,
    User,
)

BOARD_ACCESS: Final = "supervisor.board"
ASSIGN_ACCESS: Final = "supervisor.assign"
ROSTER_READ: Final = "roster.read"
ROSTER_EDIT: Final = "roster.edit"
ROLES_ACCESS: Final = "agents.roles"
GUIDED_ACCESS: Final = "guided.use"
SKIP_AUDIT: Final = "guided.skip"
SKIP_MEMORY: Final = timedelta(hours=24)
"""Guided "next" does not offer an agent what they skipped within this long."""
MAX_BULK: Final = 100
MAX_SHIFT: Final = timedelta(hours=24)
BOARD_LIST_LIMIT: Final = 100
DESIGNATED_CHASER: Final = "designated_chaser"
"""排班: 每天指定一人做订单催付 (the seed roster's duty of the day's one chaser)."""
DUTIES: Final[Mapping[ServiceRole, frozenset[str]]] = {
    **{key: frozenset(spec.duties) for key, spec in ROLES.items()},
    ServiceRole.PAYMENT_CHASING: frozenset({DESIGNATED_CHASER}),
}
"""Named duties each role's shifts may carry (refund: review / processing)."""
_BUYER_FACING = ("chat", "call")
_LIVE = (ConversationStatus.SCHEDULED, ConversationStatus.QUEUED, ConversationStatus.ASSIGNED)


# -- the board ------------------------------------------------------------------------------


def _seconds(later: datetime, earlier: datetime | None) -> float | None:
    return round((later - earlier).total_seconds(), 1) if earlier else None


async def board(
    sessions: SessionFactory, actor: CurrentUser, now: datetime, *, silent_s: int
) -> dict[str, Any]:
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
            .where(Conversation.shop_id == shop_id, Conversation.status.in_(_LIVE))
            .group_by(Conversation.role, Conversation.status)
        ):
            counts[(role, status)] = int(count)
        oldest: dict[str, datetime | None] = {}
        for role, first in await session.execute(
            select(Conversation.role, func.min(Conversation.enqueued_at))
            .where(
                Conversation.shop_id == shop_id,
                Conversation.status == ConversationStatus.QUEUED,
            )
            .group_by(Conversation.role)
        ):
            oldest[role] = first
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
        agents = await _agent_rows(session, shop_id, now, silent_items)
        skips = await _recent_skips(session, shop_id, now)
        nicks = await _nicks(
            session,
            [c.buyer_id for c in (*(c for c, _ in unanswered), *silent_items, *open_items)],
        )
    silent_ids = {c.id for c in silent_items}
    unanswered_ids = {c.id for c, _ in unanswered}
    skips_per_agent: dict[int, int] = {}
    for skip in skips:
        skips_per_agent[skip["agent_id"]] = skips_per_agent.get(skip["agent_id"], 0) + 1
    for agent in agents:
        agent["skips_24h"] = skips_per_agent.get(agent["agent_id"], 0)
    roles: dict[str, dict[str, Any]] = {}
    for role in ServiceRole:
        roles[role.value] = {
            "queued": counts.get((role.value, ConversationStatus.QUEUED), 0),
            "scheduled": counts.get((role.value, ConversationStatus.SCHEDULED), 0),
            "with_agent": counts.get((role.value, ConversationStatus.ASSIGNED), 0),
            "agent_silent": sum(1 for c in silent_items if c.role == role.value),
            "unanswered": sum(1 for c, _ in unanswered if c.role == role.value),
            "oldest_wait_s": _seconds(now, oldest.get(role.value)) or 0.0,
        }
    return {
        "generated_at": now.isoformat(),
        "silent_s": silent_s,
        "unanswered_window_s": window_s,
        "roles": roles,
        "agents": agents,
        "agent_silent": [
            {
                "conversation_id": c.id,
                "role": c.role,
                "kind": c.kind,
                "assigned_agent_id": c.assigned_agent_id,
                "buyer_nick": nicks.get(c.buyer_id or 0),
                "silent_s": _seconds(now, c.assigned_at),
            }
            for c in silent_items[:BOARD_LIST_LIMIT]
        ],
        "items": [
            {
                "conversation_id": c.id,
                "role": c.role,
                "kind": c.kind,
                "status": c.status.value,
                "intent": c.intent,
                "risk": c.risk,
                "buyer_id": c.buyer_id,
                "buyer_nick": nicks.get(c.buyer_id or 0),
                "assigned_agent_id": c.assigned_agent_id,
                "waiting_s": _seconds(now, c.enqueued_at or c.opened_at),
                "with_agent_s": _seconds(now, c.assigned_at)
                if c.status is ConversationStatus.ASSIGNED
                else None,
                "silent": c.id in silent_ids,
                "unanswered": c.id in unanswered_ids,
            }
            for c in open_items
        ],
        "unanswered": [
            {
                "conversation_id": c.id,
                "role": c.role,
                "kind": c.kind,
                "status": c.status.value,
                "buyer_id": c.buyer_id,
                "buyer_nick": nicks.get(c.buyer_id or 0),
                "assigned_agent_id": c.assigned_agent_id,
                "waiting_s": _seconds(now, c.last_buyer_message_at),
                "last_reply_at": last_reply.isoformat() if last_reply else None,
            }
            for c, last_reply in unanswered[:BOARD_LIST_LIMIT]
        ],
        "skips": skips,
    }


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
            Conversation.kind.in_(_BUYER_FACING),
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


async def on_shift_duties(
    session: AsyncSession, shop_id: str, now: datetime, user_ids: Sequence[int] | None = None
) -> dict[int, dict[str, list[str]]]:
    """Per agent, the duties of the roster shifts covering ``now``, by role."""
    query = select(RosterShift).where(
        RosterShift.shop_id == shop_id, RosterShift.starts_at <= now, RosterShift.ends_at > now
    )
    if user_ids is not None:
        query = query.where(RosterShift.user_id.in_(list(user_ids)))
    duties: dict[int, dict[str, list[str]]] = {}
    for shift in await session.scalars(query.order_by(RosterShift.id)):
        if shift.duty:
            held = duties.setdefault(shift.user_id, {}).setdefault(shift.service_role, [])
            if shift.duty not in held:
                held.append(shift.duty)
    return duties


async def _agent_rows(
    session: AsyncSession, shop_id: str, now: datetime, silent_items: Sequence[Conversation]
) -> list[dict[str, Any]]:
    facts = {a.user_id: a for a in await loaded.agent_facts(session, shop_id, online_only=False)}
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(list(facts))))}
    duties = await on_shift_duties(session, shop_id, now)
    silent: dict[int, int] = {}
    for item in silent_items:
        if item.assigned_agent_id is not None:
            silent[item.assigned_agent_id] = silent.get(item.assigned_agent_id, 0) + 1
    rows = []
    for agent_id in sorted(facts):
        agent = facts[agent_id]
        user = users.get(agent_id)
        rows.append(
            {
                "agent_id": agent_id,
                "username": user.username if user else None,
                "display_name": user.display_name if user else None,
                "status": agent.status.value,
                "service_roles": sorted(agent.roles),
                "duties": duties.get(agent_id, {}),
                "load": {"chat": agent.chat_load, "hotline": agent.hotline_load},
                "capacity": {"chat": agent.chat_capacity, "hotline": agent.hotline_capacity},
                "silent": silent.get(agent_id, 0),
            }
        )
    return rows


async def _recent_skips(session: AsyncSession, shop_id: str, now: datetime) -> list[dict[str, Any]]:
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
    return [
        {
            "agent_id": row.actor_id,
            "conversation_id": int(row.target_id),
            "reason": row.reason,
            "at": row.at.isoformat(),
            "role": row.detail.get("role"),
        }
        for row in rows
    ]


# -- moving work ----------------------------------------------------------------------------


async def _shop_item(
    session: AsyncSession, actor: CurrentUser, conversation_id: int
) -> Conversation:
    return await load_item(session, actor, conversation_id, ASSIGN_ACCESS, None)


async def _target_agent(session: AsyncSession, shop_id: str, agent_id: int) -> AgentProfile:
    profile = await session.get(AgentProfile, agent_id)
    if profile is None or profile.shop_id != shop_id:
        raise InputError("agent_id", f"user {agent_id} is not an agent of this shop")
    if profile.status in (AgentStatus.AWAY, AgentStatus.OFFLINE):
        raise ItemConflictError(f"agent {agent_id}: is {profile.status.value}")
    return profile


def _publish_moved(
    outbox: Outbox,
    conversation: Conversation,
    previous: int | None,
    actor_id: int,
    reason: str,
) -> None:
    users = dict.fromkeys(u for u in (previous, conversation.assigned_agent_id) if u is not None)
    outbox.publish(
        BusEvent(
            ev.CONVERSATION_REASSIGNED,
            conversation.shop_id,
            (*(ev.to_user(u) for u in users), ev.SUPERVISORS),
            {
                "conversation_id": conversation.id,
                "from_agent_id": previous,
                "to_agent_id": conversation.assigned_agent_id,
                "status": conversation.status.value,
                "by": actor_id,
                "reason": reason,
            },
        )
    )


async def _reassign_in(
    session: AsyncSession,
    deps: Deps,
    actor: CurrentUser,
    conversation: Conversation,
    agent_id: int | None,
    reason: str,
    now: datetime,
    outbox: Outbox,
) -> None:
    ctx = await loaded.load_shop_context(session, actor.shop_id)
    previous = conversation.assigned_agent_id
    if agent_id is None:
        if conversation.status is ConversationStatus.QUEUED:
            raise ItemConflictError(f"conversation {conversation.id}: is queued already")
        if conversation.status is ConversationStatus.SCHEDULED:
            # Back to the queue means "work it now": the wait starts today.
            conversation.status = ConversationStatus.QUEUED
            conversation.not_before = None
            conversation.enqueued_at = now
            note(session, conversation, reason, now)
            await place(session, ctx, conversation, now, outbox)
        else:
            await requeue(
                session, ctx, conversation, now, outbox, reason=reason, exclude_agent=previous
            )
    else:
        if agent_id == previous:
            raise ItemConflictError(f"conversation {conversation.id}: is with agent {agent_id}")
        await _target_agent(session, actor.shop_id, agent_id)
        if conversation.kind in CHASE_KINDS and conversation.buyer_id is not None:
            # One chaser per buyer still holds: the claim moves with the chase.
            await session.execute(
                delete(BuyerClaim).where(
                    BuyerClaim.shop_id == actor.shop_id,
                    BuyerClaim.buyer_id == conversation.buyer_id,
                    BuyerClaim.kind == CHASE_CLAIM,
                )
            )
        if conversation.status is ConversationStatus.ASSIGNED:
            conversation.status = ConversationStatus.QUEUED  # what assign() claims from
        conversation.not_before = None
        conversation.enqueued_at = conversation.enqueued_at or now
        note(session, conversation, reason, now)
        await session.flush()
        if not await assign(session, ctx, conversation, agent_id, now, outbox, reason):
            raise ItemConflictError(f"conversation {conversation.id}: changed meanwhile")
    audit.record(
        session,
        shop_id=actor.shop_id,
        actor_id=actor.id,
        action="conversation.reassign",
        target_type="conversation",
        target_id=conversation.id,
        at=now,
        reason=reason,
        detail={"from_agent_id": previous, "to_agent_id": conversation.assigned_agent_id},
    )
    _publish_moved(outbox, conversation, previous, actor.id, reason)
    if previous is not None and previous != conversation.assigned_agent_id:
        await free_capacity(session, deps, actor.shop_id, previous, now, outbox)


async def reassign(
    deps: Deps,
    actor: CurrentUser,
    conversation_id: int,
    agent_id: int | None,
    now: datetime,
    *,
    note_text: str = "",
) -> dict[str, Any]:
    """Give an open item to a named agent (online or busy: a supervisor may overfill), or
    back to the queue (``agent_id`` None), where routing places it at once if it can."""
    require(actor, ASSIGN_ACCESS)
    comment = optional_text(note_text, "note")
    reason = "主管改派" + (f": {comment}" if comment else "")
    async with transaction(deps) as (session, outbox):
        conversation = await _shop_item(session, actor, conversation_id)
        await _reassign_in(session, deps, actor, conversation, agent_id, reason, now, outbox)
        return conversation_json(conversation)


async def transfer(
    deps: Deps,
    actor: CurrentUser,
    conversation_id: int,
    to_role: ServiceRole,
    note_text: str,
    now: datetime,
) -> dict[str, Any]:
    """转接 by a supervisor: another role's queue, with a handoff note, keeping its age."""
    require(actor, ASSIGN_ACCESS)
    handoff = required_text(note_text, "note")
    async with transaction(deps) as (session, outbox):
        conversation = await _shop_item(session, actor, conversation_id)
        if conversation.role == to_role.value:
            raise ItemConflictError(
                f"conversation {conversation_id}: is in {to_role.value} already"
            )
        ctx = await loaded.load_shop_context(session, actor.shop_id)
        previous = conversation.assigned_agent_id
        old_role = conversation.role
        reason = f"主管转接到{ROLE_ZH[to_role]}: {handoff}"
        if conversation.status is ConversationStatus.QUEUED:
            outbox.remove(actor.shop_id, old_role, conversation.id)
        conversation.role = to_role.value
        await tell_buyer_of_transfer(session, ctx, conversation, to_role, now, outbox)
        if conversation.status is ConversationStatus.SCHEDULED:
            note(session, conversation, reason, now)  # placed in the new role when due
        else:
            await requeue(
                session, ctx, conversation, now, outbox, reason=reason, exclude_agent=previous
            )
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="conversation.transfer",
            target_type="conversation",
            target_id=conversation.id,
            at=now,
            reason=handoff,
            detail={"from_role": old_role, "to_role": to_role.value, "from_agent_id": previous},
        )
        if previous is not None and previous != conversation.assigned_agent_id:
            await free_capacity(session, deps, actor.shop_id, previous, now, outbox)
        await publish_queue_depths(session, actor.shop_id, [old_role, to_role.value], outbox)
        return conversation_json(conversation)


async def close(
    deps: Deps, actor: CurrentUser, conversation_id: int, disposition: str, now: datetime
) -> dict[str, Any]:
    """Close any open item (spam, duplicates, a backlog cleared by hand)."""
    require(actor, ASSIGN_ACCESS)
    outcome = required_text(disposition, "disposition", max_chars=64)
    async with transaction(deps) as (session, outbox):
        conversation = await _shop_item(session, actor, conversation_id)
        was_queued = conversation.status is ConversationStatus.QUEUED
        note(session, conversation, f"主管关闭: {outcome}", now)
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="conversation.close",
            target_type="conversation",
            target_id=conversation.id,
            at=now,
            reason=outcome,
            detail={"assigned_agent_id": conversation.assigned_agent_id},
        )
        await close_item(session, deps, conversation, outcome, actor.id, now, outbox)
        if was_queued:
            await publish_queue_depths(session, actor.shop_id, [conversation.role], outbox)
        return conversation_json(conversation)


BULK_ACTIONS: Final = ("assign", "transfer", "close", "requeue")


@dataclass(frozen=True)
class BulkOutcome:
    conversation_id: int
    status: int
    """HTTP-like: 200 done, 404 not in this shop, 409 its state did not allow it."""
    error: str | None = None
    conversation: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "ok": self.status == 200,
            "status": self.status,
            "error": self.error,
            "conversation": self.conversation,
        }


async def bulk(
    deps: Deps,
    actor: CurrentUser,
    action: str,
    conversation_ids: Sequence[int],
    now: datetime,
    *,
    agent_id: int | None = None,
    to_role: ServiceRole | None = None,
    note_text: str = "",
    disposition: str = "",
) -> list[BulkOutcome]:
    """The same move on many items; arguments are checked once, up front (400), then each
    item is its own transaction and its own result."""
    require(actor, ASSIGN_ACCESS)
    if action not in BULK_ACTIONS:
        raise InputError("action", f"must be one of {', '.join(BULK_ACTIONS)}")
    if not conversation_ids:
        raise InputError("conversation_ids", "must name at least one conversation")
    if len(conversation_ids) > MAX_BULK:
        raise InputError("conversation_ids", f"at most {MAX_BULK} at once")
    if len(set(conversation_ids)) != len(conversation_ids):
        raise InputError("conversation_ids", "each conversation once")
    if action == "assign":
        if agent_id is None:
            raise InputError("agent_id", "is required to assign")
        async with deps.sessions() as session:
            await _target_agent(session, actor.shop_id, agent_id)
    if action == "transfer":
        if to_role is None:
            raise InputError("to_role", "is required to transfer")
        required_text(note_text, "note")
    if action == "close":
        required_text(disposition, "disposition", max_chars=64)
    results = []
    for conversation_id in conversation_ids:
        try:
            if action == "assign":
                done = await reassign(
                    deps, actor, conversation_id, agent_id, now, note_text=note_text
                )
            elif action == "requeue":
                done = await reassign(deps, actor, conversation_id, None, now, note_text=note_text)
            elif action == "transfer":
                assert to_role is not None
                done = await transfer(deps, actor, conversation_id, to_role, note_text, now)
            else:
                done = await close(deps, actor, conversation_id, disposition, now)
            results.append(BulkOutcome(conversation_id, 200, conversation=done))
        except ItemNotFoundError as exc:
            results.append(BulkOutcome(conversation_id, 404, str(exc)))
        except ItemConflictError as exc:
            results.append(BulkOutcome(conversation_id, 409, str(exc)))
    return results


# -- the roster -----------------------------------------------------------------------------


def day_window(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A shop-local calendar day as a UTC window (DST-safe: midnight to next midnight)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def shift_json(shift: RosterShift, user: User | None, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": shift.id,
        "user_id": shift.user_id,
        "username": user.username if user else None,
        "display_name": user.display_name if user else None,
        "service_role": shift.service_role,
        "duty": shift.duty,
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
        "local_start": shift.starts_at.astimezone(tz).strftime("%H:%M"),
        "local_end": shift.ends_at.astimezone(tz).strftime("%H:%M"),
    }


async def roster_week(
    sessions: SessionFactory, actor: CurrentUser, week_of: date
) -> dict[str, Any]:
    """The shifts starting in the shop-local week (Monday to Sunday) holding ``week_of``;
    agents see their own shifts only."""
    require(actor, ROSTER_READ)
    monday = week_of - timedelta(days=week_of.weekday())
    async with sessions() as session:
        ctx = await loaded.load_shop_context(session, actor.shop_id)
        tz = ctx.routing.tz
        start, _ = day_window(monday, tz)
        _, end = day_window(monday + timedelta(days=6), tz)
        query = select(RosterShift).where(
            RosterShift.shop_id == actor.shop_id,
            RosterShift.starts_at >= start,
            RosterShift.starts_at < end,
        )
        if only_own(actor, ROSTER_READ):
            query = query.where(RosterShift.user_id == actor.id)
        shifts = list(await session.scalars(query.order_by(RosterShift.starts_at, RosterShift.id)))
        users = {
            u.id: u
            for u in await session.scalars(
                select(User).where(User.id.in_({s.user_id for s in shifts}))
            )
        }
    days: dict[date, list[dict[str, Any]]] = {monday + timedelta(days=n): [] for n in range(7)}
    for shift in shifts:
        days[shift.starts_at.astimezone(tz).date()].append(
            shift_json(shift, users.get(shift.user_id), tz)
        )
    return {
        "week_start": monday.isoformat(),
        "timezone": tz.key,
        "days": [{"day": day.isoformat(), "shifts": rows} for day, rows in days.items()],
    }


def _duty(role: ServiceRole, raw: object, field: str) -> str | None:
    if raw is None or raw == "":
        return None
    allowed = DUTIES.get(role, frozenset())
    if not isinstance(raw, str) or raw not in allowed:
        choices = ", ".join(sorted(allowed)) or "none"
        raise InputError(field, f"{role.value} duties: {choices}")
    return raw


def _when(raw: object, field: str) -> datetime:
    if not isinstance(raw, str):
        raise InputError(field, "must be an ISO 8601 date-time with a timezone")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(field, "must be an ISO 8601 date-time with a timezone") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(field, "must include a timezone (e.g. +08:00)")
    return value.astimezone(UTC)


def parse_day_shifts(raw: object, day: date, tz: ZoneInfo) -> list[ShiftSpec]:
    """The shifts of one shop-local day from JSON; every problem names its field
    (``shifts[2].ends_at``). Pure: users are checked against the shop afterwards."""
    if not isinstance(raw, list):
        raise InputError("shifts", "must be a list")
    start, end = day_window(day, tz)
    specs: list[ShiftSpec] = []
    for n, item in enumerate(raw):
        at = f"shifts[{n}]"
        if not isinstance(item, dict):
            raise InputError(at, "must be an object")
        user_id = item.get("user_id")
        if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
            raise InputError(f"{at}.user_id", "must be a user id")
        try:
            role = ServiceRole(str(item.get("service_role")))
        except ValueError:
            choices = ", ".join(r.value for r in ServiceRole)
            raise InputError(f"{at}.service_role", f"must be one of {choices}") from None
        starts_at = _when(item.get("starts_at"), f"{at}.starts_at")
        ends_at = _when(item.get("ends_at"), f"{at}.ends_at")
        if not start <= starts_at < end:
            raise InputError(f"{at}.starts_at", f"must fall on {day.isoformat()} (shop time)")
        if ends_at <= starts_at:
            raise InputError(f"{at}.ends_at", "must be after starts_at")
        if ends_at - starts_at > MAX_SHIFT:
            raise InputError(f"{at}.ends_at", "a shift lasts at most 24 hours")
        duty = _duty(role, item.get("duty"), f"{at}.duty")
        for m, other in enumerate(specs):
            if (
                other.user_id == user_id
                and other.service_role is role
                and other.duty == duty
                and starts_at < other.ends_at
                and other.starts_at < ends_at
            ):
                raise InputError(f"{at}.starts_at", f"overlaps shifts[{m}] (same user, role, duty)")
        specs.append(ShiftSpec(user_id, role, starts_at, ends_at, duty))
    return specs


def coverage_warnings(specs: Sequence[ShiftSpec], day: date, tz: ZoneInfo) -> list[str]:
    """Where the day has no refund reviewer: "a reviewer must be on every shift" (also at
    23:00 when finance is gone). A warning, not an error: the supervisor may know better."""
    start, end = day_window(day, tz)
    covering = sorted(
        (max(s.starts_at, start), min(s.ends_at, end))
        for s in specs
        if s.service_role is ServiceRole.REFUND and s.duty in (None, "review")
    )
    gaps: list[tuple[datetime, datetime]] = []
    cursor = start
    for begin, finish in covering:
        if begin > cursor:
            gaps.append((cursor, begin))
        cursor = max(cursor, finish)
    if cursor < end:
        gaps.append((cursor, end))
    return [
        f"refund review uncovered {a.astimezone(tz):%H:%M}-"
        f"{'24:00' if b == end else format(b.astimezone(tz), '%H:%M')} (shop time)"
        for a, b in gaps
    ]


async def replace_day(
    deps: Deps, actor: CurrentUser, day: date, raw_shifts: object, now: datetime
) -> dict[str, Any]:
    """Make ``raw_shifts`` the shifts starting on ``day`` (shop time); the ones there
    before are removed (a night shift from the day before stays)."""
    require(actor, ROSTER_EDIT)
    async with transaction(deps) as (session, outbox):
        ctx = await loaded.load_shop_context(session, actor.shop_id)
        tz = ctx.routing.tz
        specs = parse_day_shifts(raw_shifts, day, tz)
        agents = set(
            await session.scalars(
                select(AgentProfile.user_id).where(
                    AgentProfile.shop_id == actor.shop_id,
                    AgentProfile.user_id.in_({s.user_id for s in specs}),
                )
            )
        )
        for n, spec in enumerate(specs):
            if spec.user_id not in agents:
                raise InputError(
                    f"shifts[{n}].user_id", f"user {spec.user_id} is not an agent of this shop"
                )
        start, end = day_window(day, tz)
        ids = await set_roster(session, actor.shop_id, specs, window_start=start, window_end=end)
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="roster.replace_day",
            target_type="roster",
            target_id=day.isoformat(),
            at=now,
            detail={"shifts": len(ids), "user_ids": sorted(agents)},
        )
        outbox.publish(
            BusEvent(
                ev.ROSTER_CHANGED,
                actor.shop_id,
                (*(ev.to_user(u) for u in sorted(agents)), ev.SUPERVISORS),
                {"day": day.isoformat(), "shift_ids": ids},
            )
        )
    return {
        "day": day.isoformat(),
        "shift_ids": ids,
        "warnings": coverage_warnings(specs, day, tz),
    }


# -- on-shift roles ---------------------------------------------------------------------------


def parse_role_duties(raw: object) -> list[tuple[ServiceRole, str | None]]:
    if not isinstance(raw, list) or not raw:
        raise InputError("roles", "must be a non-empty list of {service_role, duty}")
    pairs: list[tuple[ServiceRole, str | None]] = []
    for n, item in enumerate(raw):
        at = f"roles[{n}]"
        if not isinstance(item, dict):
            raise InputError(at, "must be an object")
        try:
            role = ServiceRole(str(item.get("service_role")))
        except ValueError:
            choices = ", ".join(r.value for r in ServiceRole)
            raise InputError(f"{at}.service_role", f"must be one of {choices}") from None
        pair = (role, _duty(role, item.get("duty"), f"{at}.duty"))
        if pair in pairs:
            raise InputError(at, "listed twice")
        pairs.append(pair)
    return pairs


async def set_on_shift_roles(
    deps: Deps,
    actor: CurrentUser,
    agent_id: int,
    roles: Sequence[tuple[ServiceRole, str | None]],
    reason: str,
    now: datetime,
) -> dict[str, Any]:
    """Swap an agent's roles and duties from now (a promotion, refund review ↔ processing).

    The shifts covering now end now and new ones run to the latest of their ends, so the
    roster stays the truth: going online later takes the roster's roles, and these must
    not fall back to the old plan. Without a shift now only the profile changes. Items
    the agent holds stay with them (finishing beats bouncing a buyer); an online agent
    pulls queued work of the new roles at once.
    """
    require(actor, ROLES_ACCESS)
    why = required_text(reason, "reason")
    async with transaction(deps) as (session, outbox):
        profile = await session.get(AgentProfile, agent_id, with_for_update=True)
        if profile is None or profile.shop_id != actor.shop_id:
            raise ItemNotFoundError(f"agent {agent_id}: not an agent of this shop")
        before_roles = list(profile.service_roles)
        before_duties = (await on_shift_duties(session, actor.shop_id, now, [agent_id])).get(
            agent_id, {}
        )
        covering = list(
            await session.scalars(
                select(RosterShift).where(
                    RosterShift.shop_id == actor.shop_id,
                    RosterShift.user_id == agent_id,
                    RosterShift.starts_at <= now,
                    RosterShift.ends_at > now,
                )
            )
        )
        shift_ids: list[int] = []
        if covering:
            until = max(s.ends_at for s in covering)
            for shift in covering:
                if shift.starts_at < now:
                    shift.ends_at = now
                else:
                    await session.delete(shift)
            new_shifts = [
                RosterShift(
                    shop_id=actor.shop_id,
                    user_id=agent_id,
                    service_role=role.value,
                    starts_at=now,
                    ends_at=until,
                    duty=duty,
                )
                for role, duty in roles
            ]
            session.add_all(new_shifts)
            await session.flush()
            shift_ids = [s.id for s in new_shifts]
        held = {role for role, _ in roles}
        profile.service_roles = [r.value for r in ServiceRole if r in held]
        after_duties: dict[str, list[str]] = {}
        for role, duty in roles:
            if duty:
                after_duties.setdefault(role.value, []).append(duty)
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="agent.roles",
            target_type="user",
            target_id=agent_id,
            at=now,
            reason=why,
            detail={
                "before": {"service_roles": before_roles, "duties": before_duties},
                "after": {"service_roles": profile.service_roles, "duties": after_duties},
                "shift_ids": shift_ids,
            },
        )
        # agent.status makes the live hub reload the agent's roles (their queues' events).
        outbox.publish(
            BusEvent(
                ev.AGENT_STATUS,
                actor.shop_id,
                (ev.to_user(agent_id), ev.SUPERVISORS),
                {
                    "agent_id": agent_id,
                    "status": profile.status.value,
                    "service_roles": profile.service_roles,
                    "duties": after_duties,
                    "reason": why,
                },
            )
        )
        assigned: list[int] = []
        if profile.status is AgentStatus.ONLINE:
            ctx = await loaded.load_shop_context(session, actor.shop_id)
            await session.flush()
            assigned = await fill_agent(session, ctx, agent_id, now, outbox, deps.queue)
        return {
            "agent_id": agent_id,
            "service_roles": profile.service_roles,
            "duties": after_duties,
            "shift_ids": shift_ids,
            "assigned": assigned,
        }


# -- guided mode ------------------------------------------------------------------------------


async def _skipped_ids(session: AsyncSession, actor: CurrentUser, now: datetime) -> frozenset[int]:
    rows = await session.scalars(
        select(AuditLog.target_id)
        .where(
            AuditLog.shop_id == actor.shop_id,
            AuditLog.actor_id == actor.id,
            AuditLog.action == SKIP_AUDIT,
            AuditLog.at >= now - SKIP_MEMORY,
        )
        .order_by(AuditLog.id.desc())
        .limit(50)
    )
    return frozenset(int(target) for target in rows)


async def _claim_one(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    agent_id: int,
    now: datetime,
    outbox: Outbox,
    queue: WorkQueue,
    exclude: frozenset[int],
) -> Conversation | None:
    """The best queued item this agent may take, assigned to them (like ``fill_agent``,
    one item, never one they skipped)."""
    passed: list[tuple[str, int, float]] = []
    try:
        while True:
            agents = await loaded.agent_facts(session, ctx.shop_id, user_ids=[agent_id])
            if not agents:
                return None
            agent = agents[0]
            if all(agent.load(c) >= agent.capacity(c) for c in Channel):
                raise ItemConflictError("your capacity is full: close an item first")
            claimed = await queue.claim(
                ctx.shop_id,
                sorted(agent.roles),
                exclude=exclude | {item_id for _, item_id, _ in passed},
            )
            if claimed is None:
                return None
            conversation = await session.get(Conversation, claimed.item_id)
            if conversation is None or conversation.status is not ConversationStatus.QUEUED:
                continue  # stale index entry
            owner = await reserved_for(session, ctx, conversation, now)
            reserved = (
                owner is not None and owner[0] != agent_id and conversation.kind in CHASE_KINDS
            )
            holders = await loaded.duty_holders(session, ctx.shop_id, conversation.kind, now)
            facts = item_facts(conversation, ctx, None, holders=holders)
            if reserved or not may_take(agent, facts, now):
                passed.append((claimed.role, claimed.item_id, claimed.sort_key))
                continue
            if await assign(
                session, ctx, conversation, agent_id, now, outbox, "引导模式: 下一条 / guided next"
            ):
                return conversation
    finally:
        for role, item_id, key in passed:
            await queue.push(ctx.shop_id, role, item_id, key)


async def guided_next(deps: Deps, actor: CurrentUser, now: datetime) -> dict[str, Any]:
    """The item to open now: the agent's oldest untouched item, else the best queued one
    of their roles (assigned to them here). ``conversation`` None: nothing to do."""
    require(actor, GUIDED_ACCESS)
    async with transaction(deps) as (session, outbox):
        profile = await session.get(AgentProfile, actor.id)
        if profile is None or profile.shop_id != actor.shop_id:
            raise ItemConflictError("guided mode is for agents: you have no agent profile")
        held = await session.scalar(
            select(Conversation)
            .where(
                Conversation.shop_id == actor.shop_id,
                Conversation.assigned_agent_id == actor.id,
                Conversation.status == ConversationStatus.ASSIGNED,
                Conversation.first_response_at.is_(None),
            )
            .order_by(Conversation.assigned_at, Conversation.id)
            .limit(1)
        )
        if held is not None:
            return {"conversation": conversation_json(held), "source": "held"}
        if profile.status is not AgentStatus.ONLINE:
            raise ItemConflictError(f"you are {profile.status.value}: go online to take work")
        ctx = await loaded.load_shop_context(session, actor.shop_id)
        skipped = await _skipped_ids(session, actor, now)
        taken = await _claim_one(session, ctx, actor.id, now, outbox, deps.queue, skipped)
        if taken is None:
            return {"conversation": None, "source": None}
        return {"conversation": conversation_json(taken), "source": "queue"}


async def guided_skip(
    deps: Deps, actor: CurrentUser, conversation_id: int, reason: str, now: datetime
) -> dict[str, Any]:
    """Skip an item in hand, with a reason: back to the queue (not to this agent), recorded
    for the board. A chase's buyer claim is released, or nobody else could take it."""
    require(actor, GUIDED_ACCESS)
    why = required_text(reason, "reason")
    async with transaction(deps) as (session, outbox):
        conversation = await load_item(session, actor, conversation_id, GUIDED_ACCESS, None)
        if conversation.status is not ConversationStatus.ASSIGNED:
            raise ItemConflictError(
                f"conversation {conversation_id}: is {conversation.status.value}, not in hand"
            )
        if conversation.assigned_agent_id != actor.id:
            raise ItemConflictError(
                f"conversation {conversation_id}: is with agent {conversation.assigned_agent_id}"
                "; only the agent holding it skips it"
            )
        if conversation.kind in CHASE_KINDS and conversation.buyer_id is not None:
            await session.execute(
                delete(BuyerClaim).where(
                    BuyerClaim.shop_id == actor.shop_id,
                    BuyerClaim.buyer_id == conversation.buyer_id,
                    BuyerClaim.kind == CHASE_CLAIM,
                    BuyerClaim.agent_id == actor.id,
                )
            )
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action=SKIP_AUDIT,
            target_type="conversation",
            target_id=conversation.id,
            at=now,
            reason=why,
            detail={"role": conversation.role, "kind": conversation.kind},
        )
        ctx = await loaded.load_shop_context(session, actor.shop_id)
        await requeue(
            session,
            ctx,
            conversation,
            now,
            outbox,
            reason=f"引导模式跳过: {why}",
            exclude_agent=actor.id,
        )
        outbox.publish(
            BusEvent(
                ev.GUIDED_SKIPPED,
                actor.shop_id,
                (ev.to_user(actor.id), ev.SUPERVISORS),
                {"conversation_id": conversation.id, "agent_id": actor.id, "reason": why},
            )
        )
        return {"conversation": conversation_json(conversation), "skipped": True}


__all__ = [
    "BULK_ACTIONS",
    "DUTIES",
    "BulkOutcome",
    "board",
    "bulk",
    "close",
    "coverage_warnings",
    "day_window",
    "guided_next",
    "guided_skip",
    "parse_day_shifts",
    "parse_role_duties",
    "reassign",
    "replace_day",
    "roster_week",
    "set_on_shift_roles",
    "transfer",
]
