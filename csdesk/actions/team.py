"""Team administration: adding a colleague (with the agent profile an agent needs to
receive work), in one transaction with its audit row.

``csdesk user add`` and the admin console call the same action, so a login made either
way is seated the same: an ``agent`` gets an agent profile at once (contract: service
roles default ``presales``, chat capacity 5).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.agents import AgentProfileSpec, set_agent_profile
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.routing import let_go_of_buyers, offer_after_commit, requeue
from csdesk.actions.training.retraining import onboard
from csdesk.actions.users import (
    MAX_DISPLAY_NAME,
    normalize_username,
    username_problem,
)
from csdesk.auth.current import CurrentUser
from csdesk.auth.passwords import check_password, hash_password, password_problem
from csdesk.auth.tokens import new_api_token, sha256_hex
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.clock import require_aware, utcnow
from csdesk.errors import BadInputError, ConflictError, ForbiddenError, NotFoundError
from csdesk.routing import facts as loaded
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ConversationStatus, ServiceRole, UserRole
from csdesk.storage.models import AgentProfile, ApiToken, Conversation, Shop, User, WebSession

DEFAULT_SERVICE_ROLES: Final = (ServiceRole.PRESALES,)
DEFAULT_CHAT_CAPACITY: Final = 5
MAX_CHAT_CAPACITY: Final = 50
MAX_HOTLINE_CAPACITY: Final = 5
MAX_SKILLS: Final = 20
MAX_SKILL_CHARS: Final = 32


@dataclass(frozen=True)
class AgentSetup:
    """What a new (or edited) agent can take; the defaults are the contract's."""

    service_roles: tuple[ServiceRole, ...] = DEFAULT_SERVICE_ROLES
    skills: tuple[str, ...] = ()
    chat_capacity: int = DEFAULT_CHAT_CAPACITY
    hotline_capacity: int = 1


def parse_service_roles(
    raw: Iterable[str], *, field: str = "service_roles"
) -> tuple[ServiceRole, ...]:
    """Role keys (``refund``, ``presales`` ...) in the given order, each once; BadInputError
    naming the unknown key otherwise."""
    roles: list[ServiceRole] = []
    for item in raw:
        key = item.strip()
        if not key:
            continue
        try:
            role = ServiceRole(key)
        except ValueError:
            choices = ", ".join(r.value for r in ServiceRole)
            raise BadInputError(field, f"unknown service role {key!r} (one of {choices})") from None
        if role not in roles:
            roles.append(role)
    if not roles:
        raise BadInputError(field, "name at least one service role")
    return tuple(roles)


def parse_skills(raw: Iterable[str], *, field: str = "skills") -> tuple[str, ...]:
    skills: list[str] = []
    for item in raw:
        key = item.strip()
        if not key:
            continue
        if len(key) > MAX_SKILL_CHARS:
            raise BadInputError(field, f"a skill is at most {MAX_SKILL_CHARS} characters")
        if key not in skills:
            skills.append(key)
    if len(skills) > MAX_SKILLS:
        raise BadInputError(field, f"at most {MAX_SKILLS} skills")
    return tuple(skills)


