"""Embedded mode: run jobs as asyncio tasks in the web process, cron on the loop's timer.

Same functions, names, cron table and de-duplication rule as the arq worker, so a job
behaves alike in both modes. Nothing survives a restart: jobs are idempotent and the cron
table re-creates the periodic ones.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from csdesk.clock import utcnow
from csdesk.jobs.base import JobContext, JobFunction, JobSettings
from csdesk.jobs.registry import REGISTRY, CronEntry, Registry

log = logging.getLogger(__name__)


class InlineJobRunner:
    def __init__(
        self,
        ctx: JobContext,
        *,
        registry: Registry = REGISTRY,
        settings: JobSettings | None = None,
    ) -> None:
        self._ctx = ctx
        self._registry = registry
        self._settings = settings or JobSettings()
        # Jobs wait for a slot, so a burst of enqueues cannot exhaust the database pool.
        self._slots = asyncio.Semaphore(self._settings.max_jobs)
        self._active: dict[str, asyncio.Task[None]] = {}
        self._finished: OrderedDict[str, float] = OrderedDict()
        """Caller-chosen job id -> loop time until which it still blocks a re-enqueue."""
        self._cron_tasks: list[asyncio.Task[None]] = []
        self._running = False
        self.jobs_complete = 0
        self.jobs_failed = 0

    def use_clock(self, clock: Callable[[], datetime] | None) -> None:
        """The ``now`` jobs act at from here on (``jobs.base.job_now``); None: the wall
        clock. For tests that move time rather than wait."""
        if clock is None:
            self._ctx.pop("clock", None)
        else:
            self._ctx["clock"] = clock

    async def start(self) -> None:
        if self._running:
            return
        self._running = True
        for entry in self._registry.cron:
            self._cron_tasks.append(asyncio.create_task(self._cron_loop(entry), name=entry.name))

    async def stop(self) -> None:
        """Cancel cron timers, deferred and running jobs, and wait until they have unwound."""
        self._running = False
        tasks = [*self._cron_tasks, *self._active.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._cron_tasks.clear()

    async def join(self) -> None:
        """Wait until no job is pending or running (cron timers keep going): tests, tools."""
        while self._active:
            await asyncio.gather(*self._active.values(), return_exceptions=True)

    async def enqueue(
        self,
        name: str,
        *args: Any,
        defer_s: float | None = None,
        job_id: str | None = None,
    ) -> bool:
        return self._submit(name, self._registry.get(name), args, defer_s, job_id)

    def _submit(
        self,
        name: str,
        fn: JobFunction,
        args: tuple[Any, ...],
        defer_s: float | None,
        job_id: str | None,
    ) -> bool:
        # O(1) and no await: the caller (often a request handler) never waits for the job.
        if not self._running:
            raise RuntimeError("the job runner is not running")
        remember = job_id is not None
        if job_id is None:
            job_id = uuid.uuid4().hex
        else:
            self._forget_expired()
            if job_id in self._active or job_id in self._finished:
                return False
        task = asyncio.create_task(
            self._run(job_id, name, fn, args, defer_s or 0.0), name=f"job:{name}:{job_id}"
        )
        self._active[job_id] = task
        task.add_done_callback(partial(self._on_done, job_id, remember))
        return True

    def _on_done(self, job_id: str, remember: bool, _task: asyncio.Task[None]) -> None:
        del self._active[job_id]
        if remember and self._running:
            loop = asyncio.get_running_loop()
            self._finished[job_id] = loop.time() + self._settings.keep_result_s

    def _forget_expired(self) -> None:
        # Every entry gets the same keep time, so the oldest expire first: pop from the front.
        now = asyncio.get_running_loop().time()
        while self._finished:
            job_id, until = next(iter(self._finished.items()))
            if until > now:
                break
            del self._finished[job_id]

    async def _run(
        self, job_id: str, name: str, fn: JobFunction, args: tuple[Any, ...], delay: float
    ) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        async with self._slots:
            ctx = self._ctx.copy()
            ctx["job_id"] = job_id
            ctx["job_try"] = 1
            try:
                async with asyncio.timeout(self._settings.job_timeout_s):
                    result = await fn(ctx, *args)
            except Exception:
                # Logged with its id and forgotten: one bad job never stops the others.
                self.jobs_failed += 1
                log.exception("job %s (%s) failed", name, job_id)
                return
            self.jobs_complete += 1
            log.debug("job %s (%s) done: %s", name, job_id, result)

    async def _cron_loop(self, entry: CronEntry) -> None:
        next_run = utcnow() if entry.run_at_startup else entry.next_after(utcnow())
        while True:
            delay = (next_run - utcnow()).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                run_id = f"{entry.name}:{int(next_run.timestamp() * 1000)}"
                self._submit(entry.name, entry.fn, (), None, run_id)
            except Exception:
                log.exception("cron %s could not be scheduled", entry.name)
            # From now, not from the slot: after a suspended laptop or a stalled loop, missed
            # runs are skipped instead of fired back to back.
            next_run = entry.next_after(max(next_run, utcnow()))
