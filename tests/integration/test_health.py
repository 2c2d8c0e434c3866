"""``/healthz`` per contract, on every backend, and with a dead Redis in server mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from csdesk.app import create_app
from csdesk.settings import Settings
from tests.conftest import make_settings


async def test_healthz_reports_ok_and_mode(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["ok"] is True
    assert body["checks"]["database"] == "ok"
    if settings.redis.url:
        assert body["mode"] == "server"
        assert body["checks"]["redis"] == "ok"
    else:
        assert body["mode"] == "embedded"
        assert "redis" not in body["checks"]


async def test_healthz_reports_dead_redis(
    sqlite_template: Path, tmp_path: Path, aiohttp_client: AiohttpClient
) -> None:
    import shutil

    shutil.copy(sqlite_template, tmp_path / "csdesk.sqlite3")
    from csdesk.settings import sqlite_url

    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    settings = make_settings(tmp_path, sqlite_url(tmp_path), "redis://127.0.0.1:1/0")
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["ok"] is False
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] != "ok"
    assert "Connection" in body["checks"]["redis"] or "refused" in body["checks"]["redis"]
