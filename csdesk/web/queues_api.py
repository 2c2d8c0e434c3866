"""``GET /api/v1/queues``: per role depth, oldest wait and the top items with their score
breakdown (why each item stands where it stands, aging included).

``depth`` is the database's count (the truth); ``index_depth`` what the queue index that
agents claim from holds, and ``index_intact`` whether that index is the one last built: after
a Redis loss the two depths part until the index is restored, and the gap shows here."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func, select

from csdesk.actions.routing import conversation_json
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.keys import SESSIONS_KEY
from csdesk.routing.facts import load_shop_context
from csdesk.routing.queues import QUEUE_KEY
from csdesk.storage.enums import ConversationStatus, ServiceRole
from csdesk.storage.models import Conversation
from csdesk.web.openapi import SECURED, documented, error_answer, json_answer
from csdesk.web.request import query_int

routes = web.RouteTableDef()
MAX_LIMIT = 100


@routes.get("/api/v1/queues")
@documented(
    {
        "summary": "Per role: depth, oldest wait, top items with their score breakdown",
        "security": SECURED,
        "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
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
    require(user, "queues.read")
    limit = query_int(request, "limit", low=0, high=MAX_LIMIT, default=10)
    now = utcnow()
    result: dict[str, object] = {}
    queue = request.app[QUEUE_KEY]
    async with request.app[SESSIONS_KEY]() as session:
        ctx = await load_shop_context(session, user.shop_id)
        stats = {
            role: (int(depth), oldest)
            for role, depth, oldest in await session.execute(
                select(Conversation.role, func.count(), func.min(Conversation.enqueued_at))
                .where(
                    Conversation.shop_id == user.shop_id,
                    Conversation.status == ConversationStatus.QUEUED,
                )
                .group_by(Conversation.role)
            )
        }
        for role in ServiceRole:
            depth, oldest = stats.get(role.value, (0, None))
            items = []
            if limit and depth:
                rows = await session.scalars(
                    select(Conversation)
                    .where(
                        Conversation.shop_id == user.shop_id,
                        Conversation.status == ConversationStatus.QUEUED,
                        Conversation.role == role.value,
                    )
                    .order_by(Conversation.sort_key.desc(), Conversation.id)
                    .limit(limit)
                )
                items = [conversation_json(row, ctx, now) for row in rows]
            result[role.value] = {
                "depth": depth,
                "index_depth": await queue.depth(user.shop_id, role.value),
                "oldest_wait_s": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
                "items": items,
            }
    intact = await queue.built(user.shop_id)
    return web.json_response(
        {"generated_at": now.isoformat(), "index_intact": intact, "roles": result}
    )
