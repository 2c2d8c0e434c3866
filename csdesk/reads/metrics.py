"""The shop's live figures ``/metrics`` exports, read from the database at scrape time so
every web process answers the same: queues, open items, agents, refund exposure, the event
backlog."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.reads.deliveries import DeliveryCounts
from csdesk.reads.deliveries import counts as delivery_counts
from csdesk.reads.queues import index_state, queue_depths
from csdesk.routing.queues.base import WorkQueue
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus, EventStatus, RefundStatus
from csdesk.storage.models import AgentProfile, Conversation, PlatformEvent, Refund

DUE_SOON: Final = timedelta(hours=1)


@dataclass(frozen=True)
class ShopState:
    queued: dict[str, int]
    oldest_wait_s: dict[str, float]
    open_items: dict[str, int]
    agents: dict[str, int]
    open_refunds: int
    refund_exposure_fen: int
    refunds_due_within_hour: int
    events: dict[str, int]
    """Accepted events not processed, by status (``received``: backlog; ``failed``)."""
    index_depth: dict[str, int] = field(default_factory=dict)
    """What the queue index holds per role (beside ``queued``, the database's count)."""
    index_intact: bool = True
    outbound: DeliveryCounts | None = None
    """Deliveries being tried and dead letters, per kind (``message``, ``webhook``)."""


async def shop_state(
    sessions: SessionFactory, queue: WorkQueue, shop_id: str, now: datetime
) -> ShopState:
    """The figures of the database at ``now``, and what the queue index holds beside them."""
    async with sessions() as session:
        depths = await queue_depths(session, shop_id)
        open_items = {
            status.value: int(count)
            for status, count in await session.execute(
                select(Conversation.status, func.count())
                .where(
                    Conversation.shop_id == shop_id,
                    Conversation.status != ConversationStatus.CLOSED,
                )
                .group_by(Conversation.status)
            )
        }
        agents = {
            status.value: int(count)
            for status, count in await session.execute(
                select(AgentProfile.status, func.count())
                .where(AgentProfile.shop_id == shop_id)
                .group_by(AgentProfile.status)
            )
        }
        refunds = (
            await session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(Refund.amount_fen), 0),
                    func.count().filter(Refund.deadline_at <= now + DUE_SOON),
                ).where(
                    Refund.shop_id == shop_id,
                    Refund.status == RefundStatus.REQUESTED,
                )
            )
        ).one()
        events = await unprocessed_events(session, shop_id)
        outbound = await delivery_counts(session, shop_id, now)
    index_depth, index_intact = await index_state(queue, shop_id)
    return ShopState(
        queued={role: d.depth for role, d in depths.items()},
        oldest_wait_s={role: max(0.0, d.oldest_wait_s(now)) for role, d in depths.items()},
        open_items=open_items,
        agents=agents,
        open_refunds=int(refunds[0]),
        refund_exposure_fen=int(refunds[1]),
        refunds_due_within_hour=int(refunds[2]),
        events=events,
        index_depth=index_depth,
        index_intact=index_intact,
        outbound=outbound,
    )


async def unprocessed_events(session: AsyncSession, shop_id: str) -> dict[str, int]:
    """The shop's accepted events not processed, by status: ``received`` (the backlog) and
    ``failed`` (applying them raised; they wait for a fix and a retry)."""
    return {
        status.value: int(count)
        for status, count in await session.execute(
            select(PlatformEvent.status, func.count())
            .where(
                PlatformEvent.shop_id == shop_id,
                PlatformEvent.status != EventStatus.PROCESSED,
            )
            .group_by(PlatformEvent.status)
        )
    }


__all__ = ["DUE_SOON", "ShopState", "shop_state", "unprocessed_events"]
