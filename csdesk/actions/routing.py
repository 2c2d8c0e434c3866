"""Routing writes: open an item, place it (assign or queue), requeue, fill a free agent.

Every function takes the caller's session (the caller owns the transaction) and an
:class:`Outbox` for what must happen after commit (queue index, bus events). The database
row is the truth; the queue index mirrors the rows whose status is ``queued``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import auto_suspend
from csdesk.actions.chasing import binding_holder, claim_buyer, release_claims
from csdesk.actions.conversations import MessageSpec
from csdesk.actions.messages import add_message, record_line
from csdesk.actions.outbox import Deps, Outbox, transaction
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.clock import utcnow
from csdesk.reads.conversations import conversation_json
from csdesk.roles.base import Decision
from csdesk.roles.config import RoutingConfig
from csdesk.roles.scoring import deadline_points, sort_key
from csdesk.roles.triage_rules import Intent
from csdesk.routing.assignment import AgentFacts, ItemFacts, is_eligible, may_take, pick_agent
from csdesk.routing.facts import (
    ShopContext,
    agent_facts,
    duty_holders,
    load_shop_context,
    protection_owner,
)
from csdesk.routing.queues.base import QueueEntry, WorkQueue
from csdesk.storage.enums import Channel, ConversationStatus, MessageSender, ServiceRole
from csdesk.storage.kinds import BUYER_FACING_KINDS, CHASE_KINDS
from csdesk.storage.models import OPEN_CHAT, AgentProfile, Conversation

log = logging.getLogger(__name__)

OPEN_STATUSES = (
    ConversationStatus.SCHEDULED,
    ConversationStatus.QUEUED,
    ConversationStatus.ASSIGNED,
)


async def reserved_for(
    session: AsyncSession, ctx: ShopContext, conversation: Conversation, now: datetime
) -> tuple[int, datetime] | None:
    """Who this item is kept for: the protection owner of a returning buyer (客户保护期),
    or the buyer's one chaser for a chase while their claim binds (on shift, holding the
    chase's role: ``routing.assignment.chase_claim_binds``)."""
    if conversation.buyer_id is None:
        return None
    if conversation.kind in BUYER_FACING_KINDS:
        return await protection_owner(session, ctx.shop_id, conversation.buyer_id, now)
    if conversation.kind in CHASE_KINDS:
        holder, binds = await binding_holder(
            session, ctx.shop_id, conversation.buyer_id, conversation.role, now
        )
        if holder is not None and binds:
            return holder, now + timedelta(seconds=ctx.assignment.chase_claim_s)
    return None


def current_points(conversation: Conversation, ctx: ShopContext, now: datetime) -> float:
    """Static points plus the deadline step the item is in now (aging is in the key)."""
    deadline = deadline_points(conversation.deadline_at, now, ctx.routing)
    return conversation.priority_score + (deadline.points if deadline else 0.0)


def item_facts(
    conversation: Conversation,
    ctx: ShopContext,
    owner: tuple[int, datetime] | None,
    exclude: frozenset[int] = frozenset(),
    holders: frozenset[int] = frozenset(),
    *,
    any_role: bool = False,
) -> ItemFacts:
    assert conversation.enqueued_at is not None
    return ItemFacts(
        item_id=conversation.id,
        role=conversation.role,
        channel=conversation.channel,
        enqueued_at=conversation.enqueued_at,
        required_skills=frozenset(conversation.required_skills),
        skill_fallback_s=ctx.assignment.skill_fallback_s,
        protection_owner_id=owner[0] if owner else None,
        protection_until=owner[1] if owner else None,
        excluded_agent_ids=exclude,
        duty_holders=holders,
        any_role=any_role,
    )


def open_to_everyone(conversation: Conversation, ctx: ShopContext) -> bool:
    """A simple after-sales (how-to) chat while a promotion that shares them is live."""
    return (
        ctx.howto_to_everyone
        and conversation.kind == "chat"
        and conversation.intent == Intent.HOWTO.value
    )


