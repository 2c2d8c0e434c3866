"""Pure helpers of the benchmarks: percentiles, medians of trials, the steady window of a
load phase (applied rate, backlog growth) and the next offered rate of the search."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest rank: the smallest value with at least ``q`` of the values at or below it."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def median(values: Sequence[float]) -> float:
    """The lower median (an actual run's figure, never an average of two)."""
    if not values:
        raise ValueError("median of no values")
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


@dataclass(frozen=True)
class Sample:
    """At ``t`` seconds into a load phase: events accepted (stored) and applied so far."""

    t: float
    accepted: int
    applied: int


@dataclass(frozen=True)
class Window:
    seconds: float
    accepted_per_s: float
    applied_per_s: float
    backlog_start: int
    backlog_end: int

    @property
    def backlog_growth_per_s(self) -> float:
        return (self.backlog_end - self.backlog_start) / self.seconds if self.seconds else 0.0


def steady_window(samples: Sequence[Sample], skip_s: float) -> Window:
    """Rates between the first sample at or after ``skip_s`` (start-up excluded) and the last."""
    inside = [s for s in samples if s.t >= skip_s]
    if len(inside) < 2:
        raise ValueError("the window needs two samples after the start-up")
    first, last = inside[0], inside[-1]
    span = last.t - first.t
    return Window(
        seconds=round(span, 2),
        accepted_per_s=(last.accepted - first.accepted) / span,
        applied_per_s=(last.applied - first.applied) / span,
        backlog_start=first.accepted - first.applied,
        backlog_end=last.accepted - last.applied,
    )


def is_flat(window: Window, offered_per_s: float) -> bool:
    """Nothing piled up: the stored backlog grew by at most 5 % of the offered rate (or 2
    events/s, so a batch in flight at either end of the window does not count), and the
    door kept up (at least 90 % of the offer accepted: requests waiting in front of the
    acceptor are a backlog too, one the event table does not show)."""
    slack = max(2.0, 0.05 * offered_per_s)
    return (
        window.backlog_growth_per_s <= slack
        and window.accepted_per_s >= 0.9 * offered_per_s - slack
    )


def next_rate(offered_per_s: float, window: Window) -> float:
    """After a phase whose backlog grew: offer 90 % of what was applied meanwhile (the
    applier's capacity under that load), and never more than 80 % of the last offer."""
    return max(1.0, min(0.9 * window.applied_per_s, 0.8 * offered_per_s))


def profile_summary(collapsed: str, top: int = 12) -> dict[str, list[tuple[str, float]]]:
    """py-spy's raw (collapsed) stacks, ``frame;frame;... count`` a line, as the share of
    samples each function is on the stack (inclusive) and at the top of it (self); a frame
    is ``function (file:line)``, reduced to ``file:function``. Every sample counts in the
    total, each thread's apart; py-spy itself leaves out most samples of idle threads (the
    event loop waiting in ``epoll``) unless run with ``--idle``."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        names = [_frame_name(frame) for frame in stack.split(";") if frame]
        for name in set(names):
            inclusive[name] = inclusive.get(name, 0) + count
        if names:
            own[names[-1]] = own.get(names[-1], 0) + count
    if not total:
        return {"inclusive": [], "self": []}

    def ranked(counts: dict[str, int]) -> list[tuple[str, float]]:
        best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        return [(name, round(100 * n / total, 1)) for name, n in best]

    return {"inclusive": ranked(inclusive), "self": ranked(own), "samples": [("total", total)]}


def _frame_name(frame: str) -> str:
    function, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("/csdesk/", "/site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{function.strip()}"
