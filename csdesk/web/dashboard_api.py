"""``GET /api/v1/dashboard``: the owner dashboard's numbers for the caller's shop (contract
shape, extended): refunds waiting and about to auto-approve, per role queue health and
staffing (on shift against needed, Erlang C), payment chasing, the live promotion, and
today's satisfaction (from ``rating.received``) and complaint rate.
Supervisors, owners and admins; agents 403. How each number is made:
``csdesk.reads.dashboard``."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import dashboard
from csdesk.storage.enums import ServiceRole
from csdesk.web.openapi import SECURED, documented, error_answer, json_answer, obj

routes = web.RouteTableDef()
PATH: Final = "/api/v1/dashboard"

_INT: Final = {"type": "integer"}
_NUM: Final = {"type": "number"}
_YUAN: Final = {"type": "number", "description": "yuan, two decimals"}
_REFUNDS = obj(
    ["pending", "pending_amount", "due_within_hour", "due_within_hour_amount"],
    pending=_INT,
    pending_amount=_YUAN,
    due_within_hour=_INT,
    due_within_hour_amount=_YUAN,
    due_within_4h=_INT,
    due_within_4h_amount=_YUAN,
    overdue=_INT,
    overdue_amount=_YUAN,
    decided_today=_INT,
    decided_today_amount=_YUAN,
    pending_by_kind={"type": "object"},
)
_ROLE = obj(
    ["queued", "oldest_wait_s", "agents_on_shift", "agents_needed"],
    queued=_INT,
    oldest_wait_s=_NUM,
    agents_on_shift=_INT,
    agents_needed=_INT,
    short={"type": "boolean"},
    arrivals_60m=_INT,
    aht_s=_NUM,
    aht_samples=_INT,
    answer_within_s=_INT,
    service_level_target=_NUM,
)
_RATE = {"type": ["number", "null"], "description": "a fraction (0.92), null when nothing counted"}
_SATISFACTION = obj(
    ["ratings", "satisfied", "dissatisfied", "rate", "mean_score", "by_score"],
    ratings=_INT,
    satisfied={**_INT, "description": "rated 4 or 5 stars"},
    dissatisfied={**_INT, "description": "rated 1 or 2 stars"},
    rate={**_RATE, "description": "满意度: satisfied ÷ ratings; null without ratings"},
    mean_score={"type": ["number", "null"]},
    by_score=obj(["1", "2", "3", "4", "5"], **{str(n): _INT for n in range(1, 6)}),
)
_COMPLAINTS = obj(
    ["conversations", "complaints", "rate", "handled", "handling_rate"],
    conversations={**_INT, "description": "buyer chats and calls opened in the window"},
    complaints={**_INT, "description": "of those, read as complaint intent"},
    rate={**_RATE, "description": "投诉率: complaints ÷ conversations"},
    handled={**_INT, "description": "complaints closed"},
    handling_rate={**_RATE, "description": "投诉处理率: handled ÷ complaints"},
)
_DASHBOARD: dict[str, Any] = obj(
    ["generated_at", "promotion", "refunds", "roles", "chasing"],
    generated_at={"type": "string", "format": "date-time"},
    since={"type": "string", "format": "date-time"},
    timezone={"type": "string"},
    promotion={
        "oneOf": [
            {"type": "null"},
            obj(["name", "role_points"], name={"type": "string"}, role_points={"type": "object"}),
        ]
    },
    refunds=_REFUNDS,
    roles=obj([r.value for r in ServiceRole], **{r.value: _ROLE for r in ServiceRole}),
    chasing=obj(
        ["chased", "paid_after_chase", "recovered_amount"],
        chased=_INT,
        paid_after_chase=_INT,
        recovered_amount=_YUAN,
    ),
    satisfaction={
        **_SATISFACTION,
        "description": "since the shop's midnight; last_7_days: the same over the last 7 days",
        "properties": {**_SATISFACTION["properties"], "last_7_days": _SATISFACTION},
    },
    complaints={
        **_COMPLAINTS,
        "description": "since the shop's midnight; last_7_days: the same over the last 7 days",
        "properties": {**_COMPLAINTS["properties"], "last_7_days": _COMPLAINTS},
    },
)


@routes.get(PATH)
@documented(
    {
        "summary": "Owner dashboard: refunds pending and due soon, per role queue and "
        "staffing (Erlang C), payment chasing, the live promotion",
        "security": SECURED,
        "responses": {
            "200": json_answer(_DASHBOARD, "the dashboard's numbers"),
            "401": error_answer("no login"),
            "403": error_answer("role without access"),
        },
    }
)
async def get_dashboard(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, dashboard.READ_ACCESS)
    view = await dashboard.dashboard(request.app[SESSIONS_KEY], user, utcnow())
    return web.json_response(view.to_json())
