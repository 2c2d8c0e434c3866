"""Retention: what the desk deletes once nothing can need it any more.

Processed platform events are kept ``RetentionSettings.processed_events`` (default 30 days,
never under a week): while its row exists, a redelivered or replayed event with the same
``event_id`` is answered as a duplicate; after that the platform no longer redelivers and
the signed-timestamp window refuses a replay. Failed and still-received events are never
purged: they wait for a supervisor's retry (and the failed ones show on the board).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import delete, select

from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import EventStatus
from csdesk.storage.models import PlatformEvent

PURGE_BATCH: Final = 5000
"""Rows deleted per transaction: a long DELETE would hold up acceptance on SQLite."""


async def purge_processed_events(
    sessions: SessionFactory, *, received_before: datetime, batch: int = PURGE_BATCH
) -> int:
    """Delete processed events received before ``received_before`` (every shop), a batch
    per transaction; returns how many went."""
    total = 0
    while True:
        async with sessions.begin() as session:
            ids = list(
                await session.scalars(
                    select(PlatformEvent.id)
                    .where(
                        PlatformEvent.status == EventStatus.PROCESSED,
                        PlatformEvent.received_at < received_before,
                    )
                    .order_by(PlatformEvent.status, PlatformEvent.received_at)
                    .limit(batch)
                )
            )
            if ids:
                await session.execute(delete(PlatformEvent).where(PlatformEvent.id.in_(ids)))
        total += len(ids)
        if len(ids) < batch:
            return total
