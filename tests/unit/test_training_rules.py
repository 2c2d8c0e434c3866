"""Finding → course rules (csdesk.training.rules), pure, by tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csdesk.training.courses import CourseError
from csdesk.training.rules import (
    AssignRule,
    FindingFact,
    FindingState,
    fire,
    parse_rule,
    stands,
)

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
RULE = AssignRule(rule_id=1, category="forbidden_phrase", course_id=9, threshold=2, window_days=14)


def finding(
    n: int,
    days_ago: float,
    status: FindingState = FindingState.UPHELD,
    *,
    agent: int = 7,
    category: str = "forbidden_phrase",
    respond_in_days: float = 5,
    points: float = 10.0,
) -> FindingFact:
    at = NOW - timedelta(days=days_ago)
    return FindingFact(
        n, agent, category, status, at, NOW + timedelta(days=respond_in_days - days_ago), points
    )


@pytest.mark.parametrize(
    ("fact", "expected"),
    [
        (finding(1, 1, FindingState.ACKNOWLEDGED), True),
        (finding(1, 1, FindingState.UPHELD), True),
        (finding(1, 1, FindingState.AMENDED), True),
        (finding(1, 1, FindingState.AMENDED, points=0.0), False),
        (finding(1, 1, FindingState.DISPUTED), False),  # waiting for the lead: not yet
        (finding(1, 1, FindingState.REVERSED), False),
        (finding(1, 1, FindingState.OPEN, respond_in_days=7), False),  # may still dispute
        (finding(1, 8, FindingState.OPEN, respond_in_days=7), True),  # window closed, undisputed
    ],
)
def test_when_a_finding_stands(fact: FindingFact, expected: bool) -> None:
    assert stands(fact, NOW) is expected


@pytest.mark.parametrize(
    ("facts", "last_passed_days_ago", "fired"),
    [
        ([finding(1, 1)], None, None),
        ([finding(1, 1), finding(2, 3)], None, (2, 1)),
        ([finding(1, 1), finding(2, 20)], None, None),  # outside 14 days
        ([finding(1, 1), finding(2, 3, FindingState.DISPUTED)], None, None),
        ([finding(1, 1), finding(2, 3, category="closing_missing")], None, None),
        ([finding(1, 1), finding(2, 3, agent=8)], None, None),  # another agent's
        ([finding(1, 1), finding(2, 3), finding(3, 5)], 2, None),  # passed since: only #1 counts
        ([finding(1, 1), finding(2, 1.5), finding(3, 5)], 2, (2, 1)),
        ([finding(1, -1), finding(2, 3)], None, None),  # a chat after now is not counted
    ],
)
def test_fire(
    facts: list[FindingFact], last_passed_days_ago: float | None, fired: tuple[int, ...] | None
) -> None:
    last = None if last_passed_days_ago is None else NOW - timedelta(days=last_passed_days_ago)
    result = fire(RULE, 7, facts, NOW, last_passed_at=last)
    assert (result.finding_ids if result else None) == fired


def test_inactive_rule_never_fires() -> None:
    rule = AssignRule(2, "forbidden_phrase", 9, threshold=1, active=False)
    assert fire(rule, 7, [finding(1, 1)], NOW) is None


KNOWN = ("forbidden_phrase", "long_gap_no_apology")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"category": "nope", "course_id": 1}, "category"),
        ({"course_id": 1}, "category"),
        ({"category": "forbidden_phrase"}, "course_id"),
        ({"category": "forbidden_phrase", "course_id": True}, "course_id"),
        ({"category": "forbidden_phrase", "course_id": 1, "threshold": 0}, "threshold"),
        ({"category": "forbidden_phrase", "course_id": 1, "window_days": 366}, "window_days"),
        ({"category": "forbidden_phrase", "course_id": 1, "due_days": "7"}, "due_days"),
        ({"category": "forbidden_phrase", "course_id": 1, "active": "yes"}, "active"),
        ([], "rule"),
    ],
)
def test_bad_rule_names_the_field(raw: object, field: str) -> None:
    with pytest.raises(CourseError) as caught:
        parse_rule(raw, KNOWN)
    assert caught.value.field == field


def test_rule_defaults() -> None:
    spec = parse_rule({"category": "long_gap_no_apology", "course_id": 3}, KNOWN)
    assert (spec.threshold, spec.window_days, spec.due_days, spec.active) == (1, 14, 7, True)
