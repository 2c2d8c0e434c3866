"""Sign-in, sign-out, the console home page, ``/api/v1/me`` and ``/api/v1/audit``."""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from csdesk.actions.users import LoggedIn, LoginRefused, log_in, log_out
from csdesk.auth.access import can, require
from csdesk.auth.audit import MAX_AUDIT_PAGE, recent_audit
from csdesk.auth.csrf import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    login_csrf_is_signed,
    login_csrf_problem,
    new_login_csrf,
)
from csdesk.auth.current import (
    SESSION_KEY,
    CurrentUser,
    auth_now,
    current_user,
    template_context,
)
from csdesk.auth.middleware import LOGIN_PATH, error_response, redirect, safe_next
from csdesk.auth.sessions import SESSION_COOKIE, clear_session_cookie, set_session_cookie
from csdesk.auth.setup import LOGIN_THROTTLE_KEY
from csdesk.auth.throttle import Throttled
from csdesk.keys import SESSIONS_KEY, SETTINGS_KEY, TEMPLATES_KEY
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.storage.models import AgentProfile
from csdesk.web.openapi import SECURED, documented, error_answer, json_answer
from csdesk.web.request import query_int

routes = web.RouteTableDef()

MSG_MISSING_FIELDS = "请输入用户名和密码。/ Enter your username and password."
MSG_REFUSED = "用户名或密码错误。/ Wrong username or password."
DEFAULT_AUDIT_PAGE = 100


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    page = request.app[TEMPLATES_KEY].get_template(template)
    html = page.render(**template_context(request), **context)
    response = web.Response(text=html, status=status, content_type="text/html")
    # Pages show who is signed in: never serve them from a shared or back-button cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _field(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _login_page(
    request: web.Request,
    *,
    next_url: str,
    status: int = 200,
    error: str | None = None,
    username: str = "",
) -> web.Response:
    settings = request.app[SETTINGS_KEY].auth
    token = request.cookies.get(LOGIN_CSRF_COOKIE)
    if token is None or not login_csrf_is_signed(settings.secret_key, token):
        token = new_login_csrf(settings.secret_key)
    response = render(
        request,
        "login.html",
        status=status,
        login_csrf_token=token,
        csrf_field=CSRF_FIELD,
        next_url=next_url,
        error=error,
        username=username,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path=LOGIN_PATH,
        httponly=True,
        samesite="Strict",
        secure=settings.cookie_secure,
    )
    return response


def _throttled_message(retry_after_s: int) -> str:
    minutes = max(1, math.ceil(retry_after_s / 60))
    return (
        f"登录失败次数过多，请 {minutes} 分钟后再试。"
        f"/ Too many failed sign-ins; try again in {minutes} min."
    )


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    # Shown even when signed in: agents share desks, and signing in switches the account.
    return _login_page(request, next_url=safe_next(request.query.get("next")))


@routes.post("/login")
async def login_submit(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY].auth
    form = await request.post()
    problem = login_csrf_problem(
        settings.secret_key, request.cookies.get(LOGIN_CSRF_COOKIE), _field(form, CSRF_FIELD)
    )
    if problem:
        return error_response(request, 403, problem)
    username, password = _field(form, "username"), _field(form, "password")
    next_url = safe_next(_field(form, "next"))
    if not username.strip() or not password:
        return _login_page(
            request, next_url=next_url, status=400, error=MSG_MISSING_FIELDS, username=username
        )

    outcome = await log_in(
        request.app[SESSIONS_KEY],
        request.app[LOGIN_THROTTLE_KEY],
        username=username,
        password=password,
        client_address=request.remote,
        session_max_age_s=settings.session_max_age_s,
        previous_session_key=request.cookies.get(SESSION_COOKIE),
        now=auth_now(request),
    )
    if isinstance(outcome, Throttled):
        response = _login_page(
            request,
            next_url=next_url,
            status=429,
            error=_throttled_message(outcome.retry_after_s),
            username=username,
        )
        response.headers["Retry-After"] = str(outcome.retry_after_s)
        return response
    if isinstance(outcome, LoginRefused):
        response = _login_page(
            request, next_url=next_url, status=401, error=MSG_REFUSED, username=username
        )
        # A 401 must name a scheme; this one tells clients to use the form, not a dialog.
        response.headers["WWW-Authenticate"] = 'FormLogin realm="csdesk"'
        return response
    assert isinstance(outcome, LoggedIn)
    response = redirect(next_url, status=303)
    set_session_cookie(response, outcome.session_key, settings)
    response.del_cookie(LOGIN_CSRF_COOKIE, path=LOGIN_PATH)
    return response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    key = request.cookies.get(SESSION_COOKIE)
    if key and request.get(SESSION_KEY) is not None:
        await log_out(request.app[SESSIONS_KEY], key, now=auth_now(request))
    response = redirect(LOGIN_PATH, status=303)
    clear_session_cookie(response)
    return response


