"""One signed attempt: ``POST url`` with ``X-Csdesk-Signature: t=<unix seconds>,sha256=...``.

The body is sent as stored (the receiver's HMAC is over these bytes), but for the images of a
message, whose URLs are signed for each attempt (``media_urls``); the time in the
signature is the time of this attempt, so a retry a day later is still inside the receiver's
replay window while ``delivery_id`` (in the body) stays the same for its dedup.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp

from csdesk.signing import sign_timestamped

SIGNATURE = "X-Csdesk-Signature"
USER_AGENT = "csdesk-outbound/1"
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class Attempt:
    status: int | None
    """The HTTP status, or None when there was no answer (refused, timed out, TLS...)."""
    error: str | None
    """What went wrong, short, for the console and the delivery log (None on a 2xx)."""


async def post_signed(
    client: aiohttp.ClientSession,
    url: str,
    secret: str,
    body: bytes,
    *,
    timeout_s: float,
    delivery_id: str,
    event_type: str,
) -> Attempt:
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE: sign_timestamped(body, secret, timestamp),
        "X-Csdesk-Delivery": delivery_id,
        "X-Csdesk-Event": event_type,
        "User-Agent": USER_AGENT,
    }
    try:
        async with client.post(
            url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            allow_redirects=False,
        ) as response:
            text = ""
            if not 200 <= response.status < 300:
                text = (await response.text(errors="replace"))[:MAX_ERROR_CHARS]
            error = None if 200 <= response.status < 300 else f"HTTP {response.status} {text}"
            return Attempt(response.status, error.strip() if error else None)
    except TimeoutError:
        return Attempt(None, f"no answer within {timeout_s:g} s")
    except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
        return Attempt(None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])
