"""Housekeeping: jobs that keep tables from growing without bound. Thin: actions do the work."""

from __future__ import annotations

from csdesk.actions import retention, users
from csdesk.clock import utcnow
from csdesk.jobs.base import JobContext


async def purge_expired_sessions(ctx: JobContext) -> int:
    """Delete login sessions past ``expires_at`` (every shop); returns how many went."""
    return await users.purge_expired_sessions(ctx["sessions"], now=utcnow())


async def purge_processed_events(ctx: JobContext) -> int:
    """Delete processed platform events older than the retention (every shop; failed and
    unprocessed ones stay); returns how many went."""
    keep = ctx["settings"].retention.processed_events
    return await retention.purge_processed_events(ctx["sessions"], received_before=utcnow() - keep)
