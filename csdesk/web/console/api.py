"""The agent workbench's JSON API: shift status, my conversations, one conversation's
transcript and buyer panel, reply / transfer / close, PII reveal and quick replies, and
sending a failed delivery again.

Handlers parse, call one action (or one read), and render; each route's OpenAPI operation
sits under it. Refusals are raised and answered by the error middleware
(``csdesk.web.errors``): 400 bad input naming the field, 403 not allowed (from the access
table), 404 not in your shop, 409 the conversation is not yours or no longer open. Only a
reply held for a forbidden phrase is answered here: 422 with ``held`` and ``hits``.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from aiohttp import web

from csdesk.actions import cards as card_actions
from csdesk.actions import deliveries as delivery_actions
from csdesk.actions import notes, pii, shifts, triage_learning, workbench
from csdesk.actions.quick_replies import PhraseSent
from csdesk.actions.triage_learning import parse_intent
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.errors import BadInputError
from csdesk.jobs.base import JOBS_KEY
from csdesk.jobs.deliveries import DELIVER
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import cards, conversations, lists, panels, quick_replies
from csdesk.reads.cards import shop_coupons
from csdesk.roles.triage_rules import Intent
from csdesk.storage.enums import AgentStatus, ServiceRole
from csdesk.web.openapi import ID, STR, documented, nonblank, obj, operation
from csdesk.web.quick_replies_api import phrase_ref
from csdesk.web.request import (
    bounded_text,
    deps_of,
    is_id,
    json_body,
    optional_int,
    path_id,
    query_int,
)

BOOL: Final = {"type": "boolean"}

routes = web.RouteTableDef()

MAX_REPLY_CHARS: Final = 2000
MAX_NOTE_CHARS: Final = 500
MAX_DISPOSITION_CHARS: Final = 64
MAX_TAGS: Final = 10
MAX_TAG_CHARS: Final = 32


def _conversation_id(request: web.Request) -> int:
    return path_id(request, "conversation_id")


_CONVERSATION_ID = {
    "name": "conversation_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
}
_ERROR_TEXT = {
    "400": "bad input; `field` names it",
    "401": "no login",
    "403": "role without access, or another agent's conversation; or CSRF token missing",
    "404": "not found in your shop",
    "409": "not assigned to you, or no longer open",
    "422": "held, nothing was sent: `held` says why. `forbidden_phrases` (服务态度提醒): "
    "`hits` names each phrase and why; send again with `send_anyway: true` (audited). "
    "`buyer_wrote` (collision): the buyer wrote after `seen_message_id`; `messages` are "
    "the new lines; send again with the newest id as `seen_message_id`",
}


def _op(
    summary: str,
    ok: str,
    *,
    status: str = "200",
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    errors: tuple[str, ...] = ("401", "403"),
) -> dict[str, Any]:
    return operation(
        summary,
        error_text=_ERROR_TEXT,
        errors=errors,
        ok=ok,
        ok_status=status,
        body=body,
        params=params,
    )


_WRITE_ERRORS = ("400", "401", "403", "404", "409")
_READ_ERRORS = ("401", "403", "404")


# -- shift and workbench state ------------------------------------------------------------------


@routes.get("/api/v1/workbench")
@documented(_op("My status, roster roles and open conversations with waiting clocks", "state"))
async def get_workbench(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "console.view")
    state = await lists.workbench_state(request.app[SESSIONS_KEY], user, utcnow())
    return web.json_response(state)


@routes.post("/api/v1/workbench/status")
@documented(
    _op(
        "Set my status (online/busy/away/offline); on shift, take the roster's roles",
        "the new status, roles and items moved",
        body=obj(["status"], status={"enum": [s.value for s in AgentStatus]}),
        errors=("400", "401", "403", "409"),
    )
)
async def set_status(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "workbench.use")
    raw = (await json_body(request)).get("status")
    try:
        status = AgentStatus(str(raw))
    except ValueError:
        choices = ", ".join(s.value for s in AgentStatus)
        raise BadInputError("status", f"must be one of {choices}") from None
    change = await shifts.change_status(deps_of(request), user.shop_id, user.id, status, utcnow())
    return web.json_response(
        {
            "status": change.status.value,
            "service_roles": list(change.service_roles),
            "from_roster": change.from_roster,
            "requeued": list(change.requeued),
            "assigned": list(change.assigned),
        }
    )


@routes.post("/api/v1/workbench/settings")
@documented(
    _op(
        "My 自动挂起: go busy at N open chats and back online below (null: the shop's "
        "default, 0: off); applies at once",
        "the setting and my status",
        body=obj(
            ["auto_suspend_at"],
            auto_suspend_at={
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": workbench.MAX_AUTO_SUSPEND_AT,
            },
        ),
        errors=("400", "401", "403", "409"),
    )
)
async def set_settings(request: web.Request) -> web.Response:
    """自动挂起: ``auto_suspend_at`` open chats (null: the shop's default, 0: off)."""
    user = current_user(request)
    require(user, "workbench.use")
    data = await json_body(request)
    if "auto_suspend_at" not in data:
        raise BadInputError("auto_suspend_at", "is required (null for the shop's default)")
    limit = data["auto_suspend_at"]
    top = workbench.MAX_AUTO_SUSPEND_AT
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= top
    ):
        raise BadInputError("auto_suspend_at", f"must be a whole number from 0 to {top}, or null")
    assigned = await workbench.set_auto_suspend(
        deps_of(request), user.shop_id, user.id, limit, utcnow()
    )
    state = await lists.workbench_state(request.app[SESSIONS_KEY], user, utcnow())
    mine = state["me"]
    return web.json_response(
        {
            "status": mine["status"],
            "auto_suspend_at": mine["auto_suspend_at"],
            "auto_suspend_default": mine["auto_suspend_default"],
            "auto_suspended": mine["auto_suspended"],
            "assigned": assigned,
        }
    )


