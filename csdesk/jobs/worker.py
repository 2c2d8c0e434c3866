"""Server mode, all of arq in one place: the enqueue side and the worker (``csdesk worker``).

Web processes enqueue through :class:`ArqJobRunner`; ``csdesk worker`` processes run the jobs
and the cron table from :mod:`csdesk.jobs.registry`. Keys: the queue sorted set and the health
check live under ``settings.redis.key_prefix``; arq keeps per-job keys as ``arq:job:<id>``,
``arq:result:<id>`` ... and our job ids start with the prefix too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC
from typing import Any, Final, cast

import aiohttp
from arq.connections import ArqRedis
from arq.connections import RedisSettings as ArqRedisSettings
from arq.cron import CronJob, cron
from arq.typing import StartupShutdown, WorkerCoroutine
from arq.worker import Function, create_worker, func
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from csdesk.bus.redis import RedisBus
from csdesk.jobs.base import JobContext, job_settings
from csdesk.jobs.registry import REGISTRY, Registry
from csdesk.routing.queues import make_queue
from csdesk.settings import Settings, load_settings
from csdesk.storage.engine import create_engine, create_session_factory


def arq_queue_name(settings: Settings) -> str:
    """arq's sorted set of job ids, under our prefix so deployments can share a Redis."""
    return f"{settings.redis.key_prefix}arq:queue"


def arq_job_id(settings: Settings, job_id: str) -> str:
    """arq keeps ``arq:job:<id>`` outside any prefix; the prefix in the id keeps two
    deployments on one Redis from de-duplicating each other's jobs."""
    return f"{settings.redis.key_prefix}{job_id}"


