"""What-if runs over HTTP (模拟推演): ask for a simulation of the shop's own day with
adjustments (202 with the run; its job simulates in the background), list the runs with
their state and progress, read one with its result. Owners, supervisors and admins; an
agent gets 403, another shop's run is not found. docs/simulation.md, "What-if"."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.actions import whatif as whatif_actions
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.jobs.base import JOBS_KEY
from csdesk.jobs.whatif import RUN_WHATIF, whatif_job_id
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import whatif as whatif_read
from csdesk.simulation import whatif
from csdesk.storage.enums import ServiceRole
from csdesk.web.openapi import WRITE, documented, int_range, obj, op, path_param, query
from csdesk.web.request import deps_of, json_body, ok, path_id, query_int

routes = web.RouteTableDef()
LIST_PATH: Final = "/api/v1/whatif"
ONE_PATH: Final = "/api/v1/whatif/{run_id}"

_CHANGE: dict[str, Any] = obj(
    ["role", "delta", "from_hour"],
    role={"type": "string", "enum": [r.value for r in ServiceRole]},
    delta={
        "type": "integer",
        "minimum": -whatif.MAX_DELTA,
        "maximum": whatif.MAX_DELTA,
        "not": {"const": 0},
        "description": "agents more (or fewer) on shift in the role's roster group",
    },
    from_hour=int_range(0, 23) | {"description": "from this hour, shop time (20 = 20:00)"},
)
_CHANGE["additionalProperties"] = False
_BODY: dict[str, Any] = obj(
    ["hours"],
    roster_changes={"type": "array", "maxItems": whatif.MAX_CHANGES, "items": _CHANGE},
    scale={
        "type": "number",
        "minimum": whatif.MIN_SCALE,
        "maximum": whatif.MAX_SCALE,
        "description": "last week's arrivals × this factor (default 1)",
    },
    hours=int_range(1, whatif.MAX_HOURS) | {"description": "hours simulated from now's hour"},
    policy={"type": "string", "enum": list(whatif.POLICIES)},
    seed=int_range(0, whatif.MAX_SEED),
    promotion={
        "type": ["string", "null"],
        "minLength": 1,
        "maxLength": 32,
        "description": "a promotion profile of the shop (null: the one live now, if any)",
    },
)
_BODY["additionalProperties"] = False
_BODY["description"] = (
    "A run may expect at most "
    f"{whatif.MAX_EXPECTED_ARRIVALS:,} arrivals (a bigger one ends failed, saying so); a "
    f"shop may have {whatif_actions.MAX_ACTIVE} runs queued or running at once (409)."
)


@routes.post(LIST_PATH)
@documented(
    op(
        "Ask for a what-if run (owners, supervisors, admins): the shop's roster and last "
        "week's arrivals, adjusted; 202 with the run, simulated in the background",
        ok_status="202",
        errors=WRITE,
        body=_BODY,
    )
)
async def post_run(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, whatif_read.RUN_ACCESS)
    adjustments = whatif.parse_adjustments(await json_body(request))
    run = await whatif_actions.request_run(deps_of(request), user, adjustments.to_json(), utcnow())
    await request.app[JOBS_KEY].enqueue(RUN_WHATIF, run["id"], job_id=whatif_job_id(run["id"]))
    return ok(run, status=202)


@routes.get(LIST_PATH)
@documented(
    op(
        "The shop's what-if runs, newest first, with state and progress (no results)",
        params=[query("limit", int_range(1, whatif_read.LIST_LIMIT))],
        errors=("400", "401", "403"),
    )
)
async def list_runs(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, whatif_read.READ_ACCESS)
    limit = query_int(
        request, "limit", low=1, high=whatif_read.LIST_LIMIT, default=whatif_read.LIST_LIMIT
    )
    return ok(await whatif_read.list_runs(request.app[SESSIONS_KEY], user, limit))


@routes.get(ONE_PATH)
@documented(
    op(
        "One what-if run with its result once done: per run (baseline and adjusted) the "
        "simulation's JSON (csdesk simulate's), the scenario used and the SVG charts",
        params=[path_param("run_id")],
    )
)
async def get_run(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, whatif_read.READ_ACCESS)
    run_id = path_id(request, "run_id")
    return ok(await whatif_read.get_run(request.app[SESSIONS_KEY], user, run_id))
