from collections.abc import Awaitable, Callable

from aiohttp import web


@web.middleware
async def auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    return await handler(request)
