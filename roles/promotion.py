"""Promotion mode (大促模式), pure: what a live profile changes, when a schedule switches it,
and how a stored score follows a switch.

A profile (``config.PromotionProfile``: 双十一, 618, 聚划算, or the shop's own) is live when
``Shop.config["promotion"]`` names it. It is switched by hand (the shop's rules, the
promotions page) or by a schedule entry, whose start and end a job watches
(``actions.promotions.apply_schedules``). While live:

* score weights: ``role_points`` add to every item of the role (``scoring.static_score``;
  items already open are re-scored at the switch with :func:`repromote`);
* capacities: ``chat_capacity_extra`` more chats per agent (``routing.facts.agent_facts``);
* SLA targets and chase quiet hours: the shop's configuration with the profile's values
  (:func:`effective_routing`), so staffing, QC and chasing read them like any setting;
* role swaps: refund reviewers also take processing, and anyone on shift takes simple
  after-sales (how-to) questions (``routing.assignment``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from csdesk.clock import require_aware
from csdesk.roles.config import PromotionProfile, RoutingConfig
from csdesk.roles.scoring import ROLE_ZH, fmt_points
from csdesk.storage.enums import ServiceRole

FACTOR = "promotion"
"""The score factor a live profile adds (``ScoreReason.factor``)."""
_BEFORE_EXTRAS = ("role", "intent", "risk", "order_value", "buyer_tier")
"""The factors ``static_score`` lists before the promotion's (it comes right after them)."""


def profile_of(routing: RoutingConfig, name: str | None) -> PromotionProfile | None:
    """The profile called ``name`` (None when no promotion is live or it is unknown)."""
    if name is None:
        return None
    return routing.scoring.promotions.get(name)


def label_of(routing: RoutingConfig, name: str) -> str:
    profile = profile_of(routing, name)
    return (profile.label if profile is not None else "") or name


def effective_routing(routing: RoutingConfig, name: str | None) -> RoutingConfig:
    """The shop's configuration while ``name`` is live: its SLA targets and chase quiet
    hours in place of the everyday ones (``routing`` itself when nothing changes)."""
    profile = profile_of(routing, name)
    if profile is None:
        return routing
    changed = routing
    if profile.first_response_s:
        targets = dict(routing.sla.first_response_s)
        targets.update(profile.first_response_s)
        sla = dataclasses.replace(routing.sla, first_response_s=MappingProxyType(targets))
        changed = dataclasses.replace(changed, sla=sla)
    if profile.chase_quiet_start is not None and profile.chase_quiet_end is not None:
        chasing = dataclasses.replace(
            routing.payment_chasing,
            quiet_start=profile.chase_quiet_start,
            quiet_end=profile.chase_quiet_end,
        )
        changed = dataclasses.replace(changed, payment_chasing=chasing)
    return changed


def promotion_reason(name: str, role: ServiceRole, points: float) -> dict[str, Any]:
    """The breakdown entry ``static_score`` writes for a live profile (same wording)."""
    return {
        "factor": FACTOR,
        "points": points,
        "reason": f"大促 {name}: {ROLE_ZH[role]} {fmt_points(points)}",
    }


@dataclass(frozen=True)
class Rescored:
    points: float
    breakdown: list[dict[str, Any]]


def repromote(
    points: float,
    breakdown: Sequence[Mapping[str, Any]],
    role: str,
    name: str | None,
    routing: RoutingConfig,
) -> Rescored | None:
    """An open item's stored static score after the live promotion became ``name`` (None:
    no promotion): the old profile's points out, the new one's in, every other factor
    kept. None when nothing changes (the role gets the same points, or none from both)."""
    try:
        service_role = ServiceRole(role)
    except ValueError:
        return None
    profile = profile_of(routing, name)
    bonus = profile.role_points.get(service_role, 0.0) if profile is not None else 0.0
    old = [entry for entry in breakdown if entry.get("factor") == FACTOR]
    old_points = sum(float(entry.get("points", 0.0)) for entry in old)
    new_entry = promotion_reason(name, service_role, bonus) if name and bonus else None
    if new_entry is None and not old:
        return None
    if len(old) == 1 and new_entry is not None and dict(old[0]) == new_entry:
        return None
    kept = [dict(entry) for entry in breakdown if entry.get("factor") != FACTOR]
    if new_entry is not None:
        at = 0
        for i, entry in enumerate(kept):
            if entry.get("factor") in _BEFORE_EXTRAS:
                at = i + 1
        kept.insert(at, new_entry)
    return Rescored(points - old_points + bonus, kept)


# --- schedules ------------------------------------------------------------------------------


class ScheduleStatus(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"
    MISSED = "missed"
    """Its whole window passed while nothing ran (the desk was down): never switched on."""


OPEN_STATUSES = (ScheduleStatus.SCHEDULED, ScheduleStatus.LIVE)


@dataclass(frozen=True)
class ScheduleEntry:
    id: int
    profile: str
    starts_at: datetime
    ends_at: datetime
    status: ScheduleStatus


@dataclass(frozen=True)
class ScheduleStep:
    """What the switch job does for one entry: its new status, and the promotion the shop
    goes live with (``switch``: False leaves the live promotion as it is)."""

    entry_id: int
    status: ScheduleStatus
    switch: bool
    live: str | None


def schedule_steps(
    entries: Iterable[ScheduleEntry], live: str | None, now: datetime
) -> list[ScheduleStep]:
    """The switches due at ``now``, in order: ends before starts (a profile that ends as
    the next begins hands over), each start at most once.

    * a live entry whose end has come ends; the promotion goes off only if it is still
      the entry's profile (a promotion someone switched by hand meanwhile stays);
    * a scheduled entry whose start has come goes live, and so does its profile;
    * a scheduled entry whose end has also passed was missed (never switched on).
    """
    now = require_aware(now)
    steps: list[ScheduleStep] = []
    ordered = sorted(entries, key=lambda e: (e.starts_at, e.id))
    for entry in ordered:
        if entry.status is ScheduleStatus.LIVE and require_aware(entry.ends_at) <= now:
            off = live == entry.profile
            if off:
                live = None
            steps.append(ScheduleStep(entry.id, ScheduleStatus.ENDED, off, live))
    for entry in ordered:
        if entry.status is not ScheduleStatus.SCHEDULED:
            continue
        if require_aware(entry.ends_at) <= now:
            steps.append(ScheduleStep(entry.id, ScheduleStatus.MISSED, False, live))
        elif require_aware(entry.starts_at) <= now:
            live = entry.profile
            steps.append(ScheduleStep(entry.id, ScheduleStatus.LIVE, True, live))
    return steps


def overlapping(
    entries: Iterable[ScheduleEntry], starts_at: datetime, ends_at: datetime
) -> ScheduleEntry | None:
    """The first open entry whose window meets [starts_at, ends_at): two promotions
    cannot be live at once."""
    for entry in sorted(entries, key=lambda e: (e.starts_at, e.id)):
        if entry.status not in OPEN_STATUSES:
            continue
        if entry.starts_at < ends_at and starts_at < entry.ends_at:
            return entry
    return None


__all__ = [
    "FACTOR",
    "OPEN_STATUSES",
    "Rescored",
    "ScheduleEntry",
    "ScheduleStatus",
    "ScheduleStep",
    "effective_routing",
    "label_of",
    "overlapping",
    "profile_of",
    "promotion_reason",
    "repromote",
    "schedule_steps",
]
