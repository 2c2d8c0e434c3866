"""The outcome as the contract's JSON and as a readable table."""

from __future__ import annotations

from typing import Any

from csdesk.simulation.engine import Outcome, percentile
from csdesk.storage.enums import ServiceRole


def role_json(outcome: Outcome) -> dict[str, dict[str, Any]]:
    roles: dict[str, dict[str, Any]] = {}
    for role in ServiceRole:
        stats = outcome.roles[role.value]
        if not stats.arrivals:
            continue
        waits = stats.waits
        roles[role.value] = {
            "arrivals": stats.arrivals,
            "served": stats.served,
            "abandoned": stats.abandoned,
            "wait_p50_s": round(percentile(waits, 0.5), 1),
            "wait_p90_s": round(percentile(waits, 0.9), 1),
            "wait_max_s": round(percentile(waits, 1.0), 1),
            "sla_breaches": stats.sla_breaches,
        }
    return roles


def to_json(outcome: Outcome) -> dict[str, Any]:
    """``{"policy", "scenario", "seed", "roles", "refund_deadline_misses", "recovered_gmv",
    "asa_s", "p_wait"}`` (contract). ``recovered_gmv`` is in yuan."""
    waits = [w for stats in outcome.roles.values() for w in stats.waits]
    arrivals = len(waits)
    return {
        "policy": outcome.policy,
        "scenario": outcome.scenario,
        "seed": outcome.seed,
        "roles": role_json(outcome),
        "refund_deadline_misses": outcome.refund_deadline_misses,
        "recovered_gmv": round(outcome.recovered_fen / 100, 2),
        "asa_s": round(sum(waits) / arrivals, 3) if arrivals else 0.0,
        "p_wait": round(sum(1 for w in waits if w > 0) / arrivals, 6) if arrivals else 0.0,
    }


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def table(outcome: Outcome, elapsed_s: float | None = None) -> str:
    data = to_json(outcome)
    header = (
        f"{'role':<18} {'arrivals':>9} {'served':>9} {'abandoned':>9} "
        f"{'p50':>7} {'p90':>7} {'max':>7} {'SLA miss':>9}"
    )
    lines = [
        f"scenario {outcome.scenario} · policy {outcome.policy} · seed {outcome.seed}"
        f" · {outcome.events:,} events"
        + (f" in {elapsed_s:.1f}s" if elapsed_s is not None else ""),
        header,
        "-" * len(header),
    ]
    for role, row in data["roles"].items():
        lines.append(
            f"{role:<18} {row['arrivals']:>9,} {row['served']:>9,} {row['abandoned']:>9,} "
            f"{_duration(row['wait_p50_s']):>7} {_duration(row['wait_p90_s']):>7} "
            f"{_duration(row['wait_max_s']):>7} {row['sla_breaches']:>9,}"
        )
    lines += [
        "-" * len(header),
        f"waited at all {data['p_wait']:.1%} · mean wait (ASA) {data['asa_s']:.1f}s · "
        f"refund deadline misses {data['refund_deadline_misses']:,} · "
        f"recovered by chasing ¥{data['recovered_gmv']:,.2f}",
    ]
    return "\n".join(lines)
