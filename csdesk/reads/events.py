"""Platform events that failed to apply: the board's notice and the hook for alerts.

An event ends ``failed`` when applying it raised (or it waited too long for what it refers
to). Nothing reached an agent; it waits for a fix and ``POST /api/v1/events/{id}/retry``.
The processor also publishes ``event.failed`` to the shop's supervisors after the commit
(``bus/events.py``): the live board refreshes, and an alert channel (DingTalk, WeCom) can
listen for it in ``jobs/listeners.py`` or sweep :func:`failed_since`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import EventStatus
from csdesk.storage.models import PlatformEvent

RECENT_FAILED_LIMIT: Final = 5


@dataclass(frozen=True, slots=True)
class FailedEvent:
    shop_id: str
    event_id: str
    type: str
    error: str
    received_at: datetime
    failed_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "error": self.error,
            "received_at": self.received_at.isoformat(),
            "failed_at": self.failed_at.isoformat() if self.failed_at else None,
        }


def _failed(row: PlatformEvent) -> FailedEvent:
    return FailedEvent(
        shop_id=row.shop_id,
        event_id=row.event_id,
        type=row.type,
        error=row.error or "",
        received_at=row.received_at,
        failed_at=row.processed_at,
    )


async def recent_failed(
    session: AsyncSession, shop_id: str, limit: int = RECENT_FAILED_LIMIT
) -> tuple[FailedEvent, ...]:
    """The shop's latest failed events, newest first (the board lists them)."""
    rows = await session.scalars(
        select(PlatformEvent)
        .where(PlatformEvent.status == EventStatus.FAILED, PlatformEvent.shop_id == shop_id)
        .order_by(PlatformEvent.received_at.desc(), PlatformEvent.id.desc())
        .limit(limit)
    )
    return tuple(_failed(row) for row in rows)


async def failed_since(sessions: SessionFactory, since: datetime) -> list[FailedEvent]:
    """Events of every shop that failed at or after ``since``, oldest first: what an alert
    sweep sends (those the listener missed while no process was up)."""
    async with sessions() as session:
        rows = await session.scalars(
            select(PlatformEvent)
            .where(PlatformEvent.status == EventStatus.FAILED, PlatformEvent.processed_at >= since)
            .order_by(PlatformEvent.processed_at, PlatformEvent.id)
        )
        return [_failed(row) for row in rows]