async def open_item(
    session: AsyncSession,
    *,
    shop_id: str,
    decision: Decision,
    channel: Channel,
    now: datetime,
    buyer_id: int | None = None,
    order_id: int | None = None,
    refund_id: int | None = None,
    intent: str | None = None,
    risk: str | None = None,
    required_skills: frozenset[str] = frozenset(),
    not_before: datetime | None = None,
    note: str | None = None,
    kind: str | None = None,
    last_buyer_message_at: datetime | None = None,
    sort_key_config: RoutingConfig | None = None,
    source_event_id: int | None = None,
) -> Conversation:
    """A new routable item from a role's decision (not yet placed). ``kind`` overrides the
    decision's (a buyer's chat thread stays ``chat`` whichever role answers it); its notes
    name ``source_event_id``, the platform event that opened it, if one did."""
    conversation = Conversation(
        **_item_values(
            shop_id=shop_id,
            decision=decision,
            channel=channel,
            now=now,
            buyer_id=buyer_id,
            order_id=order_id,
            refund_id=refund_id,
            intent=intent,
            risk=risk,
            required_skills=required_skills,
            not_before=not_before,
            kind=kind or decision.kind,
            last_buyer_message_at=last_buyer_message_at,
            sort_key_config=sort_key_config,
        )
    )
    session.add(conversation)
    await session.flush()
    _write_notes(session, conversation, decision, now, note, source_event_id)
    return conversation


async def open_buyer_chat(
    session: AsyncSession,
    *,
    shop_id: str,
    buyer_id: int,
    decision: Decision,
    now: datetime,
    order_id: int | None = None,
    intent: str | None = None,
    risk: str | None = None,
    required_skills: frozenset[str] = frozenset(),
    last_buyer_message_at: datetime | None = None,
    sort_key_config: RoutingConfig | None = None,
) -> tuple[Conversation, bool]:
    """The buyer's chat thread: a new one (``True``; not yet placed), or the open one that
    another process opened at the same moment (``False``).

    ``uq_conversation_open_chat`` allows one open chat per buyer. The INSERT skips on that
    conflict (on PostgreSQL it first waits for the other transaction to commit), and the
    winner is read instead: same cost as a plain INSERT when there is no race.
    """
    values = _item_values(
        shop_id=shop_id,
        decision=decision,
        channel=Channel.CHAT,
        now=now,
        buyer_id=buyer_id,
        order_id=order_id,
        intent=intent,
        risk=risk,
        required_skills=required_skills,
        not_before=None,
        kind="chat",
        last_buyer_message_at=last_buyer_message_at,
        sort_key_config=sort_key_config,
    )
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Conversation)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["shop_id", "buyer_id"], index_where=OPEN_CHAT)
        .returning(Conversation)
    )
    # The winner may close before this reads it (an agent quick on the button): try again.
    for _ in range(3):
        created = await session.scalar(statement)
        if created is not None:
            _write_notes(session, created, decision, now, None, None)
            return created, True
        existing = await find_open_chat(session, shop_id, buyer_id)
        if existing is not None:
            return existing, False
    raise RuntimeError(f"buyer {buyer_id}: open chat neither inserted nor found")


async def find_open_chat(session: AsyncSession, shop_id: str, buyer_id: int) -> Conversation | None:
    """The buyer's open chat thread, if any (one index seek)."""
    return await session.scalar(
        select(Conversation)
        .where(
            Conversation.shop_id == shop_id,
            Conversation.buyer_id == buyer_id,
            Conversation.kind == "chat",
            Conversation.status.in_(OPEN_STATUSES),
        )
        .limit(1)
    )


