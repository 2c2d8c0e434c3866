"""When QC findings assign a course (课程分配规则): "``forbidden_phrase`` twice in 14 days →
服务用语", per shop.

A finding counts once it **stands**: the agent acknowledged it, the QC lead upheld or
amended it (and it still costs points), or the answer window closed without a dispute. A
finding that is open (the agent may still dispute it), disputed (waiting for the lead) or
reversed does not count. Findings count by when the chat happened, within the rule's window
before ``now``, and only those after the agent last passed the same course: a course
already taken is not assigned again for the findings it answered.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from csdesk.training.courses import CourseError

MAX_THRESHOLD: Final = 50
MAX_WINDOW_DAYS: Final = 365
MAX_DUE_DAYS: Final = 90
DEFAULT_DUE_DAYS: Final = 7
CATEGORY_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


class FindingState(enum.StrEnum):
    """The QC finding statuses (``csdesk.storage.qc_models.FindingStatus`` values)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    DISPUTED = "disputed"
    UPHELD = "upheld"
    REVERSED = "reversed"
    AMENDED = "amended"


@dataclass(frozen=True)
class FindingFact:
    finding_id: int
    agent_id: int
    category: str
    status: FindingState
    chat_at: datetime
    """When the chat it is about closed (what the agent did, and when)."""
    respond_by: datetime
    points: float = 1.0
    """What it costs the score; an amended finding at 0 no longer counts."""


def stands(finding: FindingFact, now: datetime) -> bool:
    """Whether the finding counts now (see the module docstring)."""
    match finding.status:
        case FindingState.ACKNOWLEDGED | FindingState.UPHELD:
            return True
        case FindingState.AMENDED:
            return finding.points > 0
        case FindingState.OPEN:
            return now > finding.respond_by
        case _:
            return False


@dataclass(frozen=True)
class AssignRule:
    """``threshold`` standing findings of ``category`` within ``window_days`` → ``course_id``,
    due ``due_days`` after assignment."""

    rule_id: int
    category: str
    course_id: int
    threshold: int = 1
    window_days: int = 14
    due_days: int = DEFAULT_DUE_DAYS
    active: bool = True


@dataclass(frozen=True)
class Firing:
    rule: AssignRule
    agent_id: int
    finding_ids: tuple[int, ...]
    """The standing findings that made it fire, oldest first."""

    @property
    def reason(self) -> str:
        return (
            f"{len(self.finding_ids)} × {self.rule.category} within "
            f"{self.rule.window_days} days (rule: {self.rule.threshold})"
        )


def fire(
    rule: AssignRule,
    agent_id: int,
    findings: Iterable[FindingFact],
    now: datetime,
    *,
    last_passed_at: datetime | None = None,
) -> Firing | None:
    """The rule's decision for one agent: a :class:`Firing` when enough standing findings of
    its category fall in its window (and after ``last_passed_at``), else None."""
    if not rule.active:
        return None
    since = now - timedelta(days=rule.window_days)
    if last_passed_at is not None and last_passed_at > since:
        since = last_passed_at
    counted = sorted(
        (
            f
            for f in findings
            if f.agent_id == agent_id
            and f.category == rule.category
            and since <= f.chat_at <= now
            and stands(f, now)
        ),
        key=lambda f: (f.chat_at, f.finding_id),
    )
    if len(counted) < rule.threshold:
        return None
    return Firing(rule, agent_id, tuple(f.finding_id for f in counted))


def _whole(value: object, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise CourseError(field, f"must be a whole number from {low} to {high}")
    return value


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the trainer writes it (the course is checked by the caller)."""

    category: str
    course_id: int
    threshold: int
    window_days: int
    due_days: int
    active: bool


def parse_rule(raw: object, known_categories: Iterable[str]) -> RuleSpec:
    """``{category, course_id, threshold, window_days, due_days, active}``; a category must be
    one QC knows (the contract's, csdesk's and the shop's own)."""
    if not isinstance(raw, Mapping):
        raise CourseError("rule", "must be an object")
    category = raw.get("category")
    known = set(known_categories)
    if not isinstance(category, str) or category not in known:
        raise CourseError("category", f"must be a QC category ({', '.join(sorted(known))})")
    course_id = raw.get("course_id")
    if not isinstance(course_id, int) or isinstance(course_id, bool) or course_id <= 0:
        raise CourseError("course_id", "is required: a course id")
    active = raw.get("active", True)
    if not isinstance(active, bool):
        raise CourseError("active", "must be true or false")
    return RuleSpec(
        category=category,
        course_id=course_id,
        threshold=_whole(raw.get("threshold", 1), "threshold", 1, MAX_THRESHOLD),
        window_days=_whole(raw.get("window_days", 14), "window_days", 1, MAX_WINDOW_DAYS),
        due_days=_whole(raw.get("due_days", DEFAULT_DUE_DAYS), "due_days", 1, MAX_DUE_DAYS),
        active=active,
    )


def rule_json(rule: AssignRule) -> dict[str, Any]:
    return {
        "id": rule.rule_id,
        "category": rule.category,
        "course_id": rule.course_id,
        "threshold": rule.threshold,
        "window_days": rule.window_days,
        "due_days": rule.due_days,
        "active": rule.active,
    }


def by_category(rules: Iterable[AssignRule]) -> Mapping[str, list[AssignRule]]:
    grouped: dict[str, list[AssignRule]] = {}
    for rule in rules:
        grouped.setdefault(rule.category, []).append(rule)
    return grouped
