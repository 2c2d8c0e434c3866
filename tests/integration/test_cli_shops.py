"""``csdesk shop add``, ``shop rotate-secret``, ``channel set`` / ``clear`` on a real database
(subprocesses, as an operator runs them): JSON shapes of the contract, secrets printed once
and stored, bad input exit 2 with one line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from csdesk.settings import sqlite_url
from csdesk.storage.models import AuditLog, Shop


def _run(*argv: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSDESK_")}
    env.update(CSDESK_DATA_DIR=str(data), CSDESK_INSECURE_FAST_PASSWORD_HASH="1")
    return subprocess.run(
        [sys.executable, "-m", "csdesk", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _shop(data: Path, shop_id: str) -> Shop | None:
    async def read() -> Shop | None:
        engine = create_async_engine(sqlite_url(data))
        try:
            async with engine.connect() as conn:
                row = (await conn.execute(select(Shop).where(Shop.id == shop_id))).first()
                return Shop(**row._mapping) if row is not None else None
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _audited(data: Path) -> list[str]:
    async def read() -> list[str]:
        engine = create_async_engine(sqlite_url(data))
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(select(AuditLog.action))).scalars())
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def data(tmp_path: Path) -> Path:
    assert _run("migrate", data=tmp_path).returncode == 0
    return tmp_path


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_shop_add_prints_its_secret_once_as_json(data: Path) -> None:
    result = _run("shop", "add", "tmall-1001", "--name", "旗舰店", "--json", data=data)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)  # one JSON document, nothing else on stdout
    assert set(printed) == {"shop_id", "name", "webhook_secret"}
    assert printed["shop_id"] == "tmall-1001"
    assert printed["name"] == "旗舰店"
    assert len(printed["webhook_secret"]) >= 32
    shop = _shop(data, "tmall-1001")
    assert shop is not None
    assert shop.webhook_secret == printed["webhook_secret"]
    # Never again: a second add is refused, and says how to get a new secret.
    line = _error_line(_run("shop", "add", "tmall-1001", data=data))
    assert "already exists" in line
    assert "rotate-secret" in line
    assert "shop.created" in _audited(data)
    # Without --json: the secret on stdout, the rest on stderr.
    plain = _run("shop", "add", "tmall-1002", data=data)
    assert plain.returncode == 0
    second = _shop(data, "tmall-1002")
    assert second is not None
    assert second.webhook_secret is not None
    assert second.webhook_secret in plain.stdout
    assert second.name == "tmall-1002"


def test_rotate_secret_keeps_the_previous_one_for_the_grace_period(data: Path) -> None:
    first = json.loads(_run("shop", "add", "s1", "--json", data=data).stdout)["webhook_secret"]
    result = _run("shop", "rotate-secret", "s1", "--grace-hours", "2", "--json", data=data)
    assert result.returncode == 0, result.stderr
    rotated = json.loads(result.stdout)
    assert set(rotated) == {"shop_id", "webhook_secret", "previous_valid_until"}
    shop = _shop(data, "s1")
    assert shop is not None
    assert shop.webhook_secret == rotated["webhook_secret"] != first
    assert shop.webhook_secret_previous == first
    assert rotated["previous_valid_until"] is not None
    assert "no shop 'nope'" in _error_line(_run("shop", "rotate-secret", "nope", data=data))


def test_channel_set_prints_a_new_outbound_secret_each_time(data: Path) -> None:
    _run("shop", "add", "s1", data=data)
    _run("shop", "add", "s2", data=data)
    result = _run(
        "channel", "set", "https://platform.example/csdesk", "--shop", "s2", "--json", data=data
    )
    assert result.returncode == 0, result.stderr
    channel = json.loads(result.stdout)
    assert set(channel) == {"shop_id", "url", "outbound_secret"}
    assert channel["shop_id"] == "s2"
    assert channel["url"] == "https://platform.example/csdesk"
    shop = _shop(data, "s2")
    assert shop is not None
    assert shop.channel_url == channel["url"]
    assert shop.outbound_secret == channel["outbound_secret"]
    # Again: a new secret; without --shop, the first shop.
    again = json.loads(
        _run("channel", "set", "http://127.0.0.1:9000/in", "--json", data=data).stdout
    )
    assert again["shop_id"] == "s1"
    assert again["outbound_secret"] != channel["outbound_secret"]
    assert "no shop 'nope'" in _error_line(
        _run("channel", "set", "https://x.example/", "--shop", "nope", data=data)
    )
    assert "URL" in _error_line(_run("channel", "set", "https:///nohost", data=data))
    cleared = _run("channel", "clear", "--shop", "s2", data=data)
    assert cleared.returncode == 0, cleared.stderr
    shop = _shop(data, "s2")
    assert shop is not None
    assert shop.channel_url is None
    assert shop.outbound_secret is None
    assert {"channel.set", "channel.cleared"} <= set(_audited(data))
