"""Time helpers: UTC inside, shop-local (Asia/Shanghai) only for display and quiet hours."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHOP_TZ = ZoneInfo("Asia/Shanghai")


_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def parse_date(raw: str) -> date:
    """Exactly ``YYYY-MM-DD`` (JSON Schema's ``date``); ValueError otherwise (Python alone
    would also take ``20261111`` and week dates)."""
    if len(raw) != 10 or not raw.isascii() or raw[4] != "-" or raw[7] != "-":
        raise ValueError(raw)
    return date.fromisoformat(raw)


def parse_datetime(raw: str) -> datetime:
    """An RFC 3339 date-time with its offset (JSON Schema's ``date-time``); ValueError
    otherwise. Fractions beyond microseconds are cut."""
    if not _RFC3339.fullmatch(raw):
        raise ValueError(raw)
    head, dot, rest = raw.upper().partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        rest = rest[:digits][:6].ljust(6, "0") + rest[digits:]
    return datetime.fromisoformat(head + dot + rest)


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
