"""``GET /healthz``: 200 when the database (and Redis, when configured) answer, else 503."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import text

from csdesk.keys import ENGINE_KEY, REDIS_KEY, SETTINGS_KEY

routes = web.RouteTableDef()
PROBE_TIMEOUT_S = 2.0


async def _probe_database(request: web.Request) -> str | None:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            async with request.app[ENGINE_KEY].connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    return None


async def _probe_redis(request: web.Request) -> str | None:
    redis = request.app[REDIS_KEY]
    assert redis is not None
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await redis.ping()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    return None


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    checks: dict[str, str] = {}
    db_error = await _probe_database(request)
    checks["database"] = db_error or "ok"
    if settings.redis.url:
        redis_error = await _probe_redis(request)
        checks["redis"] = redis_error or "ok"
    ok = all(value == "ok" for value in checks.values())
    return web.json_response(
        {"ok": ok, "mode": settings.mode, "checks": checks}, status=200 if ok else 503
    )
