"""``GET /api/openapi.json``: the OpenAPI 3 document of every ``/api/`` route.

Built from one table next to the code; a test checks it lists exactly the app's /api/
routes, so the document cannot silently drift from the router.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

import csdesk

routes = web.RouteTableDef()

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
    "required": ["error"],
}
_EVENT_STATUS = {
    "type": "object",
    "properties": {
        "event_id": {"type": "string"},
        "type": {"type": "string"},
        "status": {"type": "string", "enum": ["received", "processed", "failed"]},
        "received_at": {"type": "string", "format": "date-time"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "processed_at": {"type": ["string", "null"], "format": "date-time"},
        "error": {"type": "string"},
    },
    "required": ["event_id", "type", "status", "received_at"],
}
_EVENT_IN = {
    "type": "object",
    "required": ["event_id", "type", "occurred_at", "shop_id", "data"],
    "properties": {
        "event_id": {"type": "string", "maxLength": 128},
        "type": {
            "type": "string",
            "enum": [
                "message.received",
                "order.created",
                "order.paid",
                "order.shipped",
                "refund.requested",
                "refund.cancelled",
                "return.received",
                "call.inbound",
            ],
        },
        "occurred_at": {"type": "string", "format": "date-time"},
        "shop_id": {"type": "string"},
        "data": {"type": "object", "description": "Per type; see docs/events.md."},
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _err(description: str) -> dict[str, Any]:
    return _json(_ERROR, description)


SECURED: list[dict[str, list[str]]] = [{"session": []}, {"bearer": []}]
ERROR_SCHEMA: Final = _ERROR
STR: Final = {"type": "string"}


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
) -> dict[str, Any]:
    """One operation of a logged-in JSON route: its summary, the answers (each error with
    the calling module's wording from ``error_text``), parameters and body."""
    result: dict[str, Any] = {
        "summary": summary,
        "security": SECURED,
        "responses": {
            ok_status: _json({"type": "object"}, ok),
            **{code: _err(error_text[code]) for code in errors},
        },
    }
    if params:
        result["parameters"] = params
    if body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return result


PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/events": {
        "post": {
            "summary": "Platform event (signed webhook)",
            "security": [{"signature": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _EVENT_IN}},
            },
            "responses": {
                "202": _json(
                    {"type": "object", "properties": {"accepted": {"const": True}}}, "accepted"
                ),
                "200": _json(
                    {"type": "object", "properties": {"duplicate": {"const": True}}},
                    "event_id seen before; nothing changed",
                ),
                "400": _err("malformed; `field` names the problem"),
                "401": _err("unsigned or wrongly signed"),
                "413": _err("body over 64 KiB"),
            },
        }
    },
    "/api/v1/events/{event_id}": {
        "get": {
            "summary": "Status of an accepted event (supervisor and up)",
            "security": SECURED,
            "parameters": [
                {"name": "event_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": _json(_EVENT_STATUS, "the event"),
                "401": _err("no login"),
                "403": _err("role without access"),
                "404": _err("unknown event"),
            },
        }
    },
    "/api/v1/events/{event_id}/retry": {
        "post": {
            "summary": "Retry a failed event once its cause is fixed (supervisor and up; "
            "audited): back to received, applied again at once",
            "security": SECURED,
            "parameters": [
                {"name": "event_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "202": _json(_EVENT_STATUS, "the event, received again"),
                "401": _err("no login"),
                "403": _err("role without access, or a missing CSRF token"),
                "404": _err("unknown event"),
                "409": _err("the event is not failed (received or processed)"),
            },
        }
    },
    "/api/v1/queues": {
        "get": {
            "summary": "Per role: depth, oldest wait, top items with their score breakdown",
            "security": SECURED,
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
            "responses": {
                "200": _json({"type": "object"}, "queues"),
                "401": _err("no login"),
                "403": _err("role without access"),
            },
        }
    },
    "/api/v1/me": {
        "get": {
            "summary": "Who am I",
            "security": SECURED,
            "responses": {"200": _json({"type": "object"}, "the user"), "401": _err("no login")},
        }
    },
    "/api/v1/audit": {
        "get": {
            "summary": "Recent audit log of the shop (supervisor and up)",
            "security": SECURED,
            "responses": {
                "200": _json({"type": "object"}, "audit rows"),
                "401": _err("no login"),
                "403": _err("role without access"),
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This document",
            "security": SECURED,
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
        }
    },
}


def document(extra_paths: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The whole document; web modules with their own /api/ routes pass their entries
    (a module-level ``OPENAPI`` dict next to its handlers, collected by create_app)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "csdesk API", "version": csdesk.__version__},
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
        "paths": {**PATHS, **(extra_paths or {})},
    }


OPENAPI_EXTRA_KEY: web.AppKey[dict[str, dict[str, Any]]] = web.AppKey("openapi_extra")


@routes.get("/api/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document(request.app.get(OPENAPI_EXTRA_KEY)))
