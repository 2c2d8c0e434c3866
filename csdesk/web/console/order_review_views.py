"""The order review page (订单审核): one flagged paid order, the checks it failed, each
explained, and the decisions the API offers (approve, hold, correct the address, fix the
gifts, confirm the invoice). An HTML shell; the data and every decision go through the
JSON API (``/api/v1/order-checks/{id}``), answered in place without a reload."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from aiohttp import web

from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.auth.middleware import redirect
from csdesk.clock import utcnow
from csdesk.i18n import translate
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import order_checks
from csdesk.reads.conversations import item_extras
from csdesk.roles.order_review import FlagCode
from csdesk.web.console.labels import N_
from csdesk.web.console.pages import render_console_page
from csdesk.web.request import path_id

routes = web.RouteTableDef()

ORDER_ITEM_PATH: Final = "/console/order-items/{conversation_id}"
NEXT_ORDER_PATH: Final = "/console/order-items"

_DIVISION_HELP: Final = N_(
    "Couriers sort parcels by province, city and district: without this level the parcel "
    "goes astray. Complete the address."
)
FLAG_HELP: Final[Mapping[FlagCode, str]] = MappingProxyType(
    {
        FlagCode.ADDRESS_MISSING: N_(
            "The order has no delivery address, so nothing can ship. Get the address from "
            "the buyer and enter it below."
        ),
        FlagCode.ADDRESS_TOO_SHORT: N_(
            "An address this short usually lacks the street or the house number, and "
            "couriers send such parcels back. Check with the buyer, then correct it."
        ),
        FlagCode.ADDRESS_NO_PROVINCE: _DIVISION_HELP,
        FlagCode.ADDRESS_NO_CITY: _DIVISION_HELP,
        FlagCode.ADDRESS_NO_DISTRICT: _DIVISION_HELP,
        FlagCode.ADDRESS_NO_DETAIL: N_(
            "No street, building or house number: the courier cannot find the door. "
            "Complete the detailed address."
        ),
        FlagCode.ADDRESS_VAGUE: N_(
            "The address holds placeholder words (such as 待定 or 不详): the buyer has not "
            "settled where to receive the parcel. Confirm with the buyer, or hold the order."
        ),
        FlagCode.ADDRESS_PO_BOX: N_(
            "Couriers do not deliver to post-office boxes. Ask the buyer for a street address."
        ),
        FlagCode.RECEIVER_INCOMPLETE: N_(
            "Without the receiver's name and a valid phone number the courier cannot reach "
            "the buyer. Check with the buyer before shipping; hold the order meanwhile."
        ),
        FlagCode.STATUS_ABNORMAL: N_(
            "Only paid orders that have not shipped are reviewed here, and this order is in "
            "another state. Check it in the order system."
        ),
        FlagCode.GIFT_MISSING: N_(
            "The campaign promises this gift with the product, but it is not on the order: "
            "the buyer will complain when it does not arrive. Fix the gifts."
        ),
        FlagCode.GIFT_UNEXPECTED: N_(
            "This gift is on the order but the campaign does not promise it (say, a travel "
            "voucher where the product promises an HDMI cable). Replace it with the "
            "promised gift."
        ),
        FlagCode.CAMPAIGN_MISMATCH: N_(
            "The order carries a campaign that is not running now, so its gifts and prices "
            "may be wrong. Check the gifts before approving."
        ),
        FlagCode.INVOICE_REQUESTED: N_(
            "The buyer asked for an invoice. The 物流宝 warehouse no longer prints invoices, "
            "so the desk issues it: confirm the invoice title."
        ),
        FlagCode.DUPLICATE_SUSPECTED: N_(
            "The same buyer ordered the same items a short while before and may have paid "
            "twice. Ask the buyer before shipping both; hold this order meanwhile."
        ),
    }
)
"""What each failed check means for the parcel and what the reviewer does about it."""


@routes.get(NEXT_ORDER_PATH)
async def next_order_item(request: web.Request) -> web.Response:
    """The home page's shortcut: the oldest order check in my hands (supervisors: the
    shop's oldest open one), or a page saying there is none."""
    user = current_user(request)
    found = await order_checks.next_order_check(request.app[SESSIONS_KEY], user)
    if found is not None:
        return redirect(ORDER_ITEM_PATH.format(conversation_id=found), status=303)
    return render_console_page(request, user, "console/order_review.html", None)


@routes.get(ORDER_ITEM_PATH)
async def order_item_page(request: web.Request) -> web.Response:
    """Agents open their own items (another agent's is 403), supervisors any."""
    user = current_user(request)
    require(user, order_checks.ACCESS)
    conversation_id = path_id(request)
    view = await order_checks.order_check_view(request.app[SESSIONS_KEY], user, conversation_id)
    extras = await item_extras(request.app[SESSIONS_KEY], conversation_id)
    boot: dict[str, Any] = {
        "conversation_id": conversation_id,
        "server_now": utcnow().isoformat(),
        "item": view,
        **extras,
        "flag_help": {code.value: translate(request, msgid) for code, msgid in FLAG_HELP.items()},
    }
    return render_console_page(request, user, "console/order_review.html", boot)
