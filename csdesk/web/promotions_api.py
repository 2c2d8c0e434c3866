"""Promotion mode over HTTP (大促模式): what is live and until when, the shop's profiles and
what each changes, the schedule; switch a profile on or off now, schedule one (start and
end in shop time), cancel a schedule. Supervisors read; owners and admins change. The
profiles themselves are the shop's rules (``routing.scoring.promotions`` of
``/api/v1/shop/config``)."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from csdesk.actions import promotions
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.errors import BadInputError
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import promotions as promotions_read
from csdesk.web.openapi import WRITE, documented, obj, op
from csdesk.web.request import deps_of, json_body, ok, path_id, text

routes = web.RouteTableDef()
PATH: Final = "/api/v1/promotions"
LIVE_PATH: Final = "/api/v1/promotions/live"
SCHEDULES_PATH: Final = "/api/v1/promotions/schedules"
CANCEL_PATH: Final = "/api/v1/promotions/schedules/{schedule_id}/cancel"

_LOCAL: Final = {
    "type": "string",
    "maxLength": 64,
    "description": "YYYY-MM-DDTHH:MM in shop time (or ISO 8601 with an offset)",
}
_PROFILE: Final = {
    "type": "string",
    "maxLength": 64,
    "description": "a profile's key in the shop's rules (double11, 618, juhuasuan ...)",
}
_REASON: Final = {"type": "string", "maxLength": promotions.MAX_NOTE}
_SCHEDULE_ID: Final = {
    "name": "schedule_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
}


@routes.get(PATH)
@documented(op("The live promotion and until when, the profiles, the schedule"))
async def get_promotions(request: web.Request) -> web.Response:
    user = current_user(request)
    return ok(await promotions_read.promotions_view(request.app[SESSIONS_KEY], user, utcnow()))


@routes.put(LIVE_PATH)
@documented(
    op(
        "Switch a profile on now (profile: its key) or off (profile: null), by hand; "
        "open items are re-scored; audited",
        errors=WRITE,
        body=obj(
            ["profile"],
            profile={**_PROFILE, "type": ["string", "null"]},
            reason=_REASON,
        ),
    )
)
async def put_live(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, promotions.EDIT_ACCESS)
    data = await json_body(request)
    if "profile" not in data:
        raise BadInputError("profile", "is required: a profile's key, or null to switch off")
    result = await promotions.set_live(
        deps_of(request), user, data["profile"], text(data, "reason"), utcnow()
    )
    return ok(result)


@routes.post(SCHEDULES_PATH)
@documented(
    op(
        "Schedule a profile from starts_at to ends_at (shop time); a job switches it on "
        "and off; overlaps refused; audited",
        ok_status="201",
        errors=WRITE,
        body=obj(
            ["profile", "starts_at", "ends_at"],
            profile=_PROFILE,
            starts_at=_LOCAL,
            ends_at=_LOCAL,
            note=_REASON,
        ),
    )
)
async def post_schedule(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, promotions.EDIT_ACCESS)
    data = await json_body(request)
    return ok(await promotions.schedule_promotion(deps_of(request), user, data, utcnow()), 201)


@routes.post(CANCEL_PATH)
@documented(
    op(
        "Cancel a schedule; a live one ends now (its profile goes off); audited",
        errors=WRITE,
        params=[_SCHEDULE_ID],
        body=obj([], reason=_REASON),
    )
)
async def post_cancel(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, promotions.EDIT_ACCESS)
    schedule_id = path_id(request, "schedule_id")
    data = await json_body(request, empty={})
    result = await promotions.cancel_schedule(
        deps_of(request), user, schedule_id, text(data, "reason"), utcnow()
    )
    return ok(result)
