"""The benchmarks' pure helpers: percentiles, medians, the steady window of a load phase,
the routed search's next offer, wrk's report, and the simulator comparison's verdicts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
if str(CHECKOUT) not in sys.path:
    sys.path.insert(0, str(CHECKOUT))

from bench.procs import parse_wrk  # noqa: E402
from bench.simulate import compare, verdicts  # noqa: E402
from bench.stats import (  # noqa: E402
    Sample,
    is_flat,
    median,
    next_rate,
    percentile,
    steady_window,
)


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_median_is_a_real_run_the_lower_one_when_even() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.0


def test_steady_window_skips_the_start_and_measures_the_backlog() -> None:
    samples = [
        Sample(0.0, 0, 0),
        Sample(1.0, 100, 10),  # start-up: excluded
        Sample(3.0, 300, 200),
        Sample(8.0, 800, 600),
    ]
    window = steady_window(samples, skip_s=2.0)
    assert window.seconds == 5.0
    assert window.accepted_per_s == 100.0
    assert window.applied_per_s == 80.0
    assert (window.backlog_start, window.backlog_end) == (100, 200)
    assert window.backlog_growth_per_s == 20.0
    assert not is_flat(window, offered_per_s=100.0)
    with pytest.raises(ValueError, match="two samples"):
        steady_window(samples[:2], skip_s=2.0)


def test_a_backlog_that_holds_is_flat_and_a_growing_one_lowers_the_offer() -> None:
    flat = steady_window([Sample(3.0, 300, 290), Sample(13.0, 1300, 1285)], skip_s=3.0)
    assert is_flat(flat, offered_per_s=100.0)  # 0.5/s growth: a batch in flight
    growing = steady_window([Sample(3.0, 300, 290), Sample(13.0, 1300, 690)], skip_s=3.0)
    assert not is_flat(growing, offered_per_s=100.0)
    assert next_rate(100.0, growing) == pytest.approx(36.0)  # 90 % of the 40/s applied
    # Applied close to the offer: at most 80 % of the last offer, so the search moves.
    # The table's backlog holds but the door fell behind (60 of 100/s accepted): not flat.
    door = steady_window([Sample(3.0, 300, 290), Sample(13.0, 900, 885)], skip_s=3.0)
    assert not is_flat(door, offered_per_s=100.0)
    near = steady_window([Sample(3.0, 300, 290), Sample(13.0, 1300, 1190)], skip_s=3.0)
    assert next_rate(100.0, near) == pytest.approx(80.0)


WRK_OUTPUT = """Running 6s test @ http://127.0.0.1:1/api/v1/events
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.46ms    1.23ms  26.01ms   87.29%
    Req/Sec     3.61k   322.22     4.21k    74.00%
  Latency Distribution
     50%  812.00us
     75%    4.71ms
     90%    5.59ms
     99%    1.20s
  36013 requests in 6.00s, 5.63MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 12
Requests/sec:   6002.17
Transfer/sec:      1.13MB
"""


def test_wrk_report_parsed_with_its_units() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert result.requests == 36013
    assert result.seconds == 6.0
    assert result.per_second == pytest.approx(6002.17, rel=1e-3)
    assert result.p50_ms == pytest.approx(0.812)
    assert result.p99_ms == pytest.approx(1200.0)
    assert (result.non_2xx, result.errors) == (12, 3)
    with pytest.raises(ValueError, match="no request count"):
        parse_wrk("wrk: connection refused")


def _outcome(
    policy: str, refund_p90: float, misses: int, gmv: float, served: int
) -> dict[str, Any]:
    return {
        "policy": policy,
        "seed": 1,
        "roles": {
            "refund": {"wait_p90_s": refund_p90, "served": 1000},
            "presales": {"wait_p90_s": 3.0, "served": served},
        },
        "refund_deadline_misses": misses,
        "recovered_gmv": gmv,
        "events": 10,
        "elapsed_s": 1.0,
    }


def test_simulator_comparison_states_each_clause() -> None:
    row = compare(_outcome("csdesk", 5.0, 0, 90.0, 950), _outcome("fifo", 100.0, 0, 100.0, 1000))
    assert row["refund_p90_ratio"] == 0.05
    assert row["least_served"] == {"role": "presales", "ratio": 0.95}
    v = verdicts([row])
    assert v["refund_p90_at_most_half"]
    assert v["refund_p90_at_most_quarter"]
    assert v["no_more_deadline_misses"]
    assert v["every_role_served_90pc"]
    assert not v["no_less_recovered"]
    worse = compare(_outcome("csdesk", 60.0, 2, 100.0, 800), _outcome("fifo", 100.0, 1, 90.0, 1000))
    v = verdicts([row, worse])
    assert not v["refund_p90_at_most_half"]
    assert not v["no_more_deadline_misses"]
    assert not v["every_role_served_90pc"]


def test_profile_summary_counts_each_function_once_a_stack() -> None:
    from bench.stats import profile_summary

    raw = (
        "run (/x/csdesk/ingest/processor.py:10);handle (/x/csdesk/ingest/engine.py:5);"
        "classify (/x/roles/triage.py:3) 6\n"
        "run (/x/csdesk/ingest/processor.py:10);run (/x/csdesk/ingest/processor.py:12) 2\n"
        "select (/usr/lib/python3.12/selectors.py:468) 2\n"
    )
    summary = profile_summary(raw)
    inclusive = dict(summary["inclusive"])
    assert inclusive["ingest/processor.py:run"] == 80.0  # once per stack, not twice
    assert inclusive["/x/roles/triage.py:classify"] == 60.0
    assert [share for name, share in summary["self"] if "selectors.py:select" in name] == [20.0]
    assert profile_summary("") == {"inclusive": [], "self": []}
