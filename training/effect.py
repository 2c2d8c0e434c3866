"""The measured effect of a course (培训效果): the finding rate per category before and
after each agent passed it, per agent and pooled, with sample sizes, an interval and a
verdict only when the data supports one.

**What is counted.** QC's scored chats (submitted scorecards) of the agent, by when the
chat closed: a chat *has* a category when a standing finding of that category (see
:func:`csdesk.training.rules.stands`) counts against the agent in it. The rate is chats
with the category per 100 scored chats, so each chat is one yes/no trial.

**Windows.** Before: the ``window_days`` before the agent passed. After: from passing until
``window_days`` later or ``now``, whichever is first. Pooled: the agents' counts added up
(each agent with their own passing time).

**The comparison: a two-proportion interval, Newcombe's hybrid score method** (Newcombe
1998, method 10): Wilson score intervals of each rate, combined into an interval for the
difference (after − before). It keeps its coverage with small counts and rates near 0,
where the plain Wald interval fails, and needs no prior. Not a Bayesian beta-binomial.

**The verdict.** ``not_enough_data`` while either side has fewer than ``min_chats`` scored
chats; else ``fewer`` when the whole interval is below 0, ``more`` when it is above 0,
``no_clear_change`` when it straddles 0. Pooling chats across agents treats them as
independent trials; an agent's chats are alike, so with few agents the interval is
optimistic: the per-agent rows show whether one agent carries the result.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Any, Final

DEFAULT_MIN_CHATS: Final = 20
DEFAULT_WINDOW_DAYS: Final = 30
DEFAULT_CONFIDENCE: Final = 0.95


class Verdict(enum.StrEnum):
    FEWER = "fewer"
    MORE = "more"
    NO_CLEAR_CHANGE = "no_clear_change"
    NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True)
class Counts:
    chats: int
    """Scored chats in the window (the sample size)."""
    with_category: int
    """Of those, chats with a standing finding of the category."""

    def __post_init__(self) -> None:
        if not 0 <= self.with_category <= self.chats:
            raise ValueError(f"with_category {self.with_category} outside 0..{self.chats}")

    @property
    def rate(self) -> float | None:
        """Per 100 chats; None without chats."""
        return 100.0 * self.with_category / self.chats if self.chats else None

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.chats + other.chats, self.with_category + other.with_category)


def z_for(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a proportion (0..1); (0, 1) without trials."""
    if n == 0:
        return 0.0, 1.0
    z = z_for(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(
    before: Counts, after: Counts, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[float, float, float]:
    """(difference, low, high) of after − before, as proportions (0..1), by Newcombe's hybrid
    score method. Both sides need chats."""
    if before.chats == 0 or after.chats == 0:
        raise ValueError("both sides need at least one chat")
    p1 = before.with_category / before.chats
    p2 = after.with_category / after.chats
    l1, u1 = wilson(before.with_category, before.chats, confidence)
    l2, u2 = wilson(after.with_category, after.chats, confidence)
    difference = p2 - p1
    low = difference - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = difference + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return difference, low, high


@dataclass(frozen=True)
class Comparison:
    category: str
    before: Counts
    after: Counts
    difference: float | None
    """After − before, per 100 chats."""
    low: float | None
    high: float | None
    verdict: Verdict
    confidence: float

    def to_json(self) -> dict[str, Any]:
        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 2)

        return {
            "category": self.category,
            "before": {
                "chats": self.before.chats,
                "with_category": self.before.with_category,
                "rate": r(self.before.rate),
            },
            "after": {
                "chats": self.after.chats,
                "with_category": self.after.with_category,
                "rate": r(self.after.rate),
            },
            "difference": r(self.difference),
            "interval": None if self.low is None else [r(self.low), r(self.high)],
            "confidence": self.confidence,
            "verdict": self.verdict.value,
        }


def compare(
    category: str,
    before: Counts,
    after: Counts,
    *,
    min_chats: int = DEFAULT_MIN_CHATS,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Comparison:
    """The before/after comparison of one category, with its verdict (module docstring)."""
    if before.chats == 0 or after.chats == 0:
        return Comparison(
            category, before, after, None, None, None, Verdict.NOT_ENOUGH_DATA, confidence
        )
    difference, low, high = newcombe(before, after, confidence)
    if before.chats < min_chats or after.chats < min_chats:
        verdict = Verdict.NOT_ENOUGH_DATA
    elif high < 0:
        verdict = Verdict.FEWER
    elif low > 0:
        verdict = Verdict.MORE
    else:
        verdict = Verdict.NO_CLEAR_CHANGE
    return Comparison(
        category, before, after, 100 * difference, 100 * low, 100 * high, verdict, confidence
    )


# -- tallying the chats ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoredChat:
    conversation_id: int
    agent_id: int
    closed_at: datetime
    categories: frozenset[str]
    """Categories of the standing findings against the agent in this chat."""


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    """Exclusive."""

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def windows(passed_at: datetime, window_days: int, now: datetime) -> tuple[Window, Window]:
    """(before, after) around one agent's passing (module docstring)."""
    span = timedelta(days=window_days)
    after_end = min(passed_at + span, now)
    return Window(passed_at - span, passed_at), Window(passed_at, max(passed_at, after_end))


def tally(chats: Iterable[ScoredChat], agent_id: int, window: Window, category: str) -> Counts:
    n = hits = 0
    for chat in chats:
        if chat.agent_id == agent_id and window.holds(chat.closed_at):
            n += 1
            hits += category in chat.categories
    return Counts(n, hits)


@dataclass(frozen=True)
class AgentEffect:
    agent_id: int
    passed_at: datetime
    comparisons: tuple[Comparison, ...]


@dataclass(frozen=True)
class CourseEffect:
    agents: tuple[AgentEffect, ...]
    pooled: tuple[Comparison, ...]
    window_days: int
    min_chats: int


def measure(
    chats: Iterable[ScoredChat],
    passed: Mapping[int, datetime],
    categories: Iterable[str],
    now: datetime,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    min_chats: int = DEFAULT_MIN_CHATS,
    confidence: float = DEFAULT_CONFIDENCE,
) -> CourseEffect:
    """Per agent who passed (agent id → when they first passed) and pooled, per category."""
    chats = list(chats)
    cats = list(dict.fromkeys(categories))
    agents: list[AgentEffect] = []
    totals = {c: (Counts(0, 0), Counts(0, 0)) for c in cats}
    for agent_id in sorted(passed):
        before_w, after_w = windows(passed[agent_id], window_days, now)
        rows = []
        for category in cats:
            before = tally(chats, agent_id, before_w, category)
            after = tally(chats, agent_id, after_w, category)
            b, a = totals[category]
            totals[category] = (b + before, a + after)
            rows.append(
                compare(category, before, after, min_chats=min_chats, confidence=confidence)
            )
        agents.append(AgentEffect(agent_id, passed[agent_id], tuple(rows)))
    pooled = tuple(
        compare(c, totals[c][0], totals[c][1], min_chats=min_chats, confidence=confidence)
        for c in cats
    )
    return CourseEffect(tuple(agents), pooled, window_days, min_chats)
