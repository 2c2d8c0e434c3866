"""``X-Csdesk-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` (contract)."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str | None) -> bool:
    # compare_digest refuses non-ASCII strings (TypeError): such a header is simply wrong.
    if not header or not header.startswith(PREFIX) or not header.isascii():
        return False
    return hmac.compare_digest(sign(body, secret), header.strip())
