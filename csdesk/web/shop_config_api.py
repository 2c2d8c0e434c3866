"""``GET`` / ``PUT /api/v1/shop/config``: the shop's overrides of the routing, assignment and
promotion defaults, read by supervisors and up, replaced by owners and admins (checked as
the engine reads them, 400 naming the key, audited)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from csdesk.actions import shop_config, triage_learning
from csdesk.actions.shop_config import MAX_PREVIEW_TEXT
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.errors import BadInputError
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import shop_config as shop_config_read
from csdesk.reads import triage_model
from csdesk.web.openapi import STR, WRITE, documented, nonblank, obj, op
from csdesk.web.request import deps_of, json_body, ok, text

routes = web.RouteTableDef()
PATH = "/api/v1/shop/config"
PREVIEW_PATH = "/api/v1/shop/config/preview"


_CONFIG = obj(
    [],
    routing={"type": "object"},
    assignment={"type": "object"},
    promotion={"type": ["string", "null"]},
)


@routes.get(PATH)
@documented(
    op(
        "The shop's overrides of the routing, assignment and promotion defaults",
        errors=("401", "403"),
    )
)
async def get_config(request: web.Request) -> web.Response:
    user = current_user(request)
    return ok(await shop_config_read.read_shop_config(request.app[SESSIONS_KEY], user))


def _config(data: dict[str, Any]) -> dict[str, Any]:
    config = data.get("config")
    if not isinstance(config, dict):
        raise BadInputError("config", "is required: an object with routing, assignment, promotion")
    return config


@routes.put(PATH)
@documented(
    op(
        "Replace the shop's overrides (owners and admins); checked as routing reads "
        "them, 400 naming the key; audited with before and after; applies within 2 s",
        errors=WRITE,
        body=obj(["config"], config=_CONFIG, reason=STR),
    )
)
async def put_config(request: web.Request) -> web.Response:
    user = current_user(request)
    # Before the body: an agent hears 403, whatever it sent.
    require(user, shop_config.EDIT_ACCESS)
    data = await json_body(request)
    saved = await shop_config.replace_shop_config(
        deps_of(request), user, _config(data), utcnow(), reason=text(data, "reason")
    )
    return ok(saved)


@routes.post(PREVIEW_PATH)
@documented(
    op(
        "Triage a buyer message under a draft configuration (not saved) and under the "
        "saved one: intent, role, risk and reasons for each",
        errors=("400", "401", "403"),
        body=obj(["config", "text"], config=_CONFIG, text=nonblank(MAX_PREVIEW_TEXT)),
    )
)
async def preview(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, shop_config_read.READ_ACCESS)
    data = await json_body(request)
    result = await shop_config.preview_triage(
        request.app[SESSIONS_KEY], user, _config(data), text(data, "text", required=True)
    )
    return ok(result)


MODEL_PATH = "/api/v1/shop/triage-model"


@routes.get(MODEL_PATH)
@documented(
    op(
        "The shop's learned triage model: live version, training runs with their held-out "
        "scores, corrections collected",
        errors=("401", "403"),
    )
)
async def get_triage_model(request: web.Request) -> web.Response:
    user = current_user(request)
    return ok(await triage_model.triage_model_status(request.app[SESSIONS_KEY], user))


@routes.post(MODEL_PATH + "/retrain")
@documented(
    op(
        "Retrain the shop's triage model now on its corrections (owners and admins); it "
        "goes live only if its held-out score does not drop",
        errors=("401", "403", "409"),
    )
)
async def post_retrain(request: web.Request) -> web.Response:
    user = current_user(request)
    return ok(await triage_learning.retrain_now(request.app[SESSIONS_KEY], user, utcnow()))


@routes.post(MODEL_PATH + "/rollback")
@documented(
    op(
        "Back to the triage model live before the current one (owners and admins)",
        errors=("401", "403", "409"),
    )
)
async def post_rollback(request: web.Request) -> web.Response:
    user = current_user(request)
    return ok(await triage_learning.rollback(request.app[SESSIONS_KEY], user, utcnow()))
