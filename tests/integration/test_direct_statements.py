"""``storage.direct``: the ingest path's statements sent straight to the driver store and
read exactly what the ORM would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from csdesk.actions.batch import table_of
from csdesk.storage.direct import DirectInsert, DirectUpdate, DirectUpdateEach
from csdesk.storage.engine import SessionFactory, engine_of
from csdesk.storage.enums import EventStatus
from csdesk.storage.held import HeldConnection
from csdesk.storage.models import PlatformEvent

INSERT = DirectInsert(
    table_of(PlatformEvent),
    ("shop_id", "event_id", "type", "occurred_at", "payload", "status", "received_at"),
    returning=("id", "event_id", "received_at", "payload"),
    on_conflict_do_nothing=("shop_id", "event_id"),
)
CLAIM = DirectUpdate(
    table_of(PlatformEvent),
    ("status", "processed_at"),
    also_equal=("status",),
    returning=("id", "status", "processed_at"),
)
SET_ERROR = DirectUpdateEach(table_of(PlatformEvent), ("error",))

T0 = datetime(2026, 11, 11, 0, 0, 1, 250_000, tzinfo=UTC)


def _row(shop_id: str, event_id: str, payload: dict[str, object]) -> tuple[object, ...]:
    return (shop_id, event_id, "message.received", T0, payload, EventStatus.RECEIVED, T0)


async def test_insert_stores_what_the_orm_reads_and_skips_duplicates(
    sessions: SessionFactory, shop_id: str
) -> None:
    payload: dict[str, object] = {
        "buyer_nick": "小王",
        "text": "东西坏了 直接给我退款吧 😡",
        "items": [{"qty": 2}],
    }
    async with sessions.begin() as session:
        connection = await session.connection()
        first = await INSERT.execute(
            connection, [_row(shop_id, "e-1", payload), _row(shop_id, "e-2", {})]
        )
        again = await INSERT.execute(
            connection, [_row(shop_id, "e-2", {"changed": True}), _row(shop_id, "e-3", {})]
        )
    assert sorted(event_id for _, event_id, _, _ in first) == ["e-1", "e-2"]
    assert [event_id for _, event_id, _, _ in again] == ["e-3"]  # e-2 already there
    returned = {event_id: (received, body) for _, event_id, received, body in first}
    assert returned["e-1"] == (T0, payload)  # result processors: aware UTC, parsed JSON
    async with sessions() as session:
        stored = {
            e.event_id: e
            for e in await session.scalars(
                select(PlatformEvent).where(PlatformEvent.shop_id == shop_id)
            )
        }
    assert sorted(stored) == ["e-1", "e-2", "e-3"]
    assert stored["e-1"].payload == payload
    assert stored["e-1"].occurred_at == T0
    assert stored["e-1"].occurred_at.tzinfo is not None
    assert stored["e-1"].status is EventStatus.RECEIVED
    assert stored["e-2"].payload == {}  # the duplicate changed nothing


async def test_update_touches_only_matching_rows_and_returns_them(
    sessions: SessionFactory, shop_id: str
) -> None:
    async with sessions.begin() as session:
        connection = await session.connection()
        ids = {
            event_id: row_id
            for row_id, event_id, _, _ in await INSERT.execute(
                connection, [_row(shop_id, f"c-{n}", {}) for n in range(3)]
            )
        }
    later = T0 + timedelta(seconds=5)
    async with sessions.begin() as session:
        connection = await session.connection()
        claimed = await CLAIM.execute(
            connection,
            (EventStatus.PROCESSED, later),
            [ids["c-0"], ids["c-1"]],
            (EventStatus.RECEIVED,),
        )
        # Claiming again finds nothing still ``received``.
        twice = await CLAIM.execute(
            connection, (EventStatus.PROCESSED, later), [ids["c-0"]], (EventStatus.RECEIVED,)
        )
        await SET_ERROR.execute(connection, [("first", ids["c-0"]), ("third", ids["c-2"])])
    assert sorted(claimed) == sorted(
        [(ids["c-0"], EventStatus.PROCESSED, later), (ids["c-1"], EventStatus.PROCESSED, later)]
    )
    assert twice == []
    async with sessions() as session:
        rows = {
            e.event_id: (e.status, e.processed_at, e.error)
            for e in await session.scalars(
                select(PlatformEvent).where(PlatformEvent.shop_id == shop_id)
            )
        }
    assert rows == {
        "c-0": (EventStatus.PROCESSED, later, "first"),
        "c-1": (EventStatus.PROCESSED, later, None),
        "c-2": (EventStatus.RECEIVED, None, "third"),
    }


async def test_held_connection_commits_a_block_and_rolls_back_a_failed_one(
    sessions: SessionFactory, shop_id: str
) -> None:
    held = HeldConnection(engine_of(sessions))
    try:
        async with held.transaction() as statements:
            kept = await INSERT.execute(statements, [_row(shop_id, "h-1", {"n": 1})])

        async def fail_after_inserting() -> None:
            async with held.transaction() as statements:
                await INSERT.execute(statements, [_row(shop_id, "h-2", {})])
                raise RuntimeError("after the insert")

        with pytest.raises(RuntimeError, match="after the insert"):
            await fail_after_inserting()
        # The same connection goes on: a duplicate of h-1 is skipped, h-3 is new.
        async with held.transaction() as statements:
            again = await INSERT.execute(
                statements, [_row(shop_id, "h-1", {"n": 2}), _row(shop_id, "h-3", {})]
            )
    finally:
        await held.close()
    assert [event_id for _, event_id, _, _ in kept] == ["h-1"]
    assert [event_id for _, event_id, _, _ in again] == ["h-3"]
    async with sessions() as session:
        stored = {
            e.event_id: e.payload
            for e in await session.scalars(
                select(PlatformEvent).where(PlatformEvent.shop_id == shop_id)
            )
        }
    assert stored == {"h-1": {"n": 1}, "h-3": {}}  # h-2 rolled back, h-1 unchanged
