"""Points rules, rankings, teams and months (csdesk.training.points), pure, by tables."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from csdesk.training.courses import CourseError
from csdesk.training.points import (
    PointsRules,
    Ranked,
    Team,
    check_award,
    month_of,
    month_window,
    parse_points_rules,
    rank,
    team_of,
)


def test_defaults() -> None:
    rules = PointsRules()
    assert [rules.for_finding(s) for s in ("minor", "major", "fatal")] == [-1, -3, -10]
    assert [rules.for_rating(s) for s in (1, 2, 3, 4, 5)] == [-2, -1, 0, 1, 2]
    assert (rules.recovered_chase, rules.course_passed, rules.praise_per_bonus) == (3, 5, 1)


def test_shop_rules_override_the_defaults() -> None:
    rules = parse_points_rules({"finding": {"fatal": -20}, "rating": {"5": 3}, "course_passed": 8})
    assert rules.for_finding("fatal") == -20
    assert rules.for_finding("minor") == -1
    assert rules.for_rating(5) == 3
    assert rules.course_passed == 8
    assert parse_points_rules(rules.to_json()) == rules


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([], "training.points"),
        ({"bonus": 1}, "training.points.bonus"),
        ({"finding": {"huge": -1}}, "training.points.finding.huge"),
        ({"finding": {"minor": -101}}, "training.points.finding.minor"),
        ({"finding": []}, "training.points.finding"),
        ({"rating": {"6": 1}}, "training.points.rating.6"),
        ({"recovered_chase": 1.5}, "training.points.recovered_chase"),
        ({"course_passed": True}, "training.points.course_passed"),
    ],
)
def test_bad_rules_name_the_key(raw: object, field: str) -> None:
    with pytest.raises(CourseError) as caught:
        parse_points_rules(raw)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("points", "reason", "field"),
    [
        (0, "x", "points"),
        (101, "x", "points"),
        ("5", "x", "points"),
        (5, "  ", "reason"),
        (5, None, "reason"),
    ],
)
def test_bad_award(points: object, reason: object, field: str) -> None:
    with pytest.raises(CourseError) as caught:
        check_award(points, reason)
    assert caught.value.field == field


def test_award() -> None:
    assert check_award(-5, " 迟到 ") == (-5, "迟到")


@pytest.mark.parametrize(
    ("totals", "expected"),
    [
        ({}, []),
        (
            {3: (10, 2), 1: (10, 1), 2: (4, 1), 5: (-3, 1)},
            [(1, 1, 10), (1, 3, 10), (3, 2, 4), (4, 5, -3)],
        ),
        ({1: (0, 0)}, [(1, 1, 0)]),
        ({1: (5, 1), 2: (5, 1), 3: (5, 1)}, [(1, 1, 5), (1, 2, 5), (1, 3, 5)]),
    ],
)
def test_competition_ranking(
    totals: dict[int, tuple[int, int]], expected: list[tuple[int, int, int]]
) -> None:
    got = rank(totals)
    assert [(r.rank, r.agent_id, r.points) for r in got] == expected
    assert all(isinstance(r, Ranked) for r in got)


@pytest.mark.parametrize(
    ("roles", "team"),
    [
        (["payment_chasing"], Team.PRESALES),
        (["refund", "presales"], Team.AFTERSALES),
        (["hotline"], Team.HOTLINE),
        ([], None),
        (["unknown"], None),
    ],
)
def test_team_of(roles: list[str], team: Team | None) -> None:
    assert team_of(roles) is team


def test_month_window_in_the_shop_zone() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    first = month_of("2026-12", date(2026, 1, 5))
    start, end = month_window(first, tz)
    assert start == datetime(2026, 12, 1, tzinfo=tz)
    assert end == datetime(2027, 1, 1, tzinfo=tz)
    assert month_of(None, date(2026, 3, 17)) == date(2026, 3, 1)
    with pytest.raises(CourseError) as caught:
        month_of("2026-13", date(2026, 1, 1))
    assert caught.value.field == "month"
