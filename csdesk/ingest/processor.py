"""Apply accepted events in order: each event's effects and its ``processed`` mark commit
together, so an event is never half-applied and never applied twice.

Events are processed in batches inside one transaction. When one fails, the batch is redone
with a savepoint per event: the failing event rolls back alone and is marked ``failed``
with its error; an event that arrives before what it refers to (``order.paid`` before
``order.created`` reached this process) is left ``received`` for the retry sweep.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.events import claim_events, mark_failed, release_events
from csdesk.actions.outbox import Outbox
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent, EventBus
from csdesk.clock import utcnow
from csdesk.ingest.gate import WriteGate
from csdesk.storage.engine import SessionFactory
from csdesk.storage.sqlite_inline import inline_calls

if TYPE_CHECKING:
    from csdesk.routing.queues.base import WorkQueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimedEvent:
    """An accepted event as a handler sees it, claimed for applying (read-only)."""

    id: int
    shop_id: str
    event_id: str
    type: str
    occurred_at: datetime
    payload: dict[str, Any]
    received_at: datetime


class EventBatch(Protocol):
    """What a handler keeps across the events of one batch applied in one transaction
    without savepoints (the routing engine: facts for runs of buyer messages, loaded at
    once, and their messages, written at once)."""

    async def finish(self, session: AsyncSession, outbox: Outbox) -> None:
        """After the batch's last event, before commit."""
        ...


StartBatch = Callable[[Sequence[ClaimedEvent]], EventBatch]
"""Makes the batch context for the claimed events, before the first is applied."""


class EventHandler(Protocol):
    async def __call__(
        self,
        session: AsyncSession,
        event: ClaimedEvent,
        now: datetime,
        outbox: Outbox,
        batch: EventBatch | None = None,
        /,
    ) -> None:
        """Apply one event; ``batch`` is the batch context, None on the savepoint path."""
        ...


MAX_ATTEMPTS_NOT_READY = timedelta(minutes=10)


class NotReadyError(Exception):
    """The event refers to something not recorded yet; retry later rather than fail."""


class _IsolationNeededError(Exception):
    """An event of a batch raised: redo the batch with a savepoint per event."""


async def process_events(
    sessions: SessionFactory,
    bus: EventBus,
    queue: WorkQueue | None,
    handle: EventHandler,
    row_ids: Sequence[int],
    now: datetime,
    start_batch: StartBatch | None = None,
    *,
    stop_early: Callable[[], bool] | None = None,
    deferred: list[int] | None = None,
) -> dict[str, int]:
    """Process the given events (if still ``received``); returns counts by outcome.

    Fast path: the whole batch in one transaction without savepoints (two round trips per
    event saved). If any event raises, that transaction rolls back entirely and the batch
    is redone with a savepoint per event, so one bad event fails alone.
    """
    try:
        return await _process_batch(
            sessions,
            bus,
            queue,
            handle,
            row_ids,
            now,
            isolate=False,
            start_batch=start_batch,
            stop_early=stop_early,
            deferred=deferred,
        )
    except _IsolationNeededError:
        return await _process_batch(sessions, bus, queue, handle, row_ids, now, isolate=True)


async def _process_batch(
    sessions: SessionFactory,
    bus: EventBus,
    queue: WorkQueue | None,
    handle: EventHandler,
    row_ids: Sequence[int],
    now: datetime,
    *,
    isolate: bool,
    start_batch: StartBatch | None = None,
    stop_early: Callable[[], bool] | None = None,
    deferred: list[int] | None = None,
) -> dict[str, int]:
    counts = {"processed": 0, "failed": 0, "not_ready": 0, "skipped": 0, "deferred": 0}
    outbox = Outbox()
    try:
        await _apply_batch(
            sessions,
            queue,
            handle,
            row_ids,
            now,
            outbox,
            counts,
            isolate=isolate,
            start_batch=start_batch,
            stop_early=stop_early,
            deferred=deferred,
        )
    except Exception:
        await outbox.roll_back(queue)
        raise
    await outbox.flush(bus, queue, sessions)
    return counts


async def _apply_batch(
    sessions: SessionFactory,
    queue: WorkQueue | None,
    handle: EventHandler,
    row_ids: Sequence[int],
    now: datetime,
    outbox: Outbox,
    counts: dict[str, int],
    *,
    isolate: bool,
    start_batch: StartBatch | None,
    stop_early: Callable[[], bool] | None,
    deferred: list[int] | None,
) -> None:
    async with sessions.begin() as session:
        connection = await session.connection()
        claimed = await claim_events(connection, row_ids, now)
        events = sorted((ClaimedEvent(*row) for row in claimed), key=lambda event: event.id)
        counts["skipped"] = len(set(row_ids)) - len(events)
        # Only without savepoints: a savepoint rolled back would leave what the batch
        # loaded describing effects that no longer exist.
        batch = None if isolate or start_batch is None else start_batch(events)
        for position, event in enumerate(events):
            if position:
                # Database calls may complete without suspending (``storage.sqlite_inline``):
                # let requests that arrived meanwhile be read and queue for acceptance.
                await asyncio.sleep(0)
            if not isolate:
                if position and stop_early is not None and stop_early():
                    # Someone waits to make an event durable: commit what is done, hand
                    # the rest back unapplied.
                    rest = [e.id for e in events[position:]]
                    await _unclaim_all(session, rest)
                    if deferred is not None:
                        deferred.extend(rest)
                    counts["deferred"] = len(rest)
                    break
                try:
                    await handle(session, event, now, outbox, batch)
                except Exception as exc:
                    raise _IsolationNeededError from exc  # rolls back the whole batch
                counts["processed"] += 1
                continue
            event_outbox = Outbox()
            try:
                async with session.begin_nested():
                    await handle(session, event, now, event_outbox)
                outbox.extend(event_outbox)
                counts["processed"] += 1
            except NotReadyError as exc:
                await event_outbox.roll_back(queue)
                if now - event.received_at < MAX_ATTEMPTS_NOT_READY:
                    await _unclaim(session, event.id)
                    counts["not_ready"] += 1
                    continue
                error = f"not ready after retries: {exc}"
                await mark_failed(session, event.id, error, now)
                outbox.publish(ev.event_failed(event.shop_id, event.event_id, event.type, error))
                counts["failed"] += 1
            except Exception as exc:
                await event_outbox.roll_back(queue)
                log.exception("event %s (%s) failed", event.event_id, event.type)
                error = f"{type(exc).__name__}: {exc}"
                await mark_failed(session, event.id, error, now)
                outbox.publish(ev.event_failed(event.shop_id, event.event_id, event.type, error))
                counts["failed"] += 1
        # The dashboards' aggregator learns that the shop's figures may have moved, also
        # when the events published nothing else (an order paid that nobody chased).
        for shop_id in sorted({event.shop_id for event in events}):
            outbox.publish(BusEvent(ev.INTERNAL_EVENTS_APPLIED, shop_id, (), {}))
        if batch is not None:
            try:
                await batch.finish(session, outbox)
            except Exception as exc:
                raise _IsolationNeededError from exc


