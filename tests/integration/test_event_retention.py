"""Retention of platform events, and the notice when one fails.

Processed events older than the retention are purged by the ``purge_processed_events``
job in both modes (the in-process runner; a real arq worker on Redis); recent ones, failed
ones and unprocessed ones stay. A purged id is no longer a duplicate, which is why the
retention never goes under a week. An event that fails shows on the supervisor board
(count and list, and ``event.failed`` on the bus for live refresh and alert channels).
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from arq.worker import create_worker
from redis.asyncio import Redis
from sqlalchemy import select

from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.clock import utcnow
from csdesk.ingest.schema import parse_event
from csdesk.jobs import JOBS_KEY
from csdesk.jobs.inline import InlineJobRunner
from csdesk.jobs.registry import REGISTRY
from csdesk.jobs.worker import ArqJobRunner, WorkerSettings, worker_options
from csdesk.keys import BUS_KEY, PROCESSOR_KEY
from csdesk.reads.events import failed_since
from csdesk.settings import MIN_EVENT_RETENTION, Settings, retention_settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import EventStatus, UserRole
from csdesk.storage.models import PlatformEvent
from tests.helpers import accept, event_body, post_raw, settle, token_for
from tests.services import REDIS_URL

BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgres+redis"], indirect=True)


@pytest.fixture
async def arq_keys(redis_prefix: str) -> AsyncIterator[None]:
    yield
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"arq:*{redis_prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def _statuses(sessions: SessionFactory) -> dict[str, EventStatus]:
    async with sessions() as session:
        rows = await session.execute(select(PlatformEvent.event_id, PlatformEvent.status))
        return {str(event_id): EventStatus(status) for event_id, status in rows}


async def _run_job(client: TestClient[Any, Any], settings: Settings, name: str) -> None:
    runner = client.app[JOBS_KEY]
    assert await runner.enqueue(name) is True
    if isinstance(runner, InlineJobRunner):
        await runner.join()
        return
    assert isinstance(runner, ArqJobRunner)
    options = worker_options(settings) | {"burst": True, "handle_signals": False}
    worker = create_worker(WorkerSettings, **options)
    try:
        assert await worker.run_check() >= 1
    finally:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Call to deprecated close", DeprecationWarning)
            await worker.close()


@BACKENDS
async def test_processed_events_past_retention_are_purged_and_others_kept(
    client: TestClient[Any, Any],
    sessions: SessionFactory,
    shop_id: str,
    settings: Settings,
    arq_keys: None,
) -> None:
    now = utcnow()
    keep = settings.retention.processed_events
    old = now - keep - timedelta(hours=1)
    order = {
        "buyer_nick": "老买家",
        "order_id": "O-RET-1",
        "amount": "10.00",
        "items": [{"sku": "S", "title": "杯", "qty": 1, "price": "10.00"}],
    }
    old_ok = parse_event(event_body("order.created", order, event_id="old-ok", shop_id=shop_id))
    # Paid for an order never recorded, and received long ago: fails instead of waiting.
    old_bad = parse_event(
        event_body("order.paid", {"order_id": "O-NOPE"}, event_id="old-bad", shop_id=shop_id)
    )
    accepted = await accept(sessions, [old_ok, old_bad], old)
    processor = client.app[PROCESSOR_KEY]
    await processor.adopt([a.row_id for a in accepted if a.row_id is not None])
    await settle(client)
    fresh = event_body("order.created", {**order, "order_id": "O-RET-2"}, event_id="fresh")
    response = await post_raw(client, fresh)
    assert response.status == 202
    await settle(client)
    assert await _statuses(sessions) == {
        "old-ok": EventStatus.PROCESSED,
        "old-bad": EventStatus.FAILED,
        "fresh": EventStatus.PROCESSED,
    }

    await _run_job(client, settings, "purge_processed_events")

    assert await _statuses(sessions) == {
        "old-bad": EventStatus.FAILED,
        "fresh": EventStatus.PROCESSED,
    }
    # Inside the retention a redelivery is still a duplicate.
    again = await post_raw(client, fresh)
    assert again.status == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_failed_event_shows_on_the_board_and_is_published(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    token = await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    bearer = {"Authorization": f"Bearer {token}"}
    board = await (await client.get("/api/v1/supervisor/board", headers=bearer)).json()
    assert board["failed_events"] == 0
    assert board["recent_failed"] == []

    seen: list[BusEvent] = []
    subscription = client.app[BUS_KEY].subscribe()

    async def collect() -> None:
        async for event in subscription:
            if event.type == ev.EVENT_FAILED:
                seen.append(event)
                return

    listening = asyncio.create_task(collect())
    await asyncio.sleep(0)
    before = utcnow()
    long_ago = before - timedelta(hours=1)
    bad = parse_event(
        event_body("order.paid", {"order_id": "O-GONE"}, event_id="evt-bad", shop_id=shop_id)
    )
    [accepted] = await accept(sessions, [bad], long_ago)
    assert accepted.row_id is not None
    await client.app[PROCESSOR_KEY].adopt([accepted.row_id])
    await settle(client)
    await asyncio.wait_for(listening, 5)

    assert seen[0].recipients == (ev.SUPERVISORS,)
    assert seen[0].payload["event_id"] == "evt-bad"
    assert "O-GONE" in seen[0].payload["error"]
    board = await (await client.get("/api/v1/supervisor/board", headers=bearer)).json()
    assert board["failed_events"] == 1
    assert [f["event_id"] for f in board["recent_failed"]] == ["evt-bad"]
    page = await client.get("/console/supervisor", headers=bearer)
    assert 'id="sv-failed-list"' in await page.text()
    # The read an alert sweep uses: failures since a moment, every shop.
    assert [f.event_id for f in await failed_since(sessions, before)] == ["evt-bad"]
    assert await failed_since(sessions, utcnow() + timedelta(seconds=1)) == []


def test_retention_is_configurable_but_never_under_a_week(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CSDESK_EVENT_RETENTION_DAYS", raising=False)
    assert retention_settings().processed_events >= MIN_EVENT_RETENTION
    monkeypatch.setenv("CSDESK_EVENT_RETENTION_DAYS", "90")
    assert retention_settings().processed_events == timedelta(days=90)
    monkeypatch.setenv("CSDESK_EVENT_RETENTION_DAYS", "3")
    with pytest.raises(ValueError, match="CSDESK_EVENT_RETENTION_DAYS must be 7 or more"):
        retention_settings()
    assert "purge_processed_events" in REGISTRY.by_name
    assert any(entry.fn.__name__ == "purge_processed_events" for entry in REGISTRY.cron)
