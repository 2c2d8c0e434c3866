"""Who is making the request: set by the auth middleware, read by handlers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

from aiohttp import web

from csdesk.storage.enums import UserRole

ROLE_LABELS: Final[Mapping[UserRole, str]] = MappingProxyType(
    {
        UserRole.AGENT: "客服 / Agent",
        UserRole.SUPERVISOR: "主管 / Supervisor",
        UserRole.QC_INSPECTOR: "质检员 / QC inspector",
        UserRole.TRAINER: "培训师 / Trainer",
        UserRole.OWNER: "店主 / Owner",
        UserRole.ADMIN: "管理员 / Admin",
    }
)


@dataclass(frozen=True)
class CurrentUser:
    id: int
    shop_id: str
    username: str
    display_name: str
    role: UserRole
    via_token: bool
    """True for ``Authorization: Bearer`` requests (no cookie, so no CSRF check)."""
    must_change_password: bool = False
    """Signed in with a one-time password: the console asks for a new one first."""

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


@dataclass(frozen=True)
class SessionInfo:
    """A valid web session: who it belongs to and the CSRF token of its forms."""

    user: CurrentUser
    csrf_token: str
    expires_at: datetime


USER_KEY: web.RequestKey[CurrentUser] = web.RequestKey("csdesk_user", CurrentUser)
SESSION_KEY: web.RequestKey[SessionInfo] = web.RequestKey("csdesk_session", SessionInfo)
AUTH_CLOCK_KEY: web.AppKey[Callable[[], datetime]] = web.AppKey("auth_clock")
"""``now`` for every auth decision (session expiry, throttling); tests replace it."""


def current_user(request: web.Request) -> CurrentUser:
    """The logged-in user. Every route but the public ones has one (the middleware ensures it)."""
    user: CurrentUser | None = request.get(USER_KEY)
    if user is None:
        raise RuntimeError(f"{request.path} is public: it has no current user")
    return user


def maybe_current_user(request: web.Request) -> CurrentUser | None:
    user: CurrentUser | None = request.get(USER_KEY)
    return user


def csrf_token_for(request: web.Request) -> str | None:
    """The token forms must carry (None for bearer-token requests and anonymous pages)."""
    info: SessionInfo | None = request.get(SESSION_KEY)
    return info.csrf_token if info else None


def auth_now(request: web.Request) -> datetime:
    return request.app[AUTH_CLOCK_KEY]()


def template_context(request: web.Request) -> dict[str, Any]:
    """What ``base.html`` needs: the user (or None) and the CSRF token for the logout form."""
    return {"user": maybe_current_user(request), "csrf_token": csrf_token_for(request)}
