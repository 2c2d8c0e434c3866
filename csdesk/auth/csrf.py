"""CSRF protection.

Logged-in requests: each web session has its own random token (``web_session.csrf_token``);
unsafe requests carry it in the form field ``csrf_token`` or the ``X-CSRF-Token`` header.

The login form has no session yet, so it uses a signed double-submit cookie: the same value
goes in a cookie and in the form, and it carries an HMAC with the secret key, so a value
planted by another site (or a sibling subdomain that can set cookies) does not verify.
"""

from __future__ import annotations

import hmac
import secrets
from hashlib import sha256
from typing import Final

from aiohttp import web

CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "X-CSRF-Token"
LOGIN_CSRF_COOKIE: Final = "csdesk_login_csrf"
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_TYPES: Final = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_LOGIN_PURPOSE: Final = b"csdesk-login-csrf\x00"


def tokens_match(expected: str, presented: str) -> bool:
    """Constant-time comparison, so the time taken does not leak a matching prefix."""
    return hmac.compare_digest(expected.encode(), presented.encode())


async def presented_token(request: web.Request) -> str | None:
    """The CSRF token the client sent: the header first, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in _FORM_TYPES:
        # aiohttp caches the parsed form on the request, so the handler can read it again.
        form = await request.post()
        value = form.get(CSRF_FIELD)
        if isinstance(value, str) and value:
            return value
    return None


def session_csrf_problem(expected: str, presented: str | None) -> str | None:
    """Why a logged-in unsafe request fails the CSRF check, or None when it passes."""
    if not presented:
        return (
            f"CSRF token missing: send the {CSRF_FIELD!r} form field "
            f"or the {CSRF_HEADER} header (缺少 CSRF 令牌)"
        )
    if not tokens_match(expected, presented):
        return "CSRF token invalid: reload the page and try again (CSRF 令牌无效)"
    return None


def _login_signature(secret_key: str, nonce: str) -> str:
    return hmac.new(secret_key.encode(), _LOGIN_PURPOSE + nonce.encode(), sha256).hexdigest()


def new_login_csrf(secret_key: str) -> str:
    nonce = secrets.token_hex(16)
    return f"{nonce}.{_login_signature(secret_key, nonce)}"


def login_csrf_is_signed(secret_key: str, value: str | None) -> bool:
    if not value:
        return False
    nonce, _, signature = value.partition(".")
    return bool(nonce) and tokens_match(_login_signature(secret_key, nonce), signature)


def login_csrf_problem(secret_key: str, cookie: str | None, presented: str | None) -> str | None:
    """Why a login POST fails the double-submit check, or None when it passes."""
    if not cookie:
        return (
            "CSRF cookie missing: open the sign-in page again (缺少 CSRF Cookie，请重新打开登录页)"
        )
    if not presented:
        return f"CSRF token missing: the form lacks {CSRF_FIELD!r} (缺少 CSRF 令牌)"
    if not login_csrf_is_signed(secret_key, cookie) or not tokens_match(cookie, presented):
        return "CSRF token invalid: open the sign-in page again (CSRF 令牌无效，请重新打开登录页)"
    return None
