"""The hotline workbench pages (热线工作台): the outbound lists with a notice-campaign form
(``/console/hotline``) and one call item (``/console/call-items/{id}``: the inbound call
card, or an outbound call). HTML shells; the data and every outcome go through the JSON
APIs (``/api/v1/hotline/...``, ``/api/v1/chases/.../outcome``, and the workbench's close
for an inbound call), answered in place without a reload."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.actions import chase_work, hotline_work
from csdesk.actions.work_items import ItemNotFoundError
from csdesk.actions.workbench import WorkError
from csdesk.auth.access import can, require
from csdesk.auth.current import CurrentUser, csrf_token_for, current_user
from csdesk.auth.middleware import error_response
from csdesk.clock import utcnow
from csdesk.i18n import LOCALES, i18n_context, translate
from csdesk.keys import SESSIONS_KEY
from csdesk.storage.enums import OrderStatus
from csdesk.storage.models import Shop
from csdesk.web.auth_views import render
from csdesk.web.console import labels
from csdesk.web.console.refund_views import SHOP_TZ_NAME
from csdesk.web.console.views import CONTENT_SECURITY_POLICY, WORKBENCH_PATH

routes = web.RouteTableDef()

HOTLINE_PATH: Final = "/console/hotline"
CALL_ITEM_PATH: Final = "/console/call-items/{conversation_id}"
INBOUND_DISPOSITIONS: Final = ("answered", "follow_up", "refund_handled", "sold", "invalid")
"""How an inbound call ends (it closes like a chat; ``no_reply`` makes no sense on a call)."""


async def _timezone(request: web.Request, shop_id: str) -> str:
    async with request.app[SESSIONS_KEY]() as session:
        shop = await session.get(Shop, shop_id)
    return shop.timezone if shop is not None and shop.timezone else SHOP_TZ_NAME


def _page(request: web.Request, user: CurrentUser, template: str, **boot: Any) -> web.Response:
    """The page shell with its boot data, under the console's strict CSP."""
    i18n = i18n_context(request)
    data: dict[str, Any] = {
        "user": {"id": user.id, "display_name": user.display_name, "role": user.role.value},
        "locale": i18n["locale"],
        "server_now": utcnow().isoformat(),
        **boot,
        "labels": labels.translated(lambda msgid: translate(request, msgid)),
    }
    response = render(
        request,
        template,
        **i18n,
        boot=data,
        csrf_meta=csrf_token_for(request) or "",
        locales=LOCALES,
        workbench_path=WORKBENCH_PATH,
        hotline_path=HOTLINE_PATH,
        can_campaign=can(user, hotline_work.CAMPAIGN_ACCESS),
        label_tables=data["labels"],
        order_statuses=[s.value for s in OrderStatus],
        here=request.path_qs,
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@routes.get(HOTLINE_PATH)
async def hotline_page(request: web.Request) -> web.Response:
    """Agents see their outbound calls and the unassigned ones; supervisors every one, and
    the notice campaigns."""
    user = current_user(request)
    require(user, hotline_work.WORK_ACCESS)
    sessions = request.app[SESSIONS_KEY]
    outbound = await hotline_work.outbound_lists(sessions, user, utcnow())
    can_campaign = can(user, hotline_work.CAMPAIGN_ACCESS)
    return _page(
        request,
        user,
        "console/hotline.html",
        timezone=await _timezone(request, user.shop_id),
        kinds=list(hotline_work.OUTBOUND_KINDS),
        outcomes={
            kind: list(chase_work.OUTCOMES if kind == "phone_chase" else hotline_work.CALL_OUTCOMES)
            for kind in hotline_work.OUTBOUND_KINDS
        },
        outbound=outbound,
        can_campaign=can_campaign,
        campaigns=await hotline_work.campaigns(sessions, user) if can_campaign else [],
    )


@routes.get(CALL_ITEM_PATH)
async def call_item_page(request: web.Request) -> web.Response:
    """Agents open their own call items (another agent's is 403), supervisors any."""
    user = current_user(request)
    require(user, hotline_work.WORK_ACCESS)
    raw = request.match_info["conversation_id"]
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        return error_response(request, 404, f"conversation {raw}: not found")
    conversation_id = int(raw)
    try:
        view = await hotline_work.call_item_view(
            request.app[SESSIONS_KEY], user, conversation_id, utcnow()
        )
    except ItemNotFoundError as exc:
        return error_response(request, 404, str(exc))
    except WorkError as exc:  # not in anyone's hands yet, or not a call item
        return error_response(request, 409, str(exc))
    return _page(
        request,
        user,
        "console/hotline_call.html",
        conversation_id=conversation_id,
        timezone=await _timezone(request, user.shop_id),
        item=view,
        dispositions=list(INBOUND_DISPOSITIONS),
    )
