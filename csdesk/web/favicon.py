"""``/favicon.ico``: browsers ask for it on every page whatever the markup says; without it
every page logs a 404 (and a console error in the browser)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web

routes = web.RouteTableDef()
FAVICON: Final = Path(__file__).parent / "static" / "favicon.ico"


@routes.get("/favicon.ico")
async def favicon(request: web.Request) -> web.FileResponse:
    response = web.FileResponse(FAVICON, headers={"Cache-Control": "public, max-age=86400"})
    response.content_type = "image/x-icon"
    return response
