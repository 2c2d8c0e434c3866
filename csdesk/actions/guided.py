"""Guided mode (引导模式, Zendesk's): "next" opens the agent's oldest untouched item or
claims the best queued one of their roles; a skip needs a reason, puts the item back in
the queue (not to this agent) and shows on the supervisor's board."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, Outbox, transaction
from csdesk.actions.routing import assign, hold_agent_row, item_facts, requeue, reserved_for
from csdesk.actions.work_items import ItemConflictError, access_item_by_id, required_text
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.reads.board import SKIP_AUDIT, SKIP_MEMORY
from csdesk.reads.conversations import conversation_json
from csdesk.routing import facts as loaded
from csdesk.routing.assignment import may_take
from csdesk.routing.queues.base import WorkQueue
from csdesk.storage.enums import AgentStatus, Channel, ConversationStatus
from csdesk.storage.kinds import CHASE_CLAIM, CHASE_KINDS
from csdesk.storage.models import AgentProfile, AuditLog, BuyerClaim, Conversation

GUIDED_ACCESS: Final = "guided.use"


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
    # Hold the agent's row first, as placement does, so a web process placing a chat
    # meanwhile cannot take the agent over capacity (waiting is safe: nothing else is
    # locked yet in this transaction).
    await hold_agent_row(session, agent_id, wait=True)
    passed: list[tuple[str, int, float]] = []
    try:
        while True:
            agents = await loaded.agent_facts(
                session,
                ctx.shop_id,
                user_ids=[agent_id],
                chat_capacity_extra=ctx.chat_capacity_extra,
            )
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
            holders = await loaded.duty_holders(
                session,
                ctx.shop_id,
                conversation.kind,
                now,
                reviewers_process=ctx.refund_reviewers_process,
            )
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
        conversation = await access_item_by_id(session, actor, conversation_id, GUIDED_ACCESS, None)
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


__all__ = ["GUIDED_ACCESS", "guided_next", "guided_skip"]
