"""``GET /media/{shop_id}/{media_id}?expires=...&signature=...``: an image of a message
that left the desk, for the buyer's platform, without a login (``csdesk.outbound.media_urls``
makes and checks the URLs).

403 for a URL that is not one the desk made (missing, malformed or wrong signature, or any
part changed: another image, another shop, a later expiry); 410 for one it made whose time
has passed; 404 for a signed image since deleted. The console keeps reading images at
``/api/v1/media/{id}`` with its login.
"""

from __future__ import annotations

import time
from typing import Final

from aiohttp import web

from csdesk.errors import ForbiddenError, GoneError, NotFoundError
from csdesk.keys import SESSIONS_KEY, SETTINGS_KEY
from csdesk.outbound.media_urls import PATH_PREFIX, Verdict, verify
from csdesk.reads import quick_replies as reads
from csdesk.web.request import is_id

routes = web.RouteTableDef()

PUBLIC_MEDIA_CSP: Final = "default-src 'none'; sandbox"
"""Opened on its own (an SVG included), the image runs nothing; any site may show it."""


@routes.get(PATH_PREFIX + "/{shop_id}/{media_id}")
async def get_public_media(request: web.Request) -> web.Response:
    shop_id = request.match_info["shop_id"]
    raw_id = request.match_info["media_id"]
    verdict = verify(
        request.app[SETTINGS_KEY].auth.secret_key,
        shop_id,
        raw_id,
        request.query.get("expires"),
        request.query.get("signature"),
        time.time(),
    )
    if verdict is Verdict.FORGED:
        raise ForbiddenError("this image link is not valid")
    if verdict is Verdict.EXPIRED:
        raise GoneError("this image link has expired")
    media_id = int(raw_id) if raw_id.isascii() and raw_id.isdigit() else 0
    stored = (
        await reads.shop_media_file(request.app[SESSIONS_KEY], shop_id, media_id)
        if is_id(media_id)
        else None
    )
    if stored is None:
        raise NotFoundError("image: not found")
    return web.Response(
        body=stored.data,
        content_type=stored.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": reads.content_disposition("inline", stored.name),
            "Content-Security-Policy": PUBLIC_MEDIA_CSP,
            "Cache-Control": "private, max-age=3600",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Referrer-Policy": "no-referrer",
            "ETag": f'"{stored.sha256}"',
        },
    )
