"""What-if (模拟推演): the shop's own day as a scenario, with the owner's adjustments.

Pure: :func:`build` takes the facts ``csdesk.reads.whatif.shop_facts`` loaded (roster,
last week's arrivals per stream and local hour, measured handle times, routing rules) and
the adjustments (:func:`parse_adjustments`: roster changes per role from a local hour,
arrivals × a factor, a promotion profile, the policy, the seed, the hours) and returns
the engine's :class:`~csdesk.simulation.scenarios.Scenario`. No I/O, no clock.

How the shop's data becomes a scenario (docs/simulation.md, "What-if"):

* arrivals: each stream's count per local hour of day over the window, divided by the
  days, is its rate in that hour; the simulated day starts at ``now``'s local hour;
* roster: agents holding overlapping sets of roles form one group holding all of them
  (the engine lets a role belong to one group), as many on shift as are on shift now
  (a roster shift covering now, or signed in); when nobody is on shift, every agent
  counts (a shop that keeps no roster);
* handle times: the measured mean per item kind where at least ``MIN_HANDLE_SAMPLES``
  items closed in the window, else the simulator's default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Final
from zoneinfo import ZoneInfo

from csdesk.errors import BadInputError
from csdesk.reads.whatif import AgentFact, ShopFacts
from csdesk.roles.triage_rules import Intent
from csdesk.simulation.scenarios import HandleTime, RosterChange, RosterGroup, Scenario, Stream
from csdesk.storage.enums import ServiceRole

POLICIES: Final = ("csdesk", "fifo")
MAX_HOURS: Final = 48
MIN_SCALE: Final = 0.1
MAX_SCALE: Final = 5.0
MAX_DELTA: Final = 50
MAX_CHANGES: Final = 12
MAX_SEED: Final = 2**31 - 1
MAX_EXPECTED_ARRIVALS: Final = 40_000
"""Arrivals one run may expect (both runs of a comparison together). Measured here: a
busy shop's day with changes (54k expected arrivals, 165k events, both runs) took 14.1 s
of CPU, about 3,800 arrivals a second, so a run stays near 10 s of CPU, about half a
minute of wall time on this shared 2-core box. A bigger scenario ends failed, saying so,
rather than holding a core for minutes."""
MIN_HANDLE_SAMPLES: Final = 5
ROLE_KEYS: Final = frozenset(r.value for r in ServiceRole)
DEFAULT_HANDLE: Final[Mapping[str, HandleTime]] = MappingProxyType(
    {
        "chat": HandleTime(300.0, 0.7),
        "call": HandleTime(240.0, 0.6),
        "callback": HandleTime(180.0, 0.6),
        "proactive_call": HandleTime(180.0, 0.6),
        "phone_chase": HandleTime(150.0, 0.6),
        "payment_chase": HandleTime(120.0, 0.6),
        "order_check": HandleTime(240.0, 0.6),
        "refund_review": HandleTime(300.0, 0.7),
        "default": HandleTime(240.0, 0.6),
    }
)
"""The simulator's defaults (``scenarios.double11``'s), where the shop measured too little."""


@dataclass(frozen=True)
class RoleChange:
    """``delta`` more agents on ``role`` from ``from_hour`` o'clock, shop time."""

    role: ServiceRole
    delta: int
    from_hour: int

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role.value, "delta": self.delta, "from_hour": self.from_hour}


@dataclass(frozen=True)
class Adjustments:
    roster_changes: tuple[RoleChange, ...] = ()
    scale: float = 1.0
    hours: int = 24
    policy: str = "csdesk"
    seed: int = 1
    promotion: str | None = None
    """A promotion profile to simulate under; None: the one live now, if any."""

    @property
    def is_baseline(self) -> bool:
        return not self.roster_changes and self.scale == 1.0

    def baseline(self) -> Adjustments:
        """The same day with the shop as it is: same policy, seed, hours and promotion."""
        return replace(self, roster_changes=(), scale=1.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "roster_changes": [c.to_json() for c in self.roster_changes],
            "scale": self.scale,
            "hours": self.hours,
            "policy": self.policy,
            "seed": self.seed,
            "promotion": self.promotion,
        }


