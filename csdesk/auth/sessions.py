"""The session cookie. The session itself lives in ``web_session`` (see actions/users.py)."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from csdesk.settings import AuthSettings

SESSION_COOKIE: Final = "csdesk_session"


def set_session_cookie(response: web.StreamResponse, key: str, settings: AuthSettings) -> None:
    # HttpOnly: page scripts never need the id. Lax: links from elsewhere keep the user
    # signed in, while cross-site POSTs arrive without it (CSRF tokens are the second lock).
    response.set_cookie(
        SESSION_COOKIE,
        key,
        max_age=settings.session_max_age_s,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=settings.cookie_secure,
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")
