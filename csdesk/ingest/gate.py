"""One writer at a time on SQLite, arbitrated in the process, acceptance first.

SQLite allows a single writer; a second one spins in SQLite's busy handler, which sleeps
in growing steps (up to 100 ms each), so an HTTP request waiting to make its event durable
could wait seconds behind a processing batch. The gate hands the database over without
sleeping, always to acceptance (a buyer's event becoming durable: the 202) first.

At ordinary rates, background processing runs at once, so a message reaches an agent fast.
During a burst (双十一 at midnight: ``burst_events`` within ``burst_window_s``) processing
steps back and events are accepted at full speed, but it is never starved for long: after
``max_defer_s`` of waiting it gets a slice of ``slice_s``, and the backlog drains as soon
as the burst eases. Accepted events are durable either way; only their effects wait.
PostgreSQL locks rows, so there the gate lets everyone through at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress


class WriteGate:
    def __init__(
        self,
        enabled: bool,
        *,
        burst_window_s: float = 0.1,
        burst_events: int = 100,
        max_defer_s: float = 0.1,
        slice_s: float = 0.1,
        poll_s: float = 0.005,
    ) -> None:
        self._enabled = enabled
        self._burst_window_s = burst_window_s
        self._burst_events = burst_events
        self._max_defer_s = max_defer_s
        self._slice_s = slice_s
        self._poll_s = poll_s
        self._lock = asyncio.Lock()
        self._priority_waiting = 0
        self._priority_since: deque[float] = deque()
        self._acceptance_done = asyncio.Event()
        self._recent: deque[float] = deque()
        self._slice_until = 0.0

    def _forget_old(self, now: float) -> None:
        while self._recent and now - self._recent[0] > self._burst_window_s:
            self._recent.popleft()

    @contextmanager
    def demand(self) -> Iterator[None]:
        """Count an acceptance (the burst detector's input). Counted on every engine: the
        acceptor also asks whether it is a burst before applying events at once."""
        now = asyncio.get_running_loop().time()
        self._recent.append(now)
        self._forget_old(now)
        yield

    @property
    def in_burst(self) -> bool:
        self._forget_old(asyncio.get_running_loop().time())
        return len(self._recent) >= self._burst_events

    @asynccontextmanager
    async def priority(self) -> AsyncIterator[None]:
        if not self._enabled:
            yield
            return
        self._priority_waiting += 1
        since = asyncio.get_running_loop().time()
        self._priority_since.append(since)
        try:
            await self._lock.acquire()
        finally:
            self._priority_waiting -= 1
            self._priority_since.remove(since)
        try:
            yield
        finally:
            self._lock.release()
            self._acceptance_done.set()

    def acceptance_waited(self) -> float:
        """Seconds the longest-waiting acceptance has been waiting (0 if none): background
        work checks it between steps and steps aside."""
        if not self._priority_since:
            return 0.0
        return asyncio.get_running_loop().time() - min(self._priority_since)

    def _may_start_background(self, now: float, waiting_since: float) -> bool:
        if self._priority_waiting:
            return False
        if now < self._slice_until or not self.in_burst:
            return True
        if now - waiting_since >= self._max_defer_s:
            self._slice_until = now + self._slice_s
            return True
        return False

    @asynccontextmanager
    async def background(self) -> AsyncIterator[None]:
        if not self._enabled:
            yield
            return
        loop = asyncio.get_running_loop()
        waiting_since = loop.time()
        while True:
            while not self._may_start_background(loop.time(), waiting_since):
                # Woken the moment an acceptance finishes; the timeout because the burst
                # condition also changes with the passing of time itself.
                self._acceptance_done.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._acceptance_done.wait(), self._poll_s)
            await self._lock.acquire()
            if not self._priority_waiting:
                break
            # Acceptance queued up behind us while we waited for the lock: it goes first.
            self._lock.release()
            await asyncio.sleep(0)
        try:
            yield
        finally:
            self._lock.release()
