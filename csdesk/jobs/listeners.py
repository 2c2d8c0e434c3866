"""Listeners (Chatwoot's name): bus events that start jobs in the background.

Every web process listens; in server mode each receives every event, so a job started
here carries a job id that makes the second enqueue a no-op. A listener that misses an
event (no process up, Redis pub/sub dropped it) is covered by the job's own sweep: the
QC catch-up sweep checks every closed conversation that no job did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from csdesk.actions.qc.checks import enqueue_check
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent, EventBus
from csdesk.jobs.base import JOBS_KEY, JobRunner
from csdesk.keys import BUS_KEY

log = logging.getLogger(__name__)


async def on_event(event: BusEvent, jobs: JobRunner) -> None:
    """What each event type starts; one ``match`` arm per listened type."""
    match event.type:
        case ev.CONVERSATION_CLOSED:
            # Auto-QC of every closed conversation (its job skips back-office items).
            await enqueue_check(jobs, int(event.payload["conversation_id"]))
        case _:
            pass


RESUBSCRIBE_AFTER_S = 1.0
STOP_WITHIN_S = 5.0


async def listen(bus: EventBus, jobs: JobRunner, stopping: asyncio.Event) -> None:
    """Until ``stopping``; a lost subscription (Redis down or restarted) is taken up again."""
    while not stopping.is_set():
        try:
            async for event in bus.subscribe():
                try:
                    await on_event(event, jobs)
                except Exception:
                    # One bad event must not stop the listener; the sweeps catch up.
                    log.exception("listener failed on %s", event.type)
            return  # the bus closed: the process is stopping
        except Exception:
            log.warning("bus subscription lost; subscribing again", exc_info=True)
            await asyncio.sleep(RESUBSCRIBE_AFTER_S)


async def listeners_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx`` after ``jobs_ctx``: listen to the bus for the process's lifetime."""
    stopping = asyncio.Event()
    task = asyncio.create_task(listen(app[BUS_KEY], app[JOBS_KEY], stopping))
    yield
    stopping.set()
    task.cancel()
    # redis-py may swallow a cancellation that lands inside a connection attempt; the flag
    # ends the loop then, and shutdown never waits on a dead Redis for more than this.
    done, _ = await asyncio.wait({task}, timeout=STOP_WITHIN_S)
    for finished in done:
        with contextlib.suppress(asyncio.CancelledError):
            finished.result()
