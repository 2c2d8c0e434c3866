"""Users, API tokens and web sessions: the only code that writes them.

Usernames are case-insensitive: stored NFKC-normalised and lower-cased, and every lookup
normalises the same way (``Xiaomei`` and ``xiaomei`` are one login).
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.auth.current import CurrentUser, SessionInfo
from csdesk.auth.passwords import check_password, hash_password, password_problem
from csdesk.auth.throttle import LoginThrottle, Throttled
from csdesk.auth.tokens import new_api_token, new_csrf_token, new_secret, sha256_hex
from csdesk.clock import require_aware, utcnow
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from csdesk.storage.models import ApiToken, Shop, User, WebSession

log = logging.getLogger(__name__)

# Letters of any script, digits and . _ @ : - (Tmall sub-accounts look like "店铺名:小美").
_USERNAME_RE: Final = re.compile(r"\w[\w.@:-]{1,63}")
MAX_DISPLAY_NAME: Final = 100
TOKEN_TOUCH_INTERVAL: Final = timedelta(minutes=1)
"""``last_used_at`` is only rewritten this often, so busy API clients cost no write per call."""


def normalize_username(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip().lower()


def username_problem(username: str) -> str | None:
    """Why ``username`` (already normalised) is not acceptable, or None."""
    if not username:
        return "username must not be empty"
    if not _USERNAME_RE.fullmatch(username):
        return (
            "username must be 2-64 characters: letters, digits and . _ @ : -, "
            "starting with a letter or digit"
        )
    return None


def as_current_user(user: User, *, via_token: bool = False) -> CurrentUser:
    """A stored user as access checks see a signed-in one."""
    return CurrentUser(
        id=user.id,
        shop_id=user.shop_id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        via_token=via_token,
        must_change_password=user.must_change_password and not via_token,
    )


async def create_user(
    sessions: SessionFactory,
    *,
    shop_id: str,
    username: str,
    role: UserRole,
    password: str | None,
    display_name: str | None = None,
    now: datetime | None = None,
) -> User:
    """Create a login. ``password=None`` makes a token-only user (scripts, integrations)."""
    name = normalize_username(username)
    problem = username_problem(name)
    if problem:
        raise ValueError(problem)
    role = UserRole(role)
    password_hash = None
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise ValueError(problem)
        password_hash = await asyncio.to_thread(hash_password, password)
    shown = (display_name or "").strip() or username.strip()
    now = require_aware(now) if now else utcnow()
    try:
        async with sessions.begin() as session:
            if await session.get(Shop, shop_id) is None:
                raise ValueError(f"unknown shop {shop_id!r}")
            if await session.scalar(select(User.id).where(User.username == name)) is not None:
                raise ValueError(f"username {name!r} is already taken")
            user = User(
                shop_id=shop_id,
                username=name,
                display_name=shown[:MAX_DISPLAY_NAME],
                role=role,
                password_hash=password_hash,
                is_active=True,
                created_at=now,
            )
            session.add(user)
            await session.flush()
            audit.record(
                session,
                shop_id=shop_id,
                actor_id=None,
                action="user.created",
                target_type="user",
                target_id=user.id,
                at=now,
                detail={"username": name, "role": role.value},
            )
    except IntegrityError as exc:
        # Two creators raced past the check above; the unique constraint decided.
        raise ValueError(f"username {name!r} is already taken") from exc
    return user


async def set_password(
    sessions: SessionFactory, username: str, password: str, *, now: datetime | None = None
) -> None:
    """Set a new password and end the user's web sessions (a reset should lock others out)."""
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    password_hash = await asyncio.to_thread(hash_password, password)
    now = require_aware(now) if now else utcnow()
    async with sessions.begin() as session:
        user = await _user_by_name(session, username)
        user.password_hash = password_hash
        await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        audit.record(
            session,
            shop_id=user.shop_id,
            actor_id=None,
            action="user.password_set",
            target_type="user",
            target_id=user.id,
            at=now,
        )


