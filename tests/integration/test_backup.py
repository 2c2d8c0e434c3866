"""``csdesk backup FILE`` / ``csdesk restore FILE`` (embedded mode), as real subprocesses.

The backup is taken while a ``csdesk serve`` process keeps accepting signed events (SQLite's
online backup API), verified by reading it back, and restored into a fresh data directory,
where every event accepted before the backup started is found. Bad input exits 2 with one
line; nothing is overwritten without ``--force``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.helpers import event_body
from tests.processes import WebProcess, csdesk_env, post_signed

ROOT = Path(__file__).resolve().parents[2]


def csdesk(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "csdesk", *args],
        text=True,
        capture_output=True,
        env=csdesk_env(data, **env),
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def partials(folder: Path) -> list[Path]:
    return list(folder.glob(".*.partial"))


@pytest.fixture
def data(tmp_path: Path, sqlite_template: Path) -> Path:
    folder = tmp_path / "live"
    folder.mkdir()
    shutil.copy(sqlite_template, folder / "csdesk.sqlite3")
    with sqlite3.connect(folder / "csdesk.sqlite3") as connection:
        connection.execute(
            "INSERT INTO shop (id, name, timezone, config, created_at) "
            "VALUES ('test-shop', '测试店', 'Asia/Shanghai', '{}', '2026-01-01 00:00:00')"
        )
    return folder


async def test_online_backup_while_serving_then_restore(data: Path, tmp_path: Path) -> None:
    web = WebProcess(csdesk_env(data), tmp_path / "web.log")
    try:
        async with aiohttp.ClientSession() as http:
            await web.wait_ready(http)
            for n in range(50):
                body = event_body("message.received", {"buyer_nick": f"买家{n}", "text": "在吗"})
                assert await post_signed(http, web.url, body) == 202
            before = count(data / "csdesk.sqlite3", "platform_event")
            assert before == 50

            async def keep_posting() -> int:
                sent = 0
                for n in range(200):
                    body = event_body("message.received", {"buyer_nick": f"新{n}", "text": "你好"})
                    sent += await post_signed(http, web.url, body) == 202
                return sent

            posting = asyncio.create_task(keep_posting())
            backup_file = tmp_path / "desk.backup"
            result = await asyncio.to_thread(csdesk, data, "backup", str(backup_file), "--json")
            await posting
    finally:
        web.stop()

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["integrity"] == "ok"
    assert report["tables"]["platform_event"] >= before
    assert "backed up and verified" in result.stderr
    assert not partials(tmp_path)

    # Restore into an empty data directory: the same rows, readable, at the same revision.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    restored = csdesk(fresh, "restore", str(backup_file), "--json")
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["tables"] == report["tables"]
    assert count(fresh / "csdesk.sqlite3", "platform_event") == report["tables"]["platform_event"]
    assert count(fresh / "csdesk.sqlite3", "message") == report["tables"]["message"]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["backup", "{existing}"], {}, "exists (use --force"),
        (["backup", "{tmp}/no/such/dir/b.db"], {}, "no such directory"),
        (["restore", "{tmp}/missing.db", "--force"], {}, "no such file"),
        (["restore", "{junk}", "--force"], {}, "not a SQLite database"),
        (["restore", "{existing}"], {}, "exists (use --force"),
        (
            ["backup", "{tmp}/pg.db"],
            {"CSDESK_DATABASE_URL": "postgresql+asyncpg://x@127.0.0.1/x"},
            "pg_dump",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    data: Path, tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    existing = tmp_path / "existing.db"
    shutil.copy(data / "csdesk.sqlite3", existing)
    junk = tmp_path / "junk.db"
    junk.write_text("not a database, just words\n" * 100)
    stamp = existing.stat().st_mtime_ns
    values = {"existing": str(existing), "tmp": str(tmp_path), "junk": str(junk)}
    result = csdesk(data, *(arg.format(**values) for arg in args), **env)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert existing.stat().st_mtime_ns == stamp  # never overwritten without --force
