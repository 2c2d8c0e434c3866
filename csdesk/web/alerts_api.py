"""Alerts over HTTP (告警): the shop's alert settings (robots, secret, thresholds, dedupe
window, rate limit), "send a test", and the list of alerts raised with each robot
delivery's outcome. Supervisors read; owners and admins change the settings and test.
How alerts are judged and sent: docs/alerts.md."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from csdesk.actions import alerts
from csdesk.alerts import robots, rules
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.jobs.base import JOBS_KEY
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import alerts as alerts_read
from csdesk.storage.enums import ServiceRole
from csdesk.web.openapi import WRITE, documented, obj, op, query
from csdesk.web.request import deps_of, json_body, ok, query_int

routes = web.RouteTableDef()
LIST_PATH: Final = "/api/v1/alerts"
CONFIG_PATH: Final = "/api/v1/alerts/config"
TEST_PATH: Final = "/api/v1/alerts/test"


def _whole(low: int, high: int) -> dict[str, object]:
    return {"type": "integer", "minimum": low, "maximum": high}


_URL: Final = {
    "type": ["string", "null"],
    "maxLength": robots.MAX_URL,
    "description": "the robot's webhook address: https (plain http only to this machine), "
    "with its access_token (DingTalk) or key (WeCom); empty or null removes the robot",
}
_THRESHOLDS = obj(
    [],
    **{key: _whole(low, high) for key, (low, high) in rules.THRESHOLD_LIMITS.items()},
    queue_depth_by_role={
        **obj(
            [],
            **{r.value: _whole(*rules.THRESHOLD_LIMITS["queue_depth"]) for r in ServiceRole},
        ),
        "additionalProperties": False,
    },
)
_THRESHOLDS["additionalProperties"] = False
_THRESHOLDS["type"] = ["object", "null"]
_THRESHOLDS["description"] = "0 switches a rule off; absent or null: the defaults"
_SETTINGS = obj(
    ["enabled"],
    enabled={"type": "boolean"},
    dingtalk_url=_URL,
    dingtalk_secret={
        "type": ["string", "null"],
        "maxLength": robots.MAX_SECRET,
        "pattern": "^\\S*$",
        "description": "加签 secret (SEC…); absent or null keeps the saved one, empty "
        "removes it; never shown",
    },
    wecom_url=_URL,
    thresholds=_THRESHOLDS,
    dedupe_window_s=_whole(*alerts.DEDUPE_RANGE),
    max_per_hour=_whole(*alerts.RATE_RANGE),
)
_SETTINGS["additionalProperties"] = False


@routes.get(LIST_PATH)
@documented(
    op(
        "Alerts raised, newest first, each with its robot deliveries (status, attempts, "
        "next retry, last error, every attempt's outcome)",
        params=[
            query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
            query("failed", {"type": "integer", "enum": [0, 1]}),
        ],
        errors=("400", "401", "403"),
    )
)
async def list_alerts(request: web.Request) -> web.Response:
    user = current_user(request)
    limit = query_int(request, "limit", low=1, high=500, default=alerts_read.LIST_LIMIT)
    failed = query_int(request, "failed", low=0, high=1, default=0)
    view = await alerts_read.recent_alerts(
        request.app[SESSIONS_KEY], user, utcnow(), limit=limit, failed_only=bool(failed)
    )
    return ok(view)


@routes.get(CONFIG_PATH)
@documented(op("The shop's alert settings (the robot secret only as set or not)"))
async def get_config(request: web.Request) -> web.Response:
    user = current_user(request)
    return ok(await alerts_read.alert_config(request.app[SESSIONS_KEY], user))


@routes.put(CONFIG_PATH)
@documented(
    op(
        "Replace the shop's alert settings (owners and admins); a bad field is refused "
        "naming it; audited without the secret",
        errors=WRITE,
        body=_SETTINGS,
    )
)
async def put_config(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, alerts.CONFIGURE_ACCESS)
    settings = alerts.parse_settings(await json_body(request))
    saved = await alerts.save_settings(deps_of(request), user, settings, utcnow())
    return ok(saved)


@routes.post(TEST_PATH)
@documented(
    op(
        "Send a test alert to every robot set (owners and admins): the answer lists its "
        "deliveries; their outcome follows in the alert list and as alert.delivery events",
        ok_status="202",
        errors=WRITE,
    )
)
async def post_test(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, alerts.CONFIGURE_ACCESS)
    alert = await alerts.send_test(deps_of(request), user, utcnow())
    if alert["to_send"]:
        await request.app[JOBS_KEY].enqueue(
            "deliver_alerts", *alert["to_send"], job_id=f"alert-test:{alert['id']}"
        )
    return ok(alert, status=202)
