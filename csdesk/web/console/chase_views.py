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
from sqlalchemy import select

from csdesk.actions import chase_work
from csdesk.actions.routing import CHASE_KINDS
from csdesk.auth.access import only_own, require
from csdesk.auth.current import CurrentUser, current_user
from csdesk.auth.middleware import error_response
from csdesk.clock import utcnow
from csdesk.keys import SESSIONS_KEY
from csdesk.routing import facts as loaded
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole
from csdesk.storage.models import AgentProfile, Conversation, User
from csdesk.web.console.pages import render_console_page

routes = web.RouteTableDef()

CHASES_PATH: Final = "/console/chases"
KPI_DAYS: Final = 30
"""The KPI card's period (the API's default)."""
CHASER_ROLES: Final = frozenset({ServiceRole.PAYMENT_CHASING.value, ServiceRole.HOTLINE.value})
"""Who may hold chases: chat chasers, and the hotline for phone chases of big orders."""


def _query_id(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name, "")
    if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63:
        return int(raw)
    return None


async def _chasers(sessions: SessionFactory, shop_id: str) -> list[dict[str, Any]]:
    """Agents of the shop who may hold chases, for a supervisor's picker."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(User.id, User.display_name, AgentProfile.service_roles)
                .join(AgentProfile, AgentProfile.user_id == User.id)
                .where(User.shop_id == shop_id, User.is_active.is_(True))
                .order_by(User.display_name, User.id)
            )
        ).all()
    return [
        {"id": user_id, "display_name": name}
        for user_id, name, roles in rows
        if CHASER_ROLES & set(roles or ())
    ]


async def _list_owner(
    sessions: SessionFactory, user: CurrentUser, agent_id: int | None, item_id: int | None
) -> tuple[int, str]:
    """Whose list the page shows (and their name): an agent's is always their own; a
    supervisor's is the one asked for, else the chaser of the item asked for, else theirs."""
    owner = user.id
    async with sessions() as session:
        if not only_own(user, chase_work.ACCESS):
            if agent_id is not None:
                owner = agent_id
            elif item_id is not None:
                item = await session.get(Conversation, item_id)
                if item is not None and item.shop_id == user.shop_id and item.kind in CHASE_KINDS:
                    owner = item.assigned_agent_id or item.protection_owner_id or owner
        person = await session.get(User, owner)
        if person is None or person.shop_id != user.shop_id:
            owner, name = user.id, user.display_name
        else:
            name = person.display_name
    return owner, name


@routes.get(CHASES_PATH)
async def chases_page(request: web.Request) -> web.Response:
    """Agents see their own chases; supervisors any chaser's."""
    user = current_user(request)
    require(user, chase_work.ACCESS)
    require(user, chase_work.KPI_ACCESS)
    sessions = request.app[SESSIONS_KEY]
    item_id = _query_id(request, "item")
    if "item" in request.query and item_id is None:
        return error_response(request, 404, f"chase {request.query['item']}: not found")
    owner, owner_name = await _list_owner(sessions, user, _query_id(request, "agent_id"), item_id)
    now = utcnow()
    chases = await chase_work.my_chases(sessions, user.shop_id, owner, now)
    kpi = await chase_work.recovered_by_chaser(sessions, user, now - timedelta(days=KPI_DAYS))
    async with sessions() as session:
        config = (await loaded.load_shop_context(session, user.shop_id)).routing
    supervising = not only_own(user, chase_work.ACCESS)
    boot: dict[str, Any] = {
        "agent": {"id": owner, "display_name": owner_name},
        "supervising": supervising,
        "focus_item": item_id,
        "server_now": now.isoformat(),
        "timezone": config.timezone,
        "quiet_hours": chase_work.quiet_hours(config),
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
        chasers=await _chasers(sessions, user.shop_id) if supervising else [],
        agent_id=owner,
    )