async def set_active(
    sessions: SessionFactory, username: str, active: bool, *, now: datetime | None = None
) -> None:
    """Deactivate (or reactivate) a login. A deactivated user's sessions end at once and
    their tokens stop working; the rows stay for the audit trail."""
    now = require_aware(now) if now else utcnow()
    async with sessions.begin() as session:
        user = await _user_by_name(session, username)
        if user.is_active == active:
            return
        user.is_active = active
        if not active:
            await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        audit.record(
            session,
            shop_id=user.shop_id,
            actor_id=None,
            action="user.activated" if active else "user.deactivated",
            target_type="user",
            target_id=user.id,
            at=now,
        )


async def issue_token(
    sessions: SessionFactory, username: str, *, now: datetime | None = None
) -> str:
    """A new API bearer token for ``username``, returned once; only its SHA-256 is stored.

    LookupError when there is no such user, or the user is deactivated.
    """
    now = require_aware(now) if now else utcnow()
    token = new_api_token()
    async with sessions.begin() as session:
        user = await _user_by_name(session, username)
        if not user.is_active:
            raise LookupError(f"user {user.username!r} is deactivated")
        row = ApiToken(
            shop_id=user.shop_id, user_id=user.id, token_hash=sha256_hex(token), created_at=now
        )
        session.add(row)
        await session.flush()
        audit.record(
            session,
            shop_id=user.shop_id,
            actor_id=user.id,
            action="token.issued",
            target_type="api_token",
            target_id=row.id,
            at=now,
        )
    return token


async def revoke_token(
    sessions: SessionFactory, token: str, *, now: datetime | None = None
) -> bool:
    """Revoke a token by its plaintext; False when it is unknown or already revoked."""
    now = require_aware(now) if now else utcnow()
    async with sessions.begin() as session:
        row = await session.scalar(
            select(ApiToken).where(
                ApiToken.token_hash == sha256_hex(token), ApiToken.revoked_at.is_(None)
            )
        )
        if row is None:
            return False
        row.revoked_at = now
        audit.record(
            session,
            shop_id=row.shop_id,
            actor_id=row.user_id,
            action="token.revoked",
            target_type="api_token",
            target_id=row.id,
            at=now,
        )
    return True


async def authenticate_token(
    sessions: SessionFactory, token: str, *, now: datetime
) -> CurrentUser | None:
    """The user a bearer token stands for; None when unknown, revoked or the user is inactive."""
    if not token or len(token) > 200:
        return None
    async with sessions() as session:
        found = (
            await session.execute(
                select(ApiToken.id, ApiToken.last_used_at, User)
                .join(User, User.id == ApiToken.user_id)
                .where(
                    ApiToken.token_hash == sha256_hex(token),
                    ApiToken.revoked_at.is_(None),
                    User.is_active.is_(True),
                )
            )
        ).first()
    if found is None:
        return None
    token_id, last_used_at, user = found
    if last_used_at is None or now - last_used_at >= TOKEN_TOUCH_INTERVAL:
        async with sessions.begin() as session:
            await session.execute(
                update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
            )
    return as_current_user(user, via_token=True)


@dataclass(frozen=True)
class LoggedIn:
    session_key: str
    """The cookie value; the database keeps only its SHA-256."""
    session: SessionInfo


@dataclass(frozen=True)
class LoginRefused:
    """Wrong username or password (which one is not told)."""


