"""The few statements the ingest path runs thousands of times a second, sent to the driver
as they are.

SQLAlchemy's ORM and Core spend Python on every execution: cache keys, execution contexts,
ORM bulk bookkeeping, entity hydration. For a statement written once and run per event
that overhead dominated the live benchmark's profile (about two thirds of the process's
CPU while applying buyer messages). Here the SQL is rendered once per dialect and row count,
values go through the columns' own bind processors and rows come back through their
result processors, so what is stored and read is exactly what the ORM stores and reads;
only the per-execution machinery is skipped. Everything else keeps using the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from csdesk.storage.held import OnEngine, Statements

Processor = Callable[[Any], Any] | None
_UNSET: Any = object()


def _placeholders(dialect: Dialect, start: int, count: int) -> str:
    if dialect.paramstyle == "qmark":
        return ", ".join("?" * count)
    if dialect.paramstyle == "numeric_dollar":
        return ", ".join(f"${n}" for n in range(start + 1, start + count + 1))
    if dialect.paramstyle == "format":
        return ", ".join(["%s"] * count)
    raise NotImplementedError(f"paramstyle {dialect.paramstyle!r}")


def placeholders(dialect: Dialect, start: int, count: int) -> str:
    """``count`` bind markers in the dialect's style, numbered from ``start`` (0-based)."""
    return _placeholders(dialect, start, count)


def _quote(dialect: Dialect, name: str) -> str:
    return str(dialect.identifier_preparer.quote(name))


