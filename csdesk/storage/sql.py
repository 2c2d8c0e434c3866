"""SQL expressions that read the same on SQLite and PostgreSQL, for the reads that count.

Timestamps are ``UTCDateTime`` columns: naive UTC text (``YYYY-MM-DD HH:MM:SS.ffffff``) on
SQLite, ``timestamptz`` on PostgreSQL. Subtracting or truncating them is spelled
differently on each engine; these constructs compile to each engine's spelling so a read
can count and average in the database instead of fetching rows to do it in Python.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):  # noqa: N801 (an SQL function's name)
    """``later - earlier`` in seconds (a float; NULL when either is NULL)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"

    def __init__(self, later: Any, earlier: Any) -> None:
        super().__init__(later, earlier)


@compiles(seconds_between)
def _seconds_default(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)}))"
    )


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"((julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)})) * 86400.0)"
    )


class utc_minute(FunctionElement[str]):  # noqa: N801
    """The UTC minute a timestamp falls in, as text ``YYYY-MM-DD HH:MM`` (sorts by time)."""

    type = String()
    inherit_cache = True
    name = "utc_minute"

    def __init__(self, at: Any) -> None:
        super().__init__(at)


@compiles(utc_minute)
def _minute_default(element: utc_minute, compiler: SQLCompiler, **kw: Any) -> str:
    (at,) = list(element.clauses)
    return f"to_char(({compiler.process(at, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"


@compiles(utc_minute, "sqlite")
def _minute_sqlite(element: utc_minute, compiler: SQLCompiler, **kw: Any) -> str:
    (at,) = list(element.clauses)
    return f"substr({compiler.process(at, **kw)}, 1, 16)"


__all__ = ["seconds_between", "utc_minute"]
