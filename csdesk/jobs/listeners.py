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
import time
from collections.abc import AsyncIterator

from aiohttp import web

from csdesk.actions.qc.checks import enqueue_check
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent, EventBus
from csdesk.jobs.base import JOBS_KEY, JobRunner
from csdesk.jobs.deliveries import DELIVER, deliver_job_id
from csdesk.keys import BUS_KEY, SESSIONS_KEY
from csdesk.outbound.webhook_events import from_bus
from csdesk.reads.deliveries import subscribed_types
from csdesk.storage.engine import SessionFactory

log = logging.getLogger(__name__)


class Subscribed:
    """Which webhook event types each shop's integrators take, cached for ``ttl_s``: every
    bus event is looked at, and a shop without subscriptions must cost nothing (the ingest
    path publishes thousands a second)."""

    def __init__(self, sessions: SessionFactory | None, ttl_s: float = 5.0) -> None:
        self._sessions = sessions
        self._ttl_s = ttl_s
        self._types: dict[str, tuple[float, set[str]]] = {}

    async def types(self, shop_id: str) -> set[str]:
        if self._sessions is None:
            return set()
        now = time.monotonic()
        cached = self._types.get(shop_id)
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        found = (await subscribed_types(self._sessions, [shop_id])).get(shop_id, set())
        self._types[shop_id] = (now, found)
        return found


async def on_event(event: BusEvent, jobs: JobRunner, subscribed: Subscribed | None = None) -> None:
    """What each event type starts; one ``match`` arm per listened type."""
    match event.type:
        case ev.CONVERSATION_CLOSED:
            # Auto-QC of every closed conversation (its job skips back-office items).
            await enqueue_check(jobs, int(event.payload["conversation_id"]))
        case ev.MESSAGE_CREATED:
            # A buyer-visible message to send: its first attempt at once (the sweep is
            # behind it if this process dies first).
            delivery = (event.payload.get("message") or {}).get("delivery")
            if delivery and delivery.get("state") == "sending":
                await jobs.enqueue(
                    DELIVER, delivery["id"], job_id=deliver_job_id(delivery["id"], 0)
                )
        case _:
            pass
    if subscribed is not None:
        await _webhooks(event, jobs, subscribed)


async def _webhooks(event: BusEvent, jobs: JobRunner, subscribed: Subscribed) -> None:
    """The integrators' copy of this event, when the shop has a subscription taking it.
    Every web process sees every event: the job id (and the delivery's own id) make it one."""
    wanted = await subscribed.types(event.shop_id)
    if not wanted:  # the usual case: no integrator, nothing to map
        return
    for item in from_bus(event):
        if item.type in wanted:
            await jobs.enqueue(
                "webhook_fan_out",
                event.shop_id,
                item.type,
                item.key,
                item.data,
                job_id=f"webhook:{event.shop_id}:{item.key}",
            )


RESUBSCRIBE_AFTER_S = 1.0
STOP_WITHIN_S = 5.0


async def listen(
    bus: EventBus,
    jobs: JobRunner,
    stopping: asyncio.Event,
    subscribed: Subscribed | None = None,
) -> None:
    """Until ``stopping``; a lost subscription (Redis down or restarted) is taken up again."""
    while not stopping.is_set():
        try:
            async for event in bus.subscribe():
                try:
                    await on_event(event, jobs, subscribed)
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
    subscribed = Subscribed(app[SESSIONS_KEY])
    task = asyncio.create_task(listen(app[BUS_KEY], app[JOBS_KEY], stopping, subscribed))
    yield
    stopping.set()
    task.cancel()
    # redis-py may swallow a cancellation that lands inside a connection attempt; the flag
    # ends the loop then, and shutdown never waits on a dead Redis for more than this.
    done, _ = await asyncio.wait({task}, timeout=STOP_WITHIN_S)
    for finished in done:
        with contextlib.suppress(asyncio.CancelledError):
            finished.result()
