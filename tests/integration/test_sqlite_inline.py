"""``storage.sqlite_inline``: calls inside ``inline_calls`` run on the loop's thread; a
write lock held by another connection is waited for off the loop, never on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from csdesk.settings import DatabaseSettings, sqlite_url
from csdesk.storage import sqlite_inline
from csdesk.storage.engine import create_engine
from csdesk.storage.sqlite_inline import inline_calls


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(url=sqlite_url(tmp_path)))
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
    yield engine
    await engine.dispose()


async def _driver(conn: AsyncConnection) -> sqlite_inline.Connection:
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, sqlite_inline.Connection)
    return driver


async def test_calls_run_inline_only_where_asked(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        driver = await _driver(conn)
        before = driver.ran_inline
        await conn.execute(text("SELECT count(*) FROM note"))
        assert driver.ran_inline == before  # outside: the worker thread, as aiosqlite
        with inline_calls():
            await conn.execute(text("INSERT INTO note (body) VALUES ('一')"))
            rows = (await conn.execute(text("SELECT body FROM note"))).all()
            await conn.commit()
        assert rows == [("一",)]
        assert driver.ran_inline > before
        assert driver.retried_on_thread == 0


async def test_a_held_write_lock_is_waited_for_off_the_loop(engine: AsyncEngine) -> None:
    async with engine.connect() as holder, engine.connect() as inline:
        await holder.execute(text("INSERT INTO note (body) VALUES ('holder')"))  # write lock
        driver = await _driver(inline)
        ticks = 0
        writing = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        async def write_inline() -> None:
            with inline_calls():
                writing.set()
                await inline.execute(text("INSERT INTO note (body) VALUES ('inline')"))
                await inline.commit()

        ticking = asyncio.create_task(ticker())
        writer = asyncio.create_task(write_inline())
        await writing.wait()
        ticks_before = ticks
        await asyncio.sleep(0.2)
        assert not writer.done()  # still waiting for the holder's lock...
        assert ticks - ticks_before > 20  # ...on the worker thread: the loop kept running
        await holder.commit()
        async with asyncio.timeout(5):
            await writer
        ticking.cancel()
        assert driver.retried_on_thread == 1
        rows = (await inline.execute(text("SELECT body FROM note ORDER BY id"))).all()
    assert rows == [("holder",), ("inline",)]
