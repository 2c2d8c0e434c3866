"""The payment chasing page (催付工作台): my chase list with when each buyer may be
contacted (quiet hours), a script per chase, outcome recording, and my recovered amount.
An HTML shell; the list, the KPI and every outcome go through the JSON API
(``/api/v1/chases/...``), answered in place without a reload.

``?item=ID`` opens the page on one chase (the workbench list links here); supervisors see
any chaser's list (``?agent_id=``, or the chaser of ``?item=``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from aiohttp import web

from csdesk.actions import chase_work
from csdesk.auth.access import only_own, require
from csdesk.auth.current import current_user
from csdesk.auth.middleware import error_response
from csdesk.clock import utcnow
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import chases as chase_reads
from csdesk.routing import facts as loaded
from csdesk.web.console.pages import render_console_page

routes = web.RouteTableDef()

CHASES_PATH: Final = "/console/chases"
KPI_DAYS: Final = 30
"""The KPI card's period (the API's default)."""


def _query_id(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name, "")
    if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63:
        return int(raw)
    return None


@routes.get(CHASES_PATH)
async def chases_page(request: web.Request) -> web.Response:
    """Agents see their own chases; supervisors any chaser's."""
    user = current_user(request)
    require(user, chase_reads.ACCESS)
    require(user, chase_reads.KPI_ACCESS)
    sessions = request.app[SESSIONS_KEY]
    item_id = _query_id(request, "item")
    if "item" in request.query and item_id is None:
        return error_response(request, 404, f"chase {request.query['item']}: not found")
    owner, owner_name = await chase_reads.list_owner(
        sessions, user, _query_id(request, "agent_id"), item_id
    )
    now = utcnow()
    chases = await chase_reads.my_chases(sessions, user.shop_id, owner, now)
    kpi = await chase_reads.recovered_by_chaser(sessions, user, now - timedelta(days=KPI_DAYS))
    async with sessions() as session:
        config = (await loaded.load_shop_context(session, user.shop_id)).routing
    supervising = not only_own(user, chase_reads.ACCESS)
    boot: dict[str, Any] = {
        "agent": {"id": owner, "display_name": owner_name},
        "supervising": supervising,
        "focus_item": item_id,
        "server_now": now.isoformat(),
        "timezone": config.timezone,
        "quiet_hours": chase_reads.quiet_hours(config),
        "outcomes": {
            "keep": list(chase_work.KEEP_CHASING),
            "stop": list(chase_work.STOP_CHASING),
        },
        "kpi_days": KPI_DAYS,
        "chases": chases,
        "kpi": kpi,
    }
    return render_console_page(
        request,
        user,
        "console/chase.html",
        boot,
        chasers=await chase_reads.chasers(sessions, user.shop_id) if supervising else [],
        agent_id=owner,
    )
