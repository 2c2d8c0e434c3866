"""Queue depth per role, as the database holds it (the truth; the queue index mirrors it):
one query for the queues API, ``/metrics``, the transfer picker, the board and the
``queue.changed`` events actions publish. Beside it, what the queue index that agents claim
from holds (``index_state``): after a Redis loss the two part until the index is restored,
and the gap shows in the queues API and ``/metrics``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.reads.conversations import conversation_json
from csdesk.routing.facts import load_shop_context
from csdesk.routing.queues.base import WorkQueue
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus, ServiceRole
from csdesk.storage.models import Conversation

READ_ACCESS = "queues.read"


@dataclass(frozen=True, slots=True)
class RoleDepth:
    """One role's queue: how many items wait, and since when the oldest waits."""

    role: str
    depth: int
    oldest_enqueued_at: datetime | None

    def oldest_wait_s(self, now: datetime) -> float:
        """Exact seconds the oldest item has waited (0 for an empty queue)."""
        if self.oldest_enqueued_at is None:
            return 0.0
        return (now - self.oldest_enqueued_at).total_seconds()


async def queue_depths(
    session: AsyncSession, shop_id: str, roles: Iterable[str] | None = None
) -> dict[str, RoleDepth]:
    """Per role (every service role, or ``roles``), the queued items and the oldest one's
    enqueue time; roles with nothing queued have depth 0."""
    wanted = sorted(set(roles)) if roles is not None else [r.value for r in ServiceRole]
    query = (
        select(Conversation.role, func.count(), func.min(Conversation.enqueued_at))
        .where(
            Conversation.shop_id == shop_id,
            Conversation.status == ConversationStatus.QUEUED,
        )
        .group_by(Conversation.role)
    )
    if roles is not None:
        query = query.where(Conversation.role.in_(wanted))
    found = {
        role: RoleDepth(role, int(depth), oldest)
        for role, depth, oldest in await session.execute(query)
    }
    return {role: found.get(role, RoleDepth(role, 0, None)) for role in wanted}


async def index_state(queue: WorkQueue, shop_id: str) -> tuple[dict[str, int], bool]:
    """The queue index's depth per role, and whether it is the one last built."""
    depths = {role.value: await queue.depth(shop_id, role.value) for role in ServiceRole}
    return depths, await queue.built(shop_id)


@dataclass(frozen=True, slots=True)
class RoleQueue:
    depth: RoleDepth
    index_depth: int
    """What the queue index holds for the role (``depth``: the database's count)."""
    items: tuple[dict[str, object], ...]
    """The top items, best first, each with its score breakdown (``conversation_json``)."""

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            "depth": self.depth.depth,
            "index_depth": self.index_depth,
            "oldest_wait_s": round(self.depth.oldest_wait_s(now), 1),
            "items": list(self.items),
        }


@dataclass(frozen=True, slots=True)
class Queues:
    """``GET /api/v1/queues``: per role depth, oldest wait and the top items."""

    generated_at: datetime
    index_intact: bool
    """Whether the queue index is the one last built from the database."""
    roles: Mapping[str, RoleQueue]

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "index_intact": self.index_intact,
            "roles": {role: queue.to_json(self.generated_at) for role, queue in self.roles.items()},
        }


async def queues(
    sessions: SessionFactory, queue: WorkQueue, actor: CurrentUser, now: datetime, *, limit: int
) -> Queues:
    """Every role's queue with its best ``limit`` items and why each stands where it does,
    and what the queue index holds beside it."""
    require(actor, READ_ACCESS)
    roles: dict[str, RoleQueue] = {}
    async with sessions() as session:
        ctx = await load_shop_context(session, actor.shop_id)
        depths = await queue_depths(session, actor.shop_id)
        for role, depth in depths.items():
            items: tuple[dict[str, object], ...] = ()
            if limit and depth.depth:
                rows = await session.scalars(
                    select(Conversation)
                    .where(
                        Conversation.shop_id == actor.shop_id,
                        Conversation.status == ConversationStatus.QUEUED,
                        Conversation.role == role,
                    )
                    .order_by(Conversation.sort_key.desc(), Conversation.id)
                    .limit(limit)
                )
                items = tuple(conversation_json(row, ctx, now) for row in rows)
            roles[role] = RoleQueue(depth, await queue.depth(actor.shop_id, role), items)
    return Queues(now, await queue.built(actor.shop_id), roles)


__all__ = [
    "READ_ACCESS",
    "Queues",
    "RoleDepth",
    "RoleQueue",
    "index_state",
    "queue_depths",
    "queues",
]
