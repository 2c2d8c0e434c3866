"""A connection kept by one hot-path writer for its whole life, its transactions driven at
the driver.

The acceptor commits a batch of events many hundred times a second. Through the engine each
of those transactions checked a connection out of the pool and back in (a task and a
shield per return), and ran BEGIN, the INSERT and COMMIT each through SQLAlchemy's async
adapter and a greenlet switch: ~230 µs a transaction on this machine kind against ~60 µs
in SQLite itself, so at the small batches of moderate load the overhead cost more than the
writing. On SQLite the held connection runs the statement and the commit straight on the
driver (inline on the loop inside :func:`~csdesk.storage.sqlite_inline.inline_calls`).
PostgreSQL keeps the engine's transactions: its connections can drop with the server and
the pool knows how to replace them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, Protocol

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from csdesk.storage import sqlite_inline

log = logging.getLogger(__name__)


class Statements(Protocol):
    """What a direct statement (``storage.direct``) runs on inside a held transaction."""

    @property
    def dialect(self) -> Dialect: ...

    async def fetch_all(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]: ...


class _OnSqlite:
    def __init__(self, connection: sqlite_inline.Connection, dialect: Dialect) -> None:
        self._connection = connection
        self.dialect = dialect

    async def fetch_all(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        return await self._connection.fetch_all(sql, params)


class OnEngine:
    """An engine connection as :class:`Statements` (its transaction is the caller's)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self.dialect = connection.dialect

    async def fetch_all(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        result = await self._connection.exec_driver_sql(sql, tuple(params))
        return result.all() if result.returns_rows else []


class HeldConnection:
    """Opened on first use, kept until :meth:`close`; replaced after a failed transaction
    whose rollback failed too (the connection is then in no known state)."""

    def __init__(self, engine: AsyncEngine, *, hold: bool = True) -> None:
        self._engine = engine
        self._hold = hold
        """False: every transaction through the engine's pool (the fast path switched off)."""
        self._held: AsyncConnection | None = None
        self._driver: sqlite_inline.Connection | None = None

    async def _sqlite_driver(self) -> sqlite_inline.Connection | None:
        if self._driver is None and self._hold and self._engine.dialect.name == "sqlite":
            held = await self._engine.connect()
            raw = await held.get_raw_connection()
            driver = raw.driver_connection
            if not isinstance(driver, sqlite_inline.Connection):
                await held.close()  # a driver without inline calls: the engine's way
                return None
            self._held, self._driver = held, driver
        return self._driver

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Statements]:
        """Committed when the block ends, rolled back if it raises."""
        driver = await self._sqlite_driver()
        if driver is None:
            async with self._engine.begin() as connection:
                yield OnEngine(connection)
            return
        try:
            yield _OnSqlite(driver, self._engine.dialect)
            await driver.commit()
        except BaseException:
            try:
                await driver.rollback()
            except Exception:
                log.exception("rolling back the held connection failed; replacing it")
                await self._drop()
            raise

    async def _drop(self) -> None:
        held, self._held, self._driver = self._held, None, None
        if held is not None:
            with suppress(Exception):
                await held.invalidate()
            with suppress(Exception):
                await held.close()

    async def close(self) -> None:
        held, self._held, self._driver = self._held, None, None
        if held is not None:
            await held.close()