def check_capacity(value: int, *, field: str, top: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise BadInputError(field, f"must be a whole number from 0 to {top}")
    return value


def _check_setup(setup: AgentSetup) -> None:
    if not setup.service_roles:
        raise BadInputError("service_roles", "name at least one service role")
    check_capacity(setup.chat_capacity, field="chat_capacity", top=MAX_CHAT_CAPACITY)
    check_capacity(setup.hotline_capacity, field="hotline_capacity", top=MAX_HOTLINE_CAPACITY)


@dataclass(frozen=True)
class NewMember:
    user_id: int
    username: str
    role: UserRole
    token_only: bool
    """No password was given: the login works only with API tokens."""
    agent: AgentSetup | None


async def add_member(
    sessions: SessionFactory,
    *,
    shop_id: str,
    username: str,
    role: UserRole,
    password: str | None,
    display_name: str | None = None,
    agent: AgentSetup | None = None,
    actor_id: int | None = None,
    must_change_password: bool = False,
    now: datetime | None = None,
) -> NewMember:
    """Create a login and, for an agent, its profile (offline until they go online).

    ``agent`` is only for ``role=agent`` (defaults per contract when omitted). Everything
    is checked before anything is written; the user, the profile and the audit row commit
    together.
    """
    name = normalize_username(username)
    problem = username_problem(name)
    if problem:
        raise BadInputError("username", problem)
    if role is not UserRole.AGENT and agent is not None:
        raise BadInputError(
            "role", f"only an agent has service roles and capacities, not {role.value}"
        )
    setup = (agent or AgentSetup()) if role is UserRole.AGENT else None
    if setup is not None:
        _check_setup(setup)
    password_hash = None
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise BadInputError("password", problem)
        password_hash = await asyncio.to_thread(hash_password, password)
    shown = ((display_name or "").strip() or username.strip())[:MAX_DISPLAY_NAME]
    now = require_aware(now) if now else utcnow()
    try:
        async with sessions.begin() as session:
            if await session.get(Shop, shop_id) is None:
                raise NotFoundError(f"unknown shop {shop_id!r}", field="shop")
            if await session.scalar(select(User.id).where(User.username == name)) is not None:
                raise ConflictError(f"username {name!r} is already taken", field="username")
            user = User(
                shop_id=shop_id,
                username=name,
                display_name=shown,
                role=role,
                password_hash=password_hash,
                is_active=True,
                created_at=now,
                must_change_password=must_change_password,
            )
            session.add(user)
            await session.flush()
            detail: dict[str, object] = {"username": name, "role": role.value}
            if setup is not None:
                await set_agent_profile(
                    session,
                    shop_id,
                    AgentProfileSpec(
                        user_id=user.id,
                        service_roles=setup.service_roles,
                        skills=setup.skills,
                        chat_capacity=setup.chat_capacity,
                        hotline_capacity=setup.hotline_capacity,
                    ),
                )
                detail["agent"] = agent_json(setup)
                # 新人: the roles' starter courses, trainee until passed.
                given = await onboard(
                    session,
                    None,
                    shop_id=shop_id,
                    agent_id=user.id,
                    roles=[role.value for role in setup.service_roles],
                    now=now,
                    by=actor_id,
                )
                if given:
                    detail["starter_courses"] = [row.course_id for row in given]
            audit.record(
                session,
                shop_id=shop_id,
                actor_id=actor_id,
                action="user.created",
                target_type="user",
                target_id=user.id,
                at=now,
                detail=detail,
            )
    except IntegrityError as exc:
        # Two creators raced past the check above; the unique constraint decided.
        raise ConflictError(f"username {name!r} is already taken", field="username") from exc
    return NewMember(
        user_id=user.id,
        username=name,
        role=role,
        token_only=password_hash is None,
        agent=setup,
    )


def agent_json(setup: AgentSetup) -> dict[str, object]:
    return {
        "service_roles": [role.value for role in setup.service_roles],
        "skills": list(setup.skills),
        "chat_capacity": setup.chat_capacity,
        "hotline_capacity": setup.hotline_capacity,
    }


def split_list(text: str) -> Sequence[str]:
    """``refund,presales`` (a CLI or form value) as its items."""
    return text.replace("，", ",").split(",")


# -- administering members (admins and owners; every change audited) ----------------------


ONE_TIME_PASSWORD_BYTES: Final = 9
"""12 URL-safe characters: read out or pasted once, then replaced by the colleague."""


def new_one_time_password() -> str:
    return secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)


@dataclass(frozen=True)
class AgentChanges:
    """A partial edit of an agent profile: None leaves a field as it is."""

    service_roles: tuple[ServiceRole, ...] | None = None
    skills: tuple[str, ...] | None = None
    chat_capacity: int | None = None
    hotline_capacity: int | None = None
    auto_suspend_at: int | None = None
    auto_suspend_default: bool = False
    """Set ``auto_suspend_at`` back to the shop's default (NULL)."""
    trainee: bool | None = None


