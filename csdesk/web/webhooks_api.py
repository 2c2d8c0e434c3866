"""Integrator webhooks over JSON (owners and admins; the console page 集成 · Webhook uses these).

``/api/v1/admin/webhooks``: the shop's subscriptions (URL, event types, paused or not, their
delivery counts) and the outbound channel's state; a new one answers its secret once.
``/{id}``: pause / resume, change types (PATCH), delete. ``/{id}/test``: a ``webhook.test``
delivery now. ``/{id}/deliveries``: the delivery log. A failed delivery is sent again with
``POST /api/v1/deliveries/{delivery_id}/retry``. Payloads per type: docs/events.md.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.actions import deliveries as actions
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.errors import BadInputError
from csdesk.jobs.base import JOBS_KEY
from csdesk.jobs.deliveries import DELIVER, deliver_job_id
from csdesk.keys import SESSIONS_KEY
from csdesk.outbound.webhook_events import SUBSCRIBABLE
from csdesk.reads import deliveries as reads
from csdesk.web.openapi import ERRORS, STR, documented, obj, operation, query
from csdesk.web.request import bounded_text, json_body, path_id, query_int

routes = web.RouteTableDef()

WEBHOOKS_PATH: Final = "/api/v1/admin/webhooks"
_ID = {"name": "subscription_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_TYPES = {"type": "array", "items": {"type": "string", "enum": list(SUBSCRIBABLE)}, "minItems": 1}


def _op(summary: str, ok: str, errors: tuple[str, ...], **kwargs: Any) -> dict[str, Any]:
    return operation(summary, error_text=ERRORS, errors=errors, ok=ok, **kwargs)


@routes.get(WEBHOOKS_PATH)
@documented(_op("Webhook subscriptions and the outbound channel", "the page", ("401", "403")))
async def list_webhooks(request: web.Request) -> web.Response:
    page = await reads.webhook_page(request.app[SESSIONS_KEY], current_user(request), utcnow())
    return web.json_response({**page.to_json(), "event_types": list(SUBSCRIBABLE)})


@routes.post(WEBHOOKS_PATH)
@documented(
    _op(
        "Subscribe a URL to event types; its signing secret is answered once",
        "the subscription and its secret",
        ("401", "403", "409"),
        ok_status="201",
        body=obj(
            ["url", "event_types"],
            url={**STR, "maxLength": 2000},
            event_types=_TYPES,
            description={**STR, "maxLength": 200},
        ),
    )
)
async def create_webhook(request: web.Request) -> web.Response:
    require(current_user(request), "webhooks.admin")
    data = await json_body(request)
    url = data.get("url")
    if not isinstance(url, str):
        raise BadInputError("url", "is required (必填)")
    made = await actions.create_subscription(
        request.app[SESSIONS_KEY],
        current_user(request),
        url,
        data.get("event_types"),
        bounded_text(data, "description", max_chars=200, required=False),
        utcnow(),
    )
    return web.json_response({"subscription": made.subscription, "secret": made.secret}, status=201)


@routes.patch(WEBHOOKS_PATH + "/{subscription_id}")
@documented(
    _op(
        "Pause or resume a subscription, or change its event types",
        "the subscription",
        ("401", "403", "404"),
        params=[_ID],
        body=obj([], active={"type": "boolean"}, event_types=_TYPES),
    )
)
async def update_webhook(request: web.Request) -> web.Response:
    data = await json_body(request)
    active = data.get("active")
    if active is not None and not isinstance(active, bool):
        raise BadInputError("active", "must be true or false")
    updated = await actions.update_subscription(
        request.app[SESSIONS_KEY],
        current_user(request),
        path_id(request, "subscription_id"),
        utcnow(),
        active=active,
        event_types=data.get("event_types"),
    )
    return web.json_response(updated)


@routes.delete(WEBHOOKS_PATH + "/{subscription_id}")
@documented(
    _op("Delete a subscription and its log", "deleted", ("401", "403", "404"), params=[_ID])
)
async def delete_webhook(request: web.Request) -> web.Response:
    await actions.delete_subscription(
        request.app[SESSIONS_KEY],
        current_user(request),
        path_id(request, "subscription_id"),
        utcnow(),
    )
    return web.json_response({"deleted": True})


@routes.post(WEBHOOKS_PATH + "/{subscription_id}/test")
@documented(
    _op(
        "Send a webhook.test delivery to the subscription now",
        "the delivery's id",
        ("401", "403", "404"),
        ok_status="202",
        params=[_ID],
    )
)
async def test_webhook(request: web.Request) -> web.Response:
    delivery_id = await actions.send_test(
        request.app[SESSIONS_KEY],
        current_user(request),
        path_id(request, "subscription_id"),
        utcnow(),
    )
    await request.app[JOBS_KEY].enqueue(DELIVER, delivery_id, job_id=deliver_job_id(delivery_id, 0))
    return web.json_response({"delivery_id": delivery_id}, status=202)


@routes.get(WEBHOOKS_PATH + "/{subscription_id}/deliveries")
@documented(
    _op(
        "A subscription's latest deliveries, newest first",
        "the log",
        ("400", "401", "403", "404"),
        params=[
            _ID,
            query("state", {"type": "string", "enum": list(reads.STATES)}),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
        ],
    )
)
async def webhook_deliveries(request: web.Request) -> web.Response:
    state = request.query.get("state") or None
    if state is not None and state not in reads.STATES:
        raise BadInputError("state", f"one of {', '.join(reads.STATES)}")
    log = await reads.delivery_log(
        request.app[SESSIONS_KEY],
        current_user(request),
        path_id(request, "subscription_id"),
        limit=query_int(request, "limit", low=1, high=200, default=50),
        state=state,
    )
    return web.json_response(log)
