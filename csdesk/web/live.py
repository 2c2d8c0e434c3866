"""``GET /api/v1/live``: the console's websocket of live events (protocol: docs/realtime.md).

The auth middleware has already refused anonymous requests (401 before the upgrade); this
handler refuses pages of other sites (403), then reads the socket. Sending is the hub's
per-socket task: only this handler reads its websocket (aiohttp-demos ``chat``).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.keys import SESSIONS_KEY
from csdesk.realtime import HUB_KEY
from csdesk.realtime.origin import is_foreign_origin
from csdesk.realtime.session import LiveSession
from csdesk.web.openapi import SECURED, documented

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


def _error(description: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


@routes.get("/api/v1/live", allow_head=False)
@documented(
    {
        "summary": "Live console events over a WebSocket (hello / welcome / event / ack; "
        "see docs/realtime.md)",
        "security": SECURED,
        "responses": {
            "101": {"description": "switching to the WebSocket protocol"},
            "400": _error("not a WebSocket upgrade"),
            "401": _error("no login"),
            "403": _error("Origin of another site"),
            "503": _error("live events are not running in this process"),
        },
    }
)
async def live(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    require(user, "live.subscribe")
    origin = request.headers.get("Origin")
    if is_foreign_origin(origin, request.host):
        return web.json_response(
            {"error": f"forbidden: Origin {origin!r} is not this site ({request.host})"},
            status=403,
        )
    hub = request.app.get(HUB_KEY)
    if hub is None:
        return web.json_response({"error": "live events are not running"}, status=503)
    ws = web.WebSocketResponse(
        heartbeat=hub.config.heartbeat_s, max_msg_size=hub.config.max_message_bytes
    )
    if not ws.can_prepare(request).ok:
        return web.json_response(
            {"error": "not a WebSocket upgrade: connect with a WebSocket client"}, status=400
        )
    await ws.prepare(request)
    session = LiveSession(hub, user, ws, request.app[SESSIONS_KEY])
    try:
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                await session.on_text(message.data)
            elif message.type is WSMsgType.BINARY:
                session.on_binary()
    except Exception:
        log.exception("live: connection of user %s failed", user.id)
        session.connection.close(WSCloseCode.INTERNAL_ERROR, "server error: reconnect")
    finally:
        await session.close()
    return ws
