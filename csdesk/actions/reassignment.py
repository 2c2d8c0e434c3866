"""Moving work as a supervisor (主管): reassign an open item to a named agent or back to
the queue, transfer it to another role's queue (转接) with a handoff note, close it, or do
one of these to many items at once (each item its own transaction and its own result, so
one item that changed meanwhile does not undo the others)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.closing import close_conversation, free_capacity
from csdesk.actions.outbox import Deps, Outbox, transaction
from csdesk.actions.routing import assign, place, requeue, tell_buyer_of_transfer
from csdesk.actions.triage_corrections import learn_from_transfer
from csdesk.actions.work_items import (
    InputError,
    ItemConflictError,
    ItemNotFoundError,
    access_item_by_id,
    note,
    optional_text,
    publish_queue_depths,
    required_text,
)
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.reads.conversations import conversation_json
from csdesk.roles.scoring import ROLE_ZH
from csdesk.routing import facts as loaded
from csdesk.storage.enums import AgentStatus, ConversationStatus, ServiceRole
from csdesk.storage.kinds import CHASE_CLAIM, CHASE_KINDS
from csdesk.storage.models import AgentProfile, BuyerClaim, Conversation

ASSIGN_ACCESS: Final = "supervisor.assign"
MAX_BULK: Final = 100


async def _shop_item(
    session: AsyncSession, actor: CurrentUser, conversation_id: int
) -> Conversation:
    return await access_item_by_id(session, actor, conversation_id, ASSIGN_ACCESS, None)


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
        await free_capacity(session, deps.queue, actor.shop_id, previous, now, outbox)


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
        await learn_from_transfer(session, ctx, conversation, to_role, actor.id, now)
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
            await free_capacity(session, deps.queue, actor.shop_id, previous, now, outbox)
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
        await close_conversation(
            session, deps.queue, conversation, outcome, now, outbox, by=actor.id
        )
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


__all__ = [
    "ASSIGN_ACCESS",
    "BULK_ACTIONS",
    "MAX_BULK",
    "BulkOutcome",
    "bulk",
    "close",
    "reassign",
    "transfer",
]
