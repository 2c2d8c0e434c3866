"""Request helpers shared by the JSON handlers: parse at the edge, answer errors as values.

A bad argument raises :class:`csdesk.actions.work_items.InputError` (400 naming the field);
each web module maps its own domain errors (not found, conflicts) in its decorator.
"""

from __future__ import annotations

from typing import Any, overload

from aiohttp import web

from csdesk import strict_json
from csdesk.actions.outbox import Deps
from csdesk.actions.work_items import InputError
from csdesk.keys import BUS_KEY, SESSIONS_KEY
from csdesk.routing.queues import QUEUE_KEY


def error_response(status: int, message: str, field: str | None = None) -> web.Response:
    body = {"error": message, **({"field": field} if field else {})}
    return web.json_response(body, status=status)


def deps_of(request: web.Request) -> Deps:
    app = request.app
    return Deps(app[SESSIONS_KEY], app[BUS_KEY], app[QUEUE_KEY])


async def json_body(request: web.Request, *, empty: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON object sent; an empty body is ``empty`` when given, else refused. Read as
    bytes and decoded by :mod:`csdesk.strict_json` (not UTF-8, NUL, lone surrogates, deep
    nesting: 400 naming the field), so no handler sees what a database would refuse."""
    raw = await request.read()
    if not raw.strip() and empty is not None:
        return dict(empty)
    return strict_json.loads_object(raw)


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
        raise InputError(name, f"must be a whole number from {low} to {high}")
    return int(raw)
