"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer
from sqlalchemy import Enum as SAEnum
from sqlalchemy.sql.type_api import _BindProcessorType, _ResultProcessorType
from sqlalchemy.types import TypeDecorator

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on both engines.

    SQLite has no time zones, so values are stored as naive UTC there; naive values coming
    from Python are rejected rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = _to_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return _read_utc(value)

    # On SQLite the value is text. SQLAlchemy's DATETIME formats it with ``%`` and parses
    # it with a regular expression (~2.7 and ~1.3 µs a value); every write and read of a
    # timestamp pays it, thousands of times a second on the ingest path. The same text
    # ("YYYY-MM-DD HH:MM:SS.ffffff", so stored values still sort and compare as before) is
    # made and read by datetime's C code. Other engines keep SQLAlchemy's processors.
    def bind_processor(self, dialect: Dialect) -> _BindProcessorType[datetime] | None:
        if dialect.name == "sqlite":
            return _sqlite_text
        return super().bind_processor(dialect)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> _ResultProcessorType[datetime] | None:
        if dialect.name == "sqlite":
            return _sqlite_datetime
        return super().result_processor(dialect, coltype)


def _to_utc(value: datetime) -> datetime:
    """Going in: an aware datetime in UTC; a naive one is refused rather than guessed."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC)


def _read_utc(value: datetime) -> datetime:
    """Coming out: naive means UTC (SQLite keeps no zone)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _sqlite_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    # Aware UTC always renders with "+00:00" at the end: cut it rather than copy the value.
    return _to_utc(value).isoformat(" ", "microseconds")[:-6]


def _sqlite_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    return _read_utc(datetime.fromisoformat(value))


def str_enum(enum_cls: type[enum.StrEnum]) -> SAEnum:
    """Store a StrEnum by value as VARCHAR (no native enum: migrations stay portable)."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
