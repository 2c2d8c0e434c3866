"""Closing a work item, the one way every caller does it: the agent (接待结束), a
supervisor (one or in bulk), a role action (refund done, order checked, call logged), a
sweep, and a platform event (``refund.cancelled``, ``order.paid``, ``order.shipped``).

Closing frees the holder's capacity, and freed capacity is filled from the queue at once
(an agent must never sit idle next to a queue): :func:`free_capacity` pulls the best
queued items the agent may take. Everything here takes the caller's session and
:class:`Outbox` (the caller owns the transaction); the ``conversation.closed`` event and
the assignments it leads to are published after commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import auto_suspend
from csdesk.actions.outbox import Outbox
from csdesk.actions.routing import fill_agent
from csdesk.actions.training import points
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.routing.facts import ShopContext, load_shop_context
from csdesk.routing.queues.base import WorkQueue
from csdesk.storage.enums import AgentStatus, ConversationStatus
from csdesk.storage.models import AgentProfile, Conversation


async def close_conversation(
    session: AsyncSession,
    queue: WorkQueue,
    conversation: Conversation,
    disposition: str,
    now: datetime,
    outbox: Outbox,
    *,
    by: int | None = None,
    tags: Iterable[str] = (),
    recovered_fen: int | None = None,
    ctx: ShopContext | None = None,
) -> None:
    """Close an open item whoever holds it, and refill the holder from the queue.

    ``by`` is the user who closed it (None: the platform or a sweep); ``recovered_fen``
    credits a chase that was worked (attempted or assigned) with the amount paid (催付
    KPI). ``ctx`` saves loading the shop's configuration again when the caller has it.
    """
    was_queued = conversation.status is ConversationStatus.QUEUED
    holder = conversation.assigned_agent_id
    conversation.status = ConversationStatus.CLOSED
    conversation.closed_at = now
    conversation.disposition = disposition
    tags = tuple(tags)
    if tags:
        conversation.tags = sorted(set(conversation.tags) | set(tags))
    if recovered_fen is not None and (conversation.attempts or holder is not None):
        conversation.recovered_fen = recovered_fen
        if holder is not None:
            # 积分: a recovered chase earns the chaser points (once per conversation).
            await points.for_recovered_chase(
                session,
                outbox,
                shop_id=conversation.shop_id,
                agent_id=holder,
                conversation_id=conversation.id,
                recovered_fen=recovered_fen,
                now=now,
            )
    if was_queued:
        outbox.remove(conversation.shop_id, conversation.role, conversation.id)
    users = dict.fromkeys(user for user in (holder, by) if user is not None)
    payload: dict[str, object] = {"conversation_id": conversation.id, "disposition": disposition}
    if by is not None:
        payload["by"] = by
    outbox.publish(
        BusEvent(
            ev.CONVERSATION_CLOSED,
            conversation.shop_id,
            (*(ev.to_user(user) for user in users), ev.SUPERVISORS),
            payload,
        )
    )
    await free_capacity(session, queue, conversation.shop_id, holder, now, outbox, ctx=ctx)


async def free_capacity(
    session: AsyncSession,
    queue: WorkQueue,
    shop_id: str,
    agent_id: int | None,
    now: datetime,
    outbox: Outbox,
    *,
    ctx: ShopContext | None = None,
) -> list[int]:
    """An agent whose item left them takes the best queued work at once: if online, or
    suspended automatically (自动挂起) and now below the limit. Returns the items taken."""
    if agent_id is None:
        return []
    profile = await session.get(AgentProfile, agent_id)
    if profile is None or profile.shop_id != shop_id:
        return []
    suspended = profile.status is AgentStatus.BUSY and profile.auto_suspended
    if profile.status is not AgentStatus.ONLINE and not suspended:
        return []
    if ctx is None:
        ctx = await load_shop_context(session, shop_id)
    await auto_suspend.refit(session, ctx, agent_id, now, outbox)
    if profile.status is not AgentStatus.ONLINE:
        return []
    await session.flush()
    return await fill_agent(session, ctx, agent_id, now, outbox, queue)


__all__ = ["close_conversation", "free_capacity"]
