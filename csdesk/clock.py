"""Time helpers: UTC inside, shop-local (Asia/Shanghai) only for display and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime
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
