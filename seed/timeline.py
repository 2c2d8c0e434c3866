"""Time for the demo data: the anchor ("now" of the generated world) and traffic shapes.

Everything is generated relative to the anchor, never to the wall clock, so one seed and
one anchor always give the same rows. Shop-local time (Asia/Shanghai) decides the shape of
a day; stored values are UTC.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate

from csdesk.clock import SHOP_TZ, require_aware, utcnow

DOUBLE_11 = "双十一"
MID_YEAR_618 = "618"
JUHUASUAN = "聚划算"

# Relative order volume per shop-local hour: lunch and the evening (20-23 h) are the peaks.
ORDINARY_HOURS = (
    0.9, 0.5, 0.3, 0.15, 0.1, 0.1, 0.2, 0.4, 0.7, 1.0, 1.2, 1.1,
    1.0, 1.1, 1.2, 1.2, 1.1, 1.0, 1.0, 1.3, 1.6, 1.8, 1.7, 1.3,
)  # fmt: skip
# On 双十一 the first hour after midnight is the rush (presales pay their balance), then
# the evening again.
DOUBLE_11_HOURS = (
    9.0, 4.0, 1.5, 0.6, 0.3, 0.3, 0.4, 0.8, 1.2, 1.5, 1.8, 1.7,
    1.6, 1.6, 1.7, 1.7, 1.6, 1.6, 1.8, 2.2, 3.0, 3.8, 4.2, 3.5,
)  # fmt: skip


def default_anchor(now: datetime | None = None) -> datetime:
    """Today's shop-local midnight, in UTC: every run on the same day gets the same data."""
    local = require_aware(now or utcnow(), "now").astimezone(SHOP_TZ)
    return local_midnight(local.date())


def local_midnight(day: date) -> datetime:
    """The UTC instant at which the shop-local ``day`` begins."""
    return datetime.combine(day, time(0), tzinfo=SHOP_TZ).astimezone(UTC)


def local_at(day: date, hour: int) -> datetime:
    """The UTC instant of ``hour``:00 shop-local on ``day`` (hour 24 is the next midnight)."""
    return local_midnight(day) + timedelta(hours=hour)


def local_date(value: datetime) -> date:
    return require_aware(value).astimezone(SHOP_TZ).date()


def is_juhuasuan_day(day: date) -> bool:
    """A 聚划算 slot every ninth day: regular, small promotions between the big ones."""
    return day.toordinal() % 9 == 4


def campaign_on(day: date) -> str | None:
    """The marketplace-wide promotion running on a shop-local day, if any."""
    if (day.month, day.day) == (11, 11):
        return DOUBLE_11
    if (day.month, day.day) == (6, 18):
        return MID_YEAR_618
    if is_juhuasuan_day(day):
        return JUHUASUAN
    return None


def day_weight(day: date) -> float:
    """Relative order volume of a shop-local day (promotions spike, the day after echoes)."""
    campaign = campaign_on(day)
    if campaign == DOUBLE_11:
        return 6.0
    if campaign == MID_YEAR_618:
        return 3.5
    if campaign == JUHUASUAN:
        return 1.8
    after = day - timedelta(days=1)
    if (after.month, after.day) in {(11, 11), (6, 18)}:
        return 1.6
    return 1.15 if day.weekday() >= 5 else 1.0


def hour_weights(day: date) -> tuple[float, ...]:
    return DOUBLE_11_HOURS if campaign_on(day) == DOUBLE_11 else ORDINARY_HOURS


@dataclass(frozen=True)
class TrafficShape:
    """Hourly slots of a time window, weighted by how busy the shop is in each."""

    starts: tuple[datetime, ...]
    cumulative: tuple[float, ...]
    start: datetime
    end: datetime

    @classmethod
    def over(cls, start: datetime, end: datetime) -> TrafficShape:
        start, end = require_aware(start), require_aware(end)
        starts: list[datetime] = []
        weights: list[float] = []
        slot = start.replace(minute=0, second=0, microsecond=0)
        while slot < end:
            local = slot.astimezone(SHOP_TZ)
            starts.append(slot)
            weights.append(day_weight(local.date()) * hour_weights(local.date())[local.hour])
            slot += timedelta(hours=1)
        if not starts:
            raise ValueError("empty traffic window")
        return cls(tuple(starts), tuple(accumulate(weights)), start, end)

    def sample(self, rng: random.Random) -> datetime:
        """A whole-second instant in ``[start, end)``, busy hours proportionally more likely."""
        while True:
            index = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
            index = min(index, len(self.starts) - 1)
            instant = self.starts[index] + timedelta(seconds=rng.randrange(3600))
            # Only the partial first and last hours can miss; a retry keeps the shape.
            if self.start <= instant < self.end:
                return instant


def seconds(rng: random.Random, low: float, high: float) -> timedelta:
    """A whole number of seconds between ``low`` and ``high`` (uniform)."""
    return timedelta(seconds=round(rng.uniform(low, high)))
