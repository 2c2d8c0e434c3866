"""``GET /api/v1/dashboard``: the owner dashboard's numbers for the caller's shop (contract
shape, extended): refunds waiting and about to auto-approve, per role queue health and
staffing (on shift against needed, Erlang C), payment chasing, the live promotion, KPIs,
and today's satisfaction (from ``rating.received``) and complaint rate.
``GET /api/v1/dashboard/rows/{metric}``: the rows behind a figure (JSON, CSV or XLSX);
``GET /api/v1/dashboard/series``: the last 24 h per minute. Supervisors, owners and
admins; agents 403. How each number is made: ``csdesk.reads.dashboard_metrics`` (and
``csdesk.reads.ratings``)."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.errors import BadInputError
from csdesk.i18n import translate
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import dashboard, dashboard_series
from csdesk.reads.qc_reports import Table, export
from csdesk.storage.enums import ServiceRole
from csdesk.web.console.dashboard_labels import COLUMNS, FLAG_TITLES, METRIC_TITLES
from csdesk.web.openapi import SECURED, documented, error_answer, json_answer, obj, op, query
from csdesk.web.request import query_int

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
    pending_by_reason={
        "type": "array",
        "items": obj(
            ["reason", "pending", "pending_amount"],
            reason={"type": "string"},
            pending=_INT,
            pending_amount=_YUAN,
        ),
        "description": "pending refunds per stated reason, most money first",
    },
    intercepts_requested={**_INT, "description": "warehouse intercepts asked today"},
    intercepts_succeeded={
        **_INT,
        "description": "of those, the order never shipped and the refund was paid out",
    },
)
_RATE: Final = {"type": ["number", "null"], "description": "0..1; null with nothing counted"}
_KPIS = obj(
    ["inquiry_conversion", "first_response", "response_rate_3m"],
    inquiry_conversion=obj(
        ["days", "askers", "converted", "rate"],
        days={**_INT, "description": "N: the shop's window (Shop.config.dashboard)"},
        askers={**_INT, "description": "buyers who opened a pre-sales chat in the last N days"},
        converted={**_INT, "description": "of those, buyers who paid after asking"},
        rate=_RATE,
    ),
    first_response=obj(
        ["answered", "mean_s"],
        answered={**_INT, "description": "buyer chats and calls opened today and answered"},
        mean_s={"type": ["number", "null"]},
    ),
    response_rate_3m=obj(
        ["rounds", "answered", "rate"],
        rounds={**_INT, "description": "reply rounds begun today in the counted hours"},
        answered={**_INT, "description": "answered within window_s"},
        rate=_RATE,
        window_s=_INT,
        counted_from={"type": "string"},
        counted_until={"type": "string"},
    ),
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
    sla_breaches={
        **_INT,
        "description": "open items nobody answered whose response was due before now",
    },
)
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
            obj(
                ["name", "label", "role_points", "until"],
                name={"type": "string"},
                label={"type": "string", "description": "双十一, 618, 聚划算 or the shop's own"},
                role_points={"type": "object"},
                chat_capacity_extra=_INT,
                first_response_s={"type": "object"},
                refund_reviewers_process={"type": "boolean"},
                howto_to_everyone={"type": "boolean"},
                chase_quiet_hours={"type": ["array", "null"], "items": {"type": "string"}},
                since={"type": ["string", "null"], "format": "date-time"},
                until={
                    "type": ["string", "null"],
                    "format": "date-time",
                    "description": "when the schedule switches it off; null: until switched off",
                },
                schedule_id={"type": ["integer", "null"]},
            ),
        ]
    },
    refunds=_REFUNDS,
    roles=obj([r.value for r in ServiceRole], **{r.value: _ROLE for r in ServiceRole}),
    chasing=obj(
        ["chased", "paid_after_chase", "recovered_amount"],
        chased=_INT,
        paid_after_chase=_INT,
        recovered_amount=_YUAN,
        per_chaser={
            "type": "array",
            "items": obj(
                ["agent_id", "agent", "chased", "paid_after_chase", "recovered_amount"],
                agent_id={**_INT, "description": "0: no agent holds the chase"},
                agent={"type": ["string", "null"]},
                chased=_INT,
                paid_after_chase=_INT,
                recovered_amount=_YUAN,
            ),
        },
    ),
    kpis=_KPIS,
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


ROWS_PATH: Final = "/api/v1/dashboard/rows/{metric}"
SERIES_PATH: Final = "/api/v1/dashboard/series"
JSON_ROWS_DEFAULT: Final = 1_000


def rows_path(metric: str) -> str:
    return ROWS_PATH.replace("{metric}", metric)


def _flag(raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw in ("1", "true"):
        return True
    if raw in ("0", "false"):
        return False
    raise BadInputError("flag", "must be 1 or 0")


@routes.get(ROWS_PATH)
@documented(
    op(
        "The rows behind one dashboard figure, exactly those counted (the same SELECT): "
        "JSON, or every row as CSV / XLSX (format=csv|xlsx)",
        errors=("400", "401", "403", "404"),
        params=[
            {
                "name": "metric",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": list(dashboard.DRILLS)},
            },
            query("group", {"type": "string", "description": "one group (role, kind...)"}),
            query("flag", {"type": "string", "enum": ["1", "0"]}),
            query("format", {"type": "string", "enum": ["json", "csv", "xlsx"]}),
            query("limit", {"type": "integer", "minimum": 1, "maximum": dashboard.DRILL_LIMIT}),
        ],
    )
)
async def get_rows(request: web.Request) -> web.Response:
    user = current_user(request)
    key = request.match_info["metric"]
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "csv", "xlsx"):
        raise BadInputError("format", "must be json, csv or xlsx")
    limit = (
        query_int(request, "limit", low=1, high=dashboard.DRILL_LIMIT, default=JSON_ROWS_DEFAULT)
        if fmt == "json"
        else dashboard.DRILL_LIMIT
    )
    view = await dashboard.drill(
        request.app[SESSIONS_KEY],
        user,
        key,
        utcnow(),
        group=request.query.get("group") or None,
        flag=_flag(request.query.get("flag")),
        limit=limit,
    )
    data = view.to_json()
    if fmt == "json":
        return web.json_response(data)
    title = translate(request, METRIC_TITLES.get(key, key))
    if view.flag and key in FLAG_TITLES:
        title = translate(request, FLAG_TITLES[key])
    columns = data["columns"]
    table = Table(
        title,
        tuple(translate(request, COLUMNS.get(c, c)) for c in columns),
        [tuple(_cell(row[c]) for c in columns) for row in data["rows"]],
    )
    body, content_type = export(table, fmt)
    name = key.replace(".", "-") + (f"-{view.group}" if view.group else "")
    return web.Response(
        body=body,
        content_type=content_type.split(";")[0],
        charset="utf-8" if fmt == "csv" else None,
        headers={"Content-Disposition": f'attachment; filename="dashboard-{name}.{fmt}"'},
    )


def _cell(value: Any) -> Any:
    """Times as they read in a spreadsheet (ISO, UTC); everything else as the JSON has it."""
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        return value.replace("T", " ")[:19] + " UTC"
    return value


_SERIES = obj(
    ["start", "step_s", "points", "series"],
    start={"type": "string", "format": "date-time"},
    step_s=_INT,
    points=_INT,
    series={
        "type": "object",
        "description": "per series (" + ", ".join(dashboard_series.SERIES) + "), counts per "
        "minute from start",
    },
)


@routes.get(SERIES_PATH)
@documented(
    {
        "summary": "Owner dashboard time series: the last 24 h per minute (refund requests by "
        "kind, buyer contacts, orders placed and paid)",
        "security": SECURED,
        "responses": {
            "200": json_answer(_SERIES, "the series"),
            "401": error_answer("no login"),
            "403": error_answer("role without access"),
        },
    }
)
async def get_series(request: web.Request) -> web.Response:
    user = current_user(request)
    view = await dashboard_series.series(request.app[SESSIONS_KEY], user, utcnow())
    return web.json_response(view.to_json())
