"""Console pages of the agent workbench (HTML shells; the data comes from the JSON API),
and the 中文/EN switch."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.auth.access import can, require
from csdesk.auth.current import current_user
from csdesk.auth.middleware import error_response, redirect, safe_next
from csdesk.i18n import LANG_COOKIE, LANG_COOKIE_MAX_AGE_S, LOCALES
from csdesk.keys import SESSIONS_KEY, SETTINGS_KEY
from csdesk.reads.conversations import check_readable
from csdesk.roles.triage_rules import DEFAULT_INTENT_ROLES
from csdesk.storage.enums import ServiceRole
from csdesk.web.console import labels
from csdesk.web.console.pages import WORKBENCH_PATH, render_console_page
from csdesk.web.console.training_views import label_tables

routes = web.RouteTableDef()

LIVE_PATH: Final = "/api/v1/live"
POLL_MS: Final = 3000
"""REST polling period while the live socket is down (or not deployed)."""


def _workbench(request: web.Request, conversation_id: int | None) -> web.Response:
    user = current_user(request)
    boot: dict[str, Any] = {
        "conversation_id": conversation_id,
        "live_path": LIVE_PATH,
        "poll_ms": POLL_MS,
        "can_work": can(user, "workbench.use"),
        # Which role each intent goes to (the transfer dialog asks which intent the buyer
        # had when the target role has several; the server checks the shop's own map).
        "intent_roles": {intent.value: role.value for intent, role in DEFAULT_INTENT_ROLES.items()},
        # 我的课程: the agent's courses in the left column (training.take: agents).
        "can_take_courses": can(user, "training.take"),
        "training_labels": label_tables(request),
    }
    return render_console_page(
        request,
        user,
        "console/workbench.html",
        boot,
        current="workbench" if conversation_id is None else None,
        roles=[role.value for role in ServiceRole],
        dispositions=labels.DISPOSITIONS,
    )


@routes.get(WORKBENCH_PATH)
async def workbench_page(request: web.Request) -> web.Response:
    require(current_user(request), "console.view")
    return _workbench(request, None)


@routes.get("/console/conversations/{conversation_id}")
async def conversation_page(request: web.Request) -> web.Response:
    """The workbench with one conversation open: agents their own, supervisors any."""
    user = current_user(request)
    require(user, "conversations.read")
    raw = request.match_info["conversation_id"]
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        return error_response(request, 404, f"conversation {raw}: not found")
    await check_readable(request.app[SESSIONS_KEY], user, int(raw))
    return _workbench(request, int(raw))


QUICK_REPLIES_PATH: Final = "/console/quick-replies"


@routes.get(QUICK_REPLIES_PATH)
async def quick_replies_page(request: web.Request) -> web.Response:
    """快捷短语库: the shop's groups (supervisors edit them), my phrases, images, hotkeys and
    how often each phrase is sent."""
    user = current_user(request)
    require(user, "quick_replies.use")
    boot = {
        "library_api": "/api/v1/quick-replies/library",
        "phrases_api": "/api/v1/quick-replies",
        "media_api": "/api/v1/media",
        "can_edit_shop": can(user, "quick_replies.edit"),
        "service_roles": [role.value for role in ServiceRole],
        "max_image_mb": 2,
    }
    return render_console_page(request, user, "console/quick_replies.html", boot, current="quick")


@routes.post("/console/lang")
async def switch_language(request: web.Request) -> web.Response:
    """中文/EN: remembered in a cookie for this browser, then back to the page."""
    form = await request.post()
    locale = form.get("lang")
    next_url = form.get("next")
    response = redirect(safe_next(next_url if isinstance(next_url, str) else None), status=303)
    if isinstance(locale, str) and locale in LOCALES:
        response.set_cookie(
            LANG_COOKIE,
            locale,
            max_age=LANG_COOKIE_MAX_AGE_S,
            path="/",
            samesite="Lax",
            httponly=True,
            secure=request.app[SETTINGS_KEY].auth.cookie_secure,
        )
    return response
