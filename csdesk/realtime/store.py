"""Per-console event queues (Zulip's ``event_queue.py`` model): ids, retention, ownership.

A queue belongs to one console (one browser tab) and outlives its socket for a while, so a
reconnect resumes exactly where the console left off. Ids start at 0 and grow by one per
event, so the console sees a gap or a repeat at once. Each queue is **owned** by one web
process, the only one that appends to it; ownership moves with the console when it
reconnects to another process (see ``hub.py``). In embedded mode queues live in memory; in
server mode in Redis, where any process can read and take over any queue.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from csdesk.realtime.protocol import QueuedEvent

NO_OWNER = ""
"""Owner of a queue whose process gave it up without a successor: its events are lost."""


@dataclass(frozen=True)
class QueueState:
    queue_id: str
    shop_id: str
    user_id: int
    owner: str
    """Id of the process appending to it (``NO_OWNER``: nobody, the queue is lost)."""
    last_event_id: int
    """Newest id appended (-1 before the first event)."""
    floor: int
    """Events up to this id may have been dropped (acknowledged or over the length bound)."""

    def resume_problem(self, last_event_id: int) -> str | None:
        """Why a console that has everything up to ``last_event_id`` cannot resume, if it can't."""
        if last_event_id > self.last_event_id:
            return (
                f"last_event_id {last_event_id} is ahead of the queue "
                f"(its last event is {self.last_event_id})"
            )
        if last_event_id < self.floor:
            return f"too far behind: events up to {self.floor} were dropped"
        return None


@dataclass(frozen=True)
class Append:
    queue_id: str
    body: str


class QueueStore(Protocol):
    """Storage of the queues; ``owner`` is this process's id."""

    @property
    def owner(self) -> str: ...

    async def create(self, queue_id: str, shop_id: str, user_id: int) -> None:
        """A new empty queue owned by this process."""

    async def state(self, queue_id: str) -> QueueState | None:
        """None when unknown or expired."""

    async def append(self, items: Sequence[Append]) -> list[int | None]:
        """The id each item got, or None when its queue is not (or no longer) ours."""

    async def read(self, queue_id: str, after: int, limit: int) -> list[QueuedEvent]:
        """Up to ``limit`` retained events with id > ``after``, oldest first."""

    async def ack(self, queue_id: str, upto: int) -> None:
        """Events up to ``upto`` are applied by the console: drop them."""

    async def hand_over(self, queue_id: str, to: str) -> bool:
        """Give our queue to process ``to`` (``NO_OWNER``: to nobody); False if not ours."""

    async def touch(self, queue_ids: Sequence[str]) -> None:
        """The queues are still held: keep them from expiring."""

    async def delete(self, queue_ids: Sequence[str]) -> None: ...

    async def heartbeat(self) -> None:
        """This process is alive (others hand queues over only to, and from, live processes)."""

    async def is_alive(self, owner: str) -> bool: ...

    async def retire(self) -> None:
        """This process stops: resumes of its queues get a ``reset`` at once."""


@dataclass
class _MemoryQueue:
    shop_id: str
    user_id: int
    owner: str
    last: int = -1
    floor: int = -1
    events: deque[QueuedEvent] = field(default_factory=deque)


class MemoryQueueStore:
    """Embedded mode: one process, so every queue is this process's (expiry is the hub's)."""

    def __init__(self, owner: str, max_events: int) -> None:
        self._owner = owner
        self._max_events = max_events
        self._queues: dict[str, _MemoryQueue] = {}

    @property
    def owner(self) -> str:
        return self._owner

    async def create(self, queue_id: str, shop_id: str, user_id: int) -> None:
        self._queues[queue_id] = _MemoryQueue(shop_id, user_id, self._owner)

    async def state(self, queue_id: str) -> QueueState | None:
        queue = self._queues.get(queue_id)
        if queue is None:
            return None
        return QueueState(
            queue_id, queue.shop_id, queue.user_id, queue.owner, queue.last, queue.floor
        )

    async def append(self, items: Sequence[Append]) -> list[int | None]:
        ids: list[int | None] = []
        for item in items:
            queue = self._queues.get(item.queue_id)
            if queue is None or queue.owner != self._owner:
                ids.append(None)
                continue
            queue.last += 1
            queue.events.append(QueuedEvent(queue.last, item.body))
            if len(queue.events) > self._max_events:
                queue.floor = queue.events.popleft().id
            ids.append(queue.last)
        return ids

    async def read(self, queue_id: str, after: int, limit: int) -> list[QueuedEvent]:
        queue = self._queues.get(queue_id)
        if queue is None or not queue.events:
            return []
        # Ids in a queue are contiguous, so the position of ``after + 1`` is arithmetic.
        start = max(0, after + 1 - queue.events[0].id)
        return [queue.events[i] for i in range(start, min(len(queue.events), start + limit))]

    async def ack(self, queue_id: str, upto: int) -> None:
        queue = self._queues.get(queue_id)
        if queue is None or upto <= queue.floor:
            return
        queue.floor = upto
        while queue.events and queue.events[0].id <= upto:
            queue.events.popleft()

    async def hand_over(self, queue_id: str, to: str) -> bool:
        queue = self._queues.get(queue_id)
        if queue is None or queue.owner != self._owner:
            return False
        queue.owner = to
        return True

    async def touch(self, queue_ids: Sequence[str]) -> None:
        return None

    async def delete(self, queue_ids: Sequence[str]) -> None:
        for queue_id in queue_ids:
            self._queues.pop(queue_id, None)

    async def heartbeat(self) -> None:
        return None

    async def is_alive(self, owner: str) -> bool:
        return owner == self._owner

    async def retire(self) -> None:
        self._queues.clear()
