"""Values on their way to the driver: UTC timestamps as SQLite text, and a batch's rows
through ``storage.direct``'s processors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

from csdesk.actions.batch import table_of
from csdesk.storage.direct import DirectInsert
from csdesk.storage.enums import EventStatus
from csdesk.storage.models import PlatformEvent
from csdesk.storage.types import UTCDateTime

SQLITE = SQLiteDialect_aiosqlite()
CHINA = timezone(timedelta(hours=8))

# What SQLAlchemy's own DATETIME stored for the same instant (naive UTC): the text must not
# change, or rows written before and after would compare and sort differently.
SAME_TEXT_AS_SQLALCHEMY = [
    datetime(2026, 11, 11, 0, 0, 1, 250_000, tzinfo=UTC),
    datetime(2026, 11, 11, 0, 0, 0, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2026, 11, 11, 8, 0, 0, 1, tzinfo=CHINA),  # another zone: converted to UTC
    datetime(999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),  # years below 1000 padded
    datetime(1, 1, 1, tzinfo=UTC),
]


@pytest.mark.parametrize("value", SAME_TEXT_AS_SQLALCHEMY, ids=str)
def test_sqlite_text_is_what_sqlalchemy_stored(value: datetime) -> None:
    ours = UTCDateTime()._cached_bind_processor(SQLITE)
    theirs = DateTime()._cached_bind_processor(SQLITE)
    assert ours is not None
    assert theirs is not None
    assert ours(value) == theirs(value.astimezone(UTC).replace(tzinfo=None))


@pytest.mark.parametrize("value", SAME_TEXT_AS_SQLALCHEMY, ids=str)
def test_sqlite_text_reads_back_as_the_same_aware_instant(value: datetime) -> None:
    bind = UTCDateTime()._cached_bind_processor(SQLITE)
    read = UTCDateTime()._cached_result_processor(SQLITE, None)
    assert bind is not None
    assert read is not None
    back = read(bind(value))
    assert back == value
    assert back.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-11 00:00:01", datetime(2026, 11, 11, 0, 0, 1, tzinfo=UTC)),  # CURRENT_TIMESTAMP
        ("2026-11-11 00:00:01.5", datetime(2026, 11, 11, 0, 0, 1, 500_000, tzinfo=UTC)),
        ("2026-11-11T08:00:00+08:00", datetime(2026, 11, 11, 0, 0, tzinfo=UTC)),
        (None, None),
    ],
)
def test_sqlite_text_written_by_others_is_read(text: str | None, expected: datetime) -> None:
    read = UTCDateTime()._cached_result_processor(SQLITE, None)
    assert read is not None
    assert read(text) == expected


def test_naive_datetimes_are_refused_on_every_engine() -> None:
    naive = datetime(2026, 11, 11, 0, 0)
    for dialect in (SQLITE, PGDialect_asyncpg()):  # type: ignore[no-untyped-call]
        bind = UTCDateTime()._cached_bind_processor(dialect)
        assert bind is not None
        with pytest.raises(ValueError, match="naive datetime"):
            bind(naive)


INSERT = DirectInsert(
    table_of(PlatformEvent),
    ("shop_id", "event_id", "occurred_at", "payload", "status", "received_at"),
)


def test_bind_rows_gives_each_row_what_bind_gives_it() -> None:
    now = datetime(2026, 11, 11, 0, 0, 1, tzinfo=UTC)
    shared: dict[str, Any] = {"text": "东西坏了"}
    rows = [
        ("s", "e-1", now, shared, EventStatus.RECEIVED, now),
        ("s", "e-2", now + timedelta(seconds=1), shared, EventStatus.RECEIVED, now),
        ("s", "e-3", now, {"text": "再不处理我就给差评"}, EventStatus.FAILED, now),
        ("s", "e-4", None, {}, EventStatus.RECEIVED, now),
    ]
    expected = [value for row in rows for value in INSERT.bind(SQLITE, row)]
    assert INSERT.bind_rows(SQLITE, rows) == expected
    assert INSERT.bind_rows(SQLITE, []) == []


def test_bind_rows_refuses_a_row_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match="5 values for 6 columns"):
        INSERT.bind_rows(SQLITE, [("s", "e-1", None, {}, EventStatus.RECEIVED)])
