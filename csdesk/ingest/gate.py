"""One writer at a time on SQLite, arbitrated in the process, acceptance first.

SQLite allows a single writer; a second one spins in SQLite's busy handler, which sleeps
in growing steps (up to 100 ms each), so an HTTP request waiting to make its event durable
could wait seconds behind a processing batch. The gate hands the database over without
sleeping, and gives it to acceptance (a buyer's event becoming durable, the 202) before
background processing: under a burst, events are accepted at full speed and processed as
soon as acceptance pauses. PostgreSQL locks rows, so there the gate lets everyone through.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriteGate:
    def __init__(self, enabled: bool, *, quiet_s: float = 0.003, max_defer_s: float = 0.25) -> None:
        self._enabled = enabled
        self._quiet_s = quiet_s
        self._max_defer_s = max_defer_s
        self._last_priority_release = 0.0
        self._lock = asyncio.Lock()
        self._priority_waiting = 0
        self._no_priority_waiting = asyncio.Event()
        self._no_priority_waiting.set()

    @asynccontextmanager
    async def priority(self) -> AsyncIterator[None]:
        if not self._enabled:
            yield
            return
        self._priority_waiting += 1
        self._no_priority_waiting.clear()
        try:
            await self._lock.acquire()
        finally:
            self._priority_waiting -= 1
            if self._priority_waiting == 0:
                self._no_priority_waiting.set()
        try:
            yield
        finally:
            self._last_priority_release = asyncio.get_running_loop().time()
            self._lock.release()

    @asynccontextmanager
    async def background(self) -> AsyncIterator[None]:
        if not self._enabled:
            yield
            return
        loop = asyncio.get_running_loop()
        waiting_since = loop.time()
        while True:
            await self._no_priority_waiting.wait()
            # In a burst, acceptance comes back within a few milliseconds; background work
            # waits for a real pause, but never longer than max_defer_s (no starvation).
            quiet_for = loop.time() - self._last_priority_release
            overdue = loop.time() - waiting_since >= self._max_defer_s
            if quiet_for < self._quiet_s and not overdue:
                await asyncio.sleep(self._quiet_s - quiet_for)
                continue
            await self._lock.acquire()
            if self._priority_waiting == 0:
                break
            self._lock.release()  # acceptance arrived while we waited: it goes first
        try:
            yield
        finally:
            self._lock.release()

    @property
    def priority_waiting(self) -> bool:
        return self._priority_waiting > 0
