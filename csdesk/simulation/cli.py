"""``csdesk simulate`` (contract): arguments, and one run or two (``--html`` shows both
policies side by side on the same seed)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

SCENARIOS = ("double11", "mmc")
POLICIES = ("csdesk", "fifo")
MMC_ONLY = ("arrivals_per_hour", "aht_seconds")
DOUBLE11_ONLY = ("scale",)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def add_simulate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", required=True, choices=SCENARIOS)
    p.add_argument("--policy", required=True, choices=POLICIES)
    p.add_argument("--seed", type=_seed, default=1)
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--html", type=Path, default=None, metavar="FILE", help="charts of both policies"
    )
    p.add_argument(
        "--agents",
        default=None,
        help="double11: role=N,... (a+b=N: agents holding both roles); mmc: a number",
    )
    p.add_argument("--hours", type=_float, default=None)
    p.add_argument("--arrivals-per-hour", type=_float, default=None)
    p.add_argument("--aht-seconds", type=_float, default=None)
    p.add_argument("--scale", type=_float, default=None, help="double11: arrival rates × F")


def build_scenario(args: argparse.Namespace) -> object:
    """The scenario the options describe; ``ScenarioError`` names a bad option."""
    from csdesk.simulation import scenarios

    if args.scenario == "mmc":
        for name in DOUBLE11_ONLY:
            if getattr(args, name) is not None:
                raise scenarios.ScenarioError(f"--{name}", "only for --scenario double11")
        agents = 8
        if args.agents is not None:
            try:
                agents = int(args.agents)
            except ValueError:
                raise scenarios.ScenarioError(
                    "--agents", f"mmc takes a number of agents, got {args.agents!r}"
                ) from None
        return scenarios.mmc(
            arrivals_per_hour=120.0 if args.arrivals_per_hour is None else args.arrivals_per_hour,
            aht_seconds=180.0 if args.aht_seconds is None else args.aht_seconds,
            agents=agents,
            hours=8.0 if args.hours is None else args.hours,
        )
    for name in MMC_ONLY:
        if getattr(args, name) is not None:
            raise scenarios.ScenarioError(f"--{name.replace('_', '-')}", "only for --scenario mmc")
    return scenarios.double11(
        agents=scenarios.DEFAULT_DOUBLE11_AGENTS if args.agents is None else args.agents,
        hours=scenarios.DOUBLE11_HOURS if args.hours is None else args.hours,
        scale=1.0 if args.scale is None else args.scale,
    )


def run_simulate(
    args: argparse.Namespace,
    usage_error: type[Exception],
    draw: Callable[[str, int, int], None],
) -> int:
    from csdesk.simulation.charts import page
    from csdesk.simulation.engine import Simulation
    from csdesk.simulation.report import table, to_json
    from csdesk.simulation.scenarios import Scenario, ScenarioError

    try:
        scenario = build_scenario(args)
    except ScenarioError as exc:
        raise usage_error(str(exc)) from None
    assert isinstance(scenario, Scenario)
    if args.html is not None and not args.html.parent.is_dir():
        raise usage_error(f"--html: no directory {str(args.html.parent)!r}")
    policies = [args.policy]
    if args.html is not None:
        policies += [p for p in POLICIES if p != args.policy]
    outcomes = []
    elapsed = 0.0
    for policy in policies:

        def progress(fraction: float, policy: str = policy) -> None:
            draw(f"simulate {policy}", int(fraction * 1000), 1000)

        started = time.perf_counter()
        outcomes.append(Simulation(scenario, policy, args.seed, progress=progress).run())
        if policy == args.policy:
            elapsed = time.perf_counter() - started
    main = outcomes[0]
    if args.html is not None:
        args.html.write_text(
            page(sorted(outcomes, key=lambda o: POLICIES.index(o.policy))), "utf-8"
        )
        print(f"charts: {args.html}", file=sys.stderr)
    if args.json:
        print(json.dumps(to_json(main), ensure_ascii=False))
    else:
        print(table(main, elapsed))
    return 0
