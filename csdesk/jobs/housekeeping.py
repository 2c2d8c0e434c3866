"""Housekeeping: jobs that keep tables from growing without bound. Thin: actions do the work."""

from __future__ import annotations

from csdesk.actions import users
from csdesk.clock import utcnow
from csdesk.jobs.base import JobContext


async def purge_expired_sessions(ctx: JobContext) -> int:
    """Delete login sessions past ``expires_at`` (every shop); returns how many went."""
    return await users.purge_expired_sessions(ctx["sessions"], now=utcnow())
