"""Team administration pages (团队管理), the audit log (审计日志), integrator webhooks
(集成 · Webhook) and my account (我的账号).

HTML shells: the data and every change go through ``csdesk/web/admin_api.py``. The
password page is the one page open to someone signed in with a one-time password.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.auth.access import can, require
from csdesk.auth.current import CurrentUser, current_user
from csdesk.auth.middleware import PASSWORD_PAGE
from csdesk.outbound.webhook_events import SUBSCRIBABLE
from csdesk.reads import team as team_reads
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.web import admin_api, teams_api, webhooks_api
from csdesk.web.console.pages import render_console_page

routes = web.RouteTableDef()

TEAM_PATH: Final = "/console/admin/users"
TEAMS_PAGE_PATH: Final = "/console/admin/teams"
AUDIT_PAGE_PATH: Final = "/console/admin/audit"
ACCOUNT_PAGE_PATH: Final = "/console/account"
WEBHOOKS_PAGE_PATH: Final = "/console/admin/webhooks"
WEBHOOKS_ADMIN: Final = "webhooks.admin"


def _nav(user: CurrentUser) -> dict[str, bool]:
    return {
        "team": can(user, team_reads.TEAM_READ),
        "teams": can(user, team_reads.TEAM_READ),
        "audit": can(user, team_reads.AUDIT_READ),
        "account": can(user, team_reads.ACCOUNT_USE),
        "webhooks": can(user, WEBHOOKS_ADMIN),
    }


def _page(
    request: web.Request, template: str, boot: dict[str, Any] | None, **context: Any
) -> web.Response:
    user = current_user(request)
    return render_console_page(
        request,
        user,
        template,
        boot,
        nav=_nav(user),
        paths={
            "team": TEAM_PATH,
            "teams": TEAMS_PAGE_PATH,
            "audit": AUDIT_PAGE_PATH,
            "account": ACCOUNT_PAGE_PATH,
            "webhooks": WEBHOOKS_PAGE_PATH,
        },
        **context,
    )


@routes.get(TEAM_PATH)
async def team_page(request: web.Request) -> web.Response:
    """Supervisors read the team; owners and admins also add and change members."""
    user = current_user(request)
    require(user, team_reads.TEAM_READ)
    grantable = [
        role.value for role in UserRole if role is not UserRole.ADMIN or user.role is UserRole.ADMIN
    ]
    boot = {
        "users_api": admin_api.USERS_PATH,
        "can_admin": can(user, team_reads.TEAM_ADMIN),
        "service_roles": [role.value for role in ServiceRole],
        "login_roles": grantable,
        "me_id": user.id,
    }
    return _page(request, "console/admin_users.html", boot, current="team")


@routes.get(TEAMS_PAGE_PATH)
async def teams_page(request: web.Request) -> web.Response:
    """班组: teams and their supervisors; owners and admins change them."""
    user = current_user(request)
    require(user, team_reads.TEAM_READ)
    boot = {
        "teams_api": teams_api.TEAMS_PATH,
        "users_api": admin_api.USERS_PATH,
        "can_admin": can(user, team_reads.TEAM_ADMIN),
    }
    return _page(request, "console/admin_teams.html", boot, current="teams")


@routes.get(AUDIT_PAGE_PATH)
async def audit_page(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, team_reads.AUDIT_READ)
    boot = {"audit_api": admin_api.AUDIT_PATH}
    return _page(request, "console/admin_audit.html", boot, current="audit")


@routes.get(WEBHOOKS_PAGE_PATH)
async def webhooks_page(request: web.Request) -> web.Response:
    """集成 · Webhook: integrators' subscriptions, "send a test", the delivery log, and the
    state of the shop's outbound channel (owners and admins)."""
    user = current_user(request)
    require(user, WEBHOOKS_ADMIN)
    boot = {
        "webhooks_api": webhooks_api.WEBHOOKS_PATH,
        "retry_api": "/api/v1/deliveries",
        "event_types": list(SUBSCRIBABLE),
    }
    return _page(request, "console/admin_webhooks.html", boot, current="webhooks")


@routes.get(ACCOUNT_PAGE_PATH)
async def account_page(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, team_reads.ACCOUNT_USE)
    boot = {"account_api": admin_api.ACCOUNT_PATH}
    return _page(request, "console/account.html", boot, current="account")


@routes.get(PASSWORD_PAGE)
async def password_page(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, team_reads.ACCOUNT_USE)
    boot = {
        "account_api": admin_api.ACCOUNT_PATH,
        "must_change": user.must_change_password,
        "home": "/console/",
    }
    return _page(request, "console/account_password.html", boot, current="account")
