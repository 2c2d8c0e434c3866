"""Team administration: adding a colleague (with the agent profile an agent needs to
receive work), in one transaction with its audit row.

``csdesk user add`` and the admin console call the same action, so a login made either
way is seated the same: an ``agent`` gets an agent profile at once (contract: service
roles default ``presales``, chat capacity 5).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from csdesk.actions.agents import AgentProfileSpec, set_agent_profile
from csdesk.actions.users import (
    MAX_DISPLAY_NAME,
    normalize_username,
    username_problem,
)
from csdesk.auth import audit
from csdesk.auth.passwords import hash_password, password_problem
from csdesk.clock import require_aware, utcnow
from csdesk.errors import BadInputError, ConflictError, NotFoundError
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.storage.models import Shop, User

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
