"""In-process bus for embedded mode: one process, so fan-out is a list of asyncio queues."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from csdesk.bus.base import BusEvent

_CLOSED = object()


class MemoryBus:
    def __init__(self, max_backlog: int = 10_000) -> None:
        self._subscribers: set[asyncio.Queue[object]] = set()
        self._max_backlog = max_backlog

    async def publish(self, events: Sequence[BusEvent]) -> None:
        for queue in list(self._subscribers):
            for event in events:
                if queue.qsize() < self._max_backlog:
                    queue.put_nowait(event)

    async def subscribe(self) -> AsyncIterator[BusEvent]:
        queue: asyncio.Queue[object] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            while True:
                item = await queue.get()
                if item is _CLOSED:
                    return
                assert isinstance(item, BusEvent)
                yield item
        finally:
            self._subscribers.discard(queue)

    async def close(self) -> None:
        for queue in list(self._subscribers):
            queue.put_nowait(_CLOSED)