def _item_values(
    *,
    shop_id: str,
    decision: Decision,
    channel: Channel,
    now: datetime,
    buyer_id: int | None,
    order_id: int | None,
    refund_id: int | None = None,
    intent: str | None,
    risk: str | None,
    required_skills: frozenset[str],
    not_before: datetime | None,
    kind: str,
    last_buyer_message_at: datetime | None,
    sort_key_config: RoutingConfig | None,
) -> dict[str, Any]:
    scheduled = not_before is not None and not_before > now
    values: dict[str, Any] = {
        "shop_id": shop_id,
        "buyer_id": buyer_id,
        "channel": channel,
        "kind": kind,
        "role": decision.role.value,
        "status": ConversationStatus.SCHEDULED if scheduled else ConversationStatus.QUEUED,
        "intent": intent,
        "risk": risk,
        "priority_score": decision.score.points,
        "score_breakdown": decision.score.to_json(),
        "order_id": order_id,
        "refund_id": refund_id,
        "opened_at": now,
        "enqueued_at": None if scheduled else now,
        "due_at": decision.due_at,
        "deadline_at": decision.deadline_at,
        "not_before": not_before if scheduled else None,
        "required_skills": sorted(required_skills),
        "tags": [],
        "attempts": 0,
        "last_buyer_message_at": last_buyer_message_at,
    }
    if not scheduled and sort_key_config is not None:
        # Keyed before the INSERT, so queueing it needs no second write.
        deadline = deadline_points(decision.deadline_at, now, sort_key_config)
        points = decision.score.points + (deadline.points if deadline else 0.0)
        values["sort_key"] = sort_key(points, now, sort_key_config)
    return values


def _write_notes(
    session: AsyncSession,
    conversation: Conversation,
    decision: Decision,
    now: datetime,
    note: str | None,
    source_event_id: int | None,
) -> None:
    texts = [*decision.notes, *([note] if note else [])]
    if decision.escalation is not None and decision.escalation.note:
        texts.append(decision.escalation.note)
    for text in texts:
        record_line(
            session,
            conversation,
            MessageSpec(MessageSender.SYSTEM, text, now, source_event_id=source_event_id),
        )


