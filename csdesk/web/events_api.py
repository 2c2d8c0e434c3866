"""``POST /api/v1/events`` (platform webhooks), ``GET /api/v1/events/{event_id}`` and
``POST /api/v1/events/{event_id}/retry`` (a failed event, once its cause is fixed)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from sqlalchemy import select

from csdesk.actions.event_retry import retry_failed_event
from csdesk.actions.events import UnknownShopError
from csdesk.actions.shops import SHOP_ID_RE
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.errors import BadInputError, NotFoundError
from csdesk.ingest.schema import parse_event_object
from csdesk.ingest.secrets import SecretCache
from csdesk.keys import ACCEPTOR_KEY, PROCESSOR_KEY, SECRETS_KEY, SESSIONS_KEY, SETTINGS_KEY
from csdesk.settings import WebhookSettings
from csdesk.signing import Verdict
from csdesk.signing import verify as verify_signature
from csdesk.storage.models import PlatformEvent
from csdesk.strict_json import loads_object
from csdesk.web.openapi import (
    EVENT_IN,
    EVENT_STATUS,
    SECURED,
    documented,
    error_answer,
    json_answer,
)

routes = web.RouteTableDef()


def _error(status: int, message: str, **extra: object) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    """The raw body, or None when it is larger than ``limit`` (without reading it all)."""
    if request.content_length is not None:
        return None if request.content_length > limit else await request.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@routes.post("/api/v1/events")
@documented(
    {
        "summary": "Platform event (signed webhook)",
        "security": [{"signature": []}],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": EVENT_IN}},
        },
        "responses": {
            "202": json_answer(
                {"type": "object", "properties": {"accepted": {"const": True}}}, "accepted"
            ),
            "200": json_answer(
                {"type": "object", "properties": {"duplicate": {"const": True}}},
                "event_id seen before; nothing changed",
            ),
            "400": error_answer("malformed; `field` names the problem"),
            "401": error_answer(
                "unsigned, wrongly signed (another shop's secret included), a signed "
                "timestamp outside the replay window, or body-only where a timestamp is "
                "required"
            ),
            "409": error_answer("the event_id was accepted before with another body"),
            "413": error_answer("body over 64 KiB"),
        },
    }
)
async def post_event(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY].webhook
    body = await _read_limited(request, settings.max_body_bytes)
    if body is None:
        return _error(413, f"body larger than {settings.max_body_bytes // 1024} KiB")
    try:
        parsed: dict[str, Any] | None = loads_object(body)
        problem: BadInputError | None = None
    except BadInputError as exc:
        parsed, problem = None, exc
    shop_id = parsed.get("shop_id") if parsed is not None else None
    if not isinstance(shop_id, str) or not SHOP_ID_RE.fullmatch(shop_id):
        shop_id = None
    verdict = await _check_signature(
        request.app[SECRETS_KEY], settings, shop_id, body, request.headers.get(SIGNATURE)
    )
    if verdict is not Verdict.OK:
        return _error(401, _REFUSED[verdict])
    if parsed is None:
        assert problem is not None
        raise problem
    event = parse_event_object(parsed, with_fingerprint=True)
    try:
        accepted = await request.app[ACCEPTOR_KEY].submit(event)
    except UnknownShopError:
        raise BadInputError("shop_id", f"unknown shop {event.shop_id!r}") from None
    if accepted.conflict:
        return _error(
            409,
            f"event_id {event.event_id!r} was accepted before with other content (type, "
            "occurred_at or data differ): a repeat must say the same; a new event needs a "
            "new event_id",
            field="event_id",
            event_id=event.event_id,
        )
    if accepted.duplicate:
        return web.json_response({"duplicate": True, "event_id": event.event_id}, status=200)
    return web.json_response({"accepted": True, "event_id": event.event_id}, status=202)


SIGNATURE = "X-Csdesk-Signature"
_REFUSED = {
    Verdict.BAD: "missing or wrong X-Csdesk-Signature: t=<unix seconds>,sha256=<hex HMAC of "
    '"<t>." + body> (or sha256=<hex HMAC of the body>) with the shop\'s webhook secret',
    Verdict.STALE: "X-Csdesk-Signature: the signed time t is outside the replay window",
    Verdict.UNTIMED: "X-Csdesk-Signature: a signed timestamp is required "
    '(t=<unix seconds>,sha256=<hex HMAC of "<t>." + body>)',
}


async def _check_signature(
    cache: SecretCache,
    settings: WebhookSettings,
    shop_id: str | None,
    body: bytes,
    header: str | None,
) -> Verdict:
    """Against the secrets of the shop the body names (``CSDESK_WEBHOOK_SECRET`` for a shop
    without its own, or when the body names none); once more with a fresh read if that
    fails, so a secret rotated in another process works at once."""

    def check(secrets: tuple[str, ...]) -> Verdict:
        return verify_signature(
            body,
            secrets,
            header,
            now_s=time.time(),
            window_s=settings.replay_window_s,
            require_timestamp=settings.require_timestamp,
        )

    if shop_id is None:
        return check((settings.secret,))
    now = utcnow()
    verdict = check((await cache.get(shop_id)).valid(settings.secret, now))
    if verdict is Verdict.BAD:
        fresh = await cache.fresher(shop_id)
        if fresh is not None:
            verdict = check(fresh.valid(settings.secret, now))
    return verdict


def event_json(event: PlatformEvent) -> dict[str, object]:
    result: dict[str, object] = {
        "event_id": event.event_id,
        "type": event.type,
        "status": event.status.value,
        "received_at": event.received_at.isoformat(),
        "occurred_at": event.occurred_at.isoformat(),
        "processed_at": event.processed_at.isoformat() if event.processed_at else None,
        "shop_id": event.shop_id,
    }
    if event.error:
        result["error"] = event.error
    if event.note:
        result["note"] = event.note
    return result


@routes.get("/api/v1/events/{event_id}")
@documented(
    {
        "summary": "Status of an accepted event (supervisor and up)",
        "security": SECURED,
        "parameters": [
            {"name": "event_id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "responses": {
            "200": json_answer(EVENT_STATUS, "the event"),
            "401": error_answer("no login"),
            "403": error_answer("role without access"),
            "404": error_answer("unknown event"),
        },
    }
)
async def get_event(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "events.read")
    async with request.app[SESSIONS_KEY]() as session:
        event = await session.scalar(
            select(PlatformEvent).where(
                PlatformEvent.shop_id == user.shop_id,
                PlatformEvent.event_id == request.match_info["event_id"],
            )
        )
    if event is None:
        raise NotFoundError("no such event")
    return web.json_response(event_json(event))


@routes.post("/api/v1/events/{event_id}/retry")
@documented(
    {
        "summary": "Retry a failed event once its cause is fixed (supervisor and up; "
        "audited): back to received, applied again at once",
        "security": SECURED,
        "parameters": [
            {"name": "event_id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "responses": {
            "202": json_answer(EVENT_STATUS, "the event, received again"),
            "401": error_answer("no login"),
            "403": error_answer("role without access, or a missing CSRF token"),
            "404": error_answer("unknown event"),
            "409": error_answer("the event is not failed (received or processed)"),
        },
    }
)
async def post_retry(request: web.Request) -> web.Response:
    user = current_user(request)
    processor = request.app[PROCESSOR_KEY]
    event = await retry_failed_event(
        request.app[SESSIONS_KEY],
        user,
        request.match_info["event_id"],
        utcnow(),
        hand_to=processor.adopt,
    )
    return web.json_response(event_json(event), status=202)
