"""The dashboard's pure helpers: the shop's midnight in its zone, and fen as yuan."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from csdesk.reads.dashboard import shop_midnight, yuan
from csdesk.reads.dashboard_metrics import Scope, counted_hours
from csdesk.roles.config import RoutingConfig
from csdesk.web.dashboard_live import MemoryLease


@pytest.mark.parametrize(
    ("now", "zone", "midnight"),
    [
        # 15:59 UTC is 23:59 in Shanghai: the shop's day began at 16:00 UTC the day before.
        (
            datetime(2026, 11, 11, 15, 59, tzinfo=UTC),
            "Asia/Shanghai",
            datetime(2026, 11, 10, 16, 0, tzinfo=UTC),
        ),
        # 16:00 UTC is 00:00 on the 12th in Shanghai: a new day.
        (
            datetime(2026, 11, 11, 16, 0, tzinfo=UTC),
            "Asia/Shanghai",
            datetime(2026, 11, 11, 16, 0, tzinfo=UTC),
        ),
        (
            datetime(2026, 11, 11, 0, 30, tzinfo=UTC),
            "UTC",
            datetime(2026, 11, 11, 0, 0, tzinfo=UTC),
        ),
        # Daylight saving: New York's midnight of 3 Nov 2024 was EDT (UTC-4).
        (
            datetime(2024, 11, 3, 12, 0, tzinfo=UTC),
            "America/New_York",
            datetime(2024, 11, 3, 4, 0, tzinfo=UTC),
        ),
    ],
)
def test_shop_midnight(now: datetime, zone: str, midnight: datetime) -> None:
    assert shop_midnight(now, RoutingConfig(timezone=zone)) == midnight


@pytest.mark.parametrize(
    ("fen", "amount"),
    [(0, 0.0), (1, 0.01), (19990, 199.9), (15075, 150.75), (10**11 + 5, 1_000_000_000.05)],
)
def test_yuan(fen: int, amount: float) -> None:
    assert yuan(fen) == amount


async def test_memory_lease() -> None:
    clock = [100.0]
    lease = MemoryLease(clock=lambda: clock[0])
    assert await lease.take("s", 1.0) == 0.0
    assert await lease.take("s", 1.0) == pytest.approx(1.0)
    assert await lease.take("other", 1.0) == 0.0
    clock[0] += 0.4
    assert await lease.take("s", 1.0) == pytest.approx(0.6)
    clock[0] += 0.6
    assert await lease.take("s", 1.0) == 0.0


@pytest.mark.parametrize(
    ("now", "zone", "counted"),
    [
        # Shanghai (UTC+8): 08:00-24:00 of 11 Nov is 00:00-16:00 UTC.
        (
            datetime(2026, 11, 11, 3, 0, tzinfo=UTC),
            "Asia/Shanghai",
            (datetime(2026, 11, 11, 0, 0, tzinfo=UTC), datetime(2026, 11, 11, 16, 0, tzinfo=UTC)),
        ),
        # 23:30 UTC is 07:30 on the 12th in Shanghai: that day's window, not yet open.
        (
            datetime(2026, 11, 11, 23, 30, tzinfo=UTC),
            "Asia/Shanghai",
            (datetime(2026, 11, 12, 0, 0, tzinfo=UTC), datetime(2026, 11, 12, 16, 0, tzinfo=UTC)),
        ),
        (
            datetime(2026, 11, 11, 12, 0, tzinfo=UTC),
            "UTC",
            (datetime(2026, 11, 11, 8, 0, tzinfo=UTC), datetime(2026, 11, 12, 0, 0, tzinfo=UTC)),
        ),
    ],
)
def test_three_minute_rate_counts_08_to_24_shop_time(
    now: datetime, zone: str, counted: tuple[datetime, datetime]
) -> None:
    routing = RoutingConfig.from_overrides({"timezone": zone})
    scope = Scope("s", now, shop_midnight(now, routing), routing)
    assert counted_hours(scope) == counted
