"""The hotline workbench pages (热线工作台): the outbound lists with a notice-campaign form
(``/console/hotline``) and one call item (``/console/call-items/{id}``: the inbound call
card, or an outbound call). HTML shells; the data and every outcome go through the JSON
APIs (``/api/v1/hotline/...``, ``/api/v1/chases/.../outcome``, and the workbench's close
for an inbound call), answered in place without a reload."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.actions import chase_work, hotline_work
from csdesk.auth.access import can, require
from csdesk.auth.current import CurrentUser, current_user
from csdesk.clock import utcnow
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import hotline
from csdesk.reads.conversations import shop_zone_name
from csdesk.storage.enums import OrderStatus
from csdesk.web.console.pages import render_console_page
from csdesk.web.request import path_id

routes = web.RouteTableDef()

HOTLINE_PATH: Final = "/console/hotline"
CALL_ITEM_PATH: Final = "/console/call-items/{conversation_id}"
INBOUND_DISPOSITIONS: Final = ("answered", "follow_up", "refund_handled", "sold", "invalid")
"""How an inbound call ends (it closes like a chat; ``no_reply`` makes no sense on a call)."""


async def _timezone(request: web.Request, shop_id: str) -> str:
    return await shop_zone_name(request.app[SESSIONS_KEY], shop_id)


def _page(request: web.Request, user: CurrentUser, template: str, **boot: Any) -> web.Response:
    """A hotline page: its boot data, with the server's clock, and the hotline's links."""
    return render_console_page(
        request,
        user,
        template,
        {"server_now": utcnow().isoformat(), **boot},
        hotline_path=HOTLINE_PATH,
        can_campaign=can(user, hotline.CAMPAIGN_ACCESS),
        order_statuses=[s.value for s in OrderStatus],
    )


@routes.get(HOTLINE_PATH)
async def hotline_page(request: web.Request) -> web.Response:
    """Agents see their outbound calls and the unassigned ones; supervisors every one, and
    the notice campaigns."""
    user = current_user(request)
    require(user, hotline.WORK_ACCESS)
    sessions = request.app[SESSIONS_KEY]
    outbound = await hotline.outbound_lists(sessions, user, utcnow())
    can_campaign = can(user, hotline.CAMPAIGN_ACCESS)
    return _page(
        request,
        user,
        "console/hotline.html",
        timezone=await _timezone(request, user.shop_id),
        kinds=list(hotline.OUTBOUND_KINDS),
        outcomes={
            kind: list(chase_work.OUTCOMES if kind == "phone_chase" else hotline_work.CALL_OUTCOMES)
            for kind in hotline.OUTBOUND_KINDS
        },
        outbound=outbound,
        can_campaign=can_campaign,
        campaigns=await hotline.campaigns(sessions, user) if can_campaign else [],
    )


@routes.get(CALL_ITEM_PATH)
async def call_item_page(request: web.Request) -> web.Response:
    """Agents open their own call items (another agent's is 403), supervisors any."""
    user = current_user(request)
    require(user, hotline.WORK_ACCESS)
    conversation_id = path_id(request)
    view = await hotline_work.call_item_view(
        request.app[SESSIONS_KEY], user, conversation_id, utcnow()
    )
    return _page(
        request,
        user,
        "console/hotline_call.html",
        conversation_id=conversation_id,
        timezone=await _timezone(request, user.shop_id),
        item=view,
        dispositions=list(INBOUND_DISPOSITIONS),
    )
