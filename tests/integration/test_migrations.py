"""``csdesk migrate`` on an empty SQLite file and on PostgreSQL; down to base and up again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from csdesk.settings import sqlite_url
from csdesk.storage import migrate
from csdesk.storage.models import Base
from tests.services import POSTGRES_URL, require


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                names: list[str] = await conn.run_sync(lambda c: inspect(c).get_table_names())
                return set(names) - {"alembic_version"}
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    require("postgres")
    name = f"csdesk_mig_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "csdesk", *args],
        capture_output=True,
        text=True,
        env={**{k: v for k, v in os.environ.items() if k != "CSDESK_DATABASE_URL"}, **env},
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("engine_name", ["sqlite", "postgres"])
def test_cli_migrate_then_down_and_up(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if engine_name == "sqlite":
        url = sqlite_url(tmp_path)
        env = {"CSDESK_DATA_DIR": str(tmp_path)}
    else:
        url = request.getfixturevalue("empty_postgres")
        env = {"CSDESK_DATA_DIR": str(tmp_path), "CSDESK_DATABASE_URL": url}
    if engine_name == "sqlite":
        assert not (tmp_path / "csdesk.sqlite3").exists()
    result = _run_cli("migrate", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # logs belong on stderr
    expected = {table.name for table in Base.metadata.sorted_tables}
    assert _tables(url) == expected
    heads = migrate.current_heads(url)
    assert len(heads) == 1

    migrate.downgrade(url, "base")
    assert _tables(url) == set()
    assert migrate.current_heads(url) == set()

    migrate.upgrade(url)
    assert _tables(url) == expected
    assert migrate.current_heads(url) == heads

    # Running it again at head is a no-op, not an error.
    again = _run_cli("migrate", env=env)
    assert again.returncode == 0, again.stderr


def test_models_match_migrations(tmp_path: Path) -> None:
    """Autogenerate against a migrated database finds nothing: models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = sqlite_url(tmp_path)
    migrate.upgrade(url)

    async def diff() -> list[object]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda c: list(compare_metadata(MigrationContext.configure(c), Base.metadata))
                )
        finally:
            await engine.dispose()

    assert asyncio.run(diff()) == []
