"""Routing sweeps as jobs: thin wrappers that build the action's dependencies and run it."""

from __future__ import annotations

from csdesk.actions import sweeps
from csdesk.actions.outbox import Deps
from csdesk.clock import utcnow
from csdesk.ingest import retry
from csdesk.jobs.base import JobContext


def _deps(ctx: JobContext) -> Deps:
    return Deps(sessions=ctx["sessions"], bus=ctx["bus"], queue=ctx["queue"])


async def activate_due_items(ctx: JobContext) -> int:
    return await sweeps.activate_due_items(_deps(ctx), utcnow())


async def rescore_deadlines(ctx: JobContext) -> int:
    return await sweeps.rescore_deadlines(_deps(ctx), utcnow())


async def reassign_unanswered(ctx: JobContext) -> int:
    return await sweeps.reassign_unanswered(_deps(ctx), utcnow())


async def resume_auto_suspended(ctx: JobContext) -> int:
    return await sweeps.resume_auto_suspended(_deps(ctx), utcnow())


async def reconcile_queue_index(ctx: JobContext) -> int:
    return await sweeps.reconcile_queue_index(_deps(ctx), utcnow())


async def watch_queue_index(ctx: JobContext) -> int:
    return await sweeps.watch_queue_index(_deps(ctx), utcnow())


async def retry_pending_events(ctx: JobContext) -> int:
    return await retry.retry_pending_events(
        _deps(ctx), utcnow(), hand_to=ctx.get("pending_events_to")
    )