def _number(body: Mapping[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInputError(name, f"{name} must be a number")
    if not low <= value <= high:
        raise BadInputError(name, f"{name} must be between {low:g} and {high:g}")
    return float(value)


def _whole(
    body: Mapping[str, Any], name: str, default: int, low: int, high: int, where: str = ""
) -> int:
    value = body.get(name, default)
    if value is None:
        return default
    field = f"{where}{name}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInputError(field, f"{name} must be a whole number")
    if not low <= value <= high:
        raise BadInputError(field, f"{name} must be between {low} and {high}")
    return value


def parse_adjustments(body: Mapping[str, Any]) -> Adjustments:
    """The request's adjustments; a bad one is a ``BadInputError`` naming its field
    (``roster_changes[1].from_hour``)."""
    if not isinstance(body, Mapping):
        raise BadInputError("body", "expected a JSON object")
    known = {"roster_changes", "scale", "hours", "policy", "seed", "promotion"}
    for key in body:
        if key not in known:
            raise BadInputError(str(key), f"unknown field {key!r}")
    raw_changes = body.get("roster_changes")
    if raw_changes is None:
        raw_changes = []
    if not isinstance(raw_changes, list):
        raise BadInputError("roster_changes", "roster_changes must be a list")
    if len(raw_changes) > MAX_CHANGES:
        raise BadInputError("roster_changes", f"at most {MAX_CHANGES} roster changes")
    changes: list[RoleChange] = []
    for index, raw in enumerate(raw_changes):
        where = f"roster_changes[{index}]"
        if not isinstance(raw, Mapping):
            raise BadInputError(where, "expected an object {role, delta, from_hour}")
        for key in raw:
            if key not in ("role", "delta", "from_hour"):
                raise BadInputError(f"{where}.{key}", f"unknown field {key!r}")
        try:
            role = ServiceRole(str(raw.get("role")))
        except ValueError:
            known_roles = ", ".join(r.value for r in ServiceRole)
            raise BadInputError(f"{where}.role", f"role must be one of {known_roles}") from None
        delta = _whole(raw, "delta", 0, -MAX_DELTA, MAX_DELTA, f"{where}.")
        if delta == 0:
            raise BadInputError(
                f"{where}.delta",
                f"delta must be a whole number from -{MAX_DELTA} to {MAX_DELTA}, not 0",
            )
        if "from_hour" not in raw:
            raise BadInputError(f"{where}.from_hour", "from_hour (0-23, shop time) is required")
        from_hour = _whole(raw, "from_hour", 0, 0, 23, f"{where}.")
        changes.append(RoleChange(role, delta, from_hour))
    policy = body.get("policy", "csdesk")
    if policy not in POLICIES:
        raise BadInputError("policy", "policy must be csdesk or fifo")
    promotion = body.get("promotion")
    if promotion is not None and (not isinstance(promotion, str) or not 1 <= len(promotion) <= 32):
        raise BadInputError("promotion", "promotion must be a profile key or null")
    scale = _number(body, "scale", 1.0, MIN_SCALE, MAX_SCALE)
    seed = _whole(body, "seed", 1, 0, MAX_SEED)
    if body.get("hours") is None:
        raise BadInputError("hours", f"hours (1-{MAX_HOURS}) is required")
    return Adjustments(
        roster_changes=tuple(changes),
        scale=scale,
        hours=_whole(body, "hours", 24, 1, MAX_HOURS),
        policy=str(policy),
        seed=seed,
        promotion=promotion or None,
    )


def roster_groups(agents: Sequence[AgentFact]) -> tuple[RosterGroup, ...]:
    """Agents on shift grouped so that every role lies in one group: sets of roles that
    share a role merge (one agent holding refund and triage joins the refund-only and the
    triage-only agents into one group). Every agent counts when none is on shift."""
    staffed = [a for a in agents if a.on_shift and a.roles] or [a for a in agents if a.roles]
    groups: list[tuple[set[ServiceRole], int]] = []
    for agent in staffed:
        roles = {ServiceRole(r) for r in agent.roles if r in ROLE_KEYS}
        if not roles:
            continue
        count = 1
        for group in [g for g in groups if g[0] & roles]:
            groups.remove(group)
            roles |= group[0]
            count += group[1]
        groups.append((roles, count))
    order = list(ServiceRole)
    groups.sort(key=lambda g: min(order.index(r) for r in g[0]))
    return tuple(RosterGroup(frozenset(roles), count) for roles, count in groups)


def _with_missing_roles(
    groups: tuple[RosterGroup, ...], changes: Sequence[RoleChange]
) -> tuple[RosterGroup, ...]:
    """A role the owner adds people to but nobody holds yet gets a group of its own
    (starting empty), so "+2 on hotline from 20:00" works in a shop without a hotline."""
    held = {r for g in groups for r in g.roles}
    extra = []
    for change in changes:
        if change.role not in held and change.delta > 0:
            extra.append(RosterGroup(frozenset({change.role}), 0))
            held.add(change.role)
    return groups + tuple(extra)


def expected_arrivals(scenario: Scenario) -> float:
    hours = math.ceil(scenario.hours)
    return sum(s.rate_at(h) for s in scenario.streams for h in range(hours))


def build(facts: ShopFacts, adjustments: Adjustments) -> Scenario:
    """The shop's next ``hours`` hours from ``facts.now``'s local hour, adjusted."""
    zone = ZoneInfo(facts.timezone)
    start = facts.now.replace(minute=0, second=0, microsecond=0)
    first_hour = start.astimezone(zone).hour
    days = max(1, facts.days)
    streams = []
    for name in sorted(facts.arrivals):
        counts = facts.arrivals[name]
        per_hour = tuple(
            counts[(first_hour + h) % 24] / days * adjustments.scale
            for h in range(adjustments.hours)
        )
        intent = None
        if name.startswith("chat:"):
            try:
                intent = Intent(name.removeprefix("chat:"))
            except ValueError:
                intent = Intent.OTHER
        streams.append(Stream(name, per_hour, intent))
    handle = dict(DEFAULT_HANDLE)
    for kind, measured in facts.handle.items():
        if measured.samples >= MIN_HANDLE_SAMPLES and measured.mean_s > 0 and kind in handle:
            handle[kind] = replace(handle[kind], mean_s=measured.mean_s)
    groups = _with_missing_roles(roster_groups(facts.agents), adjustments.roster_changes)
    changes = tuple(
        RosterChange(c.role, float((c.from_hour - first_hour) % 24), c.delta)
        for c in adjustments.roster_changes
    )
    capacities = [a.chat_capacity for a in facts.agents if a.chat_capacity > 0]
    return Scenario(
        name="whatif",
        start=start,
        hours=float(adjustments.hours),
        streams=tuple(streams),
        roster=groups,
        handle=MappingProxyType(handle),
        chat_capacity=round(sum(capacities) / len(capacities)) if capacities else 5,
        shift_hours=0.0,
        promotion=adjustments.promotion or facts.promotion,
        vip_share=0.05,
        roster_changes=tuple(c for c in changes if c.from_hour < adjustments.hours),
    )


def describe(scenario: Scenario, timezone: str) -> dict[str, Any]:
    """What the run simulated, for the page: start (shop time), hours, who is on shift per
    group, the expected arrivals per stream, the handle times used."""
    return {
        "start": scenario.start.astimezone(ZoneInfo(timezone)).isoformat(),
        "hours": scenario.hours,
        "roster": {group.key: group.count for group in scenario.roster},
        "roster_changes": [
            {"role": c.role.value, "from_hour": c.from_hour, "delta": c.delta}
            for c in scenario.roster_changes
        ],
        "expected_arrivals": {
            s.name: round(sum(s.rate_at(h) for h in range(math.ceil(scenario.hours))), 1)
            for s in scenario.streams
        },
        "handle_s": {kind: round(h.mean_s, 1) for kind, h in scenario.handle.items()},
        "promotion": scenario.promotion,
    }