async def _unclaim_all(session: AsyncSession, row_ids: Sequence[int]) -> None:
    """Back to ``received``: for the processor's next turn, or the retry sweep (a
    savepoint undid only the event's effects)."""
    await release_events(await session.connection(), row_ids)


async def _unclaim(session: AsyncSession, row_id: int) -> None:
    await _unclaim_all(session, [row_id])


class EventProcessor:
    """In each web process: applies what this process accepted, in arrival order."""

    def __init__(
        self,
        sessions: SessionFactory,
        bus: EventBus,
        queue: WorkQueue | None,
        handle: EventHandler,
        *,
        max_batch: int = 32,
        gate: WriteGate | None = None,
        start_batch: StartBatch | None = None,
        inline: bool = True,
    ) -> None:
        self._gate = gate or WriteGate(enabled=False)
        self._inline = inline
        """SQLite calls on the loop's thread (``storage.sqlite_inline``): the fast path."""
        self._sessions = sessions
        self._bus = bus
        self._queue_index = queue
        self._handle = handle
        self._start_batch = start_batch
        self._max_batch = max_batch
        self._pending: deque[int] = deque()
        self._known: set[int] = set()
        """Ids queued or being applied here (so a retry sweep does not queue them twice)."""
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._running = False
        self.totals: dict[str, int] = {}
        """Events this process applied since it started, by outcome (for ``/metrics``)."""
        self.paths = {"at_once": 0, "queued": 0}
        """Events handled in the acceptor's turn or from the queue (for ``/metrics``)."""

    @property
    def idle(self) -> bool:
        return not self._pending and not self._running

    async def apply_now(self, row_ids: Sequence[int]) -> bool:
        """Apply just-accepted events in the caller's turn (the acceptor, holding the write
        gate), if nothing is queued or running before them: order must hold. False if not,
        or if applying failed (then they go the usual way and are retried)."""
        if not self.idle:
            return False
        self._running = True
        self._idle.clear()
        try:
            counts = await process_events(
                self._sessions,
                self._bus,
                self._queue_index,
                self._handle,
                row_ids,
                utcnow(),
                self._start_batch,
            )
        except Exception:
            log.exception("applying %d events at once failed; queued instead", len(row_ids))
            return False
        finally:
            self._running = False
            if not self._pending:
                self._idle.set()
        self._count(counts)
        self.paths["at_once"] += len(row_ids)
        return True

    def _count(self, counts: dict[str, int]) -> None:
        for outcome, n in counts.items():
            self.totals[outcome] = self.totals.get(outcome, 0) + n

    async def notify(self, row_ids: Sequence[int]) -> None:
        self._idle.clear()
        self._pending.extend(row_ids)
        self._known.update(row_ids)
        self._wakeup.set()

    async def adopt(self, row_ids: Sequence[int]) -> None:
        """Events left ``received`` (a crash, an event that arrived before what it refers to)
        found by the retry sweep: applied here in order with the rest, under the same write
        gate and batch limits, never in one long transaction of their own."""
        fresh = [row_id for row_id in row_ids if row_id not in self._known]
        if fresh:
            await self.notify(fresh)

    async def wait_idle(self) -> None:
        """For tests and shutdown: until everything handed in so far has been processed."""
        await self._idle.wait()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-processor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        # As the acceptor's (``storage.sqlite_inline``), unless the fast path is off.
        with inline_calls() if self._inline else nullcontext():
            await self._apply_forever()

    async def _apply_forever(self) -> None:
        while True:
            if not self._pending:
                self._idle.set()
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = [
                self._pending.popleft() for _ in range(min(self._max_batch, len(self._pending)))
            ]
            deferred: list[int] = []
            self._running = True  # from the moment they leave the queue: order must hold
            try:
                async with self._gate.background():
                    counts = await process_events(
                        self._sessions,
                        self._bus,
                        self._queue_index,
                        self._handle,
                        batch,
                        utcnow(),
                        self._start_batch,
                        stop_early=self._gate.should_yield,
                        deferred=deferred,
                    )
                self._count(counts)
                self.paths["queued"] += len(batch) - len(deferred)
            except Exception:
                log.exception(
                    "processing a batch of %d events failed; the sweep retries", len(batch)
                )
            finally:
                self._running = False
            # Handed back unapplied (acceptance was waiting): first in line next time.
            self._pending.extendleft(reversed(deferred))
            self._known.difference_update(set(batch) - set(deferred))