async def _member(session: AsyncSession, actor: CurrentUser, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or user.shop_id != actor.shop_id:
        raise NotFoundError(f"user {user_id}: not found", field="user_id")
    return user


def _guard_owner(actor: CurrentUser, user: User) -> None:
    """Admins and owners run the team, but only an admin changes an admin, and nobody
    locks themselves out by mistake (my own password is changed under my account)."""
    if user.id == actor.id:
        raise ConflictError("you cannot do this to your own login", field="user_id")
    if user.role is UserRole.ADMIN and actor.role is not UserRole.ADMIN:
        raise ForbiddenError("only an admin may change an admin's login")


def check_grantable(actor: CurrentUser, role: UserRole) -> UserRole:
    """Owners add anyone but admins; admins add anyone."""
    if role is UserRole.ADMIN and actor.role is not UserRole.ADMIN:
        raise ForbiddenError("only an admin may make an admin")
    return role


async def create_with_one_time_password(
    sessions: SessionFactory,
    actor: CurrentUser,
    *,
    username: str,
    role: UserRole,
    display_name: str | None,
    agent: AgentSetup | None,
    now: datetime,
) -> tuple[NewMember, str]:
    """A colleague with a one-time password (returned once) they must change at first login."""
    check_grantable(actor, role)
    password = new_one_time_password()
    member = await add_member(
        sessions,
        shop_id=actor.shop_id,
        username=username,
        role=role,
        password=password,
        display_name=display_name,
        agent=agent,
        actor_id=actor.id,
        must_change_password=True,
        now=now,
    )
    return member, password


async def reset_password(
    sessions: SessionFactory, actor: CurrentUser, user_id: int, now: datetime
) -> str:
    """A new one-time password (returned once); the member's sessions end at once."""
    password = new_one_time_password()
    password_hash = await asyncio.to_thread(hash_password, password)
    async with sessions.begin() as session:
        user = await _member(session, actor, user_id)
        _guard_owner(actor, user)
        user.password_hash = password_hash
        user.must_change_password = True
        await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        audit.record(
            session,
            shop_id=user.shop_id,
            actor_id=actor.id,
            action="user.password_reset",
            target_type="user",
            target_id=user.id,
            at=now,
        )
    return password


async def update_member(
    sessions: SessionFactory,
    actor: CurrentUser,
    user_id: int,
    now: datetime,
    *,
    role: UserRole | None = None,
    display_name: str | None = None,
) -> None:
    """Change a member's login role or shown name. Becoming an agent creates the default
    agent profile (offline); leaving the agent role keeps the profile for the record."""
    async with sessions.begin() as session:
        user = await _member(session, actor, user_id)
        changed: dict[str, object] = {}
        if role is not None and role is not user.role:
            _guard_owner(actor, user)
            check_grantable(actor, role)
            changed["role"] = [user.role.value, role.value]
            user.role = role
            if role is UserRole.AGENT and await session.get(AgentProfile, user.id) is None:
                await set_agent_profile(
                    session,
                    user.shop_id,
                    AgentProfileSpec(user_id=user.id, service_roles=DEFAULT_SERVICE_ROLES),
                )
        if display_name is not None:
            shown = display_name.strip()[:MAX_DISPLAY_NAME]
            if not shown:
                raise BadInputError("display_name", "must not be empty")
            if shown != user.display_name:
                changed["display_name"] = [user.display_name, shown]
                user.display_name = shown
        if changed:
            audit.record(
                session,
                shop_id=user.shop_id,
                actor_id=actor.id,
                action="user.updated",
                target_type="user",
                target_id=user.id,
                at=now,
                detail=changed,
            )


async def deactivate(deps: Deps, actor: CurrentUser, user_id: int, now: datetime) -> list[int]:
    """Someone left: their login, web sessions and API tokens stop working at once, and
    their open conversations go back to the queue (keeping their age) for others.

    Returns the ids of the conversations handed back."""
    async with transaction(deps) as (session, outbox):
        user = await _member(session, actor, user_id)
        _guard_owner(actor, user)
        if not user.is_active:
            return []
        user.is_active = False
        await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        # Open websockets are already signed in: every web process closes this user's now.
        outbox.publish(
            BusEvent(ev.USER_SIGNED_OUT, user.shop_id, (ev.to_user(user.id),), {"user_id": user.id})
        )
        await session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        handed_back: list[int] = []
        profile = await session.get(AgentProfile, user.id)
        if profile is not None:
            profile.status = AgentStatus.OFFLINE
            profile.status_changed_at = now
            profile.auto_suspended = False
            await let_go_of_buyers(session, user.shop_id, user.id, now, outbox)
            outbox.publish(
                BusEvent(
                    ev.AGENT_STATUS,
                    user.shop_id,
                    (ev.to_user(user.id), ev.SUPERVISORS),
                    {"agent_id": user.id, "status": AgentStatus.OFFLINE.value},
                )
            )
            open_items = list(
                await session.scalars(
                    select(Conversation)
                    .where(
                        Conversation.shop_id == user.shop_id,
                        Conversation.assigned_agent_id == user.id,
                        Conversation.status == ConversationStatus.ASSIGNED,
                    )
                    .order_by(Conversation.id)
                )
            )
            if open_items:
                ctx = await loaded.load_shop_context(session, user.shop_id)
                for item in open_items:
                    await requeue(
                        session,
                        ctx,
                        item,
                        now,
                        outbox,
                        exclude_agent=user.id,
                        reason="接待人已停用, 回到队列",
                    )
                    handed_back.append(item.id)
        audit.record(
            session,
            shop_id=user.shop_id,
            actor_id=actor.id,
            action="user.deactivated",
            target_type="user",
            target_id=user.id,
            at=now,
            detail={"requeued": handed_back},
        )
    return handed_back


async def reactivate(
    sessions: SessionFactory, actor: CurrentUser, user_id: int, now: datetime
) -> str:
    """Back on the team with a new one-time password (returned once); old tokens stay revoked."""
    password = new_one_time_password()
    password_hash = await asyncio.to_thread(hash_password, password)
    async with sessions.begin() as session:
        user = await _member(session, actor, user_id)
        if user.is_active:
            raise ConflictError(f"user {user.username!r} is already active", field="user_id")
        user.is_active = True
        user.password_hash = password_hash
        user.must_change_password = True
        audit.record(
            session,
            shop_id=user.shop_id,
            actor_id=actor.id,
            action="user.activated",
            target_type="user",
            target_id=user.id,
            at=now,
        )
    return password


async def update_agent(
    deps: Deps, actor: CurrentUser, user_id: int, changes: AgentChanges, now: datetime
) -> None:
    """Edit what an agent can take; more room (roles, capacity) is offered queued work."""
    async with transaction(deps) as (session, outbox):
        user = await _member(session, actor, user_id)
        profile = await session.get(AgentProfile, user.id)
        if profile is None:
            raise ConflictError(f"user {user.username!r} has no agent profile", field="user_id")
        before = _profile_json(profile)
        if changes.service_roles is not None:
            if not changes.service_roles:
                raise BadInputError("service_roles", "name at least one service role")
            profile.service_roles = [role.value for role in changes.service_roles]
        if changes.skills is not None:
            profile.skills = list(changes.skills)
        if changes.chat_capacity is not None:
            profile.chat_capacity = check_capacity(
                changes.chat_capacity, field="chat_capacity", top=MAX_CHAT_CAPACITY
            )
        if changes.hotline_capacity is not None:
            profile.hotline_capacity = check_capacity(
                changes.hotline_capacity, field="hotline_capacity", top=MAX_HOTLINE_CAPACITY
            )
        if changes.auto_suspend_default:
            profile.auto_suspend_at = None
        elif changes.auto_suspend_at is not None:
            profile.auto_suspend_at = check_capacity(
                changes.auto_suspend_at, field="auto_suspend_at", top=MAX_CHAT_CAPACITY
            )
        if changes.trainee is not None:
            profile.trainee = changes.trainee
        after = _profile_json(profile)
        if after == before:
            return
        audit.record(
            session,
            shop_id=user.shop_id,
            actor_id=actor.id,
            action="agent.updated",
            target_type="user",
            target_id=user.id,
            at=now,
            detail={key: [before[key], after[key]] for key in after if before[key] != after[key]},
        )
        if profile.status is not AgentStatus.OFFLINE:
            offer_after_commit(outbox, user.shop_id, user.id)


def _profile_json(profile: AgentProfile) -> dict[str, object]:
    return {
        "service_roles": list(profile.service_roles),
        "skills": list(profile.skills),
        "chat_capacity": profile.chat_capacity,
        "hotline_capacity": profile.hotline_capacity,
        "auto_suspend_at": profile.auto_suspend_at,
        "trainee": profile.trainee,
    }


# -- my account --------------------------------------------------------------------------


async def change_own_password(
    sessions: SessionFactory,
    me: CurrentUser,
    *,
    current: str,
    new: str,
    keep_session_key: str | None,
    now: datetime,
) -> None:
    """Change my password (the one-time one included); my other sessions end."""
    problem = password_problem(new)
    if problem:
        raise BadInputError("new_password", problem)
    if new == current:
        raise BadInputError("new_password", "must differ from the current password")
    async with sessions() as session:
        user = await session.get(User, me.id)
    if user is None or not user.is_active:
        raise NotFoundError("your login no longer exists")
    check = await asyncio.to_thread(check_password, user.password_hash, current)
    if not check.ok:
        raise BadInputError("current_password", "is not your current password")
    new_hash = await asyncio.to_thread(hash_password, new)
    async with sessions.begin() as session:
        user = await session.get(User, me.id)
        assert user is not None
        user.password_hash = new_hash
        user.must_change_password = False
        others = delete(WebSession).where(WebSession.user_id == me.id)
        if keep_session_key:
            others = others.where(WebSession.key_hash != sha256_hex(keep_session_key))
        await session.execute(others)
        audit.record(
            session,
            shop_id=me.shop_id,
            actor_id=me.id,
            action="user.password_changed",
            target_type="user",
            target_id=me.id,
            at=now,
        )


async def sign_out_others(
    sessions: SessionFactory, me: CurrentUser, keep_session_key: str | None, now: datetime
) -> int:
    """End my other web sessions (another browser, a lost laptop); returns how many."""
    statement = delete(WebSession).where(WebSession.user_id == me.id)
    if keep_session_key:
        statement = statement.where(WebSession.key_hash != sha256_hex(keep_session_key))
    async with sessions.begin() as session:
        result = cast(CursorResult[Any], await session.execute(statement))
        audit.record(
            session,
            shop_id=me.shop_id,
            actor_id=me.id,
            action="sessions.signed_out_others",
            target_type="user",
            target_id=me.id,
            at=now,
            detail={"ended": result.rowcount},
        )
    return result.rowcount


MAX_TOKEN_NAME: Final = 100


async def issue_my_token(
    sessions: SessionFactory, me: CurrentUser, name: str, now: datetime
) -> tuple[int, str]:
    """A named API token of mine: (id, the token, shown once; only its hash is stored)."""
    label = name.strip()
    if not label:
        raise BadInputError("name", "is required (what the token is for)")
    if len(label) > MAX_TOKEN_NAME:
        raise BadInputError("name", f"must be at most {MAX_TOKEN_NAME} characters")
    token = new_api_token()
    async with sessions.begin() as session:
        row = ApiToken(
            shop_id=me.shop_id,
            user_id=me.id,
            token_hash=sha256_hex(token),
            name=label,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        audit.record(
            session,
            shop_id=me.shop_id,
            actor_id=me.id,
            action="token.issued",
            target_type="api_token",
            target_id=row.id,
            at=now,
            detail={"name": label},
        )
    return row.id, token


async def revoke_my_token(
    sessions: SessionFactory, me: CurrentUser, token_id: int, now: datetime
) -> None:
    async with sessions.begin() as session:
        row = await session.get(ApiToken, token_id)
        if row is None or row.user_id != me.id:
            raise NotFoundError(f"token {token_id}: not found", field="token_id")
        if row.revoked_at is not None:
            raise ConflictError(f"token {token_id} is already revoked", field="token_id")
        row.revoked_at = now
        audit.record(
            session,
            shop_id=me.shop_id,
            actor_id=me.id,
            action="token.revoked",
            target_type="api_token",
            target_id=row.id,
            at=now,
            detail={"name": row.name},
        )
