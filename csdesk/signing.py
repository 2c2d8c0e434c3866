"""HMAC-SHA256 signatures of webhook bodies, both directions (contract: X-Csdesk-Signature).

Two forms of the header:

- ``sha256=<hex HMAC of the raw body>``: the original inbound form (body only). It has no
  time in it, so a captured request stays valid for ever (``event_id`` dedup is the only
  guard);
- ``t=<unix seconds>,sha256=<hex HMAC of "<t>." + raw body>``: the time is signed too, so
  the receiver refuses a request older than its replay window. Every outbound delivery
  (messages to the channel, integrator webhooks) is signed this way, and inbound events
  may be.

Pure: no clock (``now`` is passed in), no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

PREFIX = "sha256="


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_body(body: bytes, secret: str) -> str:
    """The body-only form: ``sha256=<hex>``."""
    return PREFIX + _hex(secret, body)


def sign_timestamped(body: bytes, secret: str, timestamp: int) -> str:
    """The timestamped form: ``t=<unix seconds>,sha256=<hex of "<t>." + body>``."""
    return f"t={timestamp},{PREFIX}{_hex(secret, f'{timestamp}.'.encode() + body)}"


@dataclass(frozen=True)
class ParsedSignature:
    digest: str
    timestamp: int | None
    """None for the body-only form."""


def parse(header: str | None) -> ParsedSignature | None:
    """The header's parts, or None when it is neither form."""
    # compare_digest refuses non-ASCII strings (TypeError): such a header is simply wrong.
    if not header or not header.isascii() or len(header) > 256:
        return None
    header = header.strip()
    if header.startswith(PREFIX):
        return ParsedSignature(header[len(PREFIX) :], None)
    timestamp: int | None = None
    digest: str | None = None
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "sha256" and value:
            digest = value
    if timestamp is None or digest is None:
        return None
    return ParsedSignature(digest, timestamp)


class Verdict(Enum):
    OK = "ok"
    BAD = "bad"
    """Missing, malformed, or made with none of the secrets."""
    STALE = "stale"
    """Signed correctly, but its time is outside the replay window."""
    UNTIMED = "untimed"
    """Signed correctly in the body-only form where a timestamp is required."""


def verify(
    body: bytes,
    secrets: Iterable[str],
    header: str | None,
    *,
    now_s: float,
    window_s: float,
    require_timestamp: bool = False,
) -> Verdict:
    """Check ``header`` against each of ``secrets`` (two during a rotation)."""
    parsed = parse(header)
    if parsed is None:
        return Verdict.BAD
    signed = body if parsed.timestamp is None else f"{parsed.timestamp}.".encode() + body
    if not any(hmac.compare_digest(_hex(secret, signed), parsed.digest) for secret in secrets):
        return Verdict.BAD
    if parsed.timestamp is None:
        return Verdict.UNTIMED if require_timestamp else Verdict.OK
    if abs(now_s - parsed.timestamp) > window_s:
        return Verdict.STALE
    return Verdict.OK
