"""``csdesk bench --only``: merging a partial rerun into the last results, and bad names."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from csdesk.cli import main

CHECKOUT = Path(__file__).resolve().parents[2]
if str(CHECKOUT) not in sys.path:
    sys.path.insert(0, str(CHECKOUT))

from bench.run import NAMES, merge_results, parse_only, previous_results  # noqa: E402


def _result(name: str, ratio: float, run_at: str) -> dict[str, Any]:
    return {"bench": name, "ratio": ratio, "run_at": run_at}


OLD = "2026-11-23 06:34 UTC"
NEW = "2026-12-07 14:00 UTC"


@pytest.mark.parametrize(
    ("previous", "fresh", "expected"),
    [
        # The rerun one replaced, the others kept with their own time, table order.
        (
            [_result("ingest_embedded", 0.58, OLD), _result("claims", 0.75, OLD)],
            [_result("claims", 0.8, NEW)],
            [("ingest_embedded", 0.58, OLD), ("claims", 0.8, NEW)],
        ),
        # A benchmark never measured before joins in its place in the table.
        (
            [_result("live", 0.02, OLD), _result("routing_decisions", 0.07, OLD)],
            [_result("qc_sampling", 0.3, NEW), _result("qc_check", 0.005, NEW)],
            [
                ("routing_decisions", 0.07, OLD),
                ("live", 0.02, OLD),
                ("qc_check", 0.005, NEW),
                ("qc_sampling", 0.3, NEW),
            ],
        ),
        # No previous doc: only the fresh ones.
        ([], [_result("qc_check", 0.005, NEW)], [("qc_check", 0.005, NEW)]),
    ],
)
def test_merge_keeps_the_rows_not_rerun(
    previous: list[dict[str, Any]],
    fresh: list[dict[str, Any]],
    expected: list[tuple[str, float, str]],
) -> None:
    merged = merge_results(previous, fresh)
    assert [(r["bench"], r["ratio"], r["run_at"]) for r in merged] == expected


def test_previous_results_take_the_doc_run_time_when_they_have_none() -> None:
    raw = [{"bench": "claims", "ratio": 0.75}, _result("qc_check", 0.005, NEW)]
    doc = f"# Performance\n\n- run: {OLD}\n\n## Raw results\n\n```json\n{json.dumps(raw)}\n```\n"
    assert [(r["bench"], r["run_at"]) for r in previous_results(doc)] == [
        ("claims", OLD),
        ("qc_check", NEW),
    ]
    assert previous_results("# Performance\n") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("qc_check,qc_sampling", {"qc_check", "qc_sampling"}),
        (" claims ", {"claims"}),
        (",".join(NAMES), set(NAMES)),
    ],
)
def test_parse_only_accepts_the_benchmark_names(text: str, expected: set[str]) -> None:
    assert parse_only(text) == expected


@pytest.mark.parametrize("text", ["qc_check,nope", "", "qc_check,", "QC_CHECK"])
def test_bad_names_exit_2_in_one_line(
    text: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CHECKOUT)  # csdesk bench finds bench/ in the checkout
    assert main(["bench", "--only", text]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--only: unknown benchmark" in err
    assert repr(text.split(",")[-1].strip()) in err  # the first unknown name