@routes.get("/api/v1/workbench/roles")
@documented(_op("Per service role: agents online/busy and queue depth (transfer)", "roles"))
async def get_roles(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "workbench.use")
    return web.json_response(await lists.role_board(request.app[SESSIONS_KEY], user, utcnow()))


@routes.get("/api/v1/quick-replies")
@documented(
    _op(
        "Quick replies of my roles in groups (shop-wide and mine, images, use counts), my "
        "hotkeys, and the variable names",
        "library",
    )
)
async def get_quick_replies(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "workbench.use")
    library = await quick_replies.quick_reply_library(request.app[SESSIONS_KEY], user, utcnow())
    return web.json_response(library)


# -- one conversation ---------------------------------------------------------------------------


@routes.get("/api/v1/conversations/{conversation_id}")
@documented(
    _op(
        "One conversation (agents: their own), with quick-reply variable values",
        "the conversation",
        params=[_CONVERSATION_ID],
        errors=_READ_ERRORS,
    )
)
async def get_conversation(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "conversations.read")
    conversation_id = _conversation_id(request)
    detail = await panels.conversation_detail(
        request.app[SESSIONS_KEY], user, conversation_id, utcnow()
    )
    return web.json_response(detail)


@routes.get("/api/v1/conversations/{conversation_id}/messages")
@documented(
    _op(
        "Transcript page, oldest first: newest page, before_id (older) or after_id (newer)",
        "messages",
        params=[
            _CONVERSATION_ID,
            {"name": "before_id", "in": "query", "schema": {"type": "integer"}},
            {"name": "after_id", "in": "query", "schema": {"type": "integer"}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
        ],
        errors=("400", "401", "403", "404"),
    )
)
async def get_messages(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "conversations.read")
    conversation_id = _conversation_id(request)
    before_id = query_int(request, "before_id", low=1, high=2**63 - 1)
    after_id = query_int(request, "after_id", low=0, high=2**63 - 1)
    if before_id is not None and after_id is not None:
        raise BadInputError("after_id", "give before_id or after_id, not both")
    limit = (
        query_int(request, "limit", low=1, high=conversations.MAX_PAGE)
        or conversations.DEFAULT_PAGE
    )
    page = await conversations.transcript(
        request.app[SESSIONS_KEY],
        user,
        conversation_id,
        before_id=before_id,
        after_id=after_id,
        limit=limit,
    )
    return web.json_response(page)


@routes.get("/api/v1/conversations/{conversation_id}/buyer")
@documented(
    _op(
        "Buyer panel: tier, masked contact data, orders, refunds, earlier conversations",
        "the panel",
        params=[_CONVERSATION_ID],
        errors=_READ_ERRORS,
    )
)
async def get_buyer_panel(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "conversations.read")
    conversation_id = _conversation_id(request)
    panel = await panels.buyer_panel(request.app[SESSIONS_KEY], user, conversation_id, utcnow())
    return web.json_response(panel)


@routes.post("/api/v1/conversations/{conversation_id}/reply")
@documented(
    _op(
        "Reply to the buyer (refused while a {variable} is unresolved; held while it uses "
        "a forbidden phrase unless send_anyway)",
        "the message",
        status="201",
        params=[_CONVERSATION_ID],
        body=obj(
            ["text"],
            text={"type": "string", "maxLength": MAX_REPLY_CHARS},
            send_anyway={"type": "boolean", "default": False},
            image_id={"type": "integer"},
            quick_reply={
                "type": "object",
                "properties": {"id": {"type": "integer"}, "code": STR, "edited": BOOL},
            },
            seen_message_id={"type": "integer"},
        ),
        errors=(*_WRITE_ERRORS, "422"),
    )
)
async def post_reply(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "workbench.use")
    conversation_id = _conversation_id(request)
    data = await json_body(request)
    image_id = optional_int(data, "image_id")
    text = bounded_text(data, "text", max_chars=MAX_REPLY_CHARS, required=image_id is None)
    send_anyway = data.get("send_anyway", False)
    if not isinstance(send_anyway, bool):
        raise BadInputError("send_anyway", "must be true or false")
    ref = phrase_ref(data)
    edited = data["quick_reply"].get("edited", False) if ref is not None else False
    if not isinstance(edited, bool):
        raise BadInputError("quick_reply", "edited must be true or false")
    seen = data.get("seen_message_id")
    if seen is not None and (isinstance(seen, bool) or not isinstance(seen, int) or seen < 0):
        raise BadInputError("seen_message_id", "must be a message id (0 or more)")
    missing = quick_replies.unresolved(text)
    if missing:
        names = "、".join(f"{{{name}}}" for name in missing)
        raise BadInputError("text", f"unresolved variable {names}: fill it in before sending")
    now = utcnow()
    try:
        message_id = await workbench.reply(
            deps_of(request),
            user,
            conversation_id,
            text,
            now,
            send_anyway=send_anyway,
            image_id=image_id,
            quick_reply=PhraseSent(ref, edited) if ref is not None else None,
            seen_message_id=seen,
        )
    except workbench.BuyerWroteError as exc:
        return web.json_response(
            {
                "error": str(exc),
                "field": "text",
                "held": "buyer_wrote",
                "messages": list(exc.messages),
            },
            status=422,
        )
    except workbench.ReplyHeldError as exc:
        return web.json_response(
            {
                "error": str(exc),
                "field": "text",
                "held": "forbidden_phrases",
                "hits": [hit.to_json() for hit in exc.hits],
            },
            status=422,
        )
    message = await conversations.message_by_id(request.app[SESSIONS_KEY], user, message_id)
    message["author_name"] = user.display_name
    return web.json_response({"conversation_id": conversation_id, "message": message}, status=201)


@routes.post("/api/v1/deliveries/{delivery_id}/retry")
@documented(
    _op(
        "Send a failed delivery again (a message's: the agent holding its conversation or a "
        "supervisor; a webhook's: owners and admins); a new window of retries starts, audited",
        "the delivery, sending again",
        status="202",
        params=[
            {"name": "delivery_id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        errors=("401", "403", "404", "409"),
    )
)
async def post_delivery_retry(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "deliveries.retry")
    delivery_id = request.match_info["delivery_id"]
    delivery = await delivery_actions.retry(deps_of(request), user, delivery_id, utcnow())
    await request.app[JOBS_KEY].enqueue(
        DELIVER, delivery_id, job_id=f"deliver:{delivery_id}:retry:{uuid.uuid4().hex}"
    )
    return web.json_response(delivery, status=202)


@routes.post("/api/v1/conversations/{conversation_id}/notes")
@documented(
    _op(
        "Add a private note (内部备注, never shown to the buyer); @username notifies that "
        "user (note.mentioned)",
        "the note and who was notified",
        status="201",
        params=[_CONVERSATION_ID],
        body=obj(["text"], text={"type": "string", "maxLength": notes.MAX_NOTE_CHARS}),
        errors=("400", "401", "403", "404"),
    )
)
async def post_note(request: web.Request) -> web.Response:
    """内部备注: a private note (staff only); ``@username`` notifies that colleague."""
    user = current_user(request)
    require(user, "conversations.note")
    conversation_id = _conversation_id(request)
    text = bounded_text(await json_body(request), "text", max_chars=notes.MAX_NOTE_CHARS)
    note = await notes.add_note(deps_of(request), user, conversation_id, text, utcnow())
    return web.json_response(
        {"conversation_id": conversation_id, "message": note.message, "mentioned": note.mentioned},
        status=201,
    )


@routes.post("/api/v1/conversations/{conversation_id}/transfer")
@documented(
    _op(
        "Transfer (转接) to another service role with a handoff note; to_agent_id hands it "
        "to that colleague (on shift in the role, online or busy, with room)",
        "where it went",
        params=[_CONVERSATION_ID],
        body=obj(
            ["to_role", "note"],
            to_role={"enum": [r.value for r in ServiceRole]},
            note=nonblank(MAX_NOTE_CHARS),
            to_agent_id={"anyOf": [ID, {"type": "null"}]},
            intent={"enum": [i.value for i in Intent]},
        ),
        errors=_WRITE_ERRORS,
    )
)
async def post_transfer(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "workbench.use")
    conversation_id = _conversation_id(request)
    data = await json_body(request)
    raw_role = data.get("to_role")
    if not isinstance(raw_role, str) or raw_role not in {role.value for role in ServiceRole}:
        choices = ", ".join(role.value for role in ServiceRole)
        raise BadInputError("to_role", f"must be one of {choices}")
    note = bounded_text(data, "note", max_chars=MAX_NOTE_CHARS)
    intent = parse_intent(data["intent"]) if data.get("intent") is not None else None
    new_agent = await workbench.transfer(
        deps_of(request),
        user,
        conversation_id,
        raw_role,
        note.strip(),
        utcnow(),
        to_agent_id=optional_int(data, "to_agent_id"),
        intent=intent,
    )
    return web.json_response(
        {"conversation_id": conversation_id, "to_role": raw_role, "assigned_agent_id": new_agent}
    )


@routes.post("/api/v1/conversations/{conversation_id}/intent")
@documented(
    _op(
        "Correct triage's intent (改判意图): the label teaches the shop's triage model; the "
        "conversation stays where it is (transfer to move it)",
        "the new and previous intent, and whether a buyer message was there to learn from",
        params=[_CONVERSATION_ID],
        body=obj(["intent"], intent={"enum": [i.value for i in Intent]}),
        errors=_WRITE_ERRORS,
    )
)
async def post_intent(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, triage_learning.RELABEL_ACCESS)
    conversation_id = _conversation_id(request)
    data = await json_body(request)
    result = await triage_learning.relabel_intent(
        deps_of(request), user, conversation_id, parse_intent(data.get("intent")), utcnow()
    )
    return web.json_response(result)


def _tags(data: dict[str, Any]) -> list[str]:
    raw = data.get("tags", [])
    if not isinstance(raw, list) or not all(isinstance(tag, str) for tag in raw):
        raise BadInputError("tags", "must be a list of strings")
    tags = list(dict.fromkeys(tag.strip() for tag in raw if tag.strip()))
    if len(tags) > MAX_TAGS:
        raise BadInputError("tags", f"at most {MAX_TAGS} tags")
    if any(len(tag) > MAX_TAG_CHARS for tag in tags):
        raise BadInputError("tags", f"each tag at most {MAX_TAG_CHARS} characters")
    return tags


@routes.post("/api/v1/conversations/{conversation_id}/close")
@documented(
    _op(
        "Close with a disposition and tags",
        "closed",
        params=[_CONVERSATION_ID],
        body=obj(
            ["disposition"],
            disposition=nonblank(MAX_DISPOSITION_CHARS),
            tags={"type": "array", "items": STR, "maxItems": MAX_TAGS},
        ),
        errors=_WRITE_ERRORS,
    )
)
async def post_close(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "workbench.use")
    conversation_id = _conversation_id(request)
    data = await json_body(request)
    disposition = bounded_text(data, "disposition", max_chars=MAX_DISPOSITION_CHARS).strip()
    tags = _tags(data)
    await workbench.close(
        deps_of(request), user, conversation_id, utcnow(), disposition=disposition, tags=tags
    )
    return web.json_response(
        {"conversation_id": conversation_id, "status": "closed", "disposition": disposition}
    )


# -- buyer data ---------------------------------------------------------------------------------


@routes.post("/api/v1/buyers/{buyer_id}/reveal")
@documented(
    _op(
        "Reveal a buyer's (or their order's) phone, address or name; needs a reason, "
        "audited as pii.reveal",
        "the clear value",
        params=[
            {"name": "buyer_id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        body=obj(
            ["field", "reason"],
            field={"enum": [f.value for f in pii.PiiField]},
            reason=nonblank(pii.MAX_REASON_CHARS),
            order_id={"type": "integer"},
        ),
        errors=("400", "401", "403", "404"),
    )
)
async def post_reveal(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "pii.reveal")
    buyer_id = path_id(request, "buyer_id")
    data = await json_body(request)
    try:
        field = pii.PiiField(str(data.get("field")))
    except ValueError:
        choices = ", ".join(f.value for f in pii.PiiField)
        raise BadInputError("field", f"must be one of {choices}") from None
    reason = bounded_text(data, "reason", max_chars=pii.MAX_REASON_CHARS)
    order_id = data.get("order_id")
    if order_id is not None and not is_id(order_id):
        raise BadInputError("order_id", "must be an order id (a positive integer)")
    revealed = await pii.reveal(
        request.app[SESSIONS_KEY], user, buyer_id, field, reason, utcnow(), order_id=order_id
    )
    return web.json_response(
        {
            "buyer_id": revealed.buyer_id,
            "order_id": revealed.order_id,
            "field": revealed.field.value,
            "value": revealed.value,
        }
    )


# -- one-click cards ----------------------------------------------------------------------------


@routes.post("/api/v1/conversations/{conversation_id}/cards")
@documented(
    _op(
        "Send a card filled from the stored data: order_check (订单核对) or "
        "payment_reminder (催付, unpaid orders) with order_id, product (推荐商品) with "
        "product_id, coupon (优惠券) with coupon_code",
        "the message",
        status="201",
        params=[_CONVERSATION_ID],
        body=obj(
            ["card"],
            card={"enum": list(cards.KINDS)},
            order_id={"type": "integer"},
            product_id={"type": "integer"},
            coupon_code=STR,
        ),
        errors=_WRITE_ERRORS,
    )
)
async def post_card(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "workbench.use")
    conversation_id = _conversation_id(request)
    data = await json_body(request)
    kind = data.get("card")
    if not isinstance(kind, str) or kind not in cards.KINDS:
        raise BadInputError("card", f"must be one of {', '.join(cards.KINDS)}")
    coupon_code = data.get("coupon_code")
    if coupon_code is not None and not isinstance(coupon_code, str):
        raise BadInputError("coupon_code", "must be a string")
    sent = await card_actions.send_card(
        deps_of(request),
        user,
        conversation_id,
        card_actions.CardRequest(
            kind,
            order_id=optional_int(data, "order_id"),
            product_id=optional_int(data, "product_id"),
            coupon_code=coupon_code,
        ),
        utcnow(),
    )
    message = await conversations.message_by_id(request.app[SESSIONS_KEY], user, sent.message_id)
    return web.json_response({"conversation_id": conversation_id, "message": message}, status=201)


@routes.get("/api/v1/workbench/catalog")
@documented(
    _op(
        "For the card buttons: the shop's products matching q (title, SKU, category; 20 at "
        "most) and its coupons",
        "products and coupons",
        params=[{"name": "q", "in": "query", "schema": STR}],
    )
)
async def get_catalog(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "workbench.use")
    query = request.query.get("q", "")[:64]
    found = await cards.products(request.app[SESSIONS_KEY], user, query)
    coupons = await shop_coupons(request.app[SESSIONS_KEY], user)
    return web.json_response({"products": found, "coupons": coupons})


@routes.post("/api/v1/conversations/{conversation_id}/snooze")
@documented(
    _op(
        "稍后处理: put a chat I hold aside for minutes (0 wakes it); it sinks in my list "
        "and stays quiet until then or until the buyer writes",
        "until when",
        params=[_CONVERSATION_ID],
        body=obj(["minutes"], minutes={"type": "integer", "minimum": 0, "maximum": 240}),
        errors=_WRITE_ERRORS,
    )
)
async def post_snooze(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "workbench.use")
    conversation_id = _conversation_id(request)
    minutes = (await json_body(request)).get("minutes")
    top = workbench.MAX_SNOOZE_MINUTES
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= top:
        raise BadInputError("minutes", f"must be a whole number from 0 to {top}")
    until = await workbench.snooze(deps_of(request), user, conversation_id, minutes, utcnow())
    return web.json_response(
        {"conversation_id": conversation_id, "snoozed_until": until.isoformat() if until else None}
    )


@routes.get("/api/v1/workbench/colleagues")
@documented(_op("Active people of my shop, for @mentions in notes", "colleagues"))
async def get_colleagues(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "conversations.note")
    people = await lists.colleagues(request.app[SESSIONS_KEY], user)
    return web.json_response({"colleagues": people})
