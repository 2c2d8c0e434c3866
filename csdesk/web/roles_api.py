"""The role workbenches' JSON API: order review, payment chasing, refund review and
processing, the hotline (caller card, outbound lists, notice campaigns).

Handlers are thin: check the access rule, parse the request, call one action, render.
Errors are JSON ``{"error", "field"?}``: 400 bad input naming the field, 403 not allowed
(the access table; agents act only on items assigned to them), 404 not in your shop, 409
the item's state does not allow it (closed, queued, the wrong kind, past the deadline).
The request helpers at the top are shared with ``supervisor_api``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, Final

from aiohttp import web

from csdesk.actions import chase_work, hotline_work, order_review, refund_work
from csdesk.actions.work_items import InputError, ItemNotFoundError
from csdesk.actions.workbench import WorkError
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.errors import CsdeskError
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import chases, hotline, order_checks, refund_items
from csdesk.storage.enums import OrderStatus, UserRole
from csdesk.web.openapi import STR, obj, operation, query
from csdesk.web.request import deps_of, error_response, json_body, query_int

routes = web.RouteTableDef()

Handler = Callable[[web.Request], Awaitable[web.Response]]
MAX_NOTE_CHARS: Final = 200


# -- request helpers (shared with supervisor_api) ----------------------------------------------


def api_errors(handler: Handler) -> Handler:
    """Each known failure becomes the JSON answer naming it (access refusals pass through:
    the auth middleware answers them with 403)."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except CsdeskError as exc:  # what reads raise (csdesk.errors)
            return error_response(exc.status, exc.message, exc.field)
        except InputError as exc:
            return error_response(400, str(exc), exc.field)
        except ItemNotFoundError as exc:
            return error_response(404, str(exc))
        except WorkError as exc:  # ItemConflictError and the workbench's own refusals
            return error_response(409, str(exc))

    return wrapped


def path_id(request: web.Request, name: str = "conversation_id") -> int:
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        raise ItemNotFoundError(f"{name.removesuffix('_id')} {raw}: not found")
    return int(raw)


def text(data: dict[str, Any], name: str, *, required: bool = False) -> str:
    """A string field ("" when absent and optional); trimming and limits are the action's."""
    value = data.get(name)
    if value is None:
        if required:
            raise InputError(name, "is required (必填)")
        return ""
    if not isinstance(value, str):
        raise InputError(name, "must be a string")
    return value