class ArqJobRunner:
    """Enqueue only: the job runs in whichever worker polls it first."""

    def __init__(
        self, redis: ArqRedis, settings: Settings, *, registry: Registry = REGISTRY
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._registry = registry
        self._queue_name = arq_queue_name(settings)

    @classmethod
    def on_pool_of(
        cls, redis: Redis, settings: Settings, *, registry: Registry = REGISTRY
    ) -> ArqJobRunner:
        """Share ``redis``'s connection pool (ArqRedis only adds ``enqueue_job``); nothing
        connects until the first enqueue, so a web process starts even while Redis is down."""
        arq_redis = ArqRedis(
            pool_or_conn=redis.connection_pool, default_queue_name=arq_queue_name(settings)
        )
        return cls(arq_redis, settings, registry=registry)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        # A client built on a given pool leaves that pool (and its connections) to its owner.
        await self._redis.aclose()

    async def enqueue(
        self,
        name: str,
        *args: Any,
        defer_s: float | None = None,
        job_id: str | None = None,
    ) -> bool:
        self._registry.get(name)
        job = await self._redis.enqueue_job(
            name,
            *args,
            _job_id=arq_job_id(self._settings, uuid.uuid4().hex if job_id is None else job_id),
            _queue_name=self._queue_name,
            _defer_by=defer_s or None,
        )
        return job is not None


def arq_functions(registry: Registry) -> list[Function]:
    # arq types ctx as dict[Any, Any]; at run time it is exactly our JobContext dict.
    return [func(cast(WorkerCoroutine, fn), name=name) for name, fn in registry.by_name.items()]


def arq_cron_jobs(registry: Registry, settings: Settings) -> list[CronJob]:
    """arq names each run ``<name>:<time>`` and de-duplicates on it across ALL queues of the
    Redis server; the key prefix in the name keeps deployments sharing one from skipping
    each other's runs."""
    return [
        cron(
            cast(WorkerCoroutine, entry.fn),
            name=f"{settings.redis.key_prefix}{entry.name}",
            month=entry.month,
            day=entry.day,
            weekday=entry.weekday,
            hour=entry.hour,
            minute=entry.minute,
            second=entry.second,
            run_at_startup=entry.run_at_startup,
            unique=True,
        )
        for entry in registry.cron
    ]


def _context_settings(ctx: dict[str, Any]) -> Settings:
    settings = ctx.get("settings")
    return settings if isinstance(settings, Settings) else load_settings()


async def startup(ctx: dict[str, Any]) -> None:
    """Fill arq's ``ctx`` into a :class:`JobContext`. arq has already put its pool in
    ``ctx["redis"]``; the bus and the queue index reuse it."""
    settings = _context_settings(ctx)
    engine = create_engine(settings.database)
    redis: Redis = ctx["redis"]
    context = JobContext(
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        redis=redis,
        # The channel the web processes listen on (csdesk.app.bus_ctx).
        bus=RedisBus(redis, channel=f"{settings.redis.key_prefix}bus"),
        queue=make_queue(settings, redis),
    )
    context["http"] = aiohttp.ClientSession()
    ctx.update(context)
    # A job that schedules its own next run (a delivery's retry) enqueues through arq's pool.
    ctx["jobs"] = ArqJobRunner(redis, settings)  # type: ignore[arg-type]


async def shutdown(ctx: dict[str, Any]) -> None:
    context = cast(JobContext, ctx)
    if "http" in context:
        await context["http"].close()
    await context["bus"].close()
    await context["engine"].dispose()


class WorkerSettings:
    """What every worker runs. Deployment-specific options come from :func:`worker_options`
    (``csdesk worker`` passes them; ``arq csdesk.jobs.worker.WorkerSettings`` would not)."""

    functions: Sequence[WorkerCoroutine | Function] = arq_functions(REGISTRY)
    cron_jobs: Sequence[CronJob] | None = None
    """Set by :func:`worker_options`: the run names carry the deployment's key prefix."""
    on_startup: StartupShutdown | None = startup
    on_shutdown: StartupShutdown | None = shutdown
    # Cron entries are written in UTC, like every time inside csdesk.
    timezone = UTC


def worker_options(settings: Settings, *, registry: Registry = REGISTRY) -> dict[str, Any]:
    """The arq ``Worker`` keyword arguments that depend on the deployment's settings."""
    if not settings.redis.url:
        raise ValueError(
            "the arq worker needs CSDESK_REDIS_URL (embedded mode runs jobs in-process)"
        )
    jobs = job_settings(settings)
    return {
        "functions": arq_functions(registry),
        "redis_settings": ArqRedisSettings.from_dsn(settings.redis.url),
        "queue_name": arq_queue_name(settings),
        "cron_jobs": arq_cron_jobs(registry, settings),
        "poll_delay": jobs.poll_delay_s,
        "max_jobs": jobs.max_jobs,
        "job_timeout": jobs.job_timeout_s,
        "keep_result": jobs.keep_result_s,
        "ctx": {"settings": settings},
    }


log = logging.getLogger(__name__)
REDIS_RETRY_S: Final = (1.0, 2.0, 5.0, 10.0)
"""Waits before running again after Redis went away (then 10 s between tries)."""


async def _run(options: dict[str, Any]) -> None:
    """Run arq until SIGINT/SIGTERM. A lost Redis (a restart, a failover) does not end the
    worker: it starts over once Redis answers again, and the sweeps (the queue index
    watch, pending events) rebuild what the restart lost."""
    failures = 0
    while True:
        worker = create_worker(WorkerSettings, **options)
        try:
            await worker.async_run()
            return
        except asyncio.CancelledError:
            # SIGINT/SIGTERM: arq cancels its main task; that is the normal way out.
            return
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            wait = REDIS_RETRY_S[min(failures, len(REDIS_RETRY_S) - 1)]
            failures += 1
            log.warning("worker lost Redis (%s); running again in %.0f s", exc, wait)
        finally:
            with contextlib.suppress(Exception):
                await worker.close()
        await asyncio.sleep(wait)


def run_worker(settings: Settings | None = None) -> int:
    """``csdesk worker``: run until SIGINT/SIGTERM. Returns the process exit code."""
    try:
        options = worker_options(settings or load_settings())
    except ValueError as exc:
        print(f"csdesk worker: {exc}", file=sys.stderr)
        return 2
    # A no-op when the CLI has configured logging already.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(_run(options))
    return 0
