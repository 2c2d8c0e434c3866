"""Agent profiles (what an agent can take) and the roster (排班: who holds which role when).

Logins themselves are created by ``csdesk.actions.users``. Writers here take the caller's
``AsyncSession`` and never commit (see ``catalog``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.batch import insert_returning_ids_in_order, insert_rows
from csdesk.clock import require_aware
from csdesk.storage.enums import AgentStatus, ServiceRole
from csdesk.storage.models import AgentProfile, RosterShift, User


@dataclass(frozen=True)
class AgentProfileSpec:
    user_id: int
    service_roles: tuple[ServiceRole, ...]
    skills: tuple[str, ...] = ()
    """Free-form skill keys the router can require, e.g. ``vip``, ``large_appliance``."""
    chat_capacity: int = 5
    """Concurrent chats (旺旺 agents usually take 3-8 at once)."""
    hotline_capacity: int = 1
    status: AgentStatus = AgentStatus.OFFLINE
    status_changed_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.service_roles:
            raise ValueError(f"agent {self.user_id}: holds no service role")
        if len(set(self.service_roles)) != len(self.service_roles):
            raise ValueError(f"agent {self.user_id}: service role listed twice")
        if self.chat_capacity < 0 or self.hotline_capacity < 0:
            raise ValueError(f"agent {self.user_id}: capacities must not be negative")
        if self.status_changed_at is not None:
            require_aware(self.status_changed_at, "status_changed_at")


@dataclass(frozen=True)
class ShiftSpec:
    user_id: int
    service_role: ServiceRole
    starts_at: datetime
    ends_at: datetime
    duty: str | None = None
    """A named duty inside the role, e.g. ``review`` / ``processing`` for refund."""

    def __post_init__(self) -> None:
        if require_aware(self.ends_at, "ends_at") <= require_aware(self.starts_at, "starts_at"):
            raise ValueError(f"shift of user {self.user_id} ends before it starts")


async def _require_shop_users(session: AsyncSession, shop_id: str, user_ids: set[int]) -> None:
    found = set(
        await session.scalars(select(User.id).where(User.shop_id == shop_id, User.id.in_(user_ids)))
    )
    missing = sorted(user_ids - found)
    if missing:
        raise ValueError(f"no users {missing} in shop {shop_id!r}")


async def set_agent_profiles(
    session: AsyncSession, shop_id: str, profiles: Sequence[AgentProfileSpec]
) -> None:
    """Replace the profiles of these users (creating them when missing)."""
    user_ids = {profile.user_id for profile in profiles}
    if len(user_ids) != len(profiles):
        raise ValueError("one profile per user")
    if not profiles:
        return
    await _require_shop_users(session, shop_id, user_ids)
    # Delete-then-insert is the one upsert that reads the same on SQLite and PostgreSQL.
    await session.execute(
        delete(AgentProfile).where(
            AgentProfile.shop_id == shop_id, AgentProfile.user_id.in_(user_ids)
        )
    )
    await insert_rows(
        session,
        AgentProfile,
        [
            {
                "user_id": profile.user_id,
                "shop_id": shop_id,
                "service_roles": [role.value for role in profile.service_roles],
                "skills": list(profile.skills),
                "chat_capacity": profile.chat_capacity,
                "hotline_capacity": profile.hotline_capacity,
                "status": profile.status,
                "status_changed_at": profile.status_changed_at,
            }
            for profile in profiles
        ],
    )


async def set_agent_profile(session: AsyncSession, shop_id: str, profile: AgentProfileSpec) -> None:
    """Replace (or create) one agent's profile."""
    await set_agent_profiles(session, shop_id, [profile])


async def set_roster(
    session: AsyncSession,
    shop_id: str,
    shifts: Sequence[ShiftSpec],
    *,
    window_start: datetime,
    window_end: datetime,
) -> list[int]:
    """Make ``shifts`` the roster of ``[window_start, window_end)``; returns the new shift ids.

    Shifts already starting inside the window are removed first, so publishing a corrected
    week replaces the old plan instead of doubling it. Every given shift must start inside
    the window.
    """
    start = require_aware(window_start, "window_start")
    end = require_aware(window_end, "window_end")
    if end <= start:
        raise ValueError("roster window ends before it starts")
    for shift in shifts:
        if not start <= shift.starts_at < end:
            raise ValueError(f"shift of user {shift.user_id} starts outside the roster window")
    if shifts:
        await _require_shop_users(session, shop_id, {shift.user_id for shift in shifts})
    await session.execute(
        delete(RosterShift).where(
            RosterShift.shop_id == shop_id,
            RosterShift.starts_at >= start,
            RosterShift.starts_at < end,
        )
    )
    rows = [
        {
            "shop_id": shop_id,
            "user_id": shift.user_id,
            "service_role": shift.service_role.value,
            "starts_at": shift.starts_at,
            "ends_at": shift.ends_at,
            "duty": shift.duty,
        }
        for shift in shifts
    ]
    return await insert_returning_ids_in_order(session, RosterShift, RosterShift.id, rows)
