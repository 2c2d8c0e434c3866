"""Random secrets (session ids, API tokens, CSRF tokens) and how they are stored.

Session ids and API tokens are stored only as SHA-256: they are 256-bit random values, so a
slow hash would add nothing, and a leaked table holds nothing a client could present.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

API_TOKEN_PREFIX: Final = "csd_"
"""Makes a leaked token recognisable to secret scanners and to people reading logs."""


def new_secret() -> str:
    """256 random bits, URL- and cookie-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + new_secret()


def new_csrf_token() -> str:
    return secrets.token_hex(32)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
