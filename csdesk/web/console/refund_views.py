"""The refund workbench page (退款工作台): one refund item, its deadline countdown and the
decisions its state allows. An HTML shell; the data and every decision go through the
JSON API (``/api/v1/refund-items/{id}``), answered in place without a reload."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import refund_items
from csdesk.reads.conversations import item_extras, shop_zone_name
from csdesk.web.console.pages import render_console_page
from csdesk.web.request import path_id

routes = web.RouteTableDef()

REFUND_ITEM_PATH: Final = "/console/refund-items/{conversation_id}"


async def _extras(request: web.Request, conversation_id: int, shop_id: str) -> dict[str, Any]:
    """What the JSON view leaves out but the page shows: buyer nick, item tags, shop zone."""
    sessions = request.app[SESSIONS_KEY]
    return {
        **await item_extras(sessions, conversation_id),
        "timezone": await shop_zone_name(sessions, shop_id),
    }


@routes.get(REFUND_ITEM_PATH)
async def refund_item_page(request: web.Request) -> web.Response:
    """Agents open their own items (another agent's is 403), supervisors any."""
    user = current_user(request)
    require(user, refund_items.REVIEW_ACCESS)
    conversation_id = path_id(request)
    now = utcnow()
    view = await refund_items.refund_item_view(
        request.app[SESSIONS_KEY], user, conversation_id, now
    )
    boot: dict[str, Any] = {
        "conversation_id": conversation_id,
        "server_now": now.isoformat(),
        "item": view,
        **await _extras(request, conversation_id, user.shop_id),
    }
    return render_console_page(request, user, "console/refund.html", boot)
