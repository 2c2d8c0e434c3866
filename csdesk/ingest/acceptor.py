"""Group commit for incoming events: concurrent requests share one transaction.

A handler submits a validated event and awaits its durability; a single writer task takes
everything waiting (up to ``max_batch``), writes it in one transaction and wakes each
handler with its own result. Under load the batch grows and the commit cost is shared;
alone, an event is written at once (no waiting for a batch to fill).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext, suppress

from csdesk.actions.events import Accepted, UnknownShopError, accept_events, known_shop_ids
from csdesk.clock import utcnow
from csdesk.ingest.gate import WriteGate
from csdesk.ingest.schema import PlatformEventIn
from csdesk.storage.engine import SessionFactory, engine_of
from csdesk.storage.held import HeldConnection
from csdesk.storage.sqlite_inline import inline_calls

log = logging.getLogger(__name__)
AcceptedHook = Callable[[Sequence[int]], Awaitable[None]]
ApplyNow = Callable[[Sequence[int]], Awaitable[bool]]
"""Apply just-accepted events at once if nothing is queued before them; False if not."""


class EventAcceptor:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        max_batch: int = 256,
        apply_now_max: int = 4,
        on_accepted: AcceptedHook | None = None,
        apply_now: ApplyNow | None = None,
        gate: WriteGate | None = None,
        fast_path: bool = True,
    ) -> None:
        self._sessions = sessions
        self._fast_path = fast_path
        self._connection = HeldConnection(engine_of(sessions), hold=fast_path)
        self._gate = gate or WriteGate(enabled=False)
        self._max_batch = max_batch
        self._apply_now_max = apply_now_max
        self._on_accepted = on_accepted
        self._apply_now = apply_now
        self._pending: asyncio.Queue[tuple[PlatformEventIn, asyncio.Future[Accepted]]] = (
            asyncio.Queue()
        )
        self._shops: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._shops = await known_shop_ids(self._sessions)
        self._task = asyncio.create_task(self._run(), name="event-acceptor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await self._connection.close()

    async def submit(self, event: PlatformEventIn) -> Accepted:
        if event.shop_id not in self._shops:
            # Shops are created rarely (CLI, seed); refresh once before refusing.
            self._shops = await known_shop_ids(self._sessions)
            if event.shop_id not in self._shops:
                raise UnknownShopError(event.shop_id)
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        self._gate.note_demand()
        self._pending.put_nowait((event, future))
        return await future

    async def _run(self) -> None:
        # Short indexed statements under the write gate: on SQLite they run on the loop's
        # thread rather than through a worker thread's round trips (no effect elsewhere).
        with inline_calls() if self._fast_path else nullcontext():
            await self._accept_forever()

    async def _accept_forever(self) -> None:
        while True:
            batch = [await self._pending.get()]
            while len(batch) < self._max_batch and not self._pending.empty():
                batch.append(self._pending.get_nowait())
            events = [event for event, _ in batch]
            applied = False
            try:
                async with self._gate.priority():
                    results = await accept_events(self._connection, events, utcnow())
                    # Durable: the 202s go out now, whatever happens next.
                    for (_, future), result in zip(batch, results, strict=True):
                        if not future.done():
                            future.set_result(result)
                    new_ids = [r.row_id for r in results if r.row_id is not None]
                    # When nobody else waits to be accepted, apply a few in this same turn
                    # of the writer: the buyer's message reaches the agent without waiting
                    # for the processor's turn. Under load, accepting comes first and the
                    # processor catches up in its own turns. The write may not have
                    # suspended (``storage.sqlite_inline``): let requests that arrived
                    # meanwhile queue first, or "nobody waits" would always be true.
                    if (
                        new_ids
                        and len(new_ids) <= self._apply_now_max
                        and self._apply_now is not None
                        and not self._gate.in_burst
                    ):
                        await asyncio.sleep(0)
                        if self._pending.empty():
                            applied = await self._apply_now(new_ids)
            except Exception as exc:  # the batch is not durable: every waiter must hear it
                log.exception("accepting %d events failed", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            if new_ids and not applied and self._on_accepted is not None:
                try:
                    await self._on_accepted(new_ids)
                except Exception:
                    # Processing is retried by the sweep job; acceptance already stands.
                    log.exception("handing %d accepted events on failed", len(new_ids))
