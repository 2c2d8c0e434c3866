"""Erlang C: the fewest agents meeting "P % of contacts answered within T seconds".

The M/M/N queue (Poisson arrivals at rate λ, exponential handling with mean AHT, N agents,
nobody gives up, first come first served):

* traffic ``A = λ · AHT`` (erlangs: how many agents would be busy on average);
* ``C(N, A)``, the probability that a contact waits at all (Erlang C), computed from the
  Erlang B recursion ``B(0) = 1, B(k) = A·B(k-1) / (k + A·B(k-1))`` and
  ``C = N·B / (N - A·(1 - B))``: no factorials and no powers, so it neither overflows
  nor loses precision at thousands of agents;
* service level ``P(W ≤ T) = 1 - C · exp(-(N - A) · T / AHT)``;
* average speed of answer ``ASA = C · AHT / (N - A)``; occupancy ``A / N``.

Pure: numbers in, numbers out (``csdesk staffing``, the dashboard's "agents needed").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_TRAFFIC_ERLANGS = 100_000.0
"""Far above any shop; it bounds the agent search (about A + a few √A steps)."""


class StaffingInputError(ValueError):
    """An input that makes no sense; ``field`` names the option (``--aht-seconds``)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def traffic_erlangs(arrivals_per_hour: float, aht_seconds: float) -> float:
    return arrivals_per_hour * aht_seconds / 3600.0


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of the loss system M/M/N/N (the recursion's end point)."""
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return blocking


def _c_from_b(agents: int, traffic: float, blocking: float) -> float:
    if agents <= traffic:
        return 1.0  # overloaded: everyone waits (and the queue grows without bound)
    return agents * blocking / (agents - traffic * (1.0 - blocking))


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a contact has to wait (all ``agents`` busy on arrival)."""
    if traffic <= 0:
        return 0.0
    return _c_from_b(agents, traffic, erlang_b(agents, traffic))


def service_level(agents: int, traffic: float, aht_seconds: float, within_s: float) -> float:
    """Share of contacts answered within ``within_s`` seconds."""
    if agents <= traffic:
        return 0.0
    wait = erlang_c(agents, traffic)
    return 1.0 - wait * math.exp(-(agents - traffic) * within_s / aht_seconds)


def asa_seconds(agents: int, traffic: float, aht_seconds: float) -> float:
    """Average speed of answer over all contacts (those answered at once count 0)."""
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht_seconds / (agents - traffic)


@dataclass(frozen=True)
class Staffing:
    """The answer of ``csdesk staffing`` (contract JSON)."""

    agents: int
    service_level: float
    asa_seconds: float
    occupancy: float
    traffic_erlangs: float
    p_wait: float

    def to_json(self) -> dict[str, float | int]:
        return {
            "agents": self.agents,
            "service_level": round(self.service_level, 6),
            "asa_seconds": round(self.asa_seconds, 3),
            "occupancy": round(self.occupancy, 6),
            "traffic_erlangs": round(self.traffic_erlangs, 6),
        }


def parse_service_level(text: str) -> float:
    """A target as a fraction or a percent: ``0.8``, ``80``, ``80%`` and ``80.5 %`` all
    work. Without a ``%`` sign a number up to 1 is a fraction and a larger one a percent
    (so ``1`` is 100 %, which no finite staff reaches: write ``1%`` for one percent)."""
    raw = text.strip()
    percent = raw.endswith("%")
    try:
        value = float(raw.rstrip("%").strip())
    except ValueError:
        raise StaffingInputError(
            "--service-level", f"expected a fraction (0.8) or a percent (80), got {text!r}"
        ) from None
    if not math.isfinite(value):
        raise StaffingInputError("--service-level", f"expected a finite number, got {text!r}")
    fraction = value / 100.0 if percent or value > 1 else value
    if not 0 < fraction < 1:
        raise StaffingInputError(
            "--service-level", f"must be above 0 and below 100 %, got {text!r}"
        )
    return fraction


def agents_needed(
    arrivals_per_hour: float, aht_seconds: float, answer_within_s: float, target: float
) -> Staffing:
    """The fewest agents N > A whose service level reaches ``target`` (a fraction)."""
    if not (math.isfinite(arrivals_per_hour) and arrivals_per_hour > 0):
        raise StaffingInputError("--arrivals-per-hour", "must be a number above 0")
    if not (math.isfinite(aht_seconds) and aht_seconds > 0):
        raise StaffingInputError("--aht-seconds", "must be a number above 0")
    if not (math.isfinite(answer_within_s) and answer_within_s >= 0):
        raise StaffingInputError("--answer-within", "must be a number of seconds >= 0")
    if not 0 < target < 1:
        raise StaffingInputError("--service-level", "must be above 0 and below 100 %")
    traffic = traffic_erlangs(arrivals_per_hour, aht_seconds)
    if traffic > MAX_TRAFFIC_ERLANGS:
        raise StaffingInputError(
            "--arrivals-per-hour",
            f"traffic of {traffic:.0f} erlangs is beyond {MAX_TRAFFIC_ERLANGS:.0f}: "
            "split the queue",
        )
    # Walk N upwards carrying the Erlang B recursion along: O(N) in all.
    agents = math.floor(traffic) + 1
    blocking = erlang_b(agents, traffic)
    while True:
        wait = _c_from_b(agents, traffic, blocking)
        level = 1.0 - wait * math.exp(-(agents - traffic) * answer_within_s / aht_seconds)
        if level >= target:
            return Staffing(
                agents=agents,
                service_level=level,
                asa_seconds=wait * aht_seconds / (agents - traffic),
                occupancy=traffic / agents,
                traffic_erlangs=traffic,
                p_wait=wait,
            )
        agents += 1
        blocking = traffic * blocking / (agents + traffic * blocking)
