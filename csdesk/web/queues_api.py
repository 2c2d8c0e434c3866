"""``GET /api/v1/queues``: per role depth, oldest wait and the top items with their score
breakdown (why each item stands where it stands, aging included).

``depth`` is the database's count (the truth); ``index_depth`` what the queue index that
agents claim from holds, and ``index_intact`` whether that index is the one last built: after
a Redis loss the two depths part until the index is restored, and the gap shows here."""

from __future__ import annotations

from aiohttp import web

from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import queues
from csdesk.routing.queues import QUEUE_KEY
from csdesk.web.openapi import SECURED, documented, error_answer, json_answer
from csdesk.web.request import query_int

routes = web.RouteTableDef()
MAX_LIMIT = 100


@routes.get("/api/v1/queues")
@documented(
    {
        "summary": "Per role: depth, oldest wait, top items with their score breakdown",
        "security": SECURED,
        "parameters": [
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_LIMIT},
            }
        ],
        "responses": {
            "200": json_answer({"type": "object"}, "queues"),
            "400": error_answer("a bad query parameter; `field` names it"),
            "401": error_answer("no login"),
            "403": error_answer("role without access"),
        },
    }
)
async def get_queues(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, queues.READ_ACCESS)
    limit = query_int(request, "limit", low=0, high=MAX_LIMIT, default=10)
    view = await queues.queues(
        request.app[SESSIONS_KEY], request.app[QUEUE_KEY], user, utcnow(), limit=limit
    )
    return web.json_response(view.to_json())
