"""Reading a request, in one place: the JSON body, path ids, query numbers, typed fields.

Every helper raises :mod:`csdesk.errors` (a bad argument is a ``BadInputError`` naming the
field, an id that cannot exist a ``NotFoundError``); the error middleware
(:mod:`csdesk.web.errors`) answers them, so handlers neither catch nor format errors.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, Final, TypeGuard, overload

from aiohttp import web

from csdesk import strict_json
from csdesk.actions.outbox import Deps
from csdesk.clock import parse_date, parse_datetime
from csdesk.errors import BadInputError, NotFoundError
from csdesk.keys import BUS_KEY, SESSIONS_KEY
from csdesk.routing.queues import QUEUE_KEY
from csdesk.web.openapi import DATE, DATE_TIME


def deps_of(request: web.Request) -> Deps:
    app = request.app
    return Deps(app[SESSIONS_KEY], app[BUS_KEY], app[QUEUE_KEY])


def ok(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


async def json_body(request: web.Request, *, empty: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON object sent; an empty body is ``empty`` (default ``{}``: the fields the
    handler requires are then refused by name, as the OpenAPI document says: a body is
    required exactly when it has required fields). Read as bytes and decoded by
    :mod:`csdesk.strict_json` (not UTF-8, NUL, lone surrogates, deep nesting: 400 naming
    the field), so no handler sees what a database would refuse."""
    raw = await request.read()
    if not raw.strip():
        return dict(empty or {})
    return strict_json.loads_object(raw)


def path_id(request: web.Request, name: str = "conversation_id") -> int:
    """A positive 64-bit id from the path; anything else names nothing there is (404)."""
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        raise NotFoundError(f"{name.removesuffix('_id')} {raw}: not found")
    return int(raw)


@overload
def query_int(request: web.Request, name: str, *, low: int, high: int) -> int | None: ...


@overload
def query_int(request: web.Request, name: str, *, low: int, high: int, default: int) -> int: ...


def query_int(
    request: web.Request, name: str, *, low: int, high: int, default: int | None = None
) -> int | None:
    """A whole-number query parameter within [low, high]; ``default`` when absent."""
    raw = request.query.get(name, "")
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise BadInputError(name, f"must be a whole number from {low} to {high}")
    return int(raw)


def text(data: dict[str, Any], name: str, *, required: bool = False) -> str:
    """A string field ("" when absent and optional); trimming and limits are the action's."""
    value = data.get(name)
    if value is None:
        if required:
            raise BadInputError(name, "is required (必填)")
        return ""
    if not isinstance(value, str):
        raise BadInputError(name, "must be a string")
    return value


def bounded_text(data: dict[str, Any], name: str, *, max_chars: int, required: bool = True) -> str:
    """A string field of at most ``max_chars``; when required, not blank."""
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise BadInputError(name, "must be a string")
    if required and not value.strip():
        raise BadInputError(name, "is required (必填)")
    if len(value) > max_chars:
        raise BadInputError(name, f"must be at most {max_chars} characters")
    return value


def is_id(value: object) -> TypeGuard[int]:
    """A database id: a positive integer within 64 bits (PostgreSQL's bigint)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def optional_int(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if not is_id(value):
        raise BadInputError(name, "must be a positive integer (an id)")
    return value


def iso_date(raw: str | None, name: str) -> date:
    """Exactly ``YYYY-MM-DD`` (what the OpenAPI document says: ``openapi.DATE``)."""
    try:
        return parse_date(raw or "")
    except ValueError:
        raise BadInputError(name, "must be a date, YYYY-MM-DD") from None


def iso_datetime(raw: object, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        value = parse_datetime(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise BadInputError(name, "must be an ISO 8601 date-time with a timezone")
    return value


WHEN_SCHEMA: Final = {"anyOf": [DATE, DATE_TIME, {"type": "string", "maxLength": 0}]}
"""What :func:`query_when` takes, for the OpenAPI document."""


def query_when(request: web.Request, name: str) -> datetime | None:
    """A query parameter that is ``YYYY-MM-DD`` (midnight UTC) or an RFC 3339 date-time;
    None when absent or empty."""
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_datetime(raw)
    except ValueError:
        pass
    try:
        return datetime.combine(parse_date(raw), time.min, tzinfo=UTC)
    except ValueError:
        raise BadInputError(name, "must be a date (2026-11-11) or an ISO 8601 time") from None
