"""The supervisor's pages (主管): the live board, the roster and role-swap editor (排班),
guided mode (引导模式) for agents working a backlog, the shop's own rules (店铺规则), the
alerts (告警: the list, the robots and thresholds, "send a test") and promotion mode
(大促模式: what is live, switching it, its schedule).

HTML shells like the refund workbench: the data and every change go through the JSON API
of ``csdesk/web/supervisor_api.py``; the board follows the live websocket and re-reads
``/api/v1/supervisor/board`` when something it shows changed.
"""

from __future__ import annotations

from typing import Any, Final
from zoneinfo import ZoneInfo

from aiohttp import web

from csdesk.actions import alerts, guided, promotions, reassignment, role_swaps, roster, shop_config
from csdesk.auth.access import can, require
from csdesk.auth.current import CurrentUser, current_user
from csdesk.clock import utcnow
from csdesk.i18n import I18N_KEY, request_locale, translate
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import alerts as alerts_read
from csdesk.reads import board as board_read
from csdesk.reads import dashboard as dashboard_read
from csdesk.reads import dashboard_series, triage_model
from csdesk.reads import promotions as promotions_read
from csdesk.reads import shop_config as shop_config_read
from csdesk.reads import whatif as whatif_read
from csdesk.reads.roster import routing_zone, shop_agents
from csdesk.simulation import whatif as whatif_limits
from csdesk.storage.enums import ServiceRole
from csdesk.storage.models import AgentProfile
from csdesk.web import alerts_api, promotions_api, whatif_api
from csdesk.web.console import dashboard_charts, dashboard_labels, labels
from csdesk.web.console.pages import render_console_page
from csdesk.web.console.views import LIVE_PATH, POLL_MS
from csdesk.web.dashboard_api import PATH as DASHBOARD_API
from csdesk.web.dashboard_api import ROWS_PATH
from csdesk.web.dashboard_live import PATH as DASHBOARD_LIVE
from csdesk.web.shop_config_api import MODEL_PATH as TRIAGE_MODEL_API
from csdesk.web.shop_config_api import PATH as SHOP_CONFIG_API
from csdesk.web.shop_config_api import PREVIEW_PATH as SHOP_CONFIG_PREVIEW_API
from csdesk.web.supervisor_api import DEFAULT_SILENT_S

routes = web.RouteTableDef()

BOARD_PATH: Final = "/console/supervisor"
ROSTER_PATH: Final = "/console/roster"
GUIDED_PATH: Final = "/console/guided"
SHOP_CONFIG_PATH: Final = "/console/shop-config"
DASHBOARD_PATH: Final = "/console/dashboard"
ALERTS_PATH: Final = "/console/alerts"
PROMOTIONS_PATH: Final = "/console/promotions"
WHATIF_PATH: Final = "/console/whatif"
WHATIF_POLL_MS: Final = 1_000
"""While a what-if run is queued or running, its page re-reads the list this often."""
ALERTS_REFRESH_MS: Final = 15_000
"""The alert list re-reads itself this often besides the live events (retries come due)."""
DASHBOARD_CHARTS_PATH: Final = "/console/dashboard/charts"
DASHBOARD_REFRESH_MS: Final = 3_000
"""While its websocket is down, the owner dashboard re-reads its numbers this often."""
BOARD_REFRESH_MS: Final = 30_000
"""Re-read the board this often even while live: waits cross the silent and 3-minute
thresholds without any event saying so."""
SILENT_CHOICES: Final = (60, 120, 180, 300, 600)
"""Seconds an item may sit with an agent without a reply before the board calls it silent."""


def _nav(user: CurrentUser) -> dict[str, bool]:
    """Which of these pages the top bar links to: each one this user may open."""
    return {
        "dashboard": can(user, dashboard_read.READ_ACCESS),
        "board": can(user, board_read.BOARD_ACCESS),
        "roster": can(user, roster.ROSTER_EDIT),
        "guided": can(user, guided.GUIDED_ACCESS),
        "shop_config": can(user, shop_config_read.READ_ACCESS),
        "alerts": can(user, alerts_read.READ_ACCESS),
        "promotions": can(user, promotions_read.READ_ACCESS),
        "whatif": can(user, whatif_read.READ_ACCESS),
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
            "dashboard": DASHBOARD_PATH,
            "board": BOARD_PATH,
            "roster": ROSTER_PATH,
            "guided": GUIDED_PATH,
            "shop_config": SHOP_CONFIG_PATH,
            "alerts": ALERTS_PATH,
            "promotions": PROMOTIONS_PATH,
            "whatif": WHATIF_PATH,
        },
        roles=[role.value for role in ServiceRole],
        live_path=LIVE_PATH,
        **context,
    )


