"""The roster as read (排班): the week's shifts, the roles and duties on shift now, and the
shop's agents for the roster editor's pickers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import only_own, require
from csdesk.auth.current import CurrentUser
from csdesk.clock import day_window
from csdesk.routing import facts as loaded
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole
from csdesk.storage.models import AgentProfile, RosterShift, User

READ_ACCESS: Final = "roster.read"


async def routing_zone(sessions: SessionFactory, shop_id: str) -> ZoneInfo:
    """The zone of the shop's routing rules: the roster's days are shop days in it."""
    async with sessions() as session:
        ctx = await loaded.load_shop_context(session, shop_id)
    return ctx.routing.tz


async def roster_roles(
    session: AsyncSession, shop_id: str, user_id: int, now: datetime
) -> list[ServiceRole]:
    """Service roles of the roster shifts covering ``now`` for this agent, in role order."""
    rows = await session.scalars(
        select(RosterShift.service_role).where(
            RosterShift.shop_id == shop_id,
            RosterShift.user_id == user_id,
            RosterShift.starts_at <= now,
            RosterShift.ends_at > now,
        )
    )
    held = set(rows)
    return [role for role in ServiceRole if role.value in held]


async def on_shift_duties(
    session: AsyncSession, shop_id: str, now: datetime, user_ids: Sequence[int] | None = None
) -> dict[int, dict[str, list[str]]]:
    """Per agent, the duties of the roster shifts covering ``now``, by role."""
    query = select(RosterShift).where(
        RosterShift.shop_id == shop_id, RosterShift.starts_at <= now, RosterShift.ends_at > now
    )
    if user_ids is not None:
        query = query.where(RosterShift.user_id.in_(list(user_ids)))
    duties: dict[int, dict[str, list[str]]] = {}
    for shift in await session.scalars(query.order_by(RosterShift.id)):
        if shift.duty:
            held = duties.setdefault(shift.user_id, {}).setdefault(shift.service_role, [])
            if shift.duty not in held:
                held.append(shift.duty)
    return duties


def shift_json(shift: RosterShift, user: User | None, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": shift.id,
        "user_id": shift.user_id,
        "username": user.username if user else None,
        "display_name": user.display_name if user else None,
        "service_role": shift.service_role,
        "duty": shift.duty,
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
        "local_start": shift.starts_at.astimezone(tz).strftime("%H:%M"),
        "local_end": shift.ends_at.astimezone(tz).strftime("%H:%M"),
    }


async def roster_week(
    sessions: SessionFactory, actor: CurrentUser, week_of: date
) -> dict[str, Any]:
    """The shifts starting in the shop-local week (Monday to Sunday) holding ``week_of``;
    agents see their own shifts only."""
    require(actor, READ_ACCESS)
    monday = week_of - timedelta(days=week_of.weekday())
    async with sessions() as session:
        ctx = await loaded.load_shop_context(session, actor.shop_id)
        tz = ctx.routing.tz
        start, _ = day_window(monday, tz)
        _, end = day_window(monday + timedelta(days=6), tz)
        query = select(RosterShift).where(
            RosterShift.shop_id == actor.shop_id,
            RosterShift.starts_at >= start,
            RosterShift.starts_at < end,
        )
        if only_own(actor, READ_ACCESS):
            query = query.where(RosterShift.user_id == actor.id)
        shifts = list(await session.scalars(query.order_by(RosterShift.starts_at, RosterShift.id)))
        users = {
            u.id: u
            for u in await session.scalars(
                select(User).where(User.id.in_({s.user_id for s in shifts}))
            )
        }
    days: dict[date, list[dict[str, Any]]] = {monday + timedelta(days=n): [] for n in range(7)}
    for shift in shifts:
        days[shift.starts_at.astimezone(tz).date()].append(
            shift_json(shift, users.get(shift.user_id), tz)
        )
    return {
        "week_start": monday.isoformat(),
        "timezone": tz.key,
        "days": [{"day": day.isoformat(), "shifts": rows} for day, rows in days.items()],
    }


async def shop_agents(sessions: SessionFactory, shop_id: str) -> list[dict[str, Any]]:
    """The shop's agents for the roster's pickers (the roster names only these)."""
    async with sessions() as session:
        rows = await session.execute(
            select(AgentProfile, User)
            .join(User, User.id == AgentProfile.user_id)
            .where(AgentProfile.shop_id == shop_id)
            .order_by(User.display_name, User.id)
        )
        return [
            {
                "id": user.id,
                "username": user.username,
                "display_name": user.display_name,
                "service_roles": list(profile.service_roles),
                "status": profile.status.value,
            }
            for profile, user in rows.all()
        ]


__all__ = [
    "READ_ACCESS",
    "on_shift_duties",
    "roster_roles",
    "roster_week",
    "routing_zone",
    "shift_json",
    "shop_agents",
]
