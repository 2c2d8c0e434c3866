"""The promotion switch job: schedule starts and ends that have come switch the shop's
promotion on and off (``actions.promotions.apply_schedules``), in both modes."""

from __future__ import annotations

from csdesk.actions import promotions
from csdesk.actions.outbox import Deps
from csdesk.jobs.base import JobContext, job_now


async def switch_promotions(ctx: JobContext) -> int:
    deps = Deps(sessions=ctx["sessions"], bus=ctx["bus"], queue=ctx["queue"])
    return await promotions.apply_schedules(deps, job_now(ctx))
