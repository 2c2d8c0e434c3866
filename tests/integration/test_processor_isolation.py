"""A failing event fails alone: its batch-mates' effects commit, it is marked ``failed``
with its error, and the retry after a not-ready event keeps it ``received``. A batch that
steps aside for acceptance commits what it applied and hands the rest back unapplied."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.outbox import Outbox
from csdesk.bus.memory import MemoryBus
from csdesk.clock import utcnow
from csdesk.ingest.processor import ClaimedEvent, EventBatch, NotReadyError, process_events
from csdesk.ingest.schema import parse_event
from csdesk.routing.queues.memory import MemoryWorkQueue
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import AuditLog, PlatformEvent
from tests.helpers import accept, event_body


async def test_one_bad_event_does_not_sink_its_batch(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    events = [
        parse_event(
            event_body(
                "call.inbound", {"call_id": f"c{n}", "caller_phone": "1"}, event_id=f"iso-{n}"
            )
        )
        for n in range(5)
    ]
    accepted = await accept(sessions, events, utcnow())
    ids = [a.row_id for a in accepted if a.row_id is not None]
    assert len(ids) == 5

    async def handle(
        session: AsyncSession,
        event: ClaimedEvent,
        now: datetime,
        outbox: Outbox,
        batch: EventBatch | None = None,
    ) -> None:
        if event.event_id == "iso-2":
            raise RuntimeError("broken payload")
        if event.event_id == "iso-3":
            raise NotReadyError("order not yet recorded")
        session.add(
            AuditLog(
                shop_id=event.shop_id,
                actor_id=None,
                action="test.effect",
                target_type="event",
                target_id=event.event_id,
                detail={},
                at=now,
            )
        )

    counts = await process_events(sessions, MemoryBus(), MemoryWorkQueue(), handle, ids, utcnow())
    assert counts == {"processed": 3, "failed": 1, "not_ready": 1, "skipped": 0, "deferred": 0}
    async with sessions() as session:
        status = dict(
            (await session.execute(select(PlatformEvent.event_id, PlatformEvent.status))).all()
        )
        errors = dict(
            (await session.execute(select(PlatformEvent.event_id, PlatformEvent.error))).all()
        )
        effects = set(
            await session.scalars(
                select(AuditLog.target_id).where(AuditLog.action == "test.effect")
            )
        )
    assert {k: v.value for k, v in status.items()} == {
        "iso-0": "processed",
        "iso-1": "processed",
        "iso-2": "failed",
        "iso-3": "received",
        "iso-4": "processed",
    }
    assert errors["iso-2"] == "RuntimeError: broken payload"
    assert effects == {"iso-0", "iso-1", "iso-4"}


async def test_a_batch_stepping_aside_hands_the_rest_back_unapplied(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    events = [
        parse_event(
            event_body(
                "call.inbound", {"call_id": f"c{n}", "caller_phone": "1"}, event_id=f"yield-{n}"
            )
        )
        for n in range(4)
    ]
    accepted = await accept(sessions, events, utcnow())
    ids = [a.row_id for a in accepted if a.row_id is not None]
    applied: list[str] = []

    async def handle(
        session: AsyncSession,
        event: ClaimedEvent,
        now: datetime,
        outbox: Outbox,
        batch: EventBatch | None = None,
    ) -> None:
        applied.append(event.event_id)

    # Someone starts waiting after the second event: the batch stops there.
    deferred: list[int] = []
    counts = await process_events(
        sessions,
        MemoryBus(),
        MemoryWorkQueue(),
        handle,
        ids,
        utcnow(),
        stop_early=lambda: len(applied) >= 2,
        deferred=deferred,
    )
    assert counts["processed"] == 2
    assert counts["deferred"] == 2
    assert deferred == ids[2:]
    assert applied == ["yield-0", "yield-1"]
    async with sessions() as session:
        status = dict(
            (await session.execute(select(PlatformEvent.event_id, PlatformEvent.status))).all()
        )
    assert {k: v.value for k, v in status.items()} == {
        "yield-0": "processed",
        "yield-1": "processed",
        "yield-2": "received",
        "yield-3": "received",
    }

    # Handed back, they are applied next time, once each.
    counts = await process_events(
        sessions, MemoryBus(), MemoryWorkQueue(), handle, deferred, utcnow()
    )
    assert counts["processed"] == 2
    assert applied == ["yield-0", "yield-1", "yield-2", "yield-3"]
