"""Parse and validate platform events (``POST /api/v1/events``) into typed records.

Every failure raises :class:`EventError` naming the offending field (``data.amount``), so
the API can answer 400 with a message a platform integrator can act on. Strict at the door:
what is accepted here must not fail later for a reason visible now (the body is read by
:mod:`csdesk.strict_json`: no NUL or lone surrogate in any string, bounded nesting and
numbers; identifiers matched in full; times within :data:`EARLIEST` and a day ahead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from csdesk.clock import utcnow
from csdesk.errors import BadInputError
from csdesk.platform_events import EVENT_TYPES as EVENT_TYPES
from csdesk.platform_events import PlatformEventIn as PlatformEventIn
from csdesk.platform_events import fingerprint
from csdesk.strict_json import HugeInteger, loads_object

REFUND_KINDS: Final = ("refund_only", "return_and_refund")
BUYER_TIERS: Final = ("normal", "vip", "88vip")
MAX_TEXT = 4000
MAX_RATING_COMMENT: Final = 500
"""Characters of a rating's comment (the marketplace's own limit is lower)."""
RATING_SCORES: Final = range(1, 6)
MAX_AMOUNT: Final = Decimal("100000000")
"""Yuan; anything above is a platform bug, not an order."""
MAX_AMOUNT_CHARS: Final = 32
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
"""Older times are a platform's placeholder (``0001-01-01``), not an event: refused before
date arithmetic on them (a day before, five days after) overflows."""
MAX_AHEAD: Final = timedelta(days=1)
"""Clock skew tolerated in ``occurred_at``."""
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")
"""Matched in full (``fullmatch``): ``$`` would accept a trailing newline."""


class EventError(BadInputError):
    """A malformed event; ``field`` names what is wrong."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(field_name, problem)
        self.problem = problem


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float, HugeInteger)):
        return "number"
    if isinstance(value, dict):
        return "object"
    return "array" if isinstance(value, list) else type(value).__name__


@dataclass(frozen=True)
class OrderItem:
    sku: str
    title: str
    qty: int
    price_fen: int


# -- field readers ---------------------------------------------------------------------------


def _get(obj: dict[str, Any], key: str, prefix: str, *, required: bool = True) -> Any:
    if key not in obj or obj[key] is None:
        if required:
            raise EventError(f"{prefix}{key}", "is required")
        return None
    return obj[key]


