"""Shared fixtures: real SQLite, PostgreSQL and Redis; apps served over real HTTP.

Integration tests that take ``settings`` (or anything built on it) run once per backend:
SQLite and PostgreSQL, each with and without Redis; modules marked ``fast_path_both`` also
once with the ingest fast path off.
"""

from __future__ import annotations

import os

# Real argon2 parameters cost ~0.1 s a hash; tests create hundreds of users. The flag is
# named "insecure" on purpose and only ever set here.
os.environ.setdefault("CSDESK_INSECURE_FAST_PASSWORD_HASH", "1")

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from csdesk.actions.shops import ensure_shop
from csdesk.app import create_app
from csdesk.keys import SESSIONS_KEY
from csdesk.settings import (
    AuthSettings,
    DatabaseSettings,
    RedisSettings,
    Settings,
    WebhookSettings,
    sqlite_url,
)
from csdesk.storage import migrate
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import Base
from tests.services import POSTGRES_URL, REDIS_URL, require

BACKENDS = ("sqlite", "sqlite+redis", "postgres", "postgres+redis")
TEST_SHOP = "test-shop"
WEBHOOK_SECRET = "test-webhook-secret"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied per test (migrating each time would cost seconds)."""
    data_dir = tmp_path_factory.mktemp("sqlite-template")
    migrate.upgrade(sqlite_url(data_dir))
    return data_dir / "csdesk.sqlite3"


def _pg_admin_url() -> str:
    return POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of our own on the PostgreSQL server, migrated once per test session."""
    require("postgres")
    name = f"csdesk_test_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        engine = create_async_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_postgres(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name.startswith("postgres"):
        require("postgres")
    if name.endswith("+redis"):
        require("redis")
    return name


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"csdesk-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    except OSError:
        pass
    finally:
        await client.aclose()


def make_settings(
    data_dir: Path,
    database_url: str,
    redis_url: str | None,
    redis_prefix: str = "csdesk:",
    *,
    fast_path: bool = True,
) -> Settings:
    return Settings(
        data_dir=data_dir,
        database=DatabaseSettings(url=database_url, fast_path=fast_path),
        redis=RedisSettings(url=redis_url, key_prefix=redis_prefix),
        auth=AuthSettings(secret_key="test-secret-key"),
        webhook=WebhookSettings(secret=WEBHOOK_SECRET),
        run_jobs_in_process=redis_url is None,
    )


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Sync on purpose: session fixtures that migrate call ``asyncio.run`` and need no loop."""
    if backend.startswith("postgres"):
        url: str = request.getfixturevalue("postgres_url")
        return url
    template: Path = request.getfixturevalue("sqlite_template")
    shutil.copy(template, tmp_path / "csdesk.sqlite3")
    return sqlite_url(tmp_path)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Modules marked ``fast_path_both`` run each test with the ingest fast path on and off
    (``DatabaseSettings.fast_path``), so the two ways of applying events cannot drift."""
    if "fast_path" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "fast_path_both"
    ):
        metafunc.parametrize("fast_path", [True, False], ids=["fast", "plain"], indirect=True)


@pytest.fixture
def fast_path(request: pytest.FixtureRequest) -> bool:
    """The ingest fast path: on, unless the test is parametrized (``fast_path_both``)."""
    return bool(getattr(request, "param", True))


@pytest.fixture
async def settings(
    backend: str, database_url: str, tmp_path: Path, redis_prefix: str, fast_path: bool
) -> Settings:
    if backend.startswith("postgres"):
        await _truncate_postgres(database_url)
    redis_url = REDIS_URL if backend.endswith("+redis") else None
    return make_settings(tmp_path, database_url, redis_url, redis_prefix, fast_path=fast_path)


@pytest.fixture
async def client(settings: Settings, aiohttp_client: AiohttpClient) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def sessions(client: TestClient[Any, Any]) -> SessionFactory:
    factory: SessionFactory = client.app[SESSIONS_KEY]
    return factory


@pytest.fixture
async def shop_id(sessions: SessionFactory) -> str:
    shop = await ensure_shop(sessions, TEST_SHOP, "测试店")
    return shop.id
