"""The refund workbench page (退款工作台): one refund item, its deadline countdown and the
decisions its state allows. An HTML shell; the data and every decision go through the
JSON API (``/api/v1/refund-items/{id}``), answered in place without a reload."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.actions import refund_work
from csdesk.actions.work_items import ItemNotFoundError
from csdesk.actions.workbench import WorkError
from csdesk.auth.access import require
from csdesk.auth.current import csrf_token_for, current_user
from csdesk.auth.middleware import error_response
from csdesk.clock import utcnow
from csdesk.i18n import LOCALES, i18n_context, translate
from csdesk.keys import SESSIONS_KEY
from csdesk.storage.models import Buyer, Conversation, Shop
from csdesk.web.auth_views import render
from csdesk.web.console import labels
from csdesk.web.console.views import CONTENT_SECURITY_POLICY, WORKBENCH_PATH

routes = web.RouteTableDef()

REFUND_ITEM_PATH: Final = "/console/refund-items/{conversation_id}"
SHOP_TZ_NAME: Final = "Asia/Shanghai"


async def _extras(request: web.Request, conversation_id: int, shop_id: str) -> dict[str, Any]:
    """What the JSON view leaves out but the page shows: buyer nick, item tags, shop zone."""
    async with request.app[SESSIONS_KEY]() as session:
        conversation = await session.get(Conversation, conversation_id)
        buyer = (
            await session.get(Buyer, conversation.buyer_id)
            if conversation is not None and conversation.buyer_id is not None
            else None
        )
        shop = await session.get(Shop, shop_id)
    return {
        "buyer_nick": buyer.nick if buyer is not None else None,
        "tags": list(conversation.tags or []) if conversation is not None else [],
        "timezone": (shop.timezone if shop is not None and shop.timezone else SHOP_TZ_NAME),
    }


@routes.get(REFUND_ITEM_PATH)
async def refund_item_page(request: web.Request) -> web.Response:
    """Agents open their own items (another agent's is 403), supervisors any."""
    user = current_user(request)
    require(user, refund_work.REVIEW_ACCESS)
    raw = request.match_info["conversation_id"]
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        return error_response(request, 404, f"conversation {raw}: not found")
    conversation_id = int(raw)
    now = utcnow()
    try:
        view = await refund_work.refund_item_view(
            request.app[SESSIONS_KEY], user, conversation_id, now
        )
    except ItemNotFoundError as exc:
        return error_response(request, 404, str(exc))
    except WorkError as exc:  # not in anyone's hands yet, or not a refund item
        return error_response(request, 409, str(exc))
    i18n = i18n_context(request)
    boot: dict[str, Any] = {
        "user": {"id": user.id, "display_name": user.display_name, "role": user.role.value},
        "conversation_id": conversation_id,
        "locale": i18n["locale"],
        "server_now": now.isoformat(),
        "item": view,
        **await _extras(request, conversation_id, user.shop_id),
        "labels": labels.translated(lambda msgid: translate(request, msgid)),
    }
    response = render(
        request,
        "console/refund.html",
        **i18n,
        boot=boot,
        csrf_meta=csrf_token_for(request) or "",
        locales=LOCALES,
        workbench_path=WORKBENCH_PATH,
        here=request.path_qs,
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
