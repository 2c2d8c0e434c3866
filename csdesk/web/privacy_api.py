"""``POST /api/v1/buyers/{buyer_id}/erase``: erase a buyer's personal data on request (PIPL).

Owners and admins (``pii.erase``); the reason (the request's reference) is required and
audited. ``csdesk buyer erase NICK --shop ID`` does the same from the command line.
"""

from __future__ import annotations

from aiohttp import web

from csdesk.actions.erasure import MAX_REASON_CHARS, erase_buyer
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.keys import SESSIONS_KEY
from csdesk.web.openapi import documented, obj, op
from csdesk.web.request import bounded_text, json_body, ok, path_id

routes = web.RouteTableDef()


@routes.post("/api/v1/buyers/{buyer_id}/erase")
@documented(
    op(
        "Erase a buyer's personal data (PIPL): name, phone and address removed from the buyer "
        "and their orders and masked in their transcripts; conversations kept and counted; "
        "audited as pii.erase (owner, admin)",
        params=[
            {"name": "buyer_id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        body=obj(
            ["reason"], reason={"type": "string", "minLength": 1, "maxLength": MAX_REASON_CHARS}
        ),
        errors=("400", "401", "403", "404"),
    )
)
async def post_erase(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "pii.erase")
    buyer_id = path_id(request, "buyer_id")
    data = await json_body(request)
    reason = bounded_text(data, "reason", max_chars=MAX_REASON_CHARS)
    erased = await erase_buyer(
        request.app[SESSIONS_KEY], user, user.shop_id, utcnow(), reason=reason, buyer_id=buyer_id
    )
    return ok(erased.to_json())
