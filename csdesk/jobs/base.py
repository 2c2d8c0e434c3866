"""What every job runner offers, what a job receives, and the runners' settings.

A job is a plain ``async def f(ctx: JobContext, *ids) -> int`` (the count of things it did),
registered in :mod:`csdesk.jobs.registry`. Pass ids, never objects: in server mode arguments
are pickled into Redis and a worker in another process runs the job.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Concatenate, NotRequired, Protocol, TypedDict

import aiohttp
from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from csdesk.bus.base import EventBus
from csdesk.clock import utcnow
from csdesk.routing.queues.base import WorkQueue
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory


class JobContext(TypedDict):
    """The shared clients a job uses; the same dict is arq's ``ctx`` in a worker."""

    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    redis: Redis | None
    """None in embedded mode. In a worker this is arq's own connection pool."""
    bus: EventBus
    queue: WorkQueue
    pending_events_to: NotRequired[Callable[[Sequence[int]], Awaitable[None]]]
    """Embedded: this process's event processor, which takes over events the retry sweep
    finds (absent in a worker, which applies them itself)."""
    http: NotRequired[aiohttp.ClientSession]
    """Outbound HTTP (deliveries, webhooks): one client per process, its pool reused."""
    jobs: NotRequired[JobRunner]
    """The runner itself, for a job that schedules its own next run (a delivery's retry)."""
    job_id: NotRequired[str]
    """Set per run (arq sets it too, with ``job_try``, ``enqueue_time`` and ``score``)."""
    job_try: NotRequired[int]
    clock: NotRequired[Callable[[], datetime]]
    """``now`` for the jobs that read it through :func:`job_now` (absent: the wall clock).
    Tests move time with it instead of sleeping (``InlineJobRunner.use_clock``, or
    ``ctx`` in the arq worker's options)."""


def job_now(ctx: JobContext) -> datetime:
    """The time a job acts at: the context's clock when one is set, else UTC now."""
    clock = ctx.get("clock")
    return clock() if clock is not None else utcnow()


JobFunction = Callable[Concatenate[JobContext, ...], Awaitable[int]]


class UnknownJobError(ValueError):
    """Enqueuing a name the registry does not list: a programming error, caught at once."""


class JobRunner(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Stop taking jobs; an in-process runner cancels what is pending or running."""
        ...

    async def enqueue(
        self,
        name: str,
        *args: Any,
        defer_s: float | None = None,
        job_id: str | None = None,
    ) -> bool:
        """Schedule ``name(ctx, *args)`` now or after ``defer_s`` seconds; never waits for it.

        ``job_id`` makes the job unique: while a job with that id is pending or running, and
        for ``JobSettings.keep_result_s`` after it ends, enqueuing it again does nothing and
        returns False (arq's rule, kept in both modes). Returns True when scheduled.
        """
        ...


JOBS_KEY: web.AppKey[JobRunner] = web.AppKey("jobs")


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value >= 0:
        raise ValueError(f"{name} must be zero or more, got {raw!r}")
    return value


@dataclass(frozen=True)
class JobSettings:
    poll_delay_s: float = 0.02
    """How often an arq worker looks for due jobs (``CSDESK_JOBS_POLL_DELAY_S``). arq's 0.5 s
    default delays pickup by a quarter second on average. Measured on the dev box, enqueue
    to start: 0.02 s -> 13 ms median for 3 % of a core while idle; 0.01 s -> 6 ms for 6 %."""
    max_jobs: int = 10
    """Jobs running at once per worker (and in-process): bounds database connections used."""
    job_timeout_s: float = 300.0
    """A job running longer is cancelled (arq's default, kept for the in-process runner)."""
    keep_result_s: float = 3600.0
    """How long a finished job's id still blocks re-enqueuing (arq keeps its result as long)."""

    @classmethod
    def from_env(cls) -> JobSettings:
        return cls(poll_delay_s=_env_float("CSDESK_JOBS_POLL_DELAY_S", cls.poll_delay_s))


def job_settings(settings: Settings) -> JobSettings:
    """The deployment's job settings: ``settings.jobs`` once Settings has that field."""
    configured = getattr(settings, "jobs", None)
    return configured if isinstance(configured, JobSettings) else JobSettings.from_env()