def _string(
    obj: dict[str, Any],
    key: str,
    prefix: str = "",
    *,
    required: bool = True,
    max_len: int = 200,
    pattern: re.Pattern[str] | None = None,
) -> str | None:
    value = _get(obj, key, prefix, required=required)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventError(f"{prefix}{key}", f"must be a string, got {_json_type(value)}")
    if required and not value.strip():
        raise EventError(f"{prefix}{key}", "must not be empty")
    if len(value) > max_len:
        raise EventError(f"{prefix}{key}", f"is longer than {max_len} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise EventError(f"{prefix}{key}", "may only contain letters, digits and . _ : -")
    return value


def _required_string(obj: dict[str, Any], key: str, prefix: str = "", **kwargs: Any) -> str:
    value = _string(obj, key, prefix, required=True, **kwargs)
    assert value is not None
    return value


def _datetime(
    obj: dict[str, Any], key: str, prefix: str = "", *, now: datetime, required: bool = True
) -> datetime | None:
    value = _get(obj, key, prefix, required=required)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventError(f"{prefix}{key}", "must be an ISO-8601 string with a time zone")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EventError(f"{prefix}{key}", f"is not an ISO-8601 time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise EventError(f"{prefix}{key}", "needs a time zone (e.g. +08:00 or Z)")
    # Compared before converting: 0001-01-01T00:00+14:00 in UTC is before year 1.
    if not EARLIEST <= parsed <= now + MAX_AHEAD:
        raise EventError(
            f"{prefix}{key}", f"must be from {EARLIEST.date()} to a day ahead of now (UTC)"
        )
    return parsed.astimezone(UTC)


def _amount_fen(obj: dict[str, Any], key: str, prefix: str = "") -> int:
    """Yuan as a decimal string or number (``"2999.00"``, ``2999``) → integer fen."""
    value = _get(obj, key, prefix)
    if isinstance(value, HugeInteger):
        raise EventError(f"{prefix}{key}", "is implausibly large")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise EventError(f"{prefix}{key}", 'must be an amount in yuan, e.g. "2999.00"')
    literal = str(value)
    if len(literal) > MAX_AMOUNT_CHARS:
        raise EventError(f"{prefix}{key}", f"is longer than {MAX_AMOUNT_CHARS} characters")
    try:
        amount = Decimal(literal)
    except InvalidOperation:
        raise EventError(f"{prefix}{key}", f"is not a number: {literal[:40]!r}") from None
    if not amount.is_finite() or amount < 0:
        raise EventError(f"{prefix}{key}", "must be a finite amount >= 0")
    # Before quantize, which cannot represent 1E+999999 at two places (InvalidOperation).
    if amount > MAX_AMOUNT:
        raise EventError(f"{prefix}{key}", "is implausibly large")
    if amount != amount.quantize(Decimal("0.01")):
        raise EventError(f"{prefix}{key}", "has more than 2 decimal places")
    return int(amount * 100)


def _choice(
    obj: dict[str, Any],
    key: str,
    choices: tuple[str, ...],
    prefix: str = "",
    *,
    required: bool = True,
    default: str | None = None,
) -> str | None:
    value = _string(obj, key, prefix, required=required)
    if value is None:
        return default
    if value not in choices:
        raise EventError(f"{prefix}{key}", f"must be one of {', '.join(choices)}")
    return value


def _string_list(obj: dict[str, Any], key: str, prefix: str) -> list[str]:
    value = _get(obj, key, prefix, required=False)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= 100 for v in value):
        raise EventError(f"{prefix}{key}", "must be a list of short strings")
    return list(value)


def _items(obj: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    value = _get(obj, "items", prefix)
    if not isinstance(value, list) or not value:
        raise EventError(f"{prefix}items", "must be a non-empty list")
    items = []
    for index, raw in enumerate(value):
        p = f"{prefix}items[{index}]."
        if not isinstance(raw, dict):
            raise EventError(f"{prefix}items[{index}]", "must be an object")
        qty = _get(raw, "qty", p)
        if isinstance(qty, bool) or not isinstance(qty, int) or not 0 < qty <= 10_000:
            raise EventError(f"{p}qty", "must be a whole number from 1 to 10000")
        items.append(
            {
                "sku": _required_string(raw, "sku", p, max_len=64),
                "title": _required_string(raw, "title", p),
                "qty": qty,
                "price_fen": _amount_fen(raw, "price", p),
            }
        )
    return items


# -- per-type data -------------------------------------------------------------------------------


def _buyer(data: dict[str, Any], p: str) -> dict[str, Any]:
    return {
        "buyer_nick": _required_string(data, "buyer_nick", p, max_len=64),
        "buyer_tier": _choice(data, "buyer_tier", BUYER_TIERS, p, required=False),
    }


def _data_message(data: dict[str, Any], p: str) -> dict[str, Any]:
    text = _required_string(data, "text", p, max_len=MAX_TEXT)
    return {
        **_buyer(data, p),
        "text": text,
        "order_id": _string(data, "order_id", p, required=False, max_len=64, pattern=_ID_RE),
    }


def _data_order_created(data: dict[str, Any], p: str) -> dict[str, Any]:
    return {
        **_buyer(data, p),
        "order_id": _required_string(data, "order_id", p, max_len=64, pattern=_ID_RE),
        "amount_fen": _amount_fen(data, "amount", p),
        "items": _items(data, p),
        "gifts": _string_list(data, "gifts", p),
        "campaign": _string(data, "campaign", p, required=False, max_len=64),
        "invoice_title": _string(data, "invoice_title", p, required=False),
        "receiver_name": _string(data, "receiver_name", p, required=False, max_len=64),
        "receiver_phone": _string(data, "receiver_phone", p, required=False, max_len=32),
        "address": _string(data, "address", p, required=False, max_len=500),
    }


def _data_order_ref(data: dict[str, Any], p: str) -> dict[str, Any]:
    return {"order_id": _required_string(data, "order_id", p, max_len=64, pattern=_ID_RE)}


def _data_order_shipped(data: dict[str, Any], p: str) -> dict[str, Any]:
    return {
        **_data_order_ref(data, p),
        "tracking_no": _string(data, "tracking_no", p, required=False, max_len=64),
    }


def _data_refund_requested(data: dict[str, Any], p: str) -> dict[str, Any]:
    return {
        "refund_id": _required_string(data, "refund_id", p, max_len=64, pattern=_ID_RE),
        "order_id": _required_string(data, "order_id", p, max_len=64, pattern=_ID_RE),
        "kind": _choice(data, "kind", REFUND_KINDS, p),
        "amount_fen": _amount_fen(data, "amount", p),
        "reason": _required_string(data, "reason", p),
    }


def _data_refund_ref(data: dict[str, Any], p: str) -> dict[str, Any]:
    return {"refund_id": _required_string(data, "refund_id", p, max_len=64, pattern=_ID_RE)}


def _data_call(data: dict[str, Any], p: str) -> dict[str, Any]:
    return {
        "call_id": _required_string(data, "call_id", p, max_len=64, pattern=_ID_RE),
        "caller_phone": _required_string(data, "caller_phone", p, max_len=32),
        "buyer_nick": _string(data, "buyer_nick", p, required=False, max_len=64),
    }


def _data_rating(data: dict[str, Any], p: str) -> dict[str, Any]:
    score = _get(data, "score", p)
    # Whole stars only: 4.5, "5" and true are a platform bug, not a rating.
    if isinstance(score, bool) or not isinstance(score, int) or score not in RATING_SCORES:
        raise EventError(f"{p}score", "must be a whole number from 1 to 5")
    comment = _string(data, "comment", p, required=False, max_len=MAX_RATING_COMMENT)
    return {
        "buyer_nick": _required_string(data, "buyer_nick", p, max_len=64),
        "score": score,
        "comment": (comment or "").strip() or None,  # a blank comment is no comment
    }


_DATA_PARSERS = {
    "message.received": _data_message,
    "order.created": _data_order_created,
    "order.paid": _data_order_ref,
    "order.shipped": _data_order_shipped,
    "refund.requested": _data_refund_requested,
    "refund.cancelled": _data_refund_ref,
    "return.received": _data_refund_ref,
    "call.inbound": _data_call,
    "rating.received": _data_rating,
}
assert set(_DATA_PARSERS) == set(EVENT_TYPES)


def parse_event(raw: bytes, *, now: datetime | None = None) -> PlatformEventIn:
    """Parse a request body into a validated event, or raise :class:`BadInputError`
    (:class:`EventError` for a field of the event); ``now`` bounds ``occurred_at``."""
    return parse_event_object(loads_object(raw), now=now)


def parse_event_object(
    body: dict[str, Any], *, now: datetime | None = None, with_fingerprint: bool = False
) -> PlatformEventIn:
    """:func:`parse_event` of a body already read as JSON; ``with_fingerprint`` keeps its
    :func:`~csdesk.platform_events.fingerprint`, to tell a repeat from a conflict."""
    event_type = _choice(body, "type", EVENT_TYPES)
    assert event_type is not None
    data = _get(body, "data", "")
    if not isinstance(data, dict):
        raise EventError("data", "must be an object")
    occurred_at = _datetime(body, "occurred_at", now=now or utcnow())
    assert occurred_at is not None
    event_id = _required_string(body, "event_id", max_len=128, pattern=_ID_RE)
    shop_id = _required_string(body, "shop_id", max_len=64, pattern=_ID_RE)
    parsed = _DATA_PARSERS[event_type](data, "data.")
    return PlatformEventIn(
        event_id=event_id,
        type=event_type,
        occurred_at=occurred_at,
        shop_id=shop_id,
        data=parsed,
        body_hash=fingerprint(event_type, occurred_at, parsed) if with_fingerprint else None,
    )
