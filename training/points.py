"""Points (积分制, seeds/003 Ⅰ): behaviours earn or lose points instead of money, and the
monthly ranking decides rewards. The shop's rules say how many points each source is worth;
the ledger is append-only (a reversed finding gets a second, opposite entry).

Sources: a QC ``finding`` (by severity), its ``dispute_reversal`` (the opposite of what the
finding cost), ``praise`` (the inspector's bonus points on a scorecard), a buyer's
satisfaction ``rating`` (1-5), a ``recovered_chase`` (a chased order paid), a
``course_passed``, and a supervisor's ``award`` (plus or minus, with a reason).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Any, Final
from zoneinfo import ZoneInfo

from csdesk.training.courses import CourseError

MAX_RULE_POINTS: Final = 100
MAX_AWARD: Final = 100
MAX_REASON: Final = 300


class Source(enum.StrEnum):
    FINDING = "finding"
    DISPUTE_REVERSAL = "dispute_reversal"
    PRAISE = "praise"
    RATING = "rating"
    RECOVERED_CHASE = "recovered_chase"
    COURSE_PASSED = "course_passed"
    AWARD = "award"


def _frozen(values: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True)
class PointsRules:
    """What each behaviour is worth (the shop's ``training.points``)."""

    finding: Mapping[str, int] = field(
        default_factory=lambda: _frozen({"minor": -1, "major": -3, "fatal": -10})
    )
    """By the finding's severity."""
    praise_per_bonus: int = 1
    """Per bonus point (0-5) an inspector gives on a scorecard."""
    rating: Mapping[str, int] = field(
        default_factory=lambda: _frozen({"5": 2, "4": 1, "3": 0, "2": -1, "1": -2})
    )
    """By the buyer's satisfaction score (1-5)."""
    recovered_chase: int = 3
    course_passed: int = 5

    def to_json(self) -> dict[str, Any]:
        return {
            "finding": dict(self.finding),
            "praise_per_bonus": self.praise_per_bonus,
            "rating": dict(self.rating),
            "recovered_chase": self.recovered_chase,
            "course_passed": self.course_passed,
        }

    def for_finding(self, severity: str) -> int:
        return self.finding.get(severity, self.finding.get("minor", 0))

    def for_rating(self, score: int) -> int:
        return self.rating.get(str(score), 0)


def _points(value: object, field: str) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not -MAX_RULE_POINTS <= value <= MAX_RULE_POINTS
    ):
        raise CourseError(
            field, f"must be a whole number from {-MAX_RULE_POINTS} to {MAX_RULE_POINTS}"
        )
    return value


def parse_points_rules(raw: object) -> PointsRules:
    """The shop's ``training.points`` over the defaults; a bad key is named."""
    if raw is None:
        return PointsRules()
    if not isinstance(raw, Mapping):
        raise CourseError("training.points", "must be an object")
    base = PointsRules()
    known = {"finding", "praise_per_bonus", "rating", "recovered_chase", "course_passed"}
    for key in raw:
        if key not in known:
            raise CourseError(
                f"training.points.{key}", f"unknown; one of {', '.join(sorted(known))}"
            )
    finding = dict(base.finding)
    if "finding" in raw:
        section = raw["finding"]
        if not isinstance(section, Mapping):
            raise CourseError("training.points.finding", "must be an object: severity → points")
        for severity, value in section.items():
            if severity not in {"minor", "major", "fatal"}:
                raise CourseError(
                    f"training.points.finding.{severity}", "must be minor, major or fatal"
                )
            finding[severity] = _points(value, f"training.points.finding.{severity}")
    rating = dict(base.rating)
    if "rating" in raw:
        section = raw["rating"]
        if not isinstance(section, Mapping):
            raise CourseError("training.points.rating", "must be an object: 1-5 → points")
        for score, value in section.items():
            if str(score) not in {"1", "2", "3", "4", "5"}:
                raise CourseError(f"training.points.rating.{score}", "must be a score 1-5")
            rating[str(score)] = _points(value, f"training.points.rating.{score}")
    return PointsRules(
        finding=_frozen(finding),
        praise_per_bonus=_points(
            raw.get("praise_per_bonus", base.praise_per_bonus), "training.points.praise_per_bonus"
        ),
        rating=_frozen(rating),
        recovered_chase=_points(
            raw.get("recovered_chase", base.recovered_chase), "training.points.recovered_chase"
        ),
        course_passed=_points(
            raw.get("course_passed", base.course_passed), "training.points.course_passed"
        ),
    )


def check_award(points: object, reason: object) -> tuple[int, str]:
    """A supervisor's award: a non-zero whole number within ±MAX_AWARD and a reason."""
    if (
        not isinstance(points, int)
        or isinstance(points, bool)
        or points == 0
        or not -MAX_AWARD <= points <= MAX_AWARD
    ):
        raise CourseError(
            "points", f"must be a whole number from -{MAX_AWARD} to {MAX_AWARD}, not 0"
        )
    if not isinstance(reason, str) or not reason.strip():
        raise CourseError("reason", "is required: say what the points are for")
    if len(reason.strip()) > MAX_REASON:
        raise CourseError("reason", f"must be at most {MAX_REASON} characters")
    return points, reason.strip()


# -- teams and rankings ------------------------------------------------------------------------


class Team(enum.StrEnum):
    """The supervisor groups of seeds/003 Ⅱ: 售前主管 (reception, order review, chasing),
    售后主管 (after-sales reception, refunds), 热线主管 (hotline)."""

    PRESALES = "presales_team"
    AFTERSALES = "aftersales_team"
    HOTLINE = "hotline_team"


TEAM_OF_ROLE: Final[Mapping[str, Team]] = MappingProxyType(
    {
        "presales": Team.PRESALES,
        "order_review": Team.PRESALES,
        "payment_chasing": Team.PRESALES,
        "aftersales_triage": Team.AFTERSALES,
        "refund": Team.AFTERSALES,
        "hotline": Team.HOTLINE,
    }
)


def team_of(service_roles: Iterable[str]) -> Team | None:
    """An agent's team: that of their first service role (None without one)."""
    for role in service_roles:
        if role in TEAM_OF_ROLE:
            return TEAM_OF_ROLE[role]
    return None


@dataclass(frozen=True)
class Ranked:
    rank: int
    agent_id: int
    points: int
    entries: int


def rank(totals: Mapping[int, tuple[int, int]]) -> list[Ranked]:
    """Competition ranking ("1224") of agent id → (points, entries): most points first, ties
    share a rank; equal points are listed by agent id."""
    ordered = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))
    out: list[Ranked] = []
    for position, (agent_id, (points, entries)) in enumerate(ordered, start=1):
        shared = out[-1].rank if out and out[-1].points == points else position
        out.append(Ranked(shared, agent_id, points, entries))
    return out


MONTH: Final = re.compile(r"^(?:1[0-9]|20)[0-9]{2}-(?:0[1-9]|1[0-2])$")
"""``YYYY-MM`` of the years 1000-2099: ASCII digits only, and a month whose next month is
still a date."""


def month_of(raw: str | None, today: date) -> date:
    """``YYYY-MM`` (default: this month) as its first day."""
    if not raw:
        return today.replace(day=1)
    if not MONTH.match(raw):
        raise CourseError("month", "must be a month, YYYY-MM")
    year, month = (int(part) for part in raw.split("-"))
    return date(year, month, 1)


def month_window(first: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The month of ``first`` in the shop's zone: [start, end)."""
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(following, time.min, tzinfo=tz),
    )
