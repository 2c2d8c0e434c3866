"""Inbound ``X-Csdesk-Signature`` (contract): the body-only form ``sha256=<hex HMAC-SHA256
of the raw body>`` and the timestamped ``t=<unix seconds>,sha256=<hex of "<t>." + body>``
(:mod:`csdesk.signing`)."""

from __future__ import annotations

from csdesk.signing import PREFIX, Verdict, sign_body, sign_timestamped
from csdesk.signing import verify as verify_signature


def sign(body: bytes, secret: str) -> str:
    """The body-only form (what platforms sent before timestamps)."""
    return sign_body(body, secret)


def verify(body: bytes, secret: str, header: str | None) -> bool:
    """Body-only check against one secret (kept for tools and tests)."""
    if header is None or not header.startswith(PREFIX):
        return False
    return verify_signature(body, (secret,), header, now_s=0, window_s=0) is Verdict.OK


__all__ = ["PREFIX", "Verdict", "sign", "sign_timestamped", "verify", "verify_signature"]
