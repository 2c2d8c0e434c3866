"""``csdesk qc plan | check | alpha`` as a user runs them (a real subprocess): JSON shapes,
exit codes, and bad input answered with exit 2 and one line on stderr naming the problem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT = ROOT / "tests" / "data" / "qc" / "heldout"


def run(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSDESK_")}
    return subprocess.run(
        [sys.executable, "-m", "csdesk", "qc", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=120,
        check=False,
    )


def bad(result: subprocess.CompletedProcess[str], naming: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("csdesk: error: ")
    assert naming in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--lot", "1000"], {"code_letter": "J", "sample_size": 80, "accept": 5, "reject": 6}),
        (
            ["--lot", "20000", "--level", "S-3", "--aql", "0.65"],
            {"code_letter": "F", "sample_size": 20, "accept": 0, "reject": 1},
        ),
        (
            ["--lot", "3000", "--aql", "0.10"],
            {"code_letter": "K", "sample_size": 125, "accept": 0, "reject": 1},
        ),
        (
            ["--lot", "60", "--level", "II", "--aql", "0.065"],
            {"code_letter": "E", "sample_size": 60, "accept": 0, "reject": 1},
        ),
    ],
)
def test_plan_json(args: list[str], expected: dict[str, object]) -> None:
    result = run("plan", *args, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


def test_plan_text() -> None:
    result = run("plan", "--lot", "1000")
    assert result.returncode == 0
    assert "80" in result.stdout
    assert "J" in result.stdout


@pytest.mark.parametrize(
    ("args", "naming"),
    [
        (["--lot", "1"], "--lot"),
        (["--lot", "0"], "--lot"),
        (["--lot", "many"], "--lot"),
        (["--lot", "-5"], "--lot"),
        ([], "--lot"),
        (["--lot", "100", "--level", "IV"], "--level"),
        (["--lot", "100", "--aql", "3"], "--aql"),
        (["--lot", "100", "--aql", "abc"], "--aql"),
    ],
)
def test_plan_bad_input(args: list[str], naming: str) -> None:
    bad(run("plan", *args, "--json"), naming)


def test_check_a_file_and_stdin_alike() -> None:
    case = json.loads((HELD_OUT / "h11.json").read_text("utf-8"))
    transcript = json.dumps(case["transcript"], ensure_ascii=False)
    from_stdin = run("check", "--json", "-", stdin=transcript)
    from_file = run("check", "--json", str(HELD_OUT / "h11.json"))
    assert from_stdin.returncode == 0, from_stdin.stderr
    result = json.loads(from_stdin.stdout)
    assert set(result) == {"score", "script_version", "hits"}
    assert result["script_version"] == "payment_chasing.v1"
    assert isinstance(result["score"], int)
    assert 0 <= result["score"] < 100
    for hit in result["hits"]:
        assert {"category", "rule", "severity", "message_index", "span", "points"} <= set(hit)
        assert hit["severity"] in ("fatal", "major", "minor")
        start, end = hit["span"]
        assert 0 <= start <= end
    found = {(h["category"], h["message_index"]) for h in result["hits"]}
    assert ("forbidden_phrase", 0) in found
    assert ("extreme_words", 0) in found
    # The labelled file wraps the transcript; the command reads the transcript itself.
    assert from_file.returncode == 2
    assert "role" in from_file.stderr


def test_check_text_output() -> None:
    transcript = {"role": "presales", "messages": [{"from": "agent", "text": "爱买不买"}]}
    result = run("check", "-", stdin=json.dumps(transcript))
    assert result.returncode == 0
    assert result.stdout.startswith("score 0 (presales.v1)")


@pytest.mark.parametrize(
    ("stdin", "naming"),
    [
        ("not json", "not JSON"),
        ("[]", "transcript"),
        ('{"role": "janitor", "messages": []}', "role"),
        ('{"role": "presales", "messages": {}}', "messages"),
        ('{"role": "presales", "messages": [{"from": "bot", "text": "x"}]}', "messages[0].from"),
        (
            '{"role": "presales", "messages": [{"from": "agent", "text": "x", "at": "noon"}]}',
            "messages[0].at",
        ),
    ],
)
def test_check_bad_input(stdin: str, naming: str) -> None:
    bad(run("check", "--json", "-", stdin=stdin), naming)


def test_check_missing_file(tmp_path: Path) -> None:
    bad(run("check", str(tmp_path / "nope.json")), "FILE")


KRIPPENDORFF_2011 = """rater,1,2,3,4,5,6,7,8,9,10,11,12
A,1,2,3,3,2,1,4,1,2,,,
B,1,2,3,3,2,2,4,1,2,5,,3
C,,3,3,3,2,3,4,2,2,5,1,
D,1,2,3,3,2,4,4,1,2,5,1,
"""


@pytest.mark.parametrize(
    ("level", "alpha"),
    [(None, 0.743), ("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)],
)
def test_alpha_json(tmp_path: Path, level: str | None, alpha: float) -> None:
    sheet = tmp_path / "calibration.csv"
    sheet.write_text(KRIPPENDORFF_2011, encoding="utf-8")
    args = ["alpha", "--json", str(sheet)] + (["--level", level] if level else [])
    result = run(*args)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert round(answer["alpha"], 3) == alpha
    assert answer["level"] == (level or "nominal")
    assert (answer["raters"], answer["units"], answer["pairable"]) == (4, 12, 40)


def test_alpha_from_stdin_with_drift() -> None:
    result = run(
        "alpha",
        "--level",
        "interval",
        "--json",
        "-",
        stdin="rater,c1,c2,c3\nwang,80,90,70\nli,81,89,71\nzhao,60,70,50\n",
    )
    assert result.returncode == 0, result.stderr
    drift = {d["rater"]: d["verdict"] for d in json.loads(result.stdout)["drift"]}
    assert drift == {"wang": "in_line", "li": "in_line", "zhao": "too_strict"}


@pytest.mark.parametrize(
    ("sheet", "args", "naming"),
    [
        ("who,u1\na,1\nb,2\n", [], "`rater`"),
        ("rater,u1,u2\na,1,2\nb,1\n", [], "row 3 has 2 cells"),
        ("rater,u1,u2\na,1,x\nb,1,2\n", ["--level", "interval"], "not a number"),
        ("rater,u1,u2\na,1,2\n", [], "at least 2 raters"),
        ("", [], "empty sheet"),
        ("rater,u1\na,1\nb,2\n", ["--level", "cardinal"], "--level"),
    ],
)
def test_alpha_bad_input(sheet: str, args: list[str], naming: str) -> None:
    bad(run("alpha", *args, "--json", "-", stdin=sheet), naming)
