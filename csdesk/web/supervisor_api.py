"""The supervisor's JSON API (board, moving work, roster, role swaps) and guided mode.

Same conventions as ``roles_api``: thin handlers, one action each, each route's OpenAPI
operation under it; refusals raised and answered by the error middleware (400 naming the
field, 403 from the access table, 404 not in your shop, 409 state conflicts).
"""

from __future__ import annotations

from aiohttp import web

from csdesk.actions import guided, reassignment, role_swaps, roster
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.errors import BadInputError
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import board as board_read
from csdesk.reads import roster as roster_read
from csdesk.storage.enums import ServiceRole
from csdesk.web.openapi import (
    DATE,
    DATE_TIME,
    ID,
    ITEM_ID,
    STR,
    WRITE,
    documented,
    int_range,
    nonblank,
    obj,
    op,
    or_empty,
    query,
)
from csdesk.web.request import (
    deps_of,
    is_id,
    iso_date,
    json_body,
    ok,
    optional_int,
    path_id,
    query_int,
    text,
)

routes = web.RouteTableDef()
DEFAULT_SILENT_S = 60
"""An item assigned a minute without a word from the agent is worth a supervisor's look."""


def _role(raw: object, field: str) -> ServiceRole:
    try:
        return ServiceRole(str(raw))
    except ValueError:
        choices = ", ".join(r.value for r in ServiceRole)
        raise BadInputError(field, f"must be one of {choices}") from None


_SHIFT = obj(
    ["user_id", "service_role", "starts_at", "ends_at"],
    user_id=ID,
    service_role={"enum": [r.value for r in ServiceRole]},
    starts_at=DATE_TIME,
    ends_at=DATE_TIME,
    duty={"type": ["string", "null"]},
)


# -- board and moving work ------------------------------------------------------------------


@routes.get("/api/v1/supervisor/board")
@documented(
    op(
        "Live board: per role queued / with agent / silent / 3-minute unanswered; "
        "per agent status, roles, duties, load; the open items to act on; "
        "guided-mode skips",
        errors=("400", "401", "403"),
        params=[query("silent_s", int_range(0, 86_400))],
    )
)
async def get_board(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, board_read.BOARD_ACCESS)
    silent_s = query_int(request, "silent_s", low=0, high=86_400, default=DEFAULT_SILENT_S)
    view = await board_read.board(request.app[SESSIONS_KEY], user, utcnow(), silent_s=silent_s)
    return ok(view.to_json())


@routes.post("/api/v1/supervisor/conversations/{conversation_id}/reassign")
@documented(
    op(
        "Reassign to a named agent, or back to the queue (agent_id null)",
        errors=WRITE,
        params=[ITEM_ID],
        body=obj(["agent_id"], agent_id={**ID, "type": ["integer", "null"]}, note=STR),
    )
)
async def post_reassign(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, reassignment.ASSIGN_ACCESS)
    data = await json_body(request, empty={})
    if "agent_id" not in data:
        raise BadInputError("agent_id", "is required: an agent id, or null for the queue")
    conversation = await reassignment.reassign(
        deps_of(request),
        user,
        path_id(request),
        optional_int(data, "agent_id"),
        utcnow(),
        note_text=text(data, "note"),
    )
    return ok({"conversation": conversation})


@routes.post("/api/v1/supervisor/conversations/bulk")
@documented(
    op(
        "Bulk assign / requeue / transfer / close; one result per item",
        errors=("400", "401", "403", "409"),
        body=obj(
            ["action", "conversation_ids"],
            action={"enum": list(reassignment.BULK_ACTIONS)},
            conversation_ids={
                "type": "array",
                "items": ID,
                "minItems": 1,
                "maxItems": reassignment.MAX_BULK,
                "uniqueItems": True,
            },
            agent_id=ID,
            to_role={"enum": [r.value for r in ServiceRole]},
            note=STR,
            disposition=STR,
        ),
    )
)
async def post_bulk(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, reassignment.ASSIGN_ACCESS)
    data = await json_body(request, empty={})
    ids = data.get("conversation_ids")
    if not isinstance(ids, list) or not all(is_id(i) for i in ids):
        raise BadInputError("conversation_ids", "must be a list of conversation ids")
    to_role = _role(data["to_role"], "to_role") if data.get("to_role") is not None else None
    results = await reassignment.bulk(
        deps_of(request),
        user,
        text(data, "action", required=True),
        ids,
        utcnow(),
        agent_id=optional_int(data, "agent_id"),
        to_role=to_role,
        note_text=text(data, "note"),
        disposition=text(data, "disposition"),
    )
    rows = [r.as_json() for r in results]
    return ok(
        {
            "done": sum(r["ok"] for r in rows),
            "failed": sum(not r["ok"] for r in rows),
            "results": rows,
        }
    )


