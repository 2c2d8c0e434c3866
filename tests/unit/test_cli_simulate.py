"""``csdesk staffing`` and ``csdesk simulate`` through the real command line entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csdesk.cli import main


def test_staffing_json_is_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "staffing",
            "--arrivals-per-hour",
            "200",
            "--aht-seconds",
            "180",
            "--answer-within",
            "20",
            "--service-level",
            "80%",
            "--json",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"agents", "service_level", "asa_seconds", "occupancy", "traffic_erlangs"}
    assert data["agents"] == 14
    assert data["traffic_erlangs"] == 10.0


@pytest.mark.parametrize("level", ["0.8", "80", "80%"])
def test_staffing_reads_fraction_and_percent_alike(
    level: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["staffing", "--arrivals-per-hour", "720", "--aht-seconds", "240"]
    assert main([*args, "--answer-within", "15", "--service-level", level, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["agents"] == 55


STAFFING = ["staffing", "--arrivals-per-hour", "200", "--aht-seconds", "180"]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        ([*STAFFING, "--answer-within", "20", "--service-level", "100"], "--service-level"),
        ([*STAFFING, "--answer-within", "20", "--service-level", "lots"], "--service-level"),
        ([*STAFFING, "--answer-within", "-3", "--service-level", "80"], "--answer-within"),
        ([*STAFFING, "--answer-within", "soon", "--service-level", "80"], "--answer-within"),
        (
            [
                "staffing",
                "--arrivals-per-hour",
                "0",
                "--aht-seconds",
                "180",
                "--answer-within",
                "20",
                "--service-level",
                "80",
            ],
            "--arrivals-per-hour",
        ),
        ([*STAFFING, "--service-level", "80"], "--answer-within"),
        (["simulate", "--scenario", "mmc", "--policy", "lifo"], "--policy"),
        (["simulate", "--scenario", "moon", "--policy", "fifo"], "--scenario"),
        (["simulate", "--scenario", "mmc", "--policy", "fifo", "--agents", "2"], "--agents"),
        (["simulate", "--scenario", "mmc", "--policy", "fifo", "--hours", "0"], "--hours"),
        (["simulate", "--scenario", "mmc", "--policy", "fifo", "--scale", "2"], "--scale"),
        (["simulate", "--scenario", "mmc", "--policy", "fifo", "--seed", "-1"], "--seed"),
        (
            ["simulate", "--scenario", "double11", "--policy", "fifo", "--agents", "cook=3"],
            "--agents",
        ),
        (
            ["simulate", "--scenario", "double11", "--policy", "fifo", "--aht-seconds", "9"],
            "--aht-seconds",
        ),
        (
            ["simulate", "--scenario", "mmc", "--policy", "fifo", "--html", "/no/such/dir/x.html"],
            "--html",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_it(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert named in lines[0]


def test_simulate_json_and_charts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "day.html"
    argv = ["simulate", "--scenario", "mmc", "--policy", "csdesk", "--seed", "3", "--hours", "2"]
    assert main([*argv, "--json", "--html", str(chart)]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert (data["policy"], data["scenario"], data["seed"]) == ("csdesk", "mmc", 3)
    assert data["roles"]["hotline"]["abandoned"] == 0
    assert "1000/1000" in captured.err  # the progress bar
    page = chart.read_text("utf-8")
    assert page.count("<svg") == 4  # depth and waits, for both policies
    assert "<script" not in page
    assert "http" not in page.replace("http-equiv", "")
    assert ">csdesk<" in page
    assert ">fifo<" in page


def test_simulate_table_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--scenario", "mmc", "--policy", "fifo", "--hours", "1", "--agents", "9"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "policy fifo" in out
    assert "hotline" in out
    assert "mean wait (ASA)" in out
