"""What agents do to their work: status, replies, closing, transfers, chase outcomes.

A reply using one of the shop's forbidden phrases (服务态度提醒,
``routing.console.forbidden_phrases``) is held: nothing is stored and
:class:`ReplyHeldError` names the phrases, until the agent rewrites it or sends it anyway,
which the audit log records (``reply.forbidden_override``).

Every function owns its transaction and flushes the outbox after commit. Capacity freed
(closing, coming online) is filled from the queue at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import auto_suspend
from csdesk.actions.outbox import Deps, Outbox, transaction
from csdesk.actions.routing import fill_agent, requeue, tell_buyer_of_transfer
from csdesk.auth import audit
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.errors import ConflictError
from csdesk.qc.forbidden_phrases import PhraseHit, find_forbidden
from csdesk.roles import payment_chasing
from csdesk.routing import facts as loaded
from csdesk.routing.scoring import ROLE_ZH
from csdesk.storage.enums import AgentStatus, ConversationStatus, MessageSender, ServiceRole
from csdesk.storage.models import AgentProfile, Buyer, Conversation, Message, Order


class WorkError(ConflictError):
    """The requested change does not apply (not yours, already closed, unknown role)."""


class ReplyHeldError(ValueError):
    """服务态度提醒: the reply uses forbidden phrases; it was not sent."""

    def __init__(self, hits: Sequence[PhraseHit]) -> None:
        self.hits = tuple(hits)
        names = "、".join(f"“{hit.phrase}”" for hit in self.hits)
        super().__init__(f"text: held, uses {names} (服务态度提醒)")


async def _own_open(
    session: AsyncSession, shop_id: str, agent_id: int, conversation_id: int
) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.shop_id != shop_id:
        raise WorkError(f"conversation {conversation_id}: not found")
    if conversation.status is not ConversationStatus.ASSIGNED:
        raise WorkError(f"conversation {conversation_id}: is {conversation.status.value}")
    if conversation.assigned_agent_id != agent_id:
        raise WorkError(f"conversation {conversation_id}: assigned to someone else")
    return conversation


async def set_agent_status(
    deps: Deps,
    shop_id: str,
    agent_id: int,
    status: AgentStatus,
    now: datetime,
    *,
    service_roles: Sequence[ServiceRole] | None = None,
) -> list[int]:
    """Change status (and, going on shift, the roles held). Away/offline hands unanswered
    items back to the queue keeping their age; online pulls the best queued work, unless
    the agent's open chats are at the 自动挂起 limit (then busy, announced as such)."""
    async with transaction(deps) as (session, outbox):
        profile = await session.get(AgentProfile, agent_id)
        if profile is None or profile.shop_id != shop_id:
            raise WorkError(f"user {agent_id}: has no agent profile in this shop")
        profile.status = status
        profile.status_changed_at = now
        profile.auto_suspended = False  # chosen by the agent, so not undone by itself
        if service_roles is not None:
            profile.service_roles = [ServiceRole(r).value for r in service_roles]
        ctx = await loaded.load_shop_context(session, shop_id)
        outbox.publish(
            BusEvent(
                ev.AGENT_STATUS,
                shop_id,
                (ev.to_user(agent_id), ev.SUPERVISORS),
                {"agent_id": agent_id, "status": status.value},
            )
        )
        if status in (AgentStatus.AWAY, AgentStatus.OFFLINE):
            unanswered = list(
                await session.scalars(
                    select(Conversation).where(
                        Conversation.shop_id == shop_id,
                        Conversation.assigned_agent_id == agent_id,
                        Conversation.status == ConversationStatus.ASSIGNED,
                        Conversation.first_response_at.is_(None),
                    )
                )
            )
            for item in unanswered:
                await requeue(
                    session,
                    ctx,
                    item,
                    now,
                    outbox,
                    exclude_agent=agent_id,
                    reason=f"接待人{'离开' if status is AgentStatus.AWAY else '下线'}, 回到队列",
                )
            return [item.id for item in unanswered]
        if status is AgentStatus.ONLINE:
            await auto_suspend.refit(session, ctx, agent_id, now, outbox)
            if profile.status is AgentStatus.ONLINE:
                await session.flush()
                return await fill_agent(session, ctx, agent_id, now, outbox, deps.queue)
    return []


