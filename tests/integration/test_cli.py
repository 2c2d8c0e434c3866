"""The command line per contract: exit 2 and one line on stderr for bad input; JSON alone
on stdout. Run as a real subprocess (``python -m csdesk``) against a real database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(
    *args: str, data: Path, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CSDESK_DATABASE_URL"}
    env.update(CSDESK_DATA_DIR=str(data), CSDESK_INSECURE_FAST_PASSWORD_HASH="1")
    return subprocess.run(
        [sys.executable, "-m", "csdesk", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=120,
        check=False,
    )


@pytest.fixture
def data(tmp_path: Path, sqlite_template: Path) -> Path:
    shutil.copy(sqlite_template, tmp_path / "csdesk.sqlite3")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["frobnicate"], "", "invalid choice"),
        ([], "", "required"),
        (["seed", "--buyers", "-1"], "", "expected a number >= 0"),
        (["seed", "--orders", "many"], "", "expected a whole number"),
        (["demo", "--port", "70000"], "", "port must be 1-65535"),
        (["user", "add", "x1", "--role", "janitor"], "", "invalid choice"),
        (["user", "add", "x2", "--role", "agent", "--password-stdin"], "", "no password"),
        (["user", "add", "x3", "--role", "agent", "--password-stdin"], "short\n", "8"),
        (["user", "add", "bad name", "--role", "agent"], "", "username"),
        (["token", "issue", "nobody"], "", "no user named 'nobody'"),
        (["triage"], "", "no text"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    data: Path, args: list[str], stdin: str, message: str
) -> None:
    result = run(*args, data=data, stdin=stdin)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("csdesk: error: ")
    assert message in lines[0]
    assert result.stdout == ""


def test_user_add_then_token_issue(data: Path) -> None:
    added = run(
        "user",
        "add",
        "xiaomei",
        "--role",
        "supervisor",
        "--password-stdin",
        data=data,
        stdin="a-long-password\n",
    )
    assert added.returncode == 0, added.stderr
    duplicate = run("user", "add", "xiaomei", "--role", "agent", data=data)
    assert duplicate.returncode == 2
    assert "xiaomei" in duplicate.stderr
    token = run("token", "issue", "xiaomei", data=data)
    assert token.returncode == 0, token.stderr
    (line,) = token.stdout.splitlines()
    assert len(line) >= 32
    assert run("token", "issue", "xiaomei", data=data).stdout.strip() != line


def test_triage_json_one_object_per_line(data: Path) -> None:
    result = run(
        "triage",
        "--json",
        data=data,
        stdin="东西坏了 直接给我退款吧\n再不处理我就给差评\n\n這個有貨嗎\n",
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["intent"] for row in rows] == ["refund", "complaint", "presale"]
    assert rows[1]["risk"] == "high"
    for row in rows:
        assert set(row) == {"text", "intent", "role", "risk", "score", "reasons"}
        assert row["reasons"]


def test_seed_refuses_to_seed_twice(tmp_path: Path) -> None:
    first = run("seed", "--buyers", "50", "--orders", "100", "--json", data=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["counts"]["shop_order"] == 100
    assert report["counts"]["buyer"] == 50
    again = run("seed", "--buyers", "50", "--orders", "100", data=tmp_path)
    assert again.returncode == 2
    assert "already" in again.stderr


def test_bench_outside_a_checkout_is_a_usage_error(data: Path, tmp_path: Path) -> None:
    result = run("bench", "--quick", data=data, cwd=tmp_path)
    assert result.returncode == 2
    assert "source checkout" in result.stderr