def optional_int(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InputError(name, "must be a positive integer")
    return value


def iso_date(raw: str | None, name: str) -> date:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        raise InputError(name, "must be a date, YYYY-MM-DD") from None


def iso_datetime(raw: object, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise InputError(name, "must be an ISO 8601 date-time with a timezone")
    return value


def ok(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


# -- order review -------------------------------------------------------------------------------


@routes.get("/api/v1/order-checks/{conversation_id}")
@api_errors
async def get_order_check(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, order_checks.ACCESS)
    view = await order_checks.order_check_view(request.app[SESSIONS_KEY], user, path_id(request))
    return ok(view)


@routes.post("/api/v1/order-checks/{conversation_id}/approve")
@api_errors
async def post_order_approve(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, order_checks.ACCESS)
    data = await json_body(request, empty={})
    result = await order_review.approve(
        deps_of(request), user, path_id(request), utcnow(), note_text=text(data, "note")
    )
    return ok(result)


@routes.post("/api/v1/order-checks/{conversation_id}/hold")
@api_errors
async def post_order_hold(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, order_checks.ACCESS)
    data = await json_body(request, empty={})
    result = await order_review.hold(
        deps_of(request), user, path_id(request), text(data, "reason"), utcnow()
    )
    return ok(result)


@routes.post("/api/v1/order-checks/{conversation_id}/address")
@api_errors
async def post_order_address(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, order_checks.ACCESS)
    data = await json_body(request, empty={})
    result = await order_review.correct_address(
        deps_of(request), user, path_id(request), text(data, "address"), utcnow()
    )
    return ok(result)


@routes.post("/api/v1/order-checks/{conversation_id}/gifts")
@api_errors
async def post_order_gifts(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, order_checks.ACCESS)
    gifts = (await json_body(request, empty={})).get("gifts")
    if not isinstance(gifts, list) or not all(isinstance(g, str) for g in gifts):
        raise InputError("gifts", "must be a list of strings (an empty list removes all)")
    result = await order_review.fix_gifts(deps_of(request), user, path_id(request), gifts, utcnow())
    return ok(result)


@routes.post("/api/v1/order-checks/{conversation_id}/invoice")
@api_errors
async def post_order_invoice(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, order_checks.ACCESS)
    data = await json_body(request, empty={})
    result = await order_review.confirm_invoice(
        deps_of(request), user, path_id(request), text(data, "invoice_title"), utcnow()
    )
    return ok(result)


# -- payment chasing ----------------------------------------------------------------------------


@routes.get("/api/v1/chases/mine")
@api_errors
async def get_my_chases(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, chases.ACCESS)
    agent_id = user.id
    if "agent_id" in request.query:
        # Supervisors look at one chaser's list; an agent's list is always their own.
        if user.role is UserRole.AGENT:
            raise InputError("agent_id", "agents see their own list only")
        agent_id = query_int(request, "agent_id", low=1, high=2**63 - 1, default=user.id)
    rows = await chases.my_chases(request.app[SESSIONS_KEY], user.shop_id, agent_id, utcnow())
    return ok({"agent_id": agent_id, "chases": rows})


@routes.post("/api/v1/chases/{conversation_id}/outcome")
@api_errors
async def post_chase_outcome(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, chases.ACCESS)
    data = await json_body(request, empty={})
    result = await chase_work.record_outcome(
        deps_of(request), user, path_id(request), text(data, "outcome", required=True), utcnow()
    )
    return ok(result)


@routes.get("/api/v1/chases/kpi")
@api_errors
async def get_chase_kpi(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, chases.KPI_ACCESS)
    days = query_int(request, "days", low=1, high=366, default=30)
    since = utcnow() - timedelta(days=days)
    kpi = await chases.recovered_by_chaser(request.app[SESSIONS_KEY], user, since)
    return ok({"days": days, **kpi})


# -- refunds ------------------------------------------------------------------------------------


@routes.get("/api/v1/refund-items/{conversation_id}")
@api_errors
async def get_refund_item(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, refund_items.REVIEW_ACCESS)
    view = await refund_items.refund_item_view(
        request.app[SESSIONS_KEY], user, path_id(request), utcnow()
    )
    return ok(view)


@routes.post("/api/v1/refund-items/{conversation_id}/approve")
@api_errors
async def post_refund_approve(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, refund_items.REVIEW_ACCESS)
    data = await json_body(request, empty={})
    result = await refund_work.approve(
        deps_of(request), user, path_id(request), utcnow(), note_text=text(data, "note")
    )
    return ok(result)


@routes.post("/api/v1/refund-items/{conversation_id}/reject")
@api_errors
async def post_refund_reject(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, refund_items.REVIEW_ACCESS)
    data = await json_body(request, empty={})
    result = await refund_work.reject(
        deps_of(request), user, path_id(request), text(data, "reason"), utcnow()
    )
    return ok(result)


@routes.post("/api/v1/refund-items/{conversation_id}/intercept")
@api_errors
async def post_refund_intercept(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, refund_work.PROCESS_ACCESS)
    data = await json_body(request, empty={})
    result = await refund_work.request_intercept(
        deps_of(request), user, path_id(request), utcnow(), note_text=text(data, "note")
    )
    return ok(result)


@routes.post("/api/v1/refund-items/{conversation_id}/return-received")
@api_errors
async def post_refund_return_received(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, refund_work.PROCESS_ACCESS)
    data = await json_body(request, empty={})
    result = await refund_work.mark_return_received(
        deps_of(request), user, path_id(request), utcnow(), note_text=text(data, "note")
    )
    return ok(result)


@routes.post("/api/v1/refund-items/{conversation_id}/refunded")
@api_errors
async def post_refund_refunded(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, refund_work.PROCESS_ACCESS)
    data = await json_body(request, empty={})
    result = await refund_work.mark_refunded(
        deps_of(request), user, path_id(request), utcnow(), note_text=text(data, "note")
    )
    return ok(result)


# -- hotline ------------------------------------------------------------------------------------


@routes.get("/api/v1/hotline/caller")
@api_errors
async def get_caller(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, hotline_work.LOOKUP_ACCESS)
    phone = request.query.get("phone", "")
    card = await hotline_work.lookup_caller(request.app[SESSIONS_KEY], user, phone, utcnow())
    return ok(card)


@routes.get("/api/v1/hotline/outbound")
@api_errors
async def get_outbound(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, hotline.WORK_ACCESS)
    kinds: tuple[str, ...] = hotline.OUTBOUND_KINDS
    kind = request.query.get("kind")
    if kind is not None:
        if kind not in kinds:
            raise InputError("kind", f"must be one of {', '.join(kinds)}")
        kinds = (kind,)
    lists = await hotline.outbound_lists(
        request.app[SESSIONS_KEY],
        user,
        utcnow(),
        kinds=kinds,
        campaign=request.query.get("campaign"),
    )
    return ok({"kinds": lists})


@routes.post("/api/v1/hotline/calls/{conversation_id}/outcome")
@api_errors
async def post_call_outcome(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, hotline.WORK_ACCESS)
    data = await json_body(request, empty={})
    result = await hotline_work.record_call_outcome(
        deps_of(request),
        user,
        path_id(request),
        text(data, "outcome", required=True),
        utcnow(),
        note_text=text(data, "note"),
    )
    return ok(result)


def _campaign_filter(raw: object) -> hotline_work.CampaignFilter:
    if not isinstance(raw, dict):
        raise InputError("filter", "must be an object")
    skus = raw.get("skus", [])
    if not isinstance(skus, list) or not all(isinstance(s, str) and s for s in skus):
        raise InputError("filter.skus", "must be a list of SKUs")
    campaign = raw.get("campaign")
    if campaign is not None and (not isinstance(campaign, str) or len(campaign) > 64):
        raise InputError("filter.campaign", "must be a campaign name (at most 64 characters)")
    raw_statuses = raw.get("statuses", [OrderStatus.PAID.value])
    try:
        statuses = tuple(OrderStatus(s) for s in raw_statuses)
    except (TypeError, ValueError):
        choices = ", ".join(s.value for s in OrderStatus)
        raise InputError("filter.statuses", f"must be a list of: {choices}") from None
    min_amount = raw.get("min_amount_fen")
    if min_amount is not None and (not isinstance(min_amount, int) or isinstance(min_amount, bool)):
        raise InputError("filter.min_amount_fen", "must be an integer (fen)")
    return hotline_work.CampaignFilter(
        campaign=campaign or None,
        skus=tuple(skus),
        statuses=statuses,
        created_from=iso_datetime(raw.get("created_from"), "filter.created_from"),
        created_to=iso_datetime(raw.get("created_to"), "filter.created_to"),
        min_amount_fen=min_amount,
    )


@routes.post("/api/v1/hotline/campaigns")
@api_errors
async def post_campaign(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, hotline.CAMPAIGN_ACCESS)
    data = await json_body(request, empty={})
    spec = _campaign_filter(data.get("filter"))
    dry_run = data.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InputError("dry_run", "must be true or false")
    result = await hotline_work.create_notice_campaign(
        deps_of(request),
        user,
        text(data, "name"),
        text(data, "reason"),
        spec,
        utcnow(),
        dry_run=dry_run,
    )
    return ok(result.as_json(), status=200 if dry_run else 201)


@routes.get("/api/v1/hotline/campaigns")
@api_errors
async def get_campaigns(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, hotline.CAMPAIGN_ACCESS)
    return ok({"campaigns": await hotline.campaigns(request.app[SESSIONS_KEY], user)})


@routes.get("/api/v1/hotline/campaigns/{name}")
@api_errors
async def get_campaign(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, hotline.CAMPAIGN_ACCESS)
    progress = await hotline.campaign_progress(
        request.app[SESSIONS_KEY], user, request.match_info["name"]
    )
    return ok(progress)


# -- OpenAPI ------------------------------------------------------------------------------------

_ERRORS = {
    "400": "bad input; `field` names it",
    "401": "no login",
    "403": "role without access, another agent's item, or a missing CSRF token",
    "404": "not found in your shop",
    "409": "the item's state does not allow it (closed, not in hand, wrong kind, too late)",
}
ITEM_ID = {"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "integer"}}
WRITE: Final = ("400", "401", "403", "404", "409")
READ: Final = ("401", "403", "404")


def op(
    summary: str,
    *,
    ok_status: str = "200",
    errors: tuple[str, ...] = READ,
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One OpenAPI operation with this module's error wording (shared with supervisor_api)."""
    return operation(
        summary, error_text=_ERRORS, errors=errors, ok_status=ok_status, body=body, params=params
    )


NOTE = obj([], note={"type": "string", "maxLength": MAX_NOTE_CHARS})
REASON = obj(["reason"], reason={"type": "string", "maxLength": MAX_NOTE_CHARS})

OPENAPI: dict[str, dict[str, Any]] = {
    "/api/v1/order-checks/{conversation_id}": {
        "get": op(
            "Order check: the item, its order (masked contact), flags standing now, "
            "gifts each SKU promises",
            params=[ITEM_ID],
        )
    },
    "/api/v1/order-checks/{conversation_id}/approve": {
        "post": op(
            "Approve: ship as is (closes the item; standing flags recorded)",
            errors=WRITE,
            body=NOTE,
            params=[ITEM_ID],
        )
    },
    "/api/v1/order-checks/{conversation_id}/hold": {
        "post": op(
            "Hold shipping with a reason (item stays open, on_hold)",
            errors=WRITE,
            body=REASON,
            params=[ITEM_ID],
        )
    },
    "/api/v1/order-checks/{conversation_id}/address": {
        "post": op(
            "Correct the address (must pass the address checks; audited)",
            errors=WRITE,
            params=[ITEM_ID],
            body=obj(["address"], address={"type": "string", "maxLength": 200}),
        )
    },
    "/api/v1/order-checks/{conversation_id}/gifts": {
        "post": op(
            "Replace the order's gifts / promo items (audited)",
            errors=WRITE,
            params=[ITEM_ID],
            body=obj(["gifts"], gifts={"type": "array", "items": STR}),
        )
    },
    "/api/v1/order-checks/{conversation_id}/invoice": {
        "post": op(
            "Confirm (or correct) the invoice title (audited)",
            errors=WRITE,
            params=[ITEM_ID],
            body=obj(["invoice_title"], invoice_title={"type": "string", "maxLength": 200}),
        )
    },
    "/api/v1/chases/mine": {
        "get": op(
            "My chases: in hand, then waiting for their next attempt; with the phone and "
            "chat scripts, when the buyer may be contacted and whether quiet hours hold now "
            "(supervisors: ?agent_id=)",
            errors=("400", "401", "403"),
            params=[query("agent_id", {"type": "integer"})],
        )
    },
    "/api/v1/chases/{conversation_id}/outcome": {
        "post": op(
            "Record a chase outcome (schedules the next attempt or ends the chase)",
            errors=WRITE,
            params=[ITEM_ID],
            body=obj(["outcome"], outcome={"enum": list(chase_work.OUTCOMES)}),
        )
    },
    "/api/v1/chases/kpi": {
        "get": op(
            "Recovered amount per chaser over the last N days (agents: their own)",
            errors=("400", "401", "403"),
            params=[query("days", {"type": "integer", "minimum": 1, "maximum": 366})],
        )
    },
    "/api/v1/refund-items/{conversation_id}": {
        "get": op("Refund item: refund, deadline countdown, duties", params=[ITEM_ID])
    },
    "/api/v1/refund-items/{conversation_id}/approve": {
        "post": op(
            "Approve (after the deadline: allowed, flagged as auto-approved); hands "
            "the payout to processing",
            errors=WRITE,
            body=NOTE,
            params=[ITEM_ID],
        )
    },
    "/api/v1/refund-items/{conversation_id}/reject": {
        "post": op(
            "Reject with a reason (refused after the deadline)",
            errors=WRITE,
            body=REASON,
            params=[ITEM_ID],
        )
    },
    "/api/v1/refund-items/{conversation_id}/intercept": {
        "post": op(
            "Ask the warehouse to intercept the unshipped order (recorded)",
            errors=WRITE,
            body=NOTE,
            params=[ITEM_ID],
        )
    },
    "/api/v1/refund-items/{conversation_id}/return-received": {
        "post": op(
            "The returned parcel is in and checked", errors=WRITE, body=NOTE, params=[ITEM_ID]
        )
    },
    "/api/v1/refund-items/{conversation_id}/refunded": {
        "post": op(
            "Refund paid out: status refunded, closes the processing item",
            errors=WRITE,
            body=NOTE,
            params=[ITEM_ID],
        )
    },
    "/api/v1/hotline/caller": {
        "get": op(
            "Inbound call card: buyers with this phone, masked (audited)",
            errors=("400", "401", "403"),
            params=[query("phone", STR)],
        )
    },
    "/api/v1/hotline/outbound": {
        "get": op(
            "Open outbound calls by kind (agents: theirs and unassigned)",
            errors=("400", "401", "403"),
            params=[
                query("kind", {"enum": list(hotline.OUTBOUND_KINDS)}),
                query("campaign", STR),
            ],
        )
    },
    "/api/v1/hotline/calls/{conversation_id}/outcome": {
        "post": op(
            "Outbound call outcome (proactive, notice, callback); closes the item",
            errors=WRITE,
            params=[ITEM_ID],
            body=obj(["outcome"], outcome={"enum": list(hotline_work.CALL_OUTCOMES)}, note=STR),
        )
    },
    "/api/v1/hotline/campaigns": {
        "get": op("Notice campaign runs, newest first (supervisors)", errors=("401", "403")),
        "post": op(
            "Create a notice campaign from an order filter: one call per buyer "
            "(dry_run: count only)",
            ok_status="201",
            errors=("400", "401", "403"),
            body=obj(
                ["name", "reason", "filter"],
                name=STR,
                reason=STR,
                dry_run={"type": "boolean"},
                filter=obj(
                    [],
                    campaign=STR,
                    skus={"type": "array", "items": STR},
                    statuses={"type": "array", "items": STR},
                    created_from=STR,
                    created_to=STR,
                    min_amount_fen={"type": "integer"},
                ),
            ),
        ),
    },
    "/api/v1/hotline/campaigns/{name}": {
        "get": op(
            "A campaign's calls with the outcome per buyer",
            params=[{"name": "name", "in": "path", "required": True, "schema": STR}],
        )
    },
}
