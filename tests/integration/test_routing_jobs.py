"""Routing sweeps run as jobs in both modes: in-process (embedded) and through a real arq
worker over Redis (server), with the same job functions from the one registry."""

from __future__ import annotations

import warnings
from typing import Any

from aiohttp.test_utils import TestClient
from arq.worker import create_worker

from csdesk.jobs.base import JOBS_KEY
from csdesk.jobs.inline import InlineJobRunner
from csdesk.jobs.worker import WorkerSettings, worker_options
from csdesk.routing.queues import QUEUE_KEY
from csdesk.settings import Settings
from tests.helpers import post_event, settle


async def _run_enqueued(client: TestClient[Any, Any], settings: Settings) -> None:
    runner = client.app[JOBS_KEY]
    if isinstance(runner, InlineJobRunner):
        await runner.join()
        return
    options = worker_options(settings) | {"burst": True, "handle_signals": False}
    worker = create_worker(WorkerSettings, **options)
    try:
        assert await worker.run_check() >= 1
    finally:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Call to deprecated close", DeprecationWarning)
            await worker.close()


async def test_reconcile_job_restores_a_lost_index_entry(
    client: TestClient[Any, Any], settings: Settings, shop_id: str
) -> None:
    await post_event(client, "message.received", {"buyer_nick": "b1", "text": "有货吗"})
    await settle(client)
    queue = client.app[QUEUE_KEY]
    ((item_id, key),) = await queue.peek(shop_id, "presales")
    # An index entry lost (a claim popped it and its transaction rolled back)...
    assert await queue.remove(shop_id, "presales", item_id)
    assert await queue.depth(shop_id, "presales") == 0
    assert await client.app[JOBS_KEY].enqueue("reconcile_queue_index") is True
    await _run_enqueued(client, settings)
    # ...is back, with the key the database holds.
    assert await queue.peek(shop_id, "presales") == [(item_id, key)]