async def _work_roles(request: web.Request, user: CurrentUser) -> set[str]:
    """The service roles whose workbench pages the home page links: an agent's own (the
    roles they hold), every role for those who work any item (supervisors), else none."""
    if not can(user, "workbench.use"):
        return set()
    if user.role is not UserRole.AGENT:
        return {role.value for role in ServiceRole}
    async with request.app[SESSIONS_KEY]() as session:
        profile = await session.get(AgentProfile, user.id)
    return {str(role) for role in profile.service_roles} if profile is not None else set()


async def _has_agent_profile(request: web.Request, user: CurrentUser) -> bool:
    async with request.app[SESSIONS_KEY]() as session:
        return await session.get(AgentProfile, user.id) is not None


@routes.get("/console/")
async def console_home(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "console.view")
    return render(
        request,
        "console_home.html",
        can_read_audit=can(user, "audit.read"),
        work_roles=await _work_roles(request, user),
        can_supervise=can(user, "supervisor.board"),
        can_edit_roster=can(user, "roster.edit"),
        # Guided mode hands work to an agent profile: offered only to logins that have one.
        can_use_guided=can(user, "guided.use") and await _has_agent_profile(request, user),
        can_read_team=can(user, "team.read"),
        can_search=can(user, "conversations.read"),
        can_read_shop_config=can(user, "shop_config.read"),
        training_links=[
            page
            for page, action in (
                ("catalog", "training.catalog"),
                ("my", "training.take"),
                ("points", "points.read"),
                ("rankings", "points.rankings"),
            )
            if can(user, action)
        ],
        qc_links=[
            page
            for page, action in (
                ("workspace", "qc.queue"),
                ("disputes", "qc.lead"),
                ("calibration", "qc.calibrate"),
                ("results", "qc.results"),
            )
            if can(user, action)
        ],
    )


@routes.get("/api/v1/me")
@documented(
    {
        "summary": "Who am I",
        "security": SECURED,
        "responses": {
            "200": json_answer({"type": "object"}, "the user"),
            "401": error_answer("no login"),
        },
    }
)
async def me(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "me.read")
    return web.json_response(
        {
            "id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role.value,
            "shop_id": user.shop_id,
            "via_token": user.via_token,
        }
    )


@routes.get("/api/v1/audit")
@documented(
    {
        "summary": "Recent audit log of the shop (supervisor and up)",
        "security": SECURED,
        "responses": {
            "200": json_answer({"type": "object"}, "audit rows"),
            "400": error_answer("a bad query parameter; `field` names it"),
            "401": error_answer("no login"),
            "403": error_answer("role without access"),
        },
    }
)
async def audit_log(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "audit.read")
    limit = query_int(request, "limit", low=1, high=MAX_AUDIT_PAGE, default=DEFAULT_AUDIT_PAGE)
    before_id = query_int(request, "before_id", low=1, high=2**63 - 1)
    entries = await recent_audit(
        request.app[SESSIONS_KEY], user.shop_id, limit=limit, before_id=before_id
    )
    return web.json_response(
        {
            "shop_id": user.shop_id,
            "items": [entry.as_json() for entry in entries],
            "next_before_id": entries[-1].id if len(entries) == limit else None,
        }
    )