MAX_AUTO_SUSPEND_AT = 50


async def set_auto_suspend(
    deps: Deps, shop_id: str, agent_id: int, limit: int | None, now: datetime
) -> list[int]:
    """自动挂起 at ``limit`` open chats (None: as the shop says, 0: off). Applies at once:
    at or over the new limit the agent goes busy; suspended and now below it, back online
    taking queued work (returns those items)."""
    if limit is not None and not 0 <= limit <= MAX_AUTO_SUSPEND_AT:
        raise WorkError(f"auto_suspend_at: must be from 0 to {MAX_AUTO_SUSPEND_AT} or null")
    async with transaction(deps) as (session, outbox):
        profile = await session.get(AgentProfile, agent_id)
        if profile is None or profile.shop_id != shop_id:
            raise WorkError(f"user {agent_id}: has no agent profile in this shop")
        profile.auto_suspend_at = limit
        ctx = await loaded.load_shop_context(session, shop_id)
        if await auto_suspend.refit(session, ctx, agent_id, now, outbox) is AgentStatus.ONLINE:
            await session.flush()
            return await fill_agent(session, ctx, agent_id, now, outbox, deps.queue)
    return []


async def reply(
    deps: Deps,
    shop_id: str,
    agent_id: int,
    conversation_id: int,
    text: str,
    now: datetime,
    *,
    send_anyway: bool = False,
) -> int:
    """Send a reply to the buyer. Held (:class:`ReplyHeldError`) while it uses a forbidden
    phrase, unless ``send_anyway``: then it is sent and the override audited."""
    if not text.strip():
        raise WorkError("text: must not be empty")
    async with transaction(deps) as (session, outbox):
        conversation = await _own_open(session, shop_id, agent_id, conversation_id)
        ctx = await loaded.load_shop_context(session, shop_id)
        hits = find_forbidden(text, ctx.routing.console.active_forbidden_phrases)
        if hits and not send_anyway:
            raise ReplyHeldError(hits)
        message = Message(
            shop_id=shop_id,
            conversation_id=conversation.id,
            sender=MessageSender.AGENT,
            author_id=agent_id,
            text=text,
            sent_at=now,
        )
        session.add(message)
        if conversation.first_response_at is None:
            conversation.first_response_at = now
        await session.flush()
        if hits:
            audit.record(
                session,
                shop_id=shop_id,
                actor_id=agent_id,
                action="reply.forbidden_override",
                target_type="message",
                target_id=message.id,
                at=now,
                reason="仍然发送 / sent anyway",
                detail={
                    "conversation_id": conversation.id,
                    "phrases": [hit.phrase for hit in hits],
                },
            )
        outbox.publish(
            ev.message_created(
                shop_id,
                conversation.id,
                (ev.to_user(agent_id), ev.SUPERVISORS),
                message_id=message.id,
                sender=MessageSender.AGENT.value,
                author_id=agent_id,
                text=text,
                sent_at=now,
            )
        )
        return message.id


async def free_capacity(
    session: AsyncSession,
    deps: Deps,
    shop_id: str,
    agent_id: int | None,
    now: datetime,
    outbox: Outbox,
) -> None:
    """An agent whose item left them takes the best queued work at once: if online, or
    suspended automatically (自动挂起) and now below the limit."""
    if agent_id is None:
        return
    profile = await session.get(AgentProfile, agent_id)
    if profile is None:
        return
    suspended = profile.status is AgentStatus.BUSY and profile.auto_suspended
    if profile.status is not AgentStatus.ONLINE and not suspended:
        return
    ctx = await loaded.load_shop_context(session, shop_id)
    await auto_suspend.refit(session, ctx, agent_id, now, outbox)
    if profile.status is AgentStatus.ONLINE:
        await session.flush()
        await fill_agent(session, ctx, agent_id, now, outbox, deps.queue)


