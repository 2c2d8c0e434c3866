"""Teams (班组) and their supervisors: owners and admins create, rename and delete teams and
set who is in each (``lead`` marks a team's supervisors, who must log in as supervisor,
owner or admin). Every change is audited (``team.*``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.auth.access import SUPERVISOR_AND_UP, require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, ConflictError, NotFoundError
from csdesk.storage.console_models import Team, TeamMember
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import User

TEAM_ADMIN: Final = "team.admin"
MAX_TEAM_NAME: Final = 64
MAX_MEMBERS: Final = 200


@dataclass(frozen=True)
class Membership:
    user_id: int
    lead: bool = False


def check_name(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise BadInputError("name", "is required (必填)")
    if len(name) > MAX_TEAM_NAME:
        raise BadInputError("name", f"must be at most {MAX_TEAM_NAME} characters")
    return name


async def create_team(
    sessions: SessionFactory, actor: CurrentUser, name: str, now: datetime
) -> int:
    require(actor, TEAM_ADMIN)
    name = check_name(name)
    try:
        async with sessions.begin() as session:
            team = Team(shop_id=actor.shop_id, name=name, created_at=now)
            session.add(team)
            await session.flush()
            audit.record(
                session,
                shop_id=actor.shop_id,
                actor_id=actor.id,
                action="team.created",
                target_type="team",
                target_id=team.id,
                at=now,
                detail={"name": name},
            )
            return team.id
    except IntegrityError:
        raise ConflictError(f"team {name!r} already exists", field="name") from None


async def _team(session: AsyncSession, actor: CurrentUser, team_id: int) -> Team:
    team = await session.get(Team, team_id)
    if team is None or team.shop_id != actor.shop_id:
        raise NotFoundError(f"team {team_id}: not found", field="team_id")
    return team


async def rename_team(
    sessions: SessionFactory, actor: CurrentUser, team_id: int, name: str, now: datetime
) -> None:
    require(actor, TEAM_ADMIN)
    name = check_name(name)
    try:
        async with sessions.begin() as session:
            team = await _team(session, actor, team_id)
            old, team.name = team.name, name
            await session.flush()
            audit.record(
                session,
                shop_id=actor.shop_id,
                actor_id=actor.id,
                action="team.renamed",
                target_type="team",
                target_id=team.id,
                at=now,
                detail={"name": [old, name]},
            )
    except IntegrityError:
        raise ConflictError(f"team {name!r} already exists", field="name") from None


async def delete_team(
    sessions: SessionFactory, actor: CurrentUser, team_id: int, now: datetime
) -> None:
    require(actor, TEAM_ADMIN)
    async with sessions.begin() as session:
        team = await _team(session, actor, team_id)
        await session.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="team.deleted",
            target_type="team",
            target_id=team.id,
            at=now,
            detail={"name": team.name},
        )
        await session.delete(team)


async def set_members(
    sessions: SessionFactory,
    actor: CurrentUser,
    team_id: int,
    members: Sequence[Membership],
    now: datetime,
) -> None:
    """Replace who is in the team; a lead (主管) must log in as supervisor, owner or admin."""
    require(actor, TEAM_ADMIN)
    if len(members) > MAX_MEMBERS:
        raise BadInputError("members", f"at most {MAX_MEMBERS}")
    wanted = {m.user_id: m.lead for m in members}
    async with sessions.begin() as session:
        team = await _team(session, actor, team_id)
        users = {
            u.id: u
            for u in await session.scalars(
                select(User).where(User.id.in_(list(wanted)), User.shop_id == actor.shop_id)
            )
        }
        for user_id, lead in wanted.items():
            user = users.get(user_id)
            if user is None:
                raise BadInputError("members", f"user {user_id} is not of this shop")
            if lead and user.role not in SUPERVISOR_AND_UP:
                raise BadInputError(
                    "members",
                    f"{user.display_name} cannot lead a team: only supervisors, owners and "
                    "admins do",
                )
        await session.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
        for user_id, lead in wanted.items():
            session.add(
                TeamMember(team_id=team.id, user_id=user_id, shop_id=actor.shop_id, lead=lead)
            )
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="team.members_set",
            target_type="team",
            target_id=team.id,
            at=now,
            detail={
                "members": sorted(wanted),
                "leads": sorted(uid for uid, lead in wanted.items() if lead),
            },
        )


__all__ = ["Membership", "create_team", "delete_team", "rename_team", "set_members"]