# -- roster ---------------------------------------------------------------------------------


@routes.get("/api/v1/roster")
@documented(
    op(
        "The week's shifts by shop-local day (agents: their own)",
        errors=("400", "401", "403"),
        params=[query("week_of", or_empty(DATE))],
    )
)
async def get_roster(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, roster_read.READ_ACCESS)
    raw = request.query.get("week_of")
    week_of = iso_date(raw, "week_of") if raw else utcnow().date()
    return ok(await roster_read.roster_week(request.app[SESSIONS_KEY], user, week_of))


@routes.put("/api/v1/roster/days/{day}")
@documented(
    op(
        "Replace one shop-local day's shifts (errors name shifts[i].field; "
        "warnings for refund review gaps)",
        errors=("400", "401", "403"),
        params=[
            {
                "name": "day",
                "in": "path",
                "required": True,
                "schema": DATE,
            }
        ],
        body=obj(["shifts"], shifts={"type": "array", "items": _SHIFT}),
    )
)
async def put_roster_day(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, roster.ROSTER_EDIT)
    day = iso_date(request.match_info["day"], "day")
    data = await json_body(request, empty={})
    if "shifts" not in data:
        raise BadInputError("shifts", "is required (an empty list clears the day)")
    return ok(await roster.replace_day(deps_of(request), user, day, data["shifts"], utcnow()))


@routes.post("/api/v1/supervisor/agents/{agent_id}/roles")
@documented(
    op(
        "Swap an agent's on-shift roles and duties from now (audited)",
        errors=WRITE,
        params=[
            {"name": "agent_id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        body=obj(
            ["roles", "reason"],
            reason=STR,
            roles={
                "type": "array",
                "minItems": 1,
                "items": obj(
                    ["service_role"],
                    service_role={"enum": [r.value for r in ServiceRole]},
                    duty={"type": ["string", "null"]},
                ),
            },
        ),
    )
)
async def post_agent_roles(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, role_swaps.ROLES_ACCESS)
    data = await json_body(request, empty={})
    roles = role_swaps.parse_role_duties(data.get("roles"))
    result = await role_swaps.set_on_shift_roles(
        deps_of(request), user, path_id(request, "agent_id"), roles, text(data, "reason"), utcnow()
    )
    return ok(result)


# -- guided mode ----------------------------------------------------------------------------


@routes.post("/api/v1/guided/next")
@documented(
    op(
        "Guided mode: my next item (oldest untouched, else the best queued)",
        errors=("401", "403", "409"),
    )
)
async def post_guided_next(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, guided.GUIDED_ACCESS)
    return ok(await guided.guided_next(deps_of(request), user, utcnow()))


@routes.post("/api/v1/guided/skip")
@documented(
    op(
        "Guided mode: skip the item in hand with a reason (recorded)",
        errors=WRITE,
        body=obj(["conversation_id", "reason"], conversation_id=ID, reason=nonblank(200)),
    )
)
async def post_guided_skip(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, guided.GUIDED_ACCESS)
    data = await json_body(request, empty={})
    conversation_id = optional_int(data, "conversation_id")
    if conversation_id is None:
        raise BadInputError("conversation_id", "is required")
    result = await guided.guided_skip(
        deps_of(request), user, conversation_id, text(data, "reason"), utcnow()
    )
    return ok(result)
