"""Time helpers: UTC inside, shop-local (Asia/Shanghai) only for display and quiet hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHOP_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def require_aware(value: datetime, name: str = "datetime") -> datetime:
    """Return ``value`` in UTC; a naive datetime is a programming error, not a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def to_shop_local(value: datetime, tz: ZoneInfo = SHOP_TZ) -> datetime:
    return require_aware(value).astimezone(tz)


def day_window(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A shop-local calendar day as a UTC window (DST-safe: midnight to next midnight)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)
