"""When to try a delivery again, and when to give up (dead letter). Pure: ``now`` and the
random draw are passed in.

Exponential backoff with "equal jitter": the n-th retry waits between half and all of
``backoff_s * 2**(n-1)`` (capped at ``max_backoff_s``), so receivers coming back after an
outage are not hit by every sender at the same instant, and no retry comes at once. Retries
go on while the delivery's window (``max_age_s`` from its first attempt, or from a manual
retry) is open; the last one is placed at the window's end rather than past it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from csdesk.settings import OutboundSettings


def backoff_s(attempts: int, settings: OutboundSettings, draw: Callable[[], float]) -> float:
    """The wait after the ``attempts``-th failed attempt (1 = the first); ``draw`` in [0, 1)."""
    exponent = min(max(attempts - 1, 0), 40)
    ceiling = min(settings.max_backoff_s, settings.backoff_s * float(2**exponent))
    return float(ceiling / 2 + draw() * ceiling / 2)


def next_attempt_at(
    attempts: int,
    window_started_at: datetime,
    now: datetime,
    settings: OutboundSettings,
    draw: Callable[[], float],
) -> datetime | None:
    """When to try again after a failed attempt, or None: the window is over, dead letter."""
    deadline = window_started_at + timedelta(seconds=settings.max_age_s)
    if now >= deadline:
        return None
    return min(now + timedelta(seconds=backoff_s(attempts, settings, draw)), deadline)


def success(status: int) -> bool:
    """Any 2xx is delivered (contract); everything else, and no answer, is retried."""
    return 200 <= status < 300
