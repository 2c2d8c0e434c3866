"""Platform events: durable acceptance (idempotent by ``event_id``) and status bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from csdesk.actions.batch import table_of
from csdesk.platform_events import PlatformEventIn
from csdesk.storage.direct import DirectInsert, DirectUpdate, placeholders
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import EventStatus
from csdesk.storage.held import HeldConnection, Statements
from csdesk.storage.models import PlatformEvent, Shop

_INSERT_EVENTS = DirectInsert(
    table_of(PlatformEvent),
    (
        "shop_id",
        "event_id",
        "type",
        "occurred_at",
        "payload",
        "status",
        "received_at",
        "body_hash",
    ),
    returning=("id", "shop_id", "event_id"),
    on_conflict_do_nothing=("shop_id", "event_id"),
)


@dataclass(frozen=True)
class Accepted:
    row_id: int | None
    """The new row's id, or None when the ``event_id`` was seen before (duplicate)."""
    conflict: bool = False
    """Seen before with another body: not a repeat but a different event under a used id."""

    @property
    def duplicate(self) -> bool:
        return self.row_id is None


class UnknownShopError(LookupError):
    pass


async def known_shop_ids(sessions: SessionFactory) -> set[str]:
    async with sessions() as session:
        return set(await session.scalars(select(Shop.id)))


async def accept_events(
    connection: HeldConnection, events: Sequence[PlatformEventIn], now: datetime
) -> list[Accepted]:
    """Store events with status ``received`` in one transaction; duplicates change nothing.

    One multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per batch: a commit per
    event would cap ingestion at the disk's commit rate. Sent straight to the driver
    (``storage.direct``) on the acceptor's own connection (``storage.held``): through the
    ORM's bulk path this statement alone took a fifth of the process's CPU at full ingest,
    and the engine's transaction around it more than the write itself at small batches.
    """
    first_seen: dict[tuple[str, str], int] = {}
    for index, event in enumerate(events):
        first_seen.setdefault((event.shop_id, event.event_id), index)
    rows = [
        (
            event.shop_id,
            event.event_id,
            event.type,
            event.occurred_at,
            event.data,
            EventStatus.RECEIVED,
            now,
            event.body_hash,
        )
        for index, event in enumerate(events)
        if first_seen[(event.shop_id, event.event_id)] == index
    ]
    inserted: dict[tuple[str, str], int] = {}
    stored_hash: dict[tuple[str, str], str | None] = {}
    if rows:
        async with connection.transaction() as statements:
            for row_id, shop_id, event_id in await _INSERT_EVENTS.execute(statements, rows):
                inserted[(shop_id, event_id)] = row_id
            # Repeats are rare: only then one more read, for the body each was first seen with.
            seen_before = [
                (event.shop_id, event.event_id)
                for index, event in enumerate(events)
                if event.body_hash is not None
                and (event.shop_id, event.event_id) not in inserted
                and first_seen[(event.shop_id, event.event_id)] == index
            ]
            if seen_before:
                stored_hash.update(await _stored_hashes(statements, seen_before))
    results = []
    for index, event in enumerate(events):
        key = (event.shop_id, event.event_id)
        first = first_seen[key]
        if first == index:
            row_id = inserted.get(key)
            earlier = stored_hash.get(key) if row_id is None else None
        else:
            row_id, earlier = None, events[first].body_hash
        conflict = (
            row_id is None
            and event.body_hash is not None
            and earlier is not None
            and earlier != event.body_hash
        )
        results.append(Accepted(row_id, conflict=conflict))
    return results


async def _stored_hashes(
    statements: Statements, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str | None]:
    """``body_hash`` of events already stored, by (shop_id, event_id)."""
    found: dict[tuple[str, str], str | None] = {}
    by_shop: dict[str, list[str]] = {}
    for shop_id, event_id in keys:
        by_shop.setdefault(shop_id, []).append(event_id)
    dialect = statements.dialect
    for shop_id, event_ids in by_shop.items():
        sql = (
            "SELECT event_id, body_hash FROM platform_event WHERE shop_id = "
            f"{placeholders(dialect, 0, 1)} AND event_id IN "
            f"({placeholders(dialect, 1, len(event_ids))})"
        )
        for event_id, body_hash in await statements.fetch_all(sql, [shop_id, *event_ids]):
            found[(shop_id, str(event_id))] = body_hash
    return found


async def mark_failed(session: AsyncSession, row_id: int, error: str, now: datetime) -> None:
    await session.execute(
        update(PlatformEvent)
        .where(PlatformEvent.id == row_id)
        .values(status=EventStatus.FAILED, error=error[:2000], processed_at=now)
    )


async def note_event(session: AsyncSession, row_id: int, note: str) -> None:
    """Say on a processed event what it did not do, and why (in the applying transaction)."""
    await session.execute(
        update(PlatformEvent).where(PlatformEvent.id == row_id).values(note=note[:2000])
    )


# Claiming the batch in one statement. On PostgreSQL the row locks make a concurrent
# processor (another web process, the retry sweep) wait and then find nothing to claim; the
# claim commits with the effects or not at all. Sent straight to the driver: built and
# hydrated through the ORM it cost more than applying the buyer message it claimed.
_CLAIM = DirectUpdate(
    table_of(PlatformEvent),
    ("status", "processed_at", "error"),
    also_equal=("status",),
    returning=("id", "shop_id", "event_id", "type", "occurred_at", "payload", "received_at"),
)
_RELEASE = DirectUpdate(table_of(PlatformEvent), ("status", "processed_at"))


async def claim_events(
    connection: AsyncConnection, row_ids: Sequence[int], now: datetime
) -> list[tuple[Any, ...]]:
    """Mark the events of ``row_ids`` still ``received`` as ``processed`` in the caller's
    transaction (the processor applies them in it); returns ``(id, shop_id, event_id,
    type, occurred_at, payload, received_at)`` of those it claimed."""
    return await _CLAIM.execute(
        connection,
        (EventStatus.PROCESSED, now, None),
        sorted(set(row_ids)),
        (EventStatus.RECEIVED,),
    )


async def release_events(connection: AsyncConnection, row_ids: Sequence[int]) -> None:
    """Back to ``received``, unapplied: for the processor's next turn or the retry sweep."""
    await _RELEASE.execute(connection, (EventStatus.RECEIVED, None), row_ids)
