"""QC jobs: the auto-check of one closed conversation, the catch-up sweep, the daily sample."""

from __future__ import annotations

from datetime import date

from csdesk.actions.outbox import Deps
from csdesk.actions.qc import checks, sampling
from csdesk.clock import utcnow
from csdesk.jobs.base import JobContext


def _deps(ctx: JobContext) -> Deps:
    return Deps(sessions=ctx["sessions"], bus=ctx["bus"], queue=ctx["queue"])


async def qc_check_conversation(ctx: JobContext, conversation_id: int) -> int:
    """Queued by the close action (``csdesk.actions.qc.checks.enqueue_check``)."""
    hits = await checks.check_conversation(_deps(ctx), conversation_id, utcnow())
    return hits or 0


async def qc_check_sweep(ctx: JobContext) -> int:
    return await checks.check_unchecked(_deps(ctx), utcnow())


async def qc_daily_sample(ctx: JobContext, day: str | None = None) -> int:
    """Every shop's previous local day (or ``day``, YYYY-MM-DD: a QC lead's re-run)."""
    target = date.fromisoformat(day) if day else None
    return await sampling.sample_yesterday(_deps(ctx), utcnow(), target)
