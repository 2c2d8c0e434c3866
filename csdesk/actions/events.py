"""Platform events: durable acceptance (idempotent by ``event_id``) and status bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.ingest.schema import PlatformEventIn
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import EventStatus
from csdesk.storage.models import PlatformEvent, Shop


@dataclass(frozen=True)
class Accepted:
    row_id: int | None
    """The new row's id, or None when the ``event_id`` was seen before (duplicate)."""

    @property
    def duplicate(self) -> bool:
        return self.row_id is None


class UnknownShopError(LookupError):
    pass


async def known_shop_ids(sessions: SessionFactory) -> set[str]:
    async with sessions() as session:
        return set(await session.scalars(select(Shop.id)))


async def accept_events(
    sessions: SessionFactory, events: Sequence[PlatformEventIn], now: datetime
) -> list[Accepted]:
    """Store events with status ``received`` in one transaction; duplicates change nothing.

    One multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per batch: a commit per
    event would cap ingestion at the disk's commit rate.
    """
    first_seen: dict[tuple[str, str], int] = {}
    for index, event in enumerate(events):
        first_seen.setdefault((event.shop_id, event.event_id), index)
    rows = [
        {
            "shop_id": event.shop_id,
            "event_id": event.event_id,
            "type": event.type,
            "occurred_at": event.occurred_at,
            "payload": event.data,
            "status": EventStatus.RECEIVED,
            "received_at": now,
        }
        for index, event in enumerate(events)
        if first_seen[(event.shop_id, event.event_id)] == index
    ]
    inserted: dict[tuple[str, str], int] = {}
    if rows:
        async with sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            # executemany form: SQLAlchemy caches the compiled statement and sends the rows
            # in "insertmanyvalues" batches, instead of compiling a new VALUES list per batch.
            statement = (
                insert(PlatformEvent)
                .on_conflict_do_nothing(index_elements=["shop_id", "event_id"])
                .returning(PlatformEvent.id, PlatformEvent.shop_id, PlatformEvent.event_id)
            )
            for row_id, shop_id, event_id in await session.execute(statement, rows):
                inserted[(shop_id, event_id)] = row_id
    results = []
    for index, event in enumerate(events):
        key = (event.shop_id, event.event_id)
        is_first = first_seen[key] == index
        results.append(Accepted(inserted.get(key) if is_first else None))
    return results


async def mark_failed(session: AsyncSession, row_id: int, error: str, now: datetime) -> None:
    await session.execute(
        update(PlatformEvent)
        .where(PlatformEvent.id == row_id)
        .values(status=EventStatus.FAILED, error=error[:2000], processed_at=now)
    )