async def log_in(
    sessions: SessionFactory,
    throttle: LoginThrottle,
    *,
    username: str,
    password: str,
    client_address: str | None,
    session_max_age_s: int,
    previous_session_key: str | None = None,
    now: datetime,
) -> LoggedIn | LoginRefused | Throttled:
    """Check a password login and open a new web session.

    The session id is new at every login and any session id the browser still presented
    is dropped, so an id planted before login (session fixation) is worthless after it.
    """
    name = normalize_username(username)
    attempt = await throttle.begin(name, client_address, now)
    if isinstance(attempt, Throttled):
        log.info("login throttled for %r from %s", name, client_address)
        return attempt

    async with sessions() as session:
        user = await session.scalar(select(User).where(User.username == name))
    usable_hash = user.password_hash if user is not None and user.is_active else None
    check = await asyncio.to_thread(check_password, usable_hash, password)

    if not check.ok:
        if user is None:
            # No shop to file it under; the log still shows username-spraying.
            log.warning("login failed: unknown username %r from %s", name, client_address)
        else:
            async with sessions.begin() as session:
                audit.record(
                    session,
                    shop_id=user.shop_id,
                    actor_id=user.id,
                    action="login.failed",
                    target_type="user",
                    target_id=user.id,
                    at=now,
                    detail={"reason": _failure_reason(user), "address": client_address},
                )
        return LoginRefused()

    assert user is not None
    key = new_secret()
    info = SessionInfo(
        user=as_current_user(user),
        csrf_token=new_csrf_token(),
        expires_at=now + timedelta(seconds=session_max_age_s),
    )
    async with sessions.begin() as session:
        if previous_session_key:
            await session.execute(
                delete(WebSession).where(WebSession.key_hash == sha256_hex(previous_session_key))
            )
        # Tidy this user's dead sessions here, so the table stays small without a cron job.
        await session.execute(
            delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now)
        )
        if check.new_hash:
            await session.execute(
                update(User).where(User.id == user.id).values(password_hash=check.new_hash)
            )
        session.add(
            WebSession(
                shop_id=user.shop_id,
                user_id=user.id,
                key_hash=sha256_hex(key),
                csrf_token=info.csrf_token,
                created_at=now,
                expires_at=info.expires_at,
            )
        )
        audit.record(
            session,
            shop_id=user.shop_id,
            actor_id=user.id,
            action="login.succeeded",
            target_type="user",
            target_id=user.id,
            at=now,
            detail={"address": client_address, "rehashed": check.new_hash is not None},
        )
    await throttle.succeeded(attempt)
    return LoggedIn(session_key=key, session=info)


def _failure_reason(user: User) -> str:
    if not user.is_active:
        return "inactive"
    if user.password_hash is None:
        return "no_password"
    return "bad_password"


async def authenticate_session(
    sessions: SessionFactory, session_key: str, *, now: datetime
) -> SessionInfo | None:
    """The live session behind a cookie value; None if unknown, expired or the user is inactive."""
    if not session_key or len(session_key) > 200:
        return None
    async with sessions() as session:
        found = (
            await session.execute(
                select(WebSession, User)
                .join(User, User.id == WebSession.user_id)
                .where(
                    WebSession.key_hash == sha256_hex(session_key),
                    WebSession.expires_at > now,
                    User.is_active.is_(True),
                )
            )
        ).first()
    if found is None:
        return None
    web_session, user = found
    return SessionInfo(
        user=as_current_user(user),
        csrf_token=web_session.csrf_token,
        expires_at=web_session.expires_at,
    )


async def log_out(sessions: SessionFactory, session_key: str, *, now: datetime) -> None:
    """End the web session behind ``session_key`` (nothing happens when it is already gone)."""
    async with sessions.begin() as session:
        found = (
            await session.execute(
                delete(WebSession)
                .where(WebSession.key_hash == sha256_hex(session_key))
                .returning(WebSession.shop_id, WebSession.user_id)
            )
        ).first()
        if found is not None:
            audit.record(
                session,
                shop_id=found.shop_id,
                actor_id=found.user_id,
                action="logout",
                target_type="user",
                target_id=found.user_id,
                at=now,
            )


async def purge_expired_sessions(sessions: SessionFactory, *, now: datetime) -> int:
    """Delete expired web sessions (for a periodic job); returns how many went."""
    statement = delete(WebSession).where(WebSession.expires_at <= now)
    async with sessions.begin() as session:
        result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount


async def _user_by_name(session: AsyncSession, username: str) -> User:
    name = normalize_username(username)
    user = await session.scalar(select(User).where(User.username == name))
    if user is None:
        raise LookupError(f"no user named {name!r}")
    return user
