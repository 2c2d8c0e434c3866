"""The supervisor's pages (主管): the live board, the roster and role-swap editor (排班),
guided mode (引导模式) for agents working a backlog, and the shop's own rules (店铺规则).

HTML shells like the refund workbench: the data and every change go through the JSON API
of ``csdesk/web/supervisor_api.py``; the board follows the live websocket and re-reads
``/api/v1/supervisor/board`` when something it shows changed.
"""

from __future__ import annotations

from typing import Any, Final
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select

from csdesk.actions import shop_config, supervisor
from csdesk.auth.access import can, require
from csdesk.auth.current import CurrentUser, current_user
from csdesk.clock import utcnow
from csdesk.keys import SESSIONS_KEY
from csdesk.routing import facts as loaded
from csdesk.storage.enums import ServiceRole
from csdesk.storage.models import AgentProfile, User
from csdesk.web.console import labels
from csdesk.web.console.pages import render_console_page
from csdesk.web.console.views import LIVE_PATH, POLL_MS
from csdesk.web.shop_config_api import PATH as SHOP_CONFIG_API
from csdesk.web.shop_config_api import PREVIEW_PATH as SHOP_CONFIG_PREVIEW_API
from csdesk.web.supervisor_api import DEFAULT_SILENT_S

routes = web.RouteTableDef()

BOARD_PATH: Final = "/console/supervisor"
ROSTER_PATH: Final = "/console/roster"
GUIDED_PATH: Final = "/console/guided"
SHOP_CONFIG_PATH: Final = "/console/shop-config"
BOARD_REFRESH_MS: Final = 30_000
"""Re-read the board this often even while live: waits cross the silent and 3-minute
thresholds without any event saying so."""
SILENT_CHOICES: Final = (60, 120, 180, 300, 600)
"""Seconds an item may sit with an agent without a reply before the board calls it silent."""


def _nav(user: CurrentUser) -> dict[str, bool]:
    """Which of these pages the top bar links to: each one this user may open."""
    return {
        "board": can(user, supervisor.BOARD_ACCESS),
        "roster": can(user, supervisor.ROSTER_EDIT),
        "guided": can(user, supervisor.GUIDED_ACCESS),
        "shop_config": can(user, shop_config.READ_ACCESS),
    }


def _page(
    request: web.Request, template: str, boot: dict[str, Any] | None, **context: Any
) -> web.Response:
    """A supervisor page: its boot data and top bar (each page this user may open)."""
    user = current_user(request)
    return render_console_page(
        request,
        user,
        template,
        boot,
        nav=_nav(user),
        paths={
            "board": BOARD_PATH,
            "roster": ROSTER_PATH,
            "guided": GUIDED_PATH,
            "shop_config": SHOP_CONFIG_PATH,
        },
        roles=[role.value for role in ServiceRole],
        **context,
    )


async def _timezone(request: web.Request, shop_id: str) -> ZoneInfo:
    """The shop's zone: the roster's days and every clock on these pages are shop time."""
    async with request.app[SESSIONS_KEY]() as session:
        ctx = await loaded.load_shop_context(session, shop_id)
    return ctx.routing.tz


@routes.get(BOARD_PATH)
async def board_page(request: web.Request) -> web.Response:
    """Supervisors, owners and admins; agents get the 403 page."""
    user = current_user(request)
    require(user, supervisor.BOARD_ACCESS)
    now = utcnow()
    board = await supervisor.board(request.app[SESSIONS_KEY], user, now, silent_s=DEFAULT_SILENT_S)
    boot = {
        "server_now": now.isoformat(),
        "timezone": (await _timezone(request, user.shop_id)).key,
        "live_path": LIVE_PATH,
        "poll_ms": POLL_MS,
        "refresh_ms": BOARD_REFRESH_MS,
        "silent_s": DEFAULT_SILENT_S,
        "max_bulk": supervisor.MAX_BULK,
        "can_assign": can(user, supervisor.ASSIGN_ACCESS),
        "roles": [role.value for role in ServiceRole],
        "board": board,
    }
    return _page(
        request,
        "console/supervisor.html",
        boot,
        current="board",
        silent_choices=SILENT_CHOICES,
        default_silent_s=DEFAULT_SILENT_S,
        dispositions=labels.DISPOSITIONS,
    )


async def _agents(request: web.Request, shop_id: str) -> list[dict[str, Any]]:
    """The shop's agents for the roster's pickers (the roster names only these)."""
    async with request.app[SESSIONS_KEY]() as session:
        rows = await session.execute(
            select(AgentProfile, User)
            .join(User, User.id == AgentProfile.user_id)
            .where(AgentProfile.shop_id == shop_id)
            .order_by(User.display_name, User.id)
        )
        return [
            {
                "id": user.id,
                "username": user.username,
                "display_name": user.display_name,
                "service_roles": list(profile.service_roles),
                "status": profile.status.value,
            }
            for profile, user in rows.all()
        ]


@routes.get(ROSTER_PATH)
async def roster_page(request: web.Request) -> web.Response:
    """The roster editor: who holds which role on which shift, and role swaps from now."""
    user = current_user(request)
    require(user, supervisor.ROSTER_EDIT)
    now = utcnow()
    zone = await _timezone(request, user.shop_id)
    boot = {
        "server_now": now.isoformat(),
        "timezone": zone.key,
        "today": now.astimezone(zone).date().isoformat(),
        "agents": await _agents(request, user.shop_id),
        "roles": [role.value for role in ServiceRole],
        "duties": {
            role.value: sorted(supervisor.DUTIES.get(role, frozenset())) for role in ServiceRole
        },
        "can_swap": can(user, supervisor.ROLES_ACCESS),
    }
    return _page(request, "console/roster.html", boot, current="roster")


@routes.get(SHOP_CONFIG_PATH)
async def shop_config_page(request: web.Request) -> web.Response:
    """The shop's own rules over the built-in defaults (店铺规则), the JSON document
    ``/api/v1/shop/config`` reads and replaces, with form fields for the common settings and
    the triage phrases: supervisors read it, owners and admins edit."""
    user = current_user(request)
    current = await shop_config.read_shop_config(request.app[SESSIONS_KEY], user)
    boot = {
        **current,
        "can_edit": can(user, shop_config.EDIT_ACCESS),
        "api": SHOP_CONFIG_API,
        "preview_api": SHOP_CONFIG_PREVIEW_API,
        "form": shop_config.form_defaults(),
    }
    return _page(request, "console/shop_config.html", boot, current="shop_config")


@routes.get(GUIDED_PATH)
async def guided_page(request: web.Request) -> web.Response:
    """Guided mode: the next item of the agent's roles opens by itself; a skip needs a
    reason (recorded, and shown on the supervisor's board)."""
    user = current_user(request)
    require(user, supervisor.GUIDED_ACCESS)
    async with request.app[SESSIONS_KEY]() as session:
        if await session.get(AgentProfile, user.id) is None:
            # A supervisor, owner or admin without a profile: say why, in their language.
            return _page(request, "console/guided.html", None, current="guided", no_profile=True)
    boot = {
        "server_now": utcnow().isoformat(),
        "timezone": (await _timezone(request, user.shop_id)).key,
        "live_path": LIVE_PATH,
        "poll_ms": POLL_MS,
    }
    return _page(request, "console/guided.html", boot, current="guided")
