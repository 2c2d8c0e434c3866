"""Signed, expiring public URLs of images in buyer-visible messages.

The console reads images at ``/api/v1/media/{id}`` with its login; the buyer's platform has
no login, so the copy of a message that leaves the desk carries, for each image, a URL the
platform can fetch anonymously::

    {public base}/media/{shop_id}/{media_id}?expires=<unix seconds>&signature=<hex>

``signature`` is HMAC-SHA256 of ``"{shop_id}/{media_id}/{expires}"`` under a key derived
from the server's ``CSDESK_SECRET_KEY`` (a key of its own, so a signature made here is
worth nothing anywhere else the secret signs). It names one image of one shop until one
time: changing any part of the URL breaks it (403), and past ``expires`` a correct
signature is answered 410 Gone. URLs are made at each delivery attempt, valid for
``MediaUrlSettings.ttl_s`` (7 days) from then, so a retry from the console sends fresh ones.
Rotating ``CSDESK_SECRET_KEY`` ends every URL handed out before.

Pure: no clock (``now`` is passed in), no I/O.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from typing import Any, Final
from urllib.parse import quote, urlencode

PATH_PREFIX: Final = "/media"
_KEY_PURPOSE: Final = b"csdesk public media url v1"
MESSAGE_OUTBOUND: Final = "message.outbound"


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _KEY_PURPOSE, hashlib.sha256).digest()


def signature(secret: str, shop_id: str, media_id: str, expires: int) -> str:
    message = f"{shop_id}/{media_id}/{expires}".encode()
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def media_path(shop_id: str, media_id: int) -> str:
    return f"{PATH_PREFIX}/{quote(shop_id, safe='')}/{media_id}"


def signed_url(base_url: str, secret: str, shop_id: str, media_id: int, expires: int) -> str:
    query = urlencode(
        {"expires": expires, "signature": signature(secret, shop_id, str(media_id), expires)}
    )
    return f"{base_url.rstrip('/')}{media_path(shop_id, media_id)}?{query}"


class Verdict(enum.Enum):
    VALID = "valid"
    FORGED = "forged"
    """Missing, malformed or not ours: 403."""
    EXPIRED = "expired"
    """Ours, but past its time: 410."""


def verify(
    secret: str,
    shop_id: str,
    media_id: str,
    expires: str | None,
    presented: str | None,
    now_s: float,
) -> Verdict:
    """The URL's parts as they came (strings), checked in constant time."""
    if not expires or not presented or not expires.isascii() or not expires.isdigit():
        return Verdict.FORGED
    if len(expires) > 12 or not presented.isascii() or len(presented) != 64:
        return Verdict.FORGED
    expected = signature(secret, shop_id, media_id, int(expires))
    if not hmac.compare_digest(expected, presented.lower()):
        return Verdict.FORGED
    return Verdict.EXPIRED if int(expires) <= now_s else Verdict.VALID


def sign_images(body: bytes, base_url: str, secret: str, now_s: float, ttl_s: int) -> bytes:
    """A ``message.outbound`` body with each image's ``url`` replaced by its signed public
    URL (the console's ``/api/v1/media/...`` needs a login the platform does not have).
    Other bodies, and bodies without images, come back unchanged (the same bytes)."""
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return body
    if not isinstance(payload, dict) or payload.get("type") != MESSAGE_OUTBOUND:
        return body
    shop_id = payload.get("shop_id")
    data = payload.get("data")
    attachments = data.get("attachments") if isinstance(data, dict) else None
    if not isinstance(shop_id, str) or not isinstance(attachments, list):
        return body
    expires = int(now_s) + ttl_s
    changed = False
    for item in attachments:
        if not isinstance(item, dict) or item.get("type") != "image":
            continue
        media_id = item.get("id")
        if not isinstance(media_id, int) or isinstance(media_id, bool):
            continue
        item["url"] = signed_url(base_url, secret, shop_id, media_id, expires)
        item["url_expires_at"] = expires
        changed = True
    if not changed:
        return body
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
