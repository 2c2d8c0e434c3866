"""Periodic routing work (run by cron jobs): what time alone changes.

- due tasks leave ``scheduled`` (a chase after its delay, never in quiet hours);
- deadline points step up as a refund's auto-approval nears (aging needs no re-scoring);
- items assigned but unanswered too long go to someone else;
- agents suspended automatically (自动挂起) whose chats were closed elsewhere come back;
- the queue index is brought back in line with the database (it is only an index);
- a lost queue index (a Redis flush) is restored at once, and idle agents next to a queue
  are offered its work.

(Events a crashed process accepted but never processed: ``ingest.retry``.)

Each function returns how many items it changed (the job's count).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from csdesk.actions import auto_suspend
from csdesk.actions.closing import close_conversation
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.routing import (
    current_points,
    fill_agent,
    offer_queued_work,
    place,
    queued_entries,
    requeue,
)
from csdesk.roles import payment_chasing
from csdesk.roles.scoring import sort_key
from csdesk.routing import facts as loaded
from csdesk.storage.enums import AgentStatus, Channel, ConversationStatus, OrderStatus
from csdesk.storage.models import AgentProfile, Conversation, Order, Shop

log = logging.getLogger(__name__)

CHASE_KINDS = ("payment_chase", "phone_chase")


async def _shop_ids(deps: Deps) -> list[str]:
    async with deps.sessions() as session:
        return list(await session.scalars(select(Shop.id).order_by(Shop.id)))


async def activate_due_items(deps: Deps, now: datetime) -> int:
    changed = 0
    for shop_id in await _shop_ids(deps):
        async with transaction(deps) as (session, outbox):
            ctx = await loaded.load_shop_context(session, shop_id)
            due = list(
                await session.scalars(
                    select(Conversation)
                    .where(
                        Conversation.shop_id == shop_id,
                        Conversation.status == ConversationStatus.SCHEDULED,
                        Conversation.not_before <= now,
                    )
                    .order_by(Conversation.not_before, Conversation.id)
                    .limit(500)
                )
            )
            for item in due:
                if item.kind in CHASE_KINDS:
                    order = await session.get(Order, item.order_id) if item.order_id else None
                    if order is None or order.status is not OrderStatus.CREATED:
                        disposition = "paid" if order and order.paid_at else "order_closed"
                        await close_conversation(
                            session, deps.queue, item, disposition, now, outbox, ctx=ctx
                        )
                        changed += 1
                        continue
                    if payment_chasing.is_quiet(now, ctx.routing):
                        item.not_before = payment_chasing.next_allowed(now, ctx.routing)
                        continue
                item.status = ConversationStatus.QUEUED
                # The wait counts from when the task fell due, not from when we noticed.
                item.enqueued_at = item.not_before or now
                item.not_before = None
                await place(session, ctx, item, now, outbox)
                changed += 1
    return changed


async def rescore_deadlines(deps: Deps, now: datetime) -> int:
    """Re-key queued items whose deadline points changed since they were keyed."""
    changed = 0
    for shop_id in await _shop_ids(deps):
        async with transaction(deps) as (session, outbox):
            ctx = await loaded.load_shop_context(session, shop_id)
            items = await session.scalars(
                select(Conversation).where(
                    Conversation.shop_id == shop_id,
                    Conversation.status == ConversationStatus.QUEUED,
                    Conversation.deadline_at.is_not(None),
                )
            )
            for item in items:
                assert item.enqueued_at is not None
                key = sort_key(current_points(item, ctx, now), item.enqueued_at, ctx.routing)
                if item.sort_key is None or abs(key - item.sort_key) > 1e-9:
                    item.sort_key = key
                    outbox.push(shop_id, item.role, item.id, key)
                    changed += 1
    return changed


async def reassign_unanswered(deps: Deps, now: datetime) -> int:
    """An item assigned N minutes ago without a first reply goes to someone else."""
    changed = 0
    for shop_id in await _shop_ids(deps):
        async with transaction(deps) as (session, outbox):
            ctx = await loaded.load_shop_context(session, shop_id)
            limit = now - timedelta(seconds=ctx.assignment.unanswered_reassign_s)
            stale = list(
                await session.scalars(
                    select(Conversation).where(
                        Conversation.shop_id == shop_id,
                        Conversation.status == ConversationStatus.ASSIGNED,
                        Conversation.kind.in_(("chat", "call")),
                        Conversation.first_response_at.is_(None),
                        Conversation.assigned_at <= limit,
                    )
                )
            )
            for item in stale:
                agent = item.assigned_agent_id
                await requeue(
                    session,
                    ctx,
                    item,
                    now,
                    outbox,
                    exclude_agent=agent,
                    reason="超时未回复, 重新分配 / unanswered, reassigned",
                )
                changed += 1
    return changed


async def resume_auto_suspended(deps: Deps, now: datetime) -> int:
    """Agents busy by 自动挂起 whose open chats fell below the limit without the workbench
    noticing (the platform closed a chase, the unanswered sweep took a chat back) go back
    online and take queued work."""
    changed = 0
    for shop_id in await _shop_ids(deps):
        async with transaction(deps) as (session, outbox):
            suspended = list(
                await session.scalars(
                    select(AgentProfile.user_id).where(
                        AgentProfile.shop_id == shop_id,
                        AgentProfile.status == AgentStatus.BUSY,
                        AgentProfile.auto_suspended.is_(True),
                    )
                )
            )
            if not suspended:
                continue
            ctx = await loaded.load_shop_context(session, shop_id)
            for agent_id in suspended:
                if await auto_suspend.refit(session, ctx, agent_id, now, outbox) is None:
                    continue
                changed += 1
                await session.flush()
                await fill_agent(session, ctx, agent_id, now, outbox, deps.queue)
    return changed


async def reconcile_queue_index(deps: Deps, now: datetime, *, rebuild: bool = False) -> int:
    """Make the index hold exactly the database's queued items (``rebuild``: replace it;
    otherwise re-push, which repairs entries lost to a rolled-back claim)."""
    count = 0
    for shop_id in await _shop_ids(deps):
        async with deps.sessions() as session:
            result = await session.execute(
                select(Conversation.role, Conversation.id, Conversation.sort_key).where(
                    Conversation.shop_id == shop_id,
                    Conversation.status == ConversationStatus.QUEUED,
                    Conversation.sort_key.is_not(None),
                )
            )
            rows = result.all()
        entries = [(role, item_id, float(key)) for role, item_id, key in rows if key is not None]
        if rebuild:
            await deps.queue.rebuild(shop_id, entries)
        else:
            for role, item_id, key in entries:
                await deps.queue.push(shop_id, role, item_id, key)
        count += len(entries)
    return count


async def watch_queue_index(deps: Deps, now: datetime) -> int:
    """Every few seconds: restore a shop's lost queue index at once (see
    ``routing.restore_lost_index``), then offer queued work to each online agent with room
    in a role that has queued items. That second part is a net: nothing should leave an
    agent idle next to a queue, and this makes sure nothing does for long. Returns the
    items assigned."""
    taken = 0
    for shop_id in await _shop_ids(deps):
        async with deps.sessions() as session:
            if not await deps.queue.built(shop_id):
                entries = await queued_entries(session, shop_id)
                await deps.queue.restore(shop_id, entries)
                log.warning(
                    "queue index of shop %s was not built (lost, or a new shop): restored %d"
                    " queued items",
                    shop_id,
                    len(entries),
                )
            waiting_roles = set(
                await session.scalars(
                    select(Conversation.role)
                    .where(
                        Conversation.shop_id == shop_id,
                        Conversation.status == ConversationStatus.QUEUED,
                    )
                    .distinct()
                )
            )
            if not waiting_roles:
                continue
            idle = [
                agent.user_id
                for agent in await loaded.agent_facts(
                    session,
                    shop_id,
                    chat_capacity_extra=(
                        await loaded.load_shop_context(session, shop_id)
                    ).chat_capacity_extra,
                )
                if agent.roles & waiting_roles
                and any(agent.load(channel) < agent.capacity(channel) for channel in Channel)
            ]
        if idle:
            offered = await offer_queued_work(deps, shop_id, now, agent_ids=idle)
            taken += sum(len(items) for items in offered.values())
    return taken


__all__ = [
    "activate_due_items",
    "reassign_unanswered",
    "reconcile_queue_index",
    "rescore_deadlines",
    "resume_auto_suspended",
    "watch_queue_index",
]
