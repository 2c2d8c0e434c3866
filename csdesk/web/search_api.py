"""``GET /api/v1/search`` (会话搜索) and its console page ``/console/search``: conversations
by buyer nick, order number, full phone number (shown masked), message text and date;
and a buyer's whole history (``/api/v1/buyers/{id}/history``, page ``/console/buyers/{id}``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from aiohttp import web

from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import buyer_history as buyer_reads
from csdesk.reads import search
from csdesk.web.console.pages import render_console_page
from csdesk.web.openapi import documented, op, query
from csdesk.web.request import WHEN_SCHEMA, ok, path_id, query_when

routes = web.RouteTableDef()
SEARCH_PATH: Final = "/api/v1/search"
SEARCH_PAGE: Final = "/console/search"


@routes.get(SEARCH_PATH)
@documented(
    op(
        "Conversations by buyer nick, order number, full phone (shown masked), message text "
        "and opening date; agents see their own and their buyers'",
        errors=("400", "401", "403"),
        params=[
            query(
                "q",
                {
                    "type": "string",
                    "maxLength": 200,
                    "pattern": "^\\s*\\S[\\s\\S]*\\S\\s*$",
                    "description": "at least 2 characters; q, since or until is needed",
                },
            ),
            query("since", WHEN_SCHEMA),
            query("until", WHEN_SCHEMA),
        ],
    )
)
async def search_conversations(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, search.SEARCH_ACCESS)
    since = query_when(request, "since")
    until = query_when(request, "until")
    if until is not None and "T" not in request.query.get("until", ""):
        until += timedelta(days=1)  # a day given as "until" includes that day
    found = await search.search_conversations(
        request.app[SESSIONS_KEY],
        user,
        search.SearchQuery(text=request.query.get("q", ""), since=since, until=until),
    )
    return ok({"results": found, "limit": search.MAX_RESULTS})


@routes.get(SEARCH_PAGE)
async def search_page(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, search.SEARCH_ACCESS)
    boot = {"search_api": SEARCH_PATH, "q": request.query.get("q", "")}
    return render_console_page(request, user, "console/search.html", boot, current="search")


BUYER_HISTORY_PATH: Final = "/api/v1/buyers/{buyer_id}/history"
BUYER_PAGE: Final = "/console/buyers/{buyer_id}"


@routes.get(BUYER_HISTORY_PATH)
@documented(
    op(
        "One buyer's whole history, newest first: conversations and who served them, "
        "orders, refunds, and the protection owner while protection runs",
        params=[
            {"name": "buyer_id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
    )
)
async def buyer_history(request: web.Request) -> web.Response:
    user = current_user(request)
    history = await buyer_reads.buyer_history(
        request.app[SESSIONS_KEY], user, path_id(request, "buyer_id"), utcnow()
    )
    return ok(history)


@routes.get(BUYER_PAGE)
async def buyer_page(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, buyer_reads.HISTORY_ACCESS)
    buyer_id = path_id(request, "buyer_id")
    # Read here too: an unknown buyer (or one an agent never served) is the 404 page.
    history = await buyer_reads.buyer_history(request.app[SESSIONS_KEY], user, buyer_id, utcnow())
    boot = {"history_api": BUYER_HISTORY_PATH.format(buyer_id=buyer_id), "history": history}
    return render_console_page(request, user, "console/buyer.html", boot, current="buyer")
