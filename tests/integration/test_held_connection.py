"""``storage.held`` on SQLite: the acceptor's own connection runs its transactions at the
driver, inline on the loop, waits for another writer off the loop, and is replaced when it
breaks. (Commit and rollback on every backend: ``test_direct_statements``.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, text
from sqlalchemy.ext.asyncio import AsyncEngine

from csdesk.settings import DatabaseSettings, sqlite_url
from csdesk.storage.direct import DirectInsert
from csdesk.storage.engine import create_engine
from csdesk.storage.held import HeldConnection
from csdesk.storage.sqlite_inline import inline_calls

NOTE = Table("note", MetaData(), Column("id", Integer, primary_key=True), Column("body", Text))
INSERT_NOTE = DirectInsert(NOTE, ("body",), returning=("id", "body"))


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(url=sqlite_url(tmp_path)))
    async with engine.begin() as conn:
        await conn.run_sync(NOTE.metadata.create_all)
    yield engine
    await engine.dispose()


async def _bodies(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT body FROM note ORDER BY id"))).scalars())


async def test_transactions_run_inline_at_the_driver(engine: AsyncEngine) -> None:
    held = HeldConnection(engine)
    try:
        with inline_calls():
            async with held.transaction() as statements:
                returned = await INSERT_NOTE.execute(statements, [("一",), ("二",)])
        driver = held._driver
        assert driver is not None
        assert driver.ran_inline >= 2  # the statement and the commit, no worker thread
        assert driver.retried_on_thread == 0
    finally:
        await held.close()
    assert sorted(body for _, body in returned) == ["一", "二"]
    assert await _bodies(engine) == ["一", "二"]


async def test_another_writer_is_waited_for_off_the_loop(engine: AsyncEngine) -> None:
    held = HeldConnection(engine)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    async def write() -> None:
        with inline_calls():
            async with held.transaction() as statements:
                await INSERT_NOTE.execute(statements, [("held",)])

    try:
        async with engine.connect() as holder:
            await holder.execute(text("INSERT INTO note (body) VALUES ('holder')"))
            ticking = asyncio.create_task(ticker())
            writer = asyncio.create_task(write())
            await asyncio.sleep(0.2)
            ticks_seen = ticks
            assert not writer.done()  # waiting for the holder's write lock...
            assert ticks_seen > 20  # ...off the loop: the loop kept ticking
            await holder.commit()
        async with asyncio.timeout(5):
            await writer
        ticking.cancel()
        driver = held._driver
        assert driver is not None
        assert driver.retried_on_thread == 1
    finally:
        await held.close()
    assert await _bodies(engine) == ["holder", "held"]


async def test_a_broken_connection_is_replaced(engine: AsyncEngine) -> None:
    held = HeldConnection(engine)
    try:
        async with held.transaction() as statements:
            await INSERT_NOTE.execute(statements, [("before",)])
        broken = held._driver
        assert broken is not None
        await broken.close()  # the connection dies under the writer
        with pytest.raises(ValueError, match="no active connection"):
            async with held.transaction() as statements:
                await INSERT_NOTE.execute(statements, [("lost",)])
        async with held.transaction() as statements:
            await INSERT_NOTE.execute(statements, [("after",)])
        assert held._driver is not None
        assert held._driver is not broken
    finally:
        await held.close()
    assert await _bodies(engine) == ["before", "after"]
