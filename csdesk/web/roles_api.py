"""The role workbenches' JSON API: order review, payment chasing, refund review and
processing, the hotline (caller card, outbound lists, notice campaigns).

Handlers are thin: check the access rule, parse the request, call one action, render; each
route's OpenAPI operation sits under it. Refusals are raised, and answered by the error
middleware (``csdesk.web.errors``): 400 bad input naming the field, 403 not allowed (the
access table; agents act only on items assigned to them), 404 not in your shop, 409 the
item's state does not allow it (closed, queued, the wrong kind, past the deadline).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from aiohttp import web

from csdesk.actions import chase_work, hotline_work, order_review, refund_work
from csdesk.actions.order_review import (
    MAX_ADDRESS_CHARS,
    MAX_GIFT_CHARS,
    MAX_GIFTS,
    MAX_INVOICE_TITLE_CHARS,
)
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.errors import BadInputError
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import chases, hotline, order_checks, refund_items
from csdesk.storage.enums import OrderStatus, UserRole
from csdesk.web.openapi import (
    DATE_TIME,
    ITEM_ID,
    MAX_ID,
    STR,
    WRITE,
    documented,
    int_range,
    nonblank,
    obj,
    op,
    query,
    text_up_to,
)
from csdesk.web.request import (
    deps_of,
    iso_datetime,
    json_body,
    ok,
    path_id,
    query_int,
    text,
)

routes = web.RouteTableDef()

MAX_NOTE_CHARS: Final = 200


NOTE = obj([], note=text_up_to(MAX_NOTE_CHARS))
REASON = obj(["reason"], reason=nonblank(MAX_NOTE_CHARS))
ONE_LINE: Final = "^(?:\\S| )*\\S(?:\\S| )*$"
"""Not blank, and no white space but plain spaces (a name shown in one line)."""


# -- order review -------------------------------------------------------------------------------


@routes.get("/api/v1/order-checks/{conversation_id}")
@documented(
    op(
        "Order check: the item, its order (masked contact), flags standing now, "
        "gifts each SKU promises",
        params=[ITEM_ID],
    )
)
async def get_order_check(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, order_checks.ACCESS)
    view = await order_checks.order_check_view(request.app[SESSIONS_KEY], user, path_id(request))
    return ok(view)


@routes.post("/api/v1/order-checks/{conversation_id}/approve")
@documented(
    op(
        "Approve: ship as is (closes the item; standing flags recorded)",
        errors=WRITE,
        body=NOTE,
        params=[ITEM_ID],
    )
)
async def post_order_approve(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, order_checks.ACCESS)
    data = await json_body(request, empty={})
    result = await order_review.approve(
        deps_of(request), user, path_id(request), utcnow(), note_text=text(data, "note")
    )
    return ok(result)


@routes.post("/api/v1/order-checks/{conversation_id}/hold")
@documented(
    op(
        "Hold shipping with a reason (item stays open, on_hold)",
        errors=WRITE,
        body=REASON,
        params=[ITEM_ID],
    )
)
async def post_order_hold(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, order_checks.ACCESS)
    data = await json_body(request, empty={})
    result = await order_review.hold(
        deps_of(request), user, path_id(request), text(data, "reason"), utcnow()
    )
    return ok(result)


@routes.post("/api/v1/order-checks/{conversation_id}/address")
@documented(
    op(
        "Correct the address (must pass the address checks; audited)",
        errors=WRITE,
        params=[ITEM_ID],
        body=obj(["address"], address=nonblank(MAX_ADDRESS_CHARS)),
    )
)
async def post_order_address(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, order_checks.ACCESS)
    data = await json_body(request, empty={})
    result = await order_review.correct_address(
        deps_of(request), user, path_id(request), text(data, "address"), utcnow()
    )
    return ok(result)


@routes.post("/api/v1/order-checks/{conversation_id}/gifts")
@documented(
    op(
        "Replace the order's gifts / promo items (audited)",
        errors=WRITE,
        params=[ITEM_ID],
        body=obj(
            ["gifts"],
            gifts={
                "type": "array",
                "items": text_up_to(MAX_GIFT_CHARS),
                "maxItems": MAX_GIFTS,
                "uniqueItems": True,
            },
        ),
    )
)
async def post_order_gifts(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, order_checks.ACCESS)
    gifts = (await json_body(request, empty={})).get("gifts")
    if not isinstance(gifts, list) or not all(isinstance(g, str) for g in gifts):
        raise BadInputError("gifts", "must be a list of strings (an empty list removes all)")
    result = await order_review.fix_gifts(deps_of(request), user, path_id(request), gifts, utcnow())
    return ok(result)


@routes.post("/api/v1/order-checks/{conversation_id}/invoice")
@documented(
    op(
        "Confirm (or correct) the invoice title (audited)",
        errors=WRITE,
        params=[ITEM_ID],
        body=obj(["invoice_title"], invoice_title=nonblank(MAX_INVOICE_TITLE_CHARS)),
    )
)
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
@documented(
    op(
        "My chases: in hand, then waiting for their next attempt; with the phone and "
        "chat scripts, when the buyer may be contacted and whether quiet hours hold now "
        "(supervisors: ?agent_id=)",
        errors=("400", "401", "403"),
        params=[query("agent_id", int_range(1, MAX_ID))],
    )
)
async def get_my_chases(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, chases.ACCESS)
    agent_id = user.id
    if "agent_id" in request.query:
        # Supervisors look at one chaser's list; an agent's list is always their own.
        if user.role is UserRole.AGENT:
            raise BadInputError("agent_id", "agents see their own list only")
        agent_id = query_int(request, "agent_id", low=1, high=2**63 - 1, default=user.id)
    rows = await chases.my_chases(request.app[SESSIONS_KEY], user.shop_id, agent_id, utcnow())
    return ok({"agent_id": agent_id, "chases": rows})


@routes.post("/api/v1/chases/{conversation_id}/outcome")
@documented(
    op(
        "Record a chase outcome (schedules the next attempt or ends the chase)",
        errors=WRITE,
        params=[ITEM_ID],
        body=obj(["outcome"], outcome={"enum": list(chase_work.OUTCOMES)}),
    )
)
async def post_chase_outcome(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, chases.ACCESS)
    data = await json_body(request, empty={})
    result = await chase_work.record_outcome(
        deps_of(request), user, path_id(request), text(data, "outcome", required=True), utcnow()
    )
    return ok(result)


@routes.get("/api/v1/chases/kpi")
@documented(
    op(
        "Recovered amount per chaser over the last N days (agents: their own)",
        errors=("400", "401", "403"),
        params=[query("days", {"type": "integer", "minimum": 1, "maximum": 366})],
    )
)
async def get_chase_kpi(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, chases.KPI_ACCESS)
    days = query_int(request, "days", low=1, high=366, default=30)
    since = utcnow() - timedelta(days=days)
    kpi = await chases.recovered_by_chaser(request.app[SESSIONS_KEY], user, since)
    return ok({"days": days, **kpi})


# -- refunds ------------------------------------------------------------------------------------


@routes.get("/api/v1/refund-items/{conversation_id}")
@documented(op("Refund item: refund, deadline countdown, duties", params=[ITEM_ID]))
async def get_refund_item(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, refund_items.REVIEW_ACCESS)
    view = await refund_items.refund_item_view(
        request.app[SESSIONS_KEY], user, path_id(request), utcnow()
    )
    return ok(view)


@routes.post("/api/v1/refund-items/{conversation_id}/approve")
@documented(
    op(
        "Approve (after the deadline: allowed, flagged as auto-approved); hands "
        "the payout to processing",
        errors=WRITE,
        body=NOTE,
        params=[ITEM_ID],
    )
)
async def post_refund_approve(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, refund_items.REVIEW_ACCESS)
    data = await json_body(request, empty={})
    result = await refund_work.approve(
        deps_of(request), user, path_id(request), utcnow(), note_text=text(data, "note")
    )
    return ok(result)


@routes.post("/api/v1/refund-items/{conversation_id}/reject")
@documented(
    op(
        "Reject with a reason (refused after the deadline)",
        errors=WRITE,
        body=REASON,
        params=[ITEM_ID],
    )
)
async def post_refund_reject(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, refund_items.REVIEW_ACCESS)
    data = await json_body(request, empty={})
    result = await refund_work.reject(
        deps_of(request), user, path_id(request), text(data, "reason"), utcnow()
    )
    return ok(result)


@routes.post("/api/v1/refund-items/{conversation_id}/intercept")
@documented(
    op(
        "Ask the warehouse to intercept the unshipped order (recorded)",
        errors=WRITE,
        body=NOTE,
        params=[ITEM_ID],
    )
)
async def post_refund_intercept(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, refund_work.PROCESS_ACCESS)
    data = await json_body(request, empty={})
    result = await refund_work.request_intercept(
        deps_of(request), user, path_id(request), utcnow(), note_text=text(data, "note")
    )
    return ok(result)


@routes.post("/api/v1/refund-items/{conversation_id}/return-received")
@documented(op("The returned parcel is in and checked", errors=WRITE, body=NOTE, params=[ITEM_ID]))
async def post_refund_return_received(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, refund_work.PROCESS_ACCESS)
    data = await json_body(request, empty={})
    result = await refund_work.mark_return_received(
        deps_of(request), user, path_id(request), utcnow(), note_text=text(data, "note")
    )
    return ok(result)


@routes.post("/api/v1/refund-items/{conversation_id}/refunded")
@documented(
    op(
        "Refund paid out: status refunded, closes the processing item",
        errors=WRITE,
        body=NOTE,
        params=[ITEM_ID],
    )
)
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
@documented(
    op(
        "Inbound call card: buyers with this phone, masked (audited)",
        errors=("400", "401", "403"),
        params=[
            {
                "name": "phone",
                "in": "query",
                "required": True,
                "schema": {"type": "string", "pattern": "^[^0-9]*(?:[0-9][^0-9]*){5,15}$"},
                "description": "5 to 15 digits; other characters are ignored",
            }
        ],
    )
)
async def get_caller(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, hotline_work.LOOKUP_ACCESS)
    phone = request.query.get("phone", "")
    card = await hotline_work.lookup_caller(request.app[SESSIONS_KEY], user, phone, utcnow())
    return ok(card)


@routes.get("/api/v1/hotline/outbound")
@documented(
    op(
        "Open outbound calls by kind (agents: theirs and unassigned)",
        errors=("400", "401", "403"),
        params=[
            query("kind", {"enum": list(hotline.OUTBOUND_KINDS)}),
            query("campaign", STR),
        ],
    )
)
async def get_outbound(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, hotline.WORK_ACCESS)
    kinds: tuple[str, ...] = hotline.OUTBOUND_KINDS
    kind = request.query.get("kind")
    if kind is not None:
        if kind not in kinds:
            raise BadInputError("kind", f"must be one of {', '.join(kinds)}")
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
@documented(
    op(
        "Outbound call outcome (proactive, notice, callback); closes the item",
        errors=WRITE,
        params=[ITEM_ID],
        body=obj(
            ["outcome"],
            outcome={"enum": list(hotline_work.CALL_OUTCOMES)},
            note=text_up_to(MAX_NOTE_CHARS),
        ),
    )
)
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
        raise BadInputError("filter", "must be an object")
    skus = raw.get("skus", [])
    if not isinstance(skus, list) or not all(isinstance(s, str) and s for s in skus):
        raise BadInputError("filter.skus", "must be a list of SKUs")
    campaign = raw.get("campaign")
    if campaign is not None and (not isinstance(campaign, str) or len(campaign) > 64):
        raise BadInputError("filter.campaign", "must be a campaign name (at most 64 characters)")
    raw_statuses = raw.get("statuses", [OrderStatus.PAID.value])
    try:
        statuses = tuple(OrderStatus(s) for s in raw_statuses)
    except (TypeError, ValueError):
        choices = ", ".join(s.value for s in OrderStatus)
        raise BadInputError("filter.statuses", f"must be a list of: {choices}") from None
    min_amount = raw.get("min_amount_fen")
    if min_amount is not None and (not isinstance(min_amount, int) or isinstance(min_amount, bool)):
        raise BadInputError("filter.min_amount_fen", "must be an integer (fen)")
    return hotline_work.CampaignFilter(
        campaign=campaign or None,
        skus=tuple(skus),
        statuses=statuses,
        created_from=iso_datetime(raw.get("created_from"), "filter.created_from"),
        created_to=iso_datetime(raw.get("created_to"), "filter.created_to"),
        min_amount_fen=min_amount,
    )


@routes.post("/api/v1/hotline/campaigns")
@documented(
    op(
        "Create a notice campaign from an order filter: one call per buyer (dry_run: count only)",
        ok_status="201",
        errors=("400", "401", "403"),
        body=obj(
            ["name", "reason", "filter"],
            name={
                "type": "string",
                "pattern": ONE_LINE,
                "maxLength": hotline_work.MAX_CAMPAIGN_NAME,
            },
            reason=nonblank(MAX_NOTE_CHARS),
            dry_run={"type": "boolean"},
            filter=obj(
                [],
                campaign={"type": ["string", "null"], "maxLength": 64},
                skus={"type": "array", "items": {"type": "string", "minLength": 1}},
                statuses={"type": "array", "items": {"enum": [s.value for s in OrderStatus]}},
                created_from={"anyOf": [DATE_TIME, {"type": "null"}]},
                created_to={"anyOf": [DATE_TIME, {"type": "null"}]},
                min_amount_fen={"type": ["integer", "null"]},
            ),
        ),
    )
)
async def post_campaign(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, hotline.CAMPAIGN_ACCESS)
    data = await json_body(request, empty={})
    spec = _campaign_filter(data.get("filter"))
    dry_run = data.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise BadInputError("dry_run", "must be true or false")
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
@documented(op("Notice campaign runs, newest first (supervisors)", errors=("401", "403")))
async def get_campaigns(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, hotline.CAMPAIGN_ACCESS)
    return ok({"campaigns": await hotline.campaigns(request.app[SESSIONS_KEY], user)})


@routes.get("/api/v1/hotline/campaigns/{name}")
@documented(
    op(
        "A campaign's calls with the outcome per buyer",
        params=[{"name": "name", "in": "path", "required": True, "schema": STR}],
    )
)
async def get_campaign(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, hotline.CAMPAIGN_ACCESS)
    progress = await hotline.campaign_progress(
        request.app[SESSIONS_KEY], user, request.match_info["name"]
    )
    return ok(progress)
