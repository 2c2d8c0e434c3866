"""Events a crashed process accepted but never applied, or that came before what they
refer to: found by a sweep (a cron job) and applied again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from csdesk.actions.outbox import Deps
from csdesk.ingest.engine import RoutingEngine
from csdesk.ingest.message_runs import start_batch
from csdesk.ingest.processor import process_events
from csdesk.storage.enums import EventStatus
from csdesk.storage.models import PlatformEvent

PENDING_EVENT_GRACE = timedelta(seconds=10)
"""An event still ``received`` this long after acceptance lost its process (or waits for
an earlier event that another process holds)."""
RETRY_BATCH = 32
"""Events per transaction when the sweep applies them itself: a long transaction would hold
SQLite's one write lock (or PostgreSQL's row locks) against acceptance for seconds."""


async def retry_pending_events(
    deps: Deps,
    now: datetime,
    *,
    hand_to: Callable[[Sequence[int]], Awaitable[None]] | None = None,
) -> int:
    """Events still ``received`` after the grace period (their process died, or they came
    before what they refer to). ``hand_to`` is this process's own event processor when
    there is one (embedded): they join its queue. Else (an arq worker) they are applied
    here in small batches. Returns how many were handed on or applied."""
    async with deps.sessions() as session:
        ids = list(
            await session.scalars(
                select(PlatformEvent.id)
                .where(
                    PlatformEvent.status == EventStatus.RECEIVED,
                    PlatformEvent.received_at <= now - PENDING_EVENT_GRACE,
                )
                .order_by(PlatformEvent.id)
                .limit(1000)
            )
        )
    if not ids:
        return 0
    if hand_to is not None:
        await hand_to(ids)
        return len(ids)
    engine = RoutingEngine(deps.queue)
    done = 0
    for start in range(0, len(ids), RETRY_BATCH):
        counts = await process_events(
            deps.sessions,
            deps.bus,
            deps.queue,
            engine.handle_event,
            ids[start : start + RETRY_BATCH],
            now,
            start_batch,
        )
        done += counts["processed"] + counts["failed"]
    return done
