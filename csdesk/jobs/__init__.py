"""Deferred and periodic jobs: arq in server mode, the same functions in-process embedded."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from csdesk.jobs.base import JOBS_KEY, JobContext, JobRunner, job_settings
from csdesk.keys import (
    BUS_KEY,
    ENGINE_KEY,
    PROCESSOR_KEY,
    REDIS_KEY,
    SESSIONS_KEY,
    SETTINGS_KEY,
)
from csdesk.routing.queues import QUEUE_KEY

__all__ = ["JOBS_KEY", "JobContext", "JobRunner", "jobs_ctx"]


async def jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``, last (it hands jobs the app's engine, Redis, bus and queue index).

    Embedded (or ``run_jobs_in_process``): jobs run here. Server: jobs only get enqueued, and
    ``csdesk worker`` processes run them.
    """
    # Imported here: the runners pull in the registry, hence every job and the actions they
    # call; actions that enqueue jobs can then import csdesk.jobs without a cycle.
    import aiohttp

    from csdesk.jobs.inline import InlineJobRunner
    from csdesk.jobs.worker import ArqJobRunner

    settings = app[SETTINGS_KEY]
    redis = app[REDIS_KEY]
    runner: JobRunner
    http = aiohttp.ClientSession()
    if settings.run_jobs_in_process or redis is None:
        context = JobContext(
            settings=settings,
            engine=app[ENGINE_KEY],
            sessions=app[SESSIONS_KEY],
            redis=redis,
            bus=app[BUS_KEY],
            queue=app[QUEUE_KEY],
        )
        if PROCESSOR_KEY in app:
            context["pending_events_to"] = app[PROCESSOR_KEY].adopt
        context["http"] = http
        runner = InlineJobRunner(context, settings=job_settings(settings))
        context["jobs"] = runner
    else:
        runner = ArqJobRunner.on_pool_of(redis, settings)
    await runner.start()
    app[JOBS_KEY] = runner
    yield
    await runner.stop()
    await http.close()
