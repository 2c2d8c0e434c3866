"""The simulator's double11 comparison as a benchmark: csdesk vs fifo (oldest first), the
default double11 day, seeds 1-3, same staffing; and how long a day takes to simulate
against the 60 s goal (issue 17).

Each run is ``csdesk simulate --scenario double11 --policy P --seed S --json``'s logic
(:class:`csdesk.simulation.engine.Simulation` and :func:`report.to_json`), one run per
process so the two cores are used and each run's wall time is its own.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

SEEDS = (1, 2, 3)
POLICIES = ("csdesk", "fifo")
DAY_GOAL_S = 60.0


def _one(policy: str, seed: int, scale: float) -> dict[str, Any]:
    import time

    from csdesk.simulation.engine import Simulation
    from csdesk.simulation.report import to_json
    from csdesk.simulation.scenarios import DEFAULT_DOUBLE11_AGENTS, DOUBLE11_HOURS, double11

    scenario = double11(agents=DEFAULT_DOUBLE11_AGENTS, hours=DOUBLE11_HOURS, scale=scale)
    started, cpu = time.perf_counter(), time.process_time()
    outcome = Simulation(scenario, policy, seed).run()
    elapsed = time.perf_counter() - started
    return {
        **to_json(outcome),
        "events": outcome.events,
        "elapsed_s": round(elapsed, 1),
        # CPU time too: on a shared machine the wall time stretches with the load.
        "cpu_s": round(time.process_time() - cpu, 1),
    }


def compare(csdesk: dict[str, Any], fifo: dict[str, Any]) -> dict[str, Any]:
    """One seed's row: the acceptance clauses of issue 17, csdesk against fifo."""
    refund_c = csdesk["roles"].get("refund", {}).get("wait_p90_s", 0.0)
    refund_f = fifo["roles"].get("refund", {}).get("wait_p90_s", 0.0)
    served = {
        role: round(csdesk["roles"].get(role, {}).get("served", 0) / row["served"], 3)
        for role, row in fifo["roles"].items()
        if row["served"]
    }
    least_role = min(served, key=lambda r: served[r]) if served else None
    return {
        "seed": csdesk["seed"],
        "refund_p90_s": {"csdesk": refund_c, "fifo": refund_f},
        "refund_p90_ratio": round(refund_c / refund_f, 3) if refund_f else None,
        "deadline_misses": {
            "csdesk": csdesk["refund_deadline_misses"],
            "fifo": fifo["refund_deadline_misses"],
        },
        "recovered_yuan": {"csdesk": csdesk["recovered_gmv"], "fifo": fifo["recovered_gmv"]},
        "least_served": {
            "role": least_role,
            "ratio": served.get(least_role) if least_role else None,
        },
        "events": {"csdesk": csdesk["events"], "fifo": fifo["events"]},
        "elapsed_s": {"csdesk": csdesk["elapsed_s"], "fifo": fifo["elapsed_s"]},
        "cpu_s": {"csdesk": csdesk.get("cpu_s"), "fifo": fifo.get("cpu_s")},
    }


def verdicts(rows: list[dict[str, Any]]) -> dict[str, bool]:
    """Issue 17's clauses over every seed."""
    return {
        "refund_p90_at_most_half": all(
            r["refund_p90_ratio"] is not None and r["refund_p90_ratio"] <= 0.5 for r in rows
        ),
        "refund_p90_at_most_quarter": all(
            r["refund_p90_ratio"] is not None and r["refund_p90_ratio"] <= 0.25 for r in rows
        ),
        "no_more_deadline_misses": all(
            r["deadline_misses"]["csdesk"] <= r["deadline_misses"]["fifo"] for r in rows
        ),
        "no_less_recovered": all(
            r["recovered_yuan"]["csdesk"] >= r["recovered_yuan"]["fifo"] for r in rows
        ),
        "every_role_served_90pc": all(
            r["least_served"]["ratio"] is not None and r["least_served"]["ratio"] >= 0.9
            for r in rows
        ),
    }


def run_simulate_bench(
    seeds: tuple[int, ...] = SEEDS, scale: float = 1.0, workers: int = 2
) -> dict[str, Any]:
    jobs = [(policy, seed) for seed in seeds for policy in POLICIES]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {job: pool.submit(_one, job[0], job[1], scale) for job in jobs}
        outcomes = {job: future.result() for job, future in futures.items()}
    rows = [compare(outcomes[("csdesk", s)], outcomes[("fifo", s)]) for s in seeds]
    day_times = sorted(o["elapsed_s"] for o in outcomes.values())
    cpu_times = sorted(o["cpu_s"] for o in outcomes.values())
    slowest = day_times[-1]
    return {
        "bench": "simulate",
        "scale": scale,
        "seeds": list(seeds),
        "rows": rows,
        "verdicts": verdicts(rows),
        "day_s": {"median": day_times[(len(day_times) - 1) // 2], "max": slowest, "all": day_times},
        "day_cpu_s": {"median": cpu_times[(len(cpu_times) - 1) // 2], "max": cpu_times[-1]},
        "load_average": round(os.getloadavg()[0], 2),
        "day_goal_s": DAY_GOAL_S,
        "workers": workers,
        # The ratio column: the goal time over the slowest day (≥ 1 meets the goal).
        "ratio": round(DAY_GOAL_S / slowest, 3) if slowest else 0.0,
    }
