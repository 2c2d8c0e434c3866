"""Triage learning: the nightly retrain of every shop with new corrections."""

from __future__ import annotations

from csdesk.actions import triage_learning
from csdesk.clock import utcnow
from csdesk.jobs.base import JobContext


async def retrain_triage_models(ctx: JobContext) -> int:
    """Shops retrained (each only when it has corrections newer than its last run)."""
    return await triage_learning.retrain_due_shops(ctx["sessions"], utcnow())
