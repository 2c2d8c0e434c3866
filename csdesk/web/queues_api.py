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

routes = web.RouteTableDef()
MAX_LIMIT = 100


@routes.get("/api/v1/queues")
async def get_queues(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, queues.READ_ACCESS)
    raw_limit = request.query.get("limit", "10")
    if not raw_limit.isdigit() or not 0 <= int(raw_limit) <= MAX_LIMIT:
        return web.json_response(
            {"error": f"limit: must be a whole number from 0 to {MAX_LIMIT}", "field": "limit"},
            status=400,
        )
    view = await queues.queues(
        request.app[SESSIONS_KEY], request.app[QUEUE_KEY], user, utcnow(), limit=int(raw_limit)
    )
    return web.json_response(view.to_json())
