"""One writer at a time on SQLite, arbitrated in the process, acceptance first.

SQLite allows a single writer; a second one spins in SQLite's busy handler, which sleeps
in growing steps (up to 100 ms each), so an HTTP request waiting to make its event durable
could wait seconds behind a processing batch. The gate hands the database over without
sleeping, always to acceptance (a buyer's event becoming durable: the 202) first.

Background processing starts whenever no acceptance waits and steps aside between two
events as soon as one does, so at ordinary rates a message reaches an agent at once and an
acceptance never waits for more than one event's work. During a burst (双十一 at midnight:
``burst_events`` within ``burst_window_s``) processing does not start in the gaps between
acceptances either: events are accepted at full speed and applied as the burst eases. It is
never starved: background work that has waited ``max_defer_s`` gets a slice of ``slice_s``
in which it keeps the database even if acceptances queue up (by default a fifth of the
time, the floor of what agents see during a long burst). Accepted events are durable
either way; only their effects wait. PostgreSQL locks rows, so there the gate lets
everyone through at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress


class WriteGate:
    def __init__(
        self,
        enabled: bool,
        *,
        burst_window_s: float = 0.1,
        burst_events: int = 100,
        max_defer_s: float = 0.1,
        slice_s: float = 0.025,
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
        self._acceptance_done = asyncio.Event()
        self._recent: deque[float] = deque()
        self._slice_until = 0.0
        self._burst = False

    def _forget_old(self, now: float) -> None:
        while self._recent and now - self._recent[0] > self._burst_window_s:
            self._recent.popleft()

    def note_demand(self) -> None:
        """Count an acceptance (the burst detector's input). Counted on every engine: the
        acceptor also asks whether it is a burst before applying events at once."""
        now = asyncio.get_running_loop().time()
        self._recent.append(now)
        self._forget_old(now)

    @property
    def in_burst(self) -> bool:
        """Entered at ``burst_events`` within the window, left below a quarter of that.
        Without the margin, processing let in by a dip below the threshold slowed
        acceptance, which kept the rate below it: processing took half the writer in
        the middle of a burst."""
        self._forget_old(asyncio.get_running_loop().time())
        count = len(self._recent)
        if count >= self._burst_events:
            self._burst = True
        elif count < self._burst_events // 4:
            self._burst = False
        return self._burst

    @asynccontextmanager
    async def priority(self) -> AsyncIterator[None]:
        if not self._enabled:
            yield
            return
        self._priority_waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self._priority_waiting -= 1
        try:
            yield
        finally:
            self._lock.release()
            self._acceptance_done.set()

    def should_yield(self) -> bool:
        """Background work asks between two steps: an acceptance waits and no slice of
        guaranteed time is running."""
        return bool(self._priority_waiting) and (
            asyncio.get_running_loop().time() >= self._slice_until
        )

    def _may_start_background(self, now: float, waiting_since: float) -> bool:
        if now < self._slice_until:
            return True
        if now - waiting_since >= self._max_defer_s:
            self._slice_until = now + self._slice_s
            return True
        return not self._priority_waiting and not self.in_burst

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
            if not self._priority_waiting or loop.time() < self._slice_until:
                break
            # Acceptance queued up behind us while we waited for the lock: it goes first.
            self._lock.release()
            await asyncio.sleep(0)
        try:
            yield
        finally:
            self._lock.release()
