"""What-if runs (模拟推演): the job that simulates a run asked for from the console.

The simulation is CPU work for up to half a minute: it runs in a worker thread
(``asyncio.to_thread``), so the event loop keeps serving (its own slices of the GIL
between the simulator's bytecodes) while this coroutine writes the progress the thread
reports, about once a second. Embedded, the loop is the web process's; in server mode,
the arq worker's."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Final

from csdesk.actions import whatif as whatif_actions
from csdesk.actions.outbox import Deps
from csdesk.errors import BadInputError
from csdesk.jobs.base import JobContext, job_now
from csdesk.reads.whatif import ShopFacts, shop_facts, stranded_runs
from csdesk.simulation import whatif
from csdesk.simulation.charts import svg_pair
from csdesk.simulation.engine import Outcome, Simulation
from csdesk.simulation.report import to_json
from csdesk.simulation.scenarios import Scenario

log = logging.getLogger(__name__)
PROGRESS_EVERY_S: Final = 1.0
RUN_WHATIF: Final = "run_whatif"


def whatif_job_id(run_id: int) -> str:
    return f"whatif:{run_id}"


class TooBigError(ValueError):
    """The scenario expects more arrivals than one run may simulate."""


def plan(facts: ShopFacts, adjustments: whatif.Adjustments) -> list[tuple[str, Scenario]]:
    """The runs to make: the adjusted day, and the day as it is when anything changed."""
    runs = [("adjusted", whatif.build(facts, adjustments))]
    if not adjustments.is_baseline:
        runs.insert(0, ("baseline", whatif.build(facts, adjustments.baseline())))
    expected = sum(whatif.expected_arrivals(s) for _, s in runs)
    if expected > whatif.MAX_EXPECTED_ARRIVALS:
        raise TooBigError(
            f"about {expected:,.0f} arrivals expected, at most "
            f"{whatif.MAX_EXPECTED_ARRIVALS:,} per run: fewer hours or a smaller scale"
        )
    return runs


def simulate(
    facts: ShopFacts,
    runs: list[tuple[str, Scenario]],
    adjustments: whatif.Adjustments,
    progress: list[float],
) -> dict[str, Any]:
    """Blocking: every run of the plan, then the result to store (runs in a thread)."""
    weights = [max(1.0, whatif.expected_arrivals(s)) for _, s in runs]
    total = sum(weights)
    outcomes: list[Outcome] = []
    done = 0.0
    started = time.perf_counter()
    for (_, scenario), weight in zip(runs, weights, strict=True):

        def report(fraction: float, done: float = done, weight: float = weight) -> None:
            progress[0] = (done + fraction * weight) / total

        outcomes.append(
            Simulation(
                scenario,
                adjustments.policy,
                adjustments.seed,
                routing=facts.routing,
                assignment=facts.assignment,
                progress=report,
            ).run()
        )
        done += weight
    charts = svg_pair(outcomes, facts.routing.tz)
    result: dict[str, Any] = {"baseline": None}
    for (name, scenario), outcome, chart in zip(runs, outcomes, charts, strict=True):
        result[name] = {
            **to_json(outcome),
            "events": outcome.events,
            "charts": chart,
            "scenario": whatif.describe(scenario, facts.timezone),
        }
    result["elapsed_s"] = round(time.perf_counter() - started, 2)
    result["history_days"] = facts.days
    return result


async def run_whatif(ctx: JobContext, run_id: int) -> int:
    """1 when the run ended (done or failed), 0 when another job has it or it was over."""
    deps = Deps(sessions=ctx["sessions"], bus=ctx["bus"], queue=ctx["queue"])
    started = await whatif_actions.start_run(deps, run_id, job_now(ctx))
    if started is None:
        return 0
    try:
        adjustments = whatif.parse_adjustments(started.parameters)
        facts = await shop_facts(ctx["sessions"], started.shop_id, job_now(ctx))
        runs = plan(facts, adjustments)
        progress = [0.0]
        work = asyncio.create_task(asyncio.to_thread(simulate, facts, runs, adjustments, progress))
        reported = -1
        while not work.done():
            await asyncio.wait({work}, timeout=PROGRESS_EVERY_S)
            percent = int(progress[0] * 100)
            if percent != reported and not work.done():
                reported = percent
                await whatif_actions.record_progress(deps, run_id, percent)
        result = work.result()
    except (TooBigError, BadInputError) as exc:
        await whatif_actions.fail_run(deps, run_id, str(exc), job_now(ctx))
        return 1
    except Exception as exc:
        log.exception("what-if run %s failed", run_id)
        await whatif_actions.fail_run(deps, run_id, f"{type(exc).__name__}: {exc}", job_now(ctx))
        return 1
    await whatif_actions.finish_run(deps, run_id, result, job_now(ctx))
    return 1


async def whatif_sweep(ctx: JobContext) -> int:
    """Runs whose job was lost (queued or running for too long): their job enqueued again
    (a no-op while the first one is still pending or running). Returns how many."""
    runner = ctx.get("jobs")
    ids = await stranded_runs(ctx["sessions"], job_now(ctx))
    if runner is None:
        return 0
    for run_id in ids:
        await runner.enqueue(RUN_WHATIF, run_id, job_id=whatif_job_id(run_id))
    return len(ids)