async def assign(
    session: AsyncSession,
    ctx: ShopContext,
    conversation: Conversation,
    agent_id: int,
    now: datetime,
    outbox: Outbox,
    reason: str,
) -> bool:
    """Give the item to ``agent_id`` if it is still unassigned; False if someone was faster.

    The conditional UPDATE is the claim: two processes racing for one item cannot both
    match ``status = queued``. A chase also needs the buyer's chase claim (one chaser per
    buyer): if another agent holds it and it binds for this chase, this agent does not get
    the item; a claim that does not bind (its holder went off shift, or cannot work this
    chase's role) is taken over.
    """
    if conversation.kind in CHASE_KINDS and conversation.buyer_id is not None:
        holder = await claim_buyer(
            session,
            ctx.shop_id,
            conversation.buyer_id,
            agent_id,
            now,
            timedelta(seconds=ctx.assignment.chase_claim_s),
            role=conversation.role,
        )
        if holder != agent_id:
            return False
    # The first agent to serve a buyer owns them for the protection period; someone
    # standing in while the owner is away does not take the buyer over.
    owner_id, until = agent_id, now + timedelta(seconds=ctx.assignment.protection_s)
    if conversation.buyer_id is not None and conversation.kind in BUYER_FACING_KINDS:
        current = await protection_owner(session, ctx.shop_id, conversation.buyer_id, now)
        if current is not None and current[0] != agent_id:
            owner_id, until = current
    result = await session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation.id,
            Conversation.status.in_((ConversationStatus.QUEUED, ConversationStatus.SCHEDULED)),
        )
        .values(
            status=ConversationStatus.ASSIGNED,
            assigned_agent_id=agent_id,
            assigned_at=now,
            protection_owner_id=owner_id,
            protection_until=until,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        return False
    await session.refresh(conversation)
    outbox.remove(ctx.shop_id, conversation.role, conversation.id)
    payload = {"conversation": conversation_json(conversation), "reason": reason}
    outbox.publish(
        BusEvent(
            ev.CONVERSATION_ASSIGNED, ctx.shop_id, (ev.to_user(agent_id), ev.SUPERVISORS), payload
        )
    )
    await auto_suspend.refit(session, ctx, agent_id, now, outbox)  # 自动挂起 at N chats
    return True


async def enqueue(
    session: AsyncSession,
    ctx: ShopContext,
    conversation: Conversation,
    now: datetime,
    outbox: Outbox,
    *,
    event_type: str = ev.CONVERSATION_QUEUED,
) -> None:
    """Put the item in its role's queue, keeping its original wait (age) if it had one."""
    if conversation.enqueued_at is None:
        conversation.enqueued_at = now
    conversation.status = ConversationStatus.QUEUED
    # Only touch what changed: an UPDATE per untouched column is a round trip per event.
    if conversation.assigned_agent_id is not None:
        conversation.assigned_agent_id = None
        conversation.assigned_at = None
    conversation.sort_key = sort_key(
        current_points(conversation, ctx, now), conversation.enqueued_at, ctx.routing
    )
    await session.flush()
    outbox.push(ctx.shop_id, conversation.role, conversation.id, conversation.sort_key)
    outbox.publish(
        BusEvent(
            event_type,
            ctx.shop_id,
            (ev.to_role(conversation.role), ev.SUPERVISORS),
            {"conversation": conversation_json(conversation, ctx, now)},
        )
    )


async def place(
    session: AsyncSession,
    ctx: ShopContext,
    conversation: Conversation,
    now: datetime,
    outbox: Outbox,
    *,
    exclude: frozenset[int] = frozenset(),
    event_type: str = ev.CONVERSATION_QUEUED,
) -> int | None:
    """Assign to the best agent free now, else queue. Returns the agent id or None.

    The pick is held (:func:`hold_agent`) and re-checked before the assignment, so capacity
    holds with any number of processes. An agent whose row another transaction holds is
    passed over for the next best; if that leaves the item queued, the agent is offered
    queued work once this transaction has committed.
    """
    if conversation.enqueued_at is None:
        conversation.enqueued_at = now
    everyone = open_to_everyone(conversation, ctx)
    agents = await agent_facts(
        session,
        ctx.shop_id,
        role=None if everyone else conversation.role,
        chat_capacity_extra=ctx.chat_capacity_extra,
    )
    if agents:  # nobody online: straight to the queue, no stickiness to look up
        owner = await reserved_for(session, ctx, conversation, now)
        holders = await duty_holders(
            session,
            ctx.shop_id,
            conversation.kind,
            now,
            reviewers_process=ctx.refund_reviewers_process,
        )
        item = item_facts(conversation, ctx, owner, exclude, holders, any_role=everyone)
        while (pick := pick_agent(item, agents, now)) is not None:
            chosen = next(agent for agent in agents if agent.user_id == pick.agent_id)
            current = await hold_agent(session, ctx, chosen, conversation.channel, outbox)
            if current is None or not is_eligible(current, item):
                # Held elsewhere, or full / no longer online now that we look again.
                agents = [agent for agent in agents if agent.user_id != pick.agent_id]
                continue
            if await assign(session, ctx, conversation, pick.agent_id, now, outbox, pick.reason):
                return pick.agent_id
            break  # the item itself was taken meanwhile
    await enqueue(session, ctx, conversation, now, outbox, event_type=event_type)
    return None


async def rescore(
    session: AsyncSession,
    ctx: ShopContext,
    conversation: Conversation,
    decision: Decision,
    intent: str,
    risk: str,
    now: datetime,
    outbox: Outbox,
) -> None:
    """A later message can raise an open conversation's importance, never lower it: a buyer
    who turns to 退款 or threatens 差评 moves up (or over to refund) while still waiting."""
    if decision.score.points <= conversation.priority_score:
        return
    conversation.intent = intent
    conversation.risk = risk
    conversation.priority_score = decision.score.points
    conversation.score_breakdown = decision.score.to_json()
    if conversation.status is not ConversationStatus.QUEUED:
        return
    old_role = conversation.role
    if decision.role.value != old_role:
        outbox.remove(ctx.shop_id, old_role, conversation.id)
        conversation.role = decision.role.value
    await place(session, ctx, conversation, now, outbox)


async def hold_agent(
    session: AsyncSession,
    ctx: ShopContext,
    agent: AgentFacts,
    channel: Channel,
    outbox: Outbox,
) -> AgentFacts | None:
    """Hold the agent for an assignment until this transaction ends; their facts as they
    are now, or None if another transaction holds them (they are then offered queued work
    after this one commits).

    PostgreSQL: the agent's profile row is locked ``FOR UPDATE SKIP LOCKED`` and their load
    in ``channel`` counted again, so two processes never both fill the same free slot.
    Never waiting means a transaction holding other rows (a batch of events) cannot
    deadlock on an agent. SQLite lets one writer in at a time: ``agent`` is current.
    """
    if session.get_bind().dialect.name != "postgresql":
        return agent
    profile = await session.scalar(
        select(AgentProfile)
        .where(AgentProfile.user_id == agent.user_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if profile is None:
        offer_after_commit(outbox, ctx.shop_id, agent.user_id)
        return None
    load = int(
        await session.scalar(
            select(func.count()).where(
                Conversation.assigned_agent_id == agent.user_id,
                Conversation.status == ConversationStatus.ASSIGNED,
                Conversation.channel == channel,
            )
        )
        or 0
    )
    return dataclasses.replace(
        agent,
        status=profile.status,
        chat_capacity=profile.chat_capacity + ctx.chat_capacity_extra,
        hotline_capacity=profile.hotline_capacity,
        chat_load=agent.chat_load if channel is Channel.HOTLINE else load,
        hotline_load=load if channel is Channel.HOTLINE else agent.hotline_load,
    )


async def hold_agent_row(session: AsyncSession, agent_id: int, *, wait: bool) -> bool:
    """Lock the agent's profile row until commit (PostgreSQL); False if ``wait`` is off and
    another transaction holds it. SQLite serializes writers: always True."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    held = await session.scalar(
        select(AgentProfile.user_id)
        .where(AgentProfile.user_id == agent_id)
        .with_for_update(skip_locked=not wait)
    )
    return held is not None


def offer_after_commit(outbox: Outbox, shop_id: str, agent_id: int) -> None:
    """Once the caller's transaction has committed, offer the agent queued work in a
    transaction of its own (waiting for whoever holds them)."""

    async def offer(deps: Deps) -> object:
        return await offer_queued_work(deps, shop_id, utcnow(), agent_ids=[agent_id])

    outbox.after_commit(("offer", shop_id, agent_id), offer)


async def offer_queued_work(
    deps: Deps, shop_id: str, now: datetime, *, agent_ids: Sequence[int] | None = None
) -> dict[int, list[int]]:
    """Give each of these agents (default: every online agent of the shop with room) the
    queued items they may take, one transaction per agent. Returns what each one took."""
    if agent_ids is None:
        async with deps.sessions() as session:
            extra = (await load_shop_context(session, shop_id)).chat_capacity_extra
            online = await agent_facts(session, shop_id, chat_capacity_extra=extra)
        agent_ids = [
            agent.user_id
            for agent in online
            if any(agent.load(channel) < agent.capacity(channel) for channel in Channel)
        ]
    taken: dict[int, list[int]] = {}
    for agent_id in agent_ids:
        async with transaction(deps) as (session, outbox):
            ctx = await load_shop_context(session, shop_id)
            items = await fill_agent(session, ctx, agent_id, now, outbox, deps.queue, wait=True)
        if items:
            taken[agent_id] = items
    return taken


async def requeue(
    session: AsyncSession,
    ctx: ShopContext,
    conversation: Conversation,
    now: datetime,
    outbox: Outbox,
    *,
    reason: str,
    exclude_agent: int | None = None,
) -> int | None:
    """Take an item back from its agent (away, unanswered, transfer) keeping its age."""
    previous = conversation.assigned_agent_id
    record_line(session, conversation, MessageSpec(MessageSender.SYSTEM, reason, now))
    conversation.status = ConversationStatus.QUEUED
    conversation.assigned_agent_id = None
    conversation.assigned_at = None
    await session.flush()
    if previous is not None:
        outbox.publish(
            BusEvent(
                ev.CONVERSATION_REQUEUED,
                ctx.shop_id,
                (ev.to_user(previous), ev.SUPERVISORS),
                {"conversation_id": conversation.id, "reason": reason},
            )
        )
    exclude = frozenset({exclude_agent}) if exclude_agent is not None else frozenset()
    return await place(
        session,
        ctx,
        conversation,
        now,
        outbox,
        exclude=exclude,
        event_type=ev.CONVERSATION_REQUEUED,
    )


async def tell_buyer_of_transfer(
    session: AsyncSession,
    ctx: ShopContext,
    conversation: Conversation,
    role: ServiceRole,
    now: datetime,
    outbox: Outbox,
) -> None:
    """转接提示: in a chat moving to another role, the buyer is told in the shop's words for
    that role (``routing.console.transfer_notices``: 您好，已为您转接至退款专员，请稍候; empty
    to say nothing). The handoff note is a separate, internal message."""
    notice = ctx.routing.console.transfer_notices.get(role, "")
    if conversation.kind != "chat" or not notice.strip():
        return
    await add_message(
        session,
        conversation,
        MessageSpec(MessageSender.AUTO, notice, now),
        outbox,
        readers=ev.conversation_readers(conversation.assigned_agent_id),
    )


async def fill_agent(
    session: AsyncSession,
    ctx: ShopContext,
    agent_id: int,
    now: datetime,
    outbox: Outbox,
    queue: WorkQueue,
    *,
    wait: bool = False,
) -> list[int]:
    """Give a free agent the best queued items it may take, until its capacity is full.

    Claims come from the queue index (atomic: two agents never pop the same id); each id
    is re-checked against its row, so a stale index entry never assigns a closed item.
    Items the agent may not take (skills, another owner's buyer) go straight back.

    The agent's row is held first (see :func:`hold_agent`). If another transaction holds
    it and ``wait`` is off (the caller may hold rows that one wants), nothing is taken now
    and the agent is offered queued work once the caller has committed. ``wait`` is for a
    transaction that holds nothing yet.
    """
    if not await hold_agent_row(session, agent_id, wait=wait):
        offer_after_commit(outbox, ctx.shop_id, agent_id)
        return []
    taken: list[int] = []
    skipped: list[tuple[str, int, float]] = []
    index_checked = False
    try:
        while True:
            agents = await agent_facts(
                session,
                ctx.shop_id,
                user_ids=[agent_id],
                chat_capacity_extra=ctx.chat_capacity_extra,
            )
            if not agents:
                break
            agent = agents[0]
            if all(agent.load(c) >= agent.capacity(c) for c in Channel):
                break
            exclude = frozenset(item_id for _, item_id, _ in skipped)
            claimed = await queue.claim(ctx.shop_id, sorted(agent.roles), exclude=exclude)
            if claimed is None:
                # Nothing to claim: true, or the index was lost (a Redis flush) and the work
                # is only in the database. Checked once per fill, and only when empty-handed.
                if index_checked or not await restore_lost_index(session, ctx, queue, outbox):
                    break
                index_checked = True
                continue
            conversation, busy = await _take_row(session, claimed.item_id)
            if busy:
                # Another transaction has the row (assigning it, or a buyer's message):
                # waiting could deadlock; it goes back to the index after this fill.
                skipped.append((claimed.role, claimed.item_id, claimed.sort_key))
                continue
            if conversation is None or conversation.status is not ConversationStatus.QUEUED:
                continue  # stale index entry: the row moved on
            owner = await reserved_for(session, ctx, conversation, now)
            # Only a chase is strictly reserved (one chaser per buyer); a returning buyer's
            # chat was offered to the owner on arrival and is fair game once queued.
            reserved = (
                owner is not None and owner[0] != agent_id and conversation.kind in CHASE_KINDS
            )
            holders = await duty_holders(
                session,
                ctx.shop_id,
                conversation.kind,
                now,
                reviewers_process=ctx.refund_reviewers_process,
            )
            facts = item_facts(conversation, ctx, None, holders=holders)
            if reserved or not may_take(agent, facts, now):
                skipped.append((claimed.role, claimed.item_id, claimed.sort_key))
                continue
            if await assign(
                session, ctx, conversation, agent_id, now, outbox, "队列最优 / best queued"
            ):
                taken.append(conversation.id)
                outbox.took(ctx.shop_id, claimed.role, claimed.item_id, claimed.sort_key)
    finally:
        # Still queued in the database: back into the index at once, not after commit.
        for role, item_id, key in skipped:
            await queue.push(ctx.shop_id, role, item_id, key)
    return taken


async def _take_row(session: AsyncSession, item_id: int) -> tuple[Conversation | None, bool]:
    """A claimed item's row, locked for this transaction; ``(None, True)`` if another
    transaction holds it. PostgreSQL: ``FOR UPDATE SKIP LOCKED`` (an index entry restored
    after a loss, or a stale one, can name a row someone is assigning right now; two
    claimers waiting on each other's rows would deadlock). SQLite: one writer at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return await session.get(Conversation, item_id), False
    row = await session.scalar(
        select(Conversation)
        .where(Conversation.id == item_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if row is not None:
        return row, False
    exists = await session.scalar(select(Conversation.id).where(Conversation.id == item_id))
    return None, exists is not None


async def queued_entries(session: AsyncSession, shop_id: str) -> list[QueueEntry]:
    """What the shop's queue index must hold: every queued item with its key."""
    rows = await session.execute(
        select(Conversation.role, Conversation.id, Conversation.sort_key).where(
            Conversation.shop_id == shop_id,
            Conversation.status == ConversationStatus.QUEUED,
            Conversation.sort_key.is_not(None),
        )
    )
    return [(role, item_id, float(key)) for role, item_id, key in rows if key is not None]


async def restore_lost_index(
    session: AsyncSession, ctx: ShopContext, queue: WorkQueue, outbox: Outbox
) -> bool:
    """If the shop's queue index was lost, restore it from the database at once and offer
    the queued work to every idle agent once the caller has committed. True if it was lost
    (a Redis flush or eviction: an incident, logged as one)."""
    if await queue.built(ctx.shop_id):
        return False
    entries = await queued_entries(session, ctx.shop_id)
    await queue.restore(ctx.shop_id, entries)
    log.warning(
        "queue index of shop %s was not built (lost to a Redis flush or eviction, or a new"
        " shop): restored %d queued items",
        ctx.shop_id,
        len(entries),
    )
    offer_all_after_commit(outbox, ctx.shop_id)
    return True


def offer_all_after_commit(outbox: Outbox, shop_id: str) -> None:
    """Once the caller has committed, offer queued work to every online agent with room."""

    async def offer(deps: Deps) -> object:
        return await offer_queued_work(deps, shop_id, utcnow())

    outbox.after_commit(("offer", shop_id, None), offer)


async def let_go_of_buyers(
    session: AsyncSession, shop_id: str, agent_id: int, now: datetime, outbox: Outbox
) -> list[int]:
    """The agent went off shift (offline, deactivated): their chase claims end now, and if
    a buyer they held has a chase waiting in the queue, the agents on shift are offered
    queued work once the caller has committed (the chase was skipped as someone else's
    until now). Returns the buyers let go."""
    released = await release_claims(session, shop_id, agent_id, now)
    if released:
        waiting = await session.scalar(
            select(Conversation.id)
            .where(
                Conversation.shop_id == shop_id,
                Conversation.buyer_id.in_(released),
                Conversation.kind.in_(CHASE_KINDS),
                Conversation.status == ConversationStatus.QUEUED,
            )
            .limit(1)
        )
        if waiting is not None:
            offer_all_after_commit(outbox, shop_id)
    return released
