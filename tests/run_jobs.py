"""Run a registered job as the deployment would, at a moved clock (no sleeping): in-process
through the app's runner (embedded), or through a real arq worker in burst mode over Redis
(server), with ``now`` for the job from ``clock`` either way (``jobs.base.job_now``)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp.test_utils import TestClient
from arq.worker import create_worker

from csdesk.jobs.base import JOBS_KEY
from csdesk.jobs.inline import InlineJobRunner
from csdesk.jobs.worker import WorkerSettings, worker_options
from csdesk.keys import SETTINGS_KEY


class MovedClock:
    """``now`` for the jobs: set by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def run_job(
    client: TestClient[Any, Any], clock: Callable[[], datetime], name: str, *args: Any
) -> None:
    """Enqueue ``name`` and run it (and anything else queued) to the end."""
    runner = client.app[JOBS_KEY]
    if isinstance(runner, InlineJobRunner):
        runner.use_clock(clock)
        failed = runner.jobs_failed
        assert await runner.enqueue(name, *args)
        await runner.join()
        assert runner.jobs_failed == failed, f"job {name} failed (see the log)"
        return
    assert await runner.enqueue(name, *args)
    await run_worker(client, clock)


async def run_worker(client: TestClient[Any, Any], clock: Callable[[], datetime]) -> None:
    """An arq worker over the test's Redis, until its queue is empty; a failed job fails
    the test (arq's ``run_check``)."""
    settings = client.app[SETTINGS_KEY]
    options = worker_options(settings) | {"burst": True, "handle_signals": False}
    options["ctx"] = {**options["ctx"], "clock": clock}
    worker = create_worker(WorkerSettings, **options)
    try:
        await worker.run_check()
    finally:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Call to deprecated close", DeprecationWarning)
            await worker.close()
