"""``GET /api/openapi.json``: the OpenAPI 3 document of every ``/api/`` route.

Each route's operation sits beside its handler (``@documented(op(...))`` under the route
decorator); the document is built from the app's router, so it lists what is routed. A
test checks that every routed /api/ operation is documented.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from aiohttp import web

import csdesk
from csdesk.platform_events import EVENT_TYPES

routes = web.RouteTableDef()

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
    "required": ["error"],
}
EVENT_STATUS = {
    "type": "object",
    "properties": {
        "event_id": {"type": "string"},
        "type": {"type": "string"},
        "status": {"type": "string", "enum": ["received", "processed", "failed"]},
        "received_at": {"type": "string", "format": "date-time"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "processed_at": {"type": ["string", "null"], "format": "date-time"},
        "error": {"type": "string"},
        "note": {
            "type": "string",
            "description": "processed, but something was not done, and why (a rating with "
            "no conversation to rate was stored unlinked)",
        },
    },
    "required": ["event_id", "type", "status", "received_at"],
}
EVENT_IN = {
    "type": "object",
    "required": ["event_id", "type", "occurred_at", "shop_id", "data"],
    "properties": {
        "event_id": {"type": "string", "maxLength": 128},
        "type": {
            "type": "string",
            "enum": list(EVENT_TYPES),
        },
        "occurred_at": {"type": "string", "format": "date-time"},
        "shop_id": {"type": "string"},
        "data": {"type": "object", "description": "Per type; see docs/events.md."},
    },
}


def json_answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error_answer(description: str) -> dict[str, Any]:
    return json_answer(_ERROR, description)


SECURED: list[dict[str, list[str]]] = [{"session": []}, {"bearer": []}]
ERROR_SCHEMA: Final = _ERROR
STR: Final = {"type": "string"}
# The limits the request helpers (``web/request.py``) enforce, stated once for the document.
MAX_ID: Final = 2**63 - 1
ID: Final = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
"""A database id (``request.is_id``, ``path_id``): a positive 64-bit integer."""
NONBLANK: Final = {"type": "string", "pattern": "\\S"}
"""A required text: at least one character that is not white space (``bounded_text``)."""
_DAY = "[1-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
DATE: Final = {"type": "string", "format": "date", "pattern": f"^{_DAY}$"}
"""``YYYY-MM-DD`` (``clock.parse_date``). The pattern keeps generated examples real dates
(days 29-31 are valid too; the pattern is the safe subset a client can rely on)."""
DATE_TIME: Final = {
    "type": "string",
    "format": "date-time",
    "pattern": f"^{_DAY}[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{{1,6}})?"
    "(?:[Zz]|[+-](?:0[0-9]|1[0-3]):[0-5][0-9])$",
}
"""An RFC 3339 date-time with its offset (``clock.parse_datetime``)."""


def or_empty(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter that may also be sent empty, meaning "not given" (the console's
    filter forms send ``status=`` for "any")."""
    return {"anyOf": [schema, {"type": "string", "maxLength": 0}]}


def nonblank(max_chars: int | None = None) -> dict[str, Any]:
    """A required text of at most ``max_chars`` characters."""
    return {**NONBLANK, **({"maxLength": max_chars} if max_chars is not None else {})}


def text_up_to(max_chars: int) -> dict[str, Any]:
    """An optional text (may be empty) of at most ``max_chars`` characters."""
    return {"type": "string", "maxLength": max_chars}


def int_range(low: int, high: int) -> dict[str, Any]:
    """A whole number in [low, high] (``request.query_int`` for query parameters)."""
    return {"type": "integer", "minimum": low, "maximum": high}


def path_param(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or ID}


def obj(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema}


def operation(
    summary: str,
    *,
    error_text: Mapping[str, str],
    errors: tuple[str, ...],
    ok: str = "done",
    ok_status: str = "200",
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    ok_content: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One operation of a logged-in JSON route: its summary, the answers (each error with
    the calling module's wording from ``error_text``), parameters and body. A route that
    reads a body answers 400 for a bad one, whatever else it refuses."""
    if body is not None and "400" not in errors:
        errors = ("400", *errors)
    result: dict[str, Any] = {
        "summary": summary,
        "security": SECURED,
        "responses": {
            ok_status: json_answer({"type": "object"}, ok)
            if ok_content is None
            else {
                "description": ok,
                "content": {media: {"schema": schema} for media, schema in ok_content.items()},
            },
            **{code: error_answer(error_text[code]) for code in sorted(errors)},
        },
    }
    if params:
        result["parameters"] = params
    if body is not None:
        # An empty body reads as {} (``request.json_body``): it is needed only for its
        # required fields.
        result["requestBody"] = {
            "required": bool(body.get("required")),
            "content": {"application/json": {"schema": body}},
        }
    return result


ERRORS: Final = {
    "400": "bad input; `field` names it",
    "401": "no login",
    "403": "role without access, another agent's item, or a missing CSRF token",
    "404": "not found in your shop",
    "409": "the item's state does not allow it (closed, not in hand, wrong kind, too late)",
}
"""The usual wording of each refusal (the error middleware answers them all alike)."""
ITEM_ID: Final = {
    "name": "conversation_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
}
WRITE: Final = ("400", "401", "403", "404", "409")
READ: Final = ("401", "403", "404")


def op(
    summary: str,
    *,
    ok_status: str = "200",
    errors: tuple[str, ...] = READ,
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    ok_content: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One logged-in JSON operation with the usual wording of its refusals."""
    return operation(
        summary,
        error_text=ERRORS,
        errors=errors,
        ok_status=ok_status,
        body=body,
        params=params,
        ok_content=ok_content,
    )


HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])
_OPERATIONS: dict[Callable[..., Any], dict[str, Any]] = {}


def documented(operation: dict[str, Any]) -> Callable[[HandlerT], HandlerT]:
    """The handler's OpenAPI operation, written beside it (under the route decorator)."""

    def attach(handler: HandlerT) -> HandlerT:
        _OPERATIONS[handler] = operation
        return handler

    return attach


def routed_paths(router: web.UrlDispatcher) -> dict[str, dict[str, Any]]:
    """Every /api/ route's documented operation, by path and method."""
    paths: dict[str, dict[str, Any]] = {}
    for route in router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        found = _OPERATIONS.get(route.handler)
        if path.startswith("/api/") and route.method != "HEAD" and found is not None:
            paths.setdefault(path, {})[route.method.lower()] = found
    return paths


def document(paths: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The whole document around ``paths`` (:func:`routed_paths` of the app)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "csdesk API",
            "version": csdesk.__version__,
            "description": (
                "Every request body is UTF-8 JSON whose strings (keys too) never contain "
                "U+0000 or lone surrogates (400, `field` names it); every refusal under "
                '/api/ is JSON `{"error", "field"?}`, unknown paths included (404), '
                "and a wrong method answers 405 with `Allow`."
            ),
        },
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "csdesk_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
                "signature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Csdesk-Signature",
                    "description": "sha256=<hex HMAC-SHA256 of the raw body>",
                },
            }
        },
        "paths": paths,
    }


@routes.get("/api/openapi.json")
@documented(
    {
        "summary": "This document",
        "security": SECURED,
        "responses": {
            "200": json_answer({"type": "object"}, "OpenAPI 3.1"),
            "401": error_answer("no login"),
        },
    }
)
async def openapijson_answer(request: web.Request) -> web.Response:
    return web.json_response(document(routed_paths(request.app.router)))