@routes.get(BOARD_PATH)
async def board_page(request: web.Request) -> web.Response:
    """Supervisors, owners and admins; agents get the 403 page."""
    user = current_user(request)
    require(user, board_read.BOARD_ACCESS)
    now = utcnow()
    board = await board_read.board(request.app[SESSIONS_KEY], user, now, silent_s=DEFAULT_SILENT_S)
    boot = {
        "server_now": now.isoformat(),
        "timezone": (await routing_zone(request.app[SESSIONS_KEY], user.shop_id)).key,
        "live_path": LIVE_PATH,
        "poll_ms": POLL_MS,
        "refresh_ms": BOARD_REFRESH_MS,
        "silent_s": DEFAULT_SILENT_S,
        "max_bulk": reassignment.MAX_BULK,
        "can_assign": can(user, reassignment.ASSIGN_ACCESS),
        "roles": [role.value for role in ServiceRole],
        "board": board.to_json(),
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


@routes.get(DASHBOARD_PATH)
async def dashboard_page(request: web.Request) -> web.Response:
    """The owner dashboard (经营看板): owners, supervisors and admins; agents get the 403
    page. The numbers and charts come with the page, then live over the dashboard's
    websocket (polling the API only while it is down)."""
    user = current_user(request)
    now = utcnow()
    sessions = request.app[SESSIONS_KEY]
    view = await dashboard_read.dashboard(sessions, user, now)
    series = await dashboard_series.series(sessions, user, now)
    boot = {
        "server_now": now.isoformat(),
        "timezone": view.timezone,
        "api": DASHBOARD_API,
        "live_path": DASHBOARD_LIVE,
        "charts_path": DASHBOARD_CHARTS_PATH,
        "rows_path": ROWS_PATH,
        "refresh_ms": DASHBOARD_REFRESH_MS,
        "roles": [role.value for role in ServiceRole],
        "titles": {
            key: translate(request, title) for key, title in dashboard_labels.METRIC_TITLES.items()
        },
        "flag_titles": {
            key: translate(request, title) for key, title in dashboard_labels.FLAG_TITLES.items()
        },
        "columns": {
            key: translate(request, title) for key, title in dashboard_labels.COLUMNS.items()
        },
        "dashboard": view.to_json(),
    }
    return _page(
        request,
        "console/dashboard.html",
        boot,
        current="dashboard",
        boot_charts=_charts(request, series, view.timezone),
    )


def _charts(request: web.Request, series: dashboard_series.Series, zone: str) -> dict[str, str]:
    gettext = request.app[I18N_KEY].get(request_locale(request)).gettext
    return dashboard_charts.charts(series, ZoneInfo(zone), gettext)


@routes.get(DASHBOARD_CHARTS_PATH)
async def dashboard_charts_fragment(request: web.Request) -> web.Response:
    """The charts as SVG markup by key (JSON): what the page polls while its socket is down."""
    user = current_user(request)
    now = utcnow()
    sessions = request.app[SESSIONS_KEY]
    series = await dashboard_series.series(sessions, user, now)
    zone = await routing_zone(sessions, user.shop_id)
    return web.json_response(_charts(request, series, zone.key))


@routes.get(ROSTER_PATH)
async def roster_page(request: web.Request) -> web.Response:
    """The roster editor: who holds which role on which shift, and role swaps from now."""
    user = current_user(request)
    require(user, roster.ROSTER_EDIT)
    now = utcnow()
    zone = await routing_zone(request.app[SESSIONS_KEY], user.shop_id)
    boot = {
        "server_now": now.isoformat(),
        "timezone": zone.key,
        "today": now.astimezone(zone).date().isoformat(),
        "agents": await shop_agents(request.app[SESSIONS_KEY], user.shop_id),
        "roles": [role.value for role in ServiceRole],
        "duties": {
            role.value: sorted(roster.DUTIES.get(role, frozenset())) for role in ServiceRole
        },
        "can_swap": can(user, role_swaps.ROLES_ACCESS),
    }
    return _page(request, "console/roster.html", boot, current="roster")


@routes.get(SHOP_CONFIG_PATH)
async def shop_config_page(request: web.Request) -> web.Response:
    """The shop's own rules over the built-in defaults (店铺规则), the JSON document
    ``/api/v1/shop/config`` reads and replaces, with form fields for the common settings and
    the triage phrases: supervisors read it, owners and admins edit."""
    user = current_user(request)
    current = await shop_config_read.read_shop_config(request.app[SESSIONS_KEY], user)
    boot = {
        **current,
        "can_edit": can(user, shop_config.EDIT_ACCESS),
        "api": SHOP_CONFIG_API,
        "preview_api": SHOP_CONFIG_PREVIEW_API,
        "form": shop_config_read.form_defaults(),
    }
    model = await triage_model.triage_model_status(request.app[SESSIONS_KEY], user)
    return _page(
        request,
        "console/shop_config.html",
        boot,
        current="shop_config",
        model=model,
        model_api=TRIAGE_MODEL_API,
        can_edit=boot["can_edit"],
    )


@routes.get(GUIDED_PATH)
async def guided_page(request: web.Request) -> web.Response:
    """Guided mode: the next item of the agent's roles opens by itself; a skip needs a
    reason (recorded, and shown on the supervisor's board)."""
    user = current_user(request)
    require(user, guided.GUIDED_ACCESS)
    async with request.app[SESSIONS_KEY]() as session:
        if await session.get(AgentProfile, user.id) is None:
            # A supervisor, owner or admin without a profile: say why, in their language.
            return _page(request, "console/guided.html", None, current="guided", no_profile=True)
    boot = {
        "server_now": utcnow().isoformat(),
        "timezone": (await routing_zone(request.app[SESSIONS_KEY], user.shop_id)).key,
        "live_path": LIVE_PATH,
        "poll_ms": POLL_MS,
    }
    return _page(request, "console/guided.html", boot, current="guided")


@routes.get(ALERTS_PATH)
async def alerts_page(request: web.Request) -> web.Response:
    """The alerts (告警): what was raised and whether each robot got it (retries and
    failures visible), and the settings: robots, secret, thresholds, dedupe window, rate
    limit, "send a test". Supervisors read; owners and admins change and test."""
    user = current_user(request)
    now = utcnow()
    sessions = request.app[SESSIONS_KEY]
    listed = await alerts_read.recent_alerts(sessions, user, now)
    boot = {
        "server_now": now.isoformat(),
        "timezone": (await routing_zone(sessions, user.shop_id)).key,
        "can_configure": can(user, alerts.CONFIGURE_ACCESS),
        "config": await alerts_read.alert_config(sessions, user),
        "list": listed,
        "roles": [role.value for role in ServiceRole],
        "api": {
            "list": alerts_api.LIST_PATH,
            "config": alerts_api.CONFIG_PATH,
            "test": alerts_api.TEST_PATH,
        },
        "refresh_ms": ALERTS_REFRESH_MS,
        "live_path": LIVE_PATH,
    }
    return _page(request, "console/alerts.html", boot, current="alerts")


@routes.get(WHATIF_PATH)
async def whatif_page(request: web.Request) -> web.Response:
    """What-if (模拟推演): the form (roster changes per role from an hour, arrivals ×
    factor, hours, promotion, policy, seed), the runs with their progress (polled while
    one is unfinished), a run's result beside its baseline, and two runs compared."""
    user = current_user(request)
    view = await whatif_read.page_view(request.app[SESSIONS_KEY], user)
    boot = {
        **view,
        "roles": [role.value for role in ServiceRole],
        "api": {"list": whatif_api.LIST_PATH, "one": whatif_api.LIST_PATH + "/"},
        "poll_ms": WHATIF_POLL_MS,
        "limits": {
            "max_hours": whatif_limits.MAX_HOURS,
            "min_scale": whatif_limits.MIN_SCALE,
            "max_scale": whatif_limits.MAX_SCALE,
            "max_delta": whatif_limits.MAX_DELTA,
            "max_changes": whatif_limits.MAX_CHANGES,
            "max_seed": whatif_limits.MAX_SEED,
        },
    }
    return _page(request, "console/whatif.html", boot, current="whatif")


@routes.get(PROMOTIONS_PATH)
async def promotions_page(request: web.Request) -> web.Response:
    """Promotion mode (大促模式): the live profile and until when, switch one on or off now,
    schedule one (shop time), the schedule's history, and what each profile changes."""
    user = current_user(request)
    now = utcnow()
    view = await promotions_read.promotions_view(request.app[SESSIONS_KEY], user, now)
    boot = {
        **view,
        "can_edit": can(user, promotions.EDIT_ACCESS),
        "api": {
            "view": promotions_api.PATH,
            "live": promotions_api.LIVE_PATH,
            "schedules": promotions_api.SCHEDULES_PATH,
        },
        "shop_config_path": SHOP_CONFIG_PATH,
        "live_path": LIVE_PATH,
    }
    return _page(request, "console/promotions.html", boot, current="promotions")