class DirectStatement:
    """Columns of one table with their processors for one dialect (built once, cached)."""

    def __init__(self, table: Table, columns: Sequence[str], returning: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.returning = tuple(returning)

    @cache  # noqa: B019 (instances are module-level constants, one per statement)
    def _binds(self, dialect: Dialect) -> tuple[Processor, ...]:
        return tuple(
            self.table.c[name].type._cached_bind_processor(dialect) for name in self.columns
        )

    @cache  # noqa: B019
    def _results(self, dialect: Dialect) -> tuple[Processor, ...]:
        return tuple(
            self.table.c[name].type._cached_result_processor(dialect, None)
            for name in self.returning
        )

    def bind(self, dialect: Dialect, values: Sequence[Any]) -> list[Any]:
        return [
            value if processor is None else processor(value)
            for processor, value in zip(self._binds(dialect), values, strict=True)
        ]

    def bind_rows(self, dialect: Dialect, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """Every row's values through the processors, flattened. A value that is the very
        object the row before had in that column (a batch's ``now``, its status) is
        processed once: serializing a timestamp or an enum is most of a row's cost."""
        processors = self._binds(dialect)
        width = len(processors)
        last_in = [_UNSET] * width
        last_out: list[Any] = [None] * width
        params: list[Any] = []
        append = params.append
        for row in rows:
            if len(row) != width:
                raise ValueError(f"{len(row)} values for {width} columns")
            for index, value in enumerate(row):
                processor = processors[index]
                if processor is None:
                    append(value)
                elif value is last_in[index]:
                    append(last_out[index])
                else:
                    processed = processor(value)
                    last_in[index] = value
                    last_out[index] = processed
                    append(processed)
        return params

    def read(self, dialect: Dialect, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        processors = self._results(dialect)
        return [
            tuple(
                value if processor is None else processor(value)
                for processor, value in zip(processors, row, strict=True)
            )
            for row in rows
        ]

    def returning_sql(self, dialect: Dialect) -> str:
        if not self.returning:
            return ""
        return " RETURNING " + ", ".join(_quote(dialect, name) for name in self.returning)


class DirectInsert(DirectStatement):
    """``INSERT INTO t (...) VALUES (...), (...) [ON CONFLICT (...) DO NOTHING] [RETURNING ...]``:
    one statement per call, whatever the number of rows."""

    def __init__(
        self,
        table: Table,
        columns: Sequence[str],
        *,
        returning: Sequence[str] = (),
        on_conflict_do_nothing: Sequence[str] = (),
    ) -> None:
        super().__init__(table, columns, returning)
        self.conflict = tuple(on_conflict_do_nothing)
        self._sql: dict[tuple[str, str, int], str] = {}

    def sql(self, dialect: Dialect, row_count: int) -> str:
        key = (dialect.name, dialect.paramstyle, row_count)
        text = self._sql.get(key)
        if text is None:
            width = len(self.columns)
            values = ", ".join(
                f"({_placeholders(dialect, n * width, width)})" for n in range(row_count)
            )
            names = ", ".join(_quote(dialect, name) for name in self.columns)
            text = f"INSERT INTO {_quote(dialect, self.table.name)} ({names}) VALUES {values}"
            if self.conflict:
                targets = ", ".join(_quote(dialect, name) for name in self.conflict)
                text += f" ON CONFLICT ({targets}) DO NOTHING"
            text += self.returning_sql(dialect)
            self._sql[key] = text
        return text

    async def execute(
        self, conn: AsyncConnection | Statements, rows: Sequence[Sequence[Any]]
    ) -> list[tuple[Any, ...]]:
        """Insert ``rows`` (values in ``columns`` order); the returned rows, if any, come in
        no promised order (SQLite does not promise VALUES order for RETURNING). ``conn``:
        an engine connection, or a held connection's transaction (``storage.held``)."""
        if not rows:
            return []
        statements = OnEngine(conn) if isinstance(conn, AsyncConnection) else conn
        dialect = statements.dialect
        returned = await statements.fetch_all(
            self.sql(dialect, len(rows)), self.bind_rows(dialect, rows)
        )
        return self.read(dialect, returned) if self.returning else []


class DirectUpdate(DirectStatement):
    """``UPDATE t SET a = ?, ... WHERE key IN (...) [AND c = ? ...] [RETURNING ...]``."""

    def __init__(
        self,
        table: Table,
        set_columns: Sequence[str],
        *,
        key: str = "id",
        also_equal: Sequence[str] = (),
        returning: Sequence[str] = (),
    ) -> None:
        super().__init__(table, (*set_columns, *also_equal), returning)
        self.set_columns = tuple(set_columns)
        self.key = key
        self.also_equal = tuple(also_equal)
        self._sql: dict[tuple[str, str, int], str] = {}

    def sql(self, dialect: Dialect, key_count: int) -> str:
        cache_key = (dialect.name, dialect.paramstyle, key_count)
        text = self._sql.get(cache_key)
        if text is None:
            assignments = [
                f"{_quote(dialect, name)} = {_placeholders(dialect, n, 1)}"
                for n, name in enumerate(self.set_columns)
            ]
            position = len(self.set_columns)
            keys = _placeholders(dialect, position, key_count)
            position += key_count
            conditions = [f"{_quote(dialect, self.key)} IN ({keys})"]
            conditions += [
                f"{_quote(dialect, name)} = {_placeholders(dialect, position + n, 1)}"
                for n, name in enumerate(self.also_equal)
            ]
            text = (
                f"UPDATE {_quote(dialect, self.table.name)} SET {', '.join(assignments)}"
                f" WHERE {' AND '.join(conditions)}{self.returning_sql(dialect)}"
            )
            self._sql[cache_key] = text
        return text

    async def execute(
        self,
        conn: AsyncConnection,
        values: Sequence[Any],
        keys: Sequence[Any],
        equal: Sequence[Any] = (),
    ) -> list[tuple[Any, ...]]:
        """Set ``values`` (``set_columns`` order) on the rows whose key is in ``keys`` and
        whose ``also_equal`` columns equal ``equal``; the returned rows, if any, unordered."""
        if not keys:
            return []
        dialect = conn.dialect
        bound = self.bind(dialect, (*values, *equal))
        params = (*bound[: len(values)], *keys, *bound[len(values) :])
        result = await conn.exec_driver_sql(self.sql(dialect, len(keys)), params)
        if not self.returning:
            return []
        return self.read(dialect, result.all())


class DirectUpdateEach(DirectStatement):
    """``UPDATE t SET a = ?, ... WHERE key = ?`` for many rows, each with its own values
    (one executemany)."""

    def __init__(self, table: Table, set_columns: Sequence[str], *, key: str = "id") -> None:
        super().__init__(table, (*set_columns, key), ())
        self.set_columns = tuple(set_columns)
        self.key = key

    def sql(self, dialect: Dialect) -> str:
        assignments = ", ".join(
            f"{_quote(dialect, name)} = {_placeholders(dialect, n, 1)}"
            for n, name in enumerate(self.set_columns)
        )
        where = f"{_quote(dialect, self.key)} = {_placeholders(dialect, len(self.set_columns), 1)}"
        return f"UPDATE {_quote(dialect, self.table.name)} SET {assignments} WHERE {where}"

    async def execute(self, conn: AsyncConnection, rows: Sequence[Sequence[Any]]) -> None:
        """``rows``: the new values in ``set_columns`` order, then the key."""
        if rows:
            dialect = conn.dialect
            await conn.exec_driver_sql(
                self.sql(dialect), [tuple(self.bind(dialect, row)) for row in rows]
            )
