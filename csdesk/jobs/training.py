"""Training jobs: course reminders (due soon, overdue; each once) and the sweep that assigns
courses for findings that came to stand without anyone acting (their answer window closed)."""

from __future__ import annotations

from datetime import datetime

from csdesk.actions.outbox import Deps
from csdesk.actions.training import assignments, reminders
from csdesk.clock import utcnow
from csdesk.jobs.base import JobContext


def _deps(ctx: JobContext) -> Deps:
    return Deps(sessions=ctx["sessions"], bus=ctx["bus"], queue=ctx["queue"])


async def training_reminders(ctx: JobContext, at: str | None = None) -> int:
    """Reminders owed now (or at ``at``, an ISO time: a re-run as of then), every shop; the
    number sent. Each reminder goes out once whatever the runs."""
    now = datetime.fromisoformat(at) if at else utcnow()
    return await reminders.send_reminders(_deps(ctx), now)


async def training_rules_sweep(ctx: JobContext) -> int:
    """Courses the shops' rules call for; the number of assignments made."""
    return await assignments.assign_standing_findings(_deps(ctx), utcnow())
