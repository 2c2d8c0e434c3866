"""Every command of ``csdesk --help`` (and every subcommand of its groups) given bad input:
exit 2, one line on stderr naming the problem, no traceback, nothing on stdout, and no file
created in the working directory or the data directory.

The commands come from the help text itself, so a new command without a case here fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHOICES = re.compile(r"\{([a-z][a-z0-9_,-]*)\}")
FILE = "{file}"
"""Stands for an existing ordinary file (where a directory is expected)."""


def _help(*command: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "csdesk", *command, "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    ).stdout


def _commands() -> list[str]:
    """``demo``, ``serve`` ... and ``user add``, ``qc plan`` ... as ``csdesk --help`` lists them."""
    match = CHOICES.search(_help())
    assert match is not None
    found: list[str] = []
    for name in match.group(1).split(","):
        # Subcommands are the group's positional choices (an option's choices are not).
        positional = _help(name).partition("positional arguments:")[2].split("\n\n", 1)[0]
        sub = CHOICES.search(positional)
        if sub is None:
            found.append(name)
        else:
            found.extend(f"{name} {subcommand}" for subcommand in sub.group(1).split(","))
    return found


# command -> [(argv after "csdesk", stdin, words the one line must contain)]
CASES: dict[str, list[tuple[list[str], str, str]]] = {
    "demo": [
        (["demo", "--data", FILE], "", "is not a directory"),
        (["demo", "--port", "0"], "", "port"),
    ],
    "serve": [(["serve"], "", "no database"), (["serve", "--data", FILE], "", "not a directory")],
    "worker": [(["worker"], "", "CSDESK_REDIS_URL"), (["worker", "--now"], "", "unrecognized")],
    "migrate": [(["migrate", "--data", FILE], "", "is not a directory")],
    "seed": [
        (["seed", "--buyers", "0"], "", "--buyers"),
        (["seed", "--days", "soon"], "", "--days"),
        (["seed", "--data", FILE], "", "is not a directory"),
    ],
    "user add": [
        (["user", "add", "bob", "--role", "agent"], "", "no database"),
        (["user", "add", "bob", "--role", "agent", "--service-roles", "refnd"], "", "'refnd'"),
        (["user", "add", "bob", "--role", "agent", "--chat-capacity", "-3"], "", "--chat-capacity"),
        (["user", "add", "bob", "--role", "owner", "--service-roles", "refund"], "", "agents only"),
        (["user", "add", "bob", "--role", "chef"], "", "--role"),
        (["user", "add", "bob", "--role", "agent", "--password-stdin"], "", "no password"),
    ],
    "shop add": [
        (["shop", "add", "bad id"], "", "ID: 1-64 letters"),
        (["shop", "add", "shop-1"], "", "no database"),
        (["shop", "add"], "", "ID"),
    ],
    "shop rotate-secret": [
        (["shop", "rotate-secret", "shop-1", "--grace-hours", "-1"], "", "--grace-hours"),
        (["shop", "rotate-secret", "shop-1"], "", "no database"),
    ],
    "channel set": [
        (["channel", "set", "ftp://platform.example/x"], "", "URL: must be an absolute"),
        (["channel", "set", "not a url"], "", "URL"),
        (["channel", "set", "https://platform.example/x"], "", "no database"),
    ],
    "channel clear": [(["channel", "clear"], "", "no database")],
    "token issue": [
        (["token", "issue", "bob"], "", "no database"),
        (["token", "issue", "bob", "--data", FILE], "", "is not a directory"),
    ],
    "backup": [
        (["backup", "out.sqlite3"], "", "no database"),
        (["backup", "out.sqlite3", "--data", FILE], "", "is not a directory"),
    ],
    "restore": [
        (["restore", "missing.sqlite3"], "", "no such file"),
        (["restore", FILE], "", "not a SQLite database"),
    ],
    "buyer erase": [
        (["buyer", "erase", "买家小王"], "", "no database"),
        (["buyer", "erase", " ", "--data", FILE], "", "NICK"),
    ],
    "triage": [(["triage"], "", "no text")],
    "staffing": [
        (
            [
                "staffing",
                "--arrivals-per-hour",
                "-5",
                "--aht-seconds",
                "100",
                "--answer-within",
                "20",
                "--service-level",
                "0.8",
            ],
            "",
            "--arrivals-per-hour",
        )
    ],
    "simulate": [
        (["simulate", "--scenario", "nope", "--policy", "csdesk"], "", "--scenario"),
        (["simulate", "--scenario", "mmc", "--policy", "fifo", "--agents", "x"], "", "--agents"),
    ],
    "qc plan": [
        (["qc", "plan", "--lot", "1"], "", "--lot"),
        (["qc", "plan", "--lot", "9", "--aql", "7"], "", "--aql"),
    ],
    "qc check": [
        (["qc", "check", "missing.json"], "", "cannot read"),
        (["qc", "check", "-"], "{not json", "not JSON"),
    ],
    "qc alpha": [(["qc", "alpha", "missing.csv"], "", "cannot read")],
    "bench": [(["bench", "--quick"], "", "source checkout")],
}
COMMANDS = _commands()


def _run(argv: list[str], stdin: str, *, cwd: Path, data: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "CSDESK_DATABASE_URL",
            "CSDESK_REDIS_URL",
            "CSDESK_SECRET_KEY",
            "CSDESK_WEBHOOK_SECRET",
        }
    }
    env.update(
        CSDESK_DATA_DIR=str(data),
        CSDESK_INSECURE_FAST_PASSWORD_HASH="1",
    )
    return subprocess.run(
        [sys.executable, "-m", "csdesk", *argv],
        input=stdin,
        text=True,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def _tree(path: Path) -> set[Path]:
    return {p.relative_to(path) for p in path.rglob("*")}


def test_the_help_lists_the_commands_of_the_contract() -> None:
    assert {
        "demo",
        "serve",
        "worker",
        "migrate",
        "seed",
        "user add",
        "token issue",
        "triage",
    } <= set(COMMANDS)
    assert {"qc plan", "qc check", "qc alpha"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(command: str, tmp_path: Path) -> None:
    assert command in CASES, f"`csdesk {command}` has no bad-input case here: add one"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory\n")
    data = tmp_path / "data"
    for argv, stdin, words in CASES[command]:
        argv = [str(a_file) if arg == FILE else arg for arg in argv]
        before = _tree(tmp_path)
        result = _run(argv, stdin, cwd=cwd, data=data)
        shown = f"csdesk {' '.join(argv)}: {result.returncode}\n{result.stderr}"
        assert result.returncode == 2, shown
        assert "Traceback" not in result.stderr, shown
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, shown
        assert lines[0].startswith("csdesk: error: "), shown
        assert words in lines[0], shown
        assert result.stdout == "", shown
        assert _tree(tmp_path) == before, shown
        assert a_file.read_text() == "not a directory\n"