async def close(
    deps: Deps,
    shop_id: str,
    agent_id: int,
    conversation_id: int,
    now: datetime,
    *,
    disposition: str,
    tags: Sequence[str] = (),
) -> None:
    if not disposition.strip():
        raise WorkError("disposition: is required")
    async with transaction(deps) as (session, outbox):
        conversation = await _own_open(session, shop_id, agent_id, conversation_id)
        conversation.status = ConversationStatus.CLOSED
        conversation.closed_at = now
        conversation.disposition = disposition
        conversation.tags = sorted(set(conversation.tags) | set(tags))
        outbox.publish(
            BusEvent(
                ev.CONVERSATION_CLOSED,
                shop_id,
                (ev.to_user(agent_id), ev.SUPERVISORS),
                {"conversation_id": conversation.id, "disposition": disposition},
            )
        )
        await free_capacity(session, deps, shop_id, agent_id, now, outbox)


async def transfer(
    deps: Deps,
    shop_id: str,
    agent_id: int,
    conversation_id: int,
    to_role: str,
    note: str,
    now: datetime,
) -> int | None:
    """转接: to another role with a required note; history and age go along. In a chat the
    buyer is told, in the shop's words for the target role (``routing.console
    .transfer_notices``: 您好，已为您转接至退款专员，请稍候)."""
    try:
        role = ServiceRole(to_role)
    except ValueError:
        raise WorkError(f"to_role: unknown role {to_role!r}") from None
    if not note.strip():
        raise WorkError("note: a handoff note is required")
    async with transaction(deps) as (session, outbox):
        conversation = await _own_open(session, shop_id, agent_id, conversation_id)
        ctx = await loaded.load_shop_context(session, shop_id)
        conversation.role = role.value
        await tell_buyer_of_transfer(session, ctx, conversation, role, now, outbox)
        new_agent = await requeue(
            session,
            ctx,
            conversation,
            now,
            outbox,
            exclude_agent=agent_id,
            reason=f"转接到{ROLE_ZH[role]}: {note}",
        )
        await free_capacity(session, deps, shop_id, agent_id, now, outbox)
        return new_agent


async def record_chase_attempt(
    deps: Deps,
    shop_id: str,
    agent_id: int,
    conversation_id: int,
    outcome: str,
    now: datetime,
) -> datetime | None:
    """A chase was made and the buyer has not paid: count it and schedule the next one
    (quiet hours, at most N in 24 h) or close the chase. Returns the next chase time."""
    async with transaction(deps) as (session, outbox):
        conversation = await _own_open(session, shop_id, agent_id, conversation_id)
        if conversation.kind not in ("payment_chase", "phone_chase"):
            raise WorkError(f"conversation {conversation_id}: is not a chase")
        ctx = await loaded.load_shop_context(session, shop_id)
        conversation.attempts += 1
        conversation.last_attempt_at = now
        if conversation.first_response_at is None:
            conversation.first_response_at = now
        session.add(
            Message(
                shop_id=shop_id,
                conversation_id=conversation.id,
                sender=MessageSender.SYSTEM,
                text=f"催付结果: {outcome}",
                sent_at=now,
            )
        )
        order = await session.get(Order, conversation.order_id) if conversation.order_id else None
        buyer = await session.get(Buyer, conversation.buyer_id) if conversation.buyer_id else None
        decision = None
        if order is not None and buyer is not None:
            decision = payment_chasing.plan_chase(
                loaded.order_facts(order),
                loaded.buyer_facts(buyer),
                conversation.attempts,
                now,
                now,
                ctx.routing,
                ctx.promotion,
            )
        if decision is None or decision.due_at is None:
            conversation.status = ConversationStatus.CLOSED
            conversation.closed_at = now
            conversation.disposition = f"chase_{outcome}"
            next_at = None
        else:
            # Back to scheduled; the buyer's chase claim keeps it with this chaser.
            conversation.status = ConversationStatus.SCHEDULED
            conversation.assigned_agent_id = None
            conversation.assigned_at = None
            conversation.not_before = decision.due_at
            conversation.enqueued_at = None
            next_at = decision.due_at
        outbox.publish(
            BusEvent(
                ev.CONVERSATION_CLOSED,
                shop_id,
                (ev.to_user(agent_id), ev.SUPERVISORS),
                {
                    "conversation_id": conversation.id,
                    "disposition": conversation.disposition or "chase_scheduled",
                },
            )
        )
        await free_capacity(session, deps, shop_id, agent_id, now, outbox)
        return next_at


__all__ = [
    "ReplyHeldError",
    "WorkError",
    "close",
    "free_capacity",
    "record_chase_attempt",
    "reply",
    "set_agent_status",
    "set_auto_suspend",
    "transfer",
]
