"""Inbound ``X-Csdesk-Signature`` (contract): the body-only form ``sha256=<hex HMAC-SHA256
of the raw body>`` and the timestamped ``t=<unix seconds>,sha256=<hex of "<t>." + body>``
(:mod:`csdesk.signing`)."""

from __future__ import annotations

import hmac

from csdesk.signing import PREFIX, Verdict, sign_body, sign_timestamped
from csdesk.signing import verify as verify_signature


def sign(body: bytes, secret: str) -> str:
    """The body-only form (what platforms sent before timestamps)."""
    return sign_body(body, secret)


def verify(body: bytes, secret: str, header: str | None) -> bool:
    """Body-only check against one secret (tools, and the ingest benchmark's baseline)."""
    # compare_digest refuses non-ASCII strings (TypeError): such a header is simply wrong.
    if not header or not header.startswith(PREFIX) or not header.isascii():
        return False
    return hmac.compare_digest(sign(body, secret), header.strip())


__all__ = ["PREFIX", "Verdict", "sign", "sign_timestamped", "verify", "verify_signature"]
