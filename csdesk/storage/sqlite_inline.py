"""SQLite calls on the event loop's own thread, for the short statements of the ingest path.

aiosqlite runs every call on a connection's worker thread: each statement costs four
thread round trips through SQLAlchemy's adapter (cursor, execute, fetch, close), each a
wake-up of the worker, a GIL hand-over and a wake-up of the loop. Measured on this
machine kind: an indexed lookup takes 6 µs in sqlite3 itself and ~220 µs through
aiosqlite, and applying one buyer message makes about thirty such trips. The acceptor and
the event processor run only short, indexed statements, one writer at a time (the write
gate), so inside them calls run inline on the loop instead: see :func:`inline_calls`.

Never blocking the loop on a lock: an inline call runs with SQLite's busy timeout at 0. If
another connection holds the write lock (a console action mid-transaction, a CLI command)
the statement fails at once with nothing done and is retried on the worker thread with the
usual busy timeout, which is what SQLite's busy handler would have done. (A commit that
crosses the WAL's auto-checkpoint threshold does run that checkpoint on the loop: measured
at up to ~7 ms in the live benchmark.) Everything outside
:func:`inline_calls` (console pages, reports, jobs) keeps the worker thread, so a long query
never stalls the loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any, Final

import aiosqlite

BUSY_TIMEOUT_MS: Final = 10_000
"""Waiting for another connection's write lock on the worker thread (as before)."""

_INLINE: ContextVar[bool] = ContextVar("csdesk_sqlite_inline", default=False)


@contextmanager
def inline_calls() -> Iterator[None]:
    """SQLite calls made by this task (and tasks it starts) run on the loop's thread."""
    token = _INLINE.set(True)
    try:
        yield
    finally:
        _INLINE.reset(token)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return (int(code) & 0xFF) == sqlite3.SQLITE_BUSY
    return "locked" in str(error)


class Connection(aiosqlite.Connection):
    """aiosqlite's connection, with :func:`inline_calls` honoured."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._busy_timeout_ms: int | None = None
        self.ran_inline = 0
        self.retried_on_thread = 0

    def _set_busy_timeout(self, connection: sqlite3.Connection, ms: int) -> None:
        if self._busy_timeout_ms != ms:
            connection.execute(f"PRAGMA busy_timeout={ms}")
            self._busy_timeout_ms = ms

    def _on_thread(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> Any:
        connection = self._connection
        if connection is not None:
            self._set_busy_timeout(connection, BUSY_TIMEOUT_MS)
        return fn(*args, **kwargs)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        connection = self._connection
        if _INLINE.get() and self._running and connection is not None:
            self._set_busy_timeout(connection, 0)
            try:
                result = fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
                # Another connection writes: nothing was done; wait for it off the loop.
                self.retried_on_thread += 1
            else:
                self.ran_inline += 1
                return result
        return await super()._execute(self._on_thread, fn, args, kwargs)  # type: ignore[no-untyped-call]

    async def fetch_all(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Run one statement and read all its rows in a single call (inline, a single
        step; on the thread, one round trip instead of aiosqlite's four). Safe to retry:
        a statement refused as busy did nothing, and SQLite makes a statement's changes,
        RETURNING included, in its first step."""
        rows: list[Any] = await self._execute(_fetch_all, self._conn, sql, params)
        return rows


def _fetch_all(connection: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    cursor = connection.execute(sql, params)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _open(database: str, pragmas: Sequence[str], kwargs: dict[str, Any]) -> sqlite3.Connection:
    connection: sqlite3.Connection = sqlite3.connect(database, **kwargs)
    for pragma in pragmas:
        connection.execute(f"PRAGMA {pragma}")
    return connection


async def connect(database: str, pragmas: Sequence[str] = (), **kwargs: Any) -> Connection:
    """The connection SQLAlchemy's aiosqlite dialect wraps (``async_creator``). Connecting
    and the ``pragmas`` run on the worker thread whatever the caller's context: setting
    the journal mode may wait for another connection's lock, which must not be on the
    loop (a pool can open a connection inside :func:`inline_calls`)."""
    connection: Connection = Connection(partial(_open, database, tuple(pragmas), kwargs))
    await connection  # starts the worker thread and connects on it
    return connection
