"""What-if runs (模拟推演): ask for one, and the job's steps (start, progress, done or
failed). The simulation itself runs in the job (``csdesk.jobs.whatif``), off the event
loop; these only record what happens to the run.

A run's lifecycle: ``queued`` (asked for; its job is enqueued) → ``running`` (a job took
it: the conditional UPDATE lets only one take it) → ``done`` with its result, or ``failed``
with the reason. A run left ``running`` by a process that died is taken again by the next
job for it (``start_run`` accepts a run whose start is older than ``STALE_AFTER``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, or_, select, update

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, transaction
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, ConflictError
from csdesk.reads import whatif as read
from csdesk.roles.promotion import profile_of
from csdesk.routing.facts import load_shop_context
from csdesk.storage.whatif_models import WhatIfRun

QUEUED: Final = "queued"
RUNNING: Final = "running"
DONE: Final = "done"
FAILED: Final = "failed"
STATUSES: Final = (QUEUED, RUNNING, DONE, FAILED)
MAX_ACTIVE: Final = 3
"""Runs a shop may have queued or running at once: each takes a core for up to half a
minute, and the machine serves buyers too."""
STALE_AFTER: Final = read.STALE_AFTER
AUDIT_REQUEST: Final = "whatif.request"


@dataclass(frozen=True)
class StartedRun:
    run_id: int
    shop_id: str
    parameters: dict[str, Any]


async def request_run(
    deps: Deps, actor: CurrentUser, parameters: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Record a run asked for with these (parsed) adjustments; the caller enqueues its job.
    A promotion profile the shop does not have is a 400 naming ``promotion``; a fourth
    run while three are queued or running is a 409."""
    require(actor, read.RUN_ACCESS)
    async with transaction(deps) as (session, _outbox):
        promotion = parameters.get("promotion")
        if promotion is not None:
            ctx = await load_shop_context(session, actor.shop_id)
            if profile_of(ctx.routing, promotion) is None:
                raise BadInputError("promotion", f"the shop has no promotion profile {promotion!r}")
        active = await session.scalar(
            select(func.count())
            .select_from(WhatIfRun)
            .where(WhatIfRun.shop_id == actor.shop_id, WhatIfRun.status.in_((QUEUED, RUNNING)))
        )
        if (active or 0) >= MAX_ACTIVE:
            raise ConflictError(
                f"{MAX_ACTIVE} what-if runs are already queued or running; wait for one to end"
            )
        row = WhatIfRun(
            shop_id=actor.shop_id,
            status=QUEUED,
            progress=0,
            parameters=parameters,
            requested_by=actor.id,
            requested_at=now,
        )
        session.add(row)
        await session.flush()
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action=AUDIT_REQUEST,
            target_type="whatif_run",
            target_id=str(row.id),
            at=now,
            detail={"parameters": parameters},
        )
        return read.run_json(row, actor.display_name, with_result=False)


async def start_run(deps: Deps, run_id: int, now: datetime) -> StartedRun | None:
    """Take the run for this job (queued, or running but stale); None when it is not
    there, already ended, or another job holds it."""
    async with transaction(deps) as (session, _outbox):
        taken = await session.execute(
            update(WhatIfRun)
            .where(
                WhatIfRun.id == run_id,
                or_(
                    WhatIfRun.status == QUEUED,
                    (WhatIfRun.status == RUNNING) & (WhatIfRun.started_at < now - STALE_AFTER),
                ),
            )
            .values(status=RUNNING, started_at=now, progress=0)
            .returning(WhatIfRun.shop_id, WhatIfRun.parameters)
        )
        row = taken.first()
    if row is None:
        return None
    return StartedRun(run_id, row[0], dict(row[1]))


async def record_progress(deps: Deps, run_id: int, percent: int) -> None:
    async with transaction(deps) as (session, _outbox):
        await session.execute(
            update(WhatIfRun)
            .where(WhatIfRun.id == run_id, WhatIfRun.status == RUNNING)
            .values(progress=max(0, min(99, percent)))
        )


async def finish_run(deps: Deps, run_id: int, result: dict[str, Any], now: datetime) -> None:
    async with transaction(deps) as (session, _outbox):
        await session.execute(
            update(WhatIfRun)
            .where(WhatIfRun.id == run_id, WhatIfRun.status == RUNNING)
            .values(status=DONE, progress=100, result=result, finished_at=now)
        )


async def fail_run(deps: Deps, run_id: int, reason: str, now: datetime) -> None:
    async with transaction(deps) as (session, _outbox):
        await session.execute(
            update(WhatIfRun)
            .where(WhatIfRun.id == run_id, WhatIfRun.status.in_((QUEUED, RUNNING)))
            .values(status=FAILED, error=reason[:2000], finished_at=now)
        )


__all__ = [
    "DONE",
    "FAILED",
    "QUEUED",
    "RUNNING",
    "StartedRun",
    "fail_run",
    "finish_run",
    "record_progress",
    "request_run",
    "start_run",
]
