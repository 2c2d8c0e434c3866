"""What a transaction wants done once it has committed.

Bus events and queue-index updates describe committed state, so they must not happen
before the commit (a console would show an assignment that then rolled back) and must not
be lost after it. Actions append here; the caller runs :meth:`flush` after commit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.bus.base import BusEvent, EventBus
from csdesk.routing.queues.base import WorkQueue
from csdesk.storage.engine import SessionFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuePush:
    shop_id: str
    role: str
    item_id: int
    sort_key: float


@dataclass(frozen=True)
class QueueRemove:
    shop_id: str
    role: str
    item_id: int


AfterCommit = Callable[["Deps"], Awaitable[object]]
"""Work for a transaction of its own once this one has committed (e.g. offering queued
items to an agent whose row another process held): given the caller's dependencies."""


@dataclass
class Outbox:
    events: list[BusEvent] = field(default_factory=list)
    queue_ops: list[QueuePush | QueueRemove] = field(default_factory=list)
    follow_ups: dict[Hashable, AfterCommit] = field(default_factory=dict)
    claimed: list[QueuePush] = field(default_factory=list)
    """Items taken out of the queue index inside the transaction (claims are immediate):
    back into it if the transaction rolls back, since their rows are still queued then."""

    def publish(self, event: BusEvent) -> None:
        self.events.append(event)

    def push(self, shop_id: str, role: str, item_id: int, sort_key: float) -> None:
        self.queue_ops.append(QueuePush(shop_id, role, item_id, sort_key))

    def remove(self, shop_id: str, role: str, item_id: int) -> None:
        self.queue_ops.append(QueueRemove(shop_id, role, item_id))

    def after_commit(self, key: Hashable, follow_up: AfterCommit) -> None:
        """Run ``follow_up`` after the flush, once per ``key`` however often it is asked."""
        self.follow_ups.setdefault(key, follow_up)

    def took(self, shop_id: str, role: str, item_id: int, sort_key: float) -> None:
        self.claimed.append(QueuePush(shop_id, role, item_id, sort_key))

    def extend(self, other: Outbox) -> None:
        self.events.extend(other.events)
        self.queue_ops.extend(other.queue_ops)
        for key, follow_up in other.follow_ups.items():
            self.after_commit(key, follow_up)
        self.claimed.extend(other.claimed)

    async def roll_back(self, queue: WorkQueue | None) -> None:
        """The transaction rolled back: nothing is published or followed up, claimed items
        are queued again."""
        if queue is not None:
            for op in self.claimed:
                await queue.push(op.shop_id, op.role, op.item_id, op.sort_key)
        self.events.clear()
        self.queue_ops.clear()
        self.follow_ups.clear()
        self.claimed.clear()

    async def flush(
        self, bus: EventBus, queue: WorkQueue | None, sessions: SessionFactory | None = None
    ) -> None:
        """Queue-index updates, then bus events, then (given ``sessions`` and ``queue``) the
        follow-up transactions; without those the periodic sweeps do the follow-ups' work."""
        # The queue first: a console reacting to the event then finds the index current.
        if queue is not None:
            for op in self.queue_ops:
                if isinstance(op, QueuePush):
                    await queue.push(op.shop_id, op.role, op.item_id, op.sort_key)
                else:
                    await queue.remove(op.shop_id, op.role, op.item_id)
        if self.events:
            await bus.publish(self.events)
        self.events.clear()
        self.queue_ops.clear()
        self.claimed.clear()
        follow_ups, self.follow_ups = self.follow_ups, {}
        if sessions is None or queue is None:
            return
        deps = Deps(sessions, bus, queue)
        for key, follow_up in follow_ups.items():
            try:
                await follow_up(deps)
            except Exception:
                # What committed stands; the sweep that watches for idle agents catches up.
                log.exception("follow-up %r after commit failed", key)


@dataclass(frozen=True)
class Deps:
    """What an action needs besides its arguments: the database, the bus, the queue index."""

    sessions: SessionFactory
    bus: EventBus
    queue: WorkQueue


@asynccontextmanager
async def transaction(deps: Deps) -> AsyncIterator[tuple[AsyncSession, Outbox]]:
    """One transaction; its outbox is flushed only once it has committed."""
    outbox = Outbox()
    try:
        async with deps.sessions.begin() as session:
            yield session, outbox
    except Exception:
        await outbox.roll_back(deps.queue)
        raise
    await outbox.flush(deps.bus, deps.queue, deps.sessions)
