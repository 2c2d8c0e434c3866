"""Promotion mode as read (大促模式): the profile live now and until when, the shop's
profiles with what each changes, and the schedule (upcoming, live, past). Scheduling and
switching are ``actions.promotions``; the rules are ``roles.promotion``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.roles import promotion as rules
from csdesk.roles.config import PromotionProfile, RoutingConfig
from csdesk.routing import facts as loaded
from csdesk.storage.alert_models import PromotionSchedule
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import User

READ_ACCESS: Final = "promotions.read"
HISTORY_LIMIT: Final = 50


def profile_json(name: str, profile: PromotionProfile) -> dict[str, Any]:
    """What a profile changes, for the dashboard and the promotions page."""
    quiet = None
    if profile.chase_quiet_start is not None and profile.chase_quiet_end is not None:
        quiet = [str(profile.chase_quiet_start), str(profile.chase_quiet_end)]
    return {
        "name": name,
        "label": profile.label or name,
        "role_points": {role.value: p for role, p in profile.role_points.items()},
        "chat_capacity_extra": profile.chat_capacity_extra,
        "first_response_s": {role.value: s for role, s in profile.first_response_s.items()},
        "refund_reviewers_process": profile.refund_reviewers_process,
        "howto_to_everyone": profile.howto_to_everyone,
        "chase_quiet_hours": quiet,
    }


@dataclass(frozen=True, slots=True)
class Promotion:
    """The live profile (``Shop.config["promotion"]``), what it changes, and the schedule
    entry that switched it on, if one did (then ``until`` is when it switches off)."""

    name: str
    profile: PromotionProfile | None
    since: datetime | None
    until: datetime | None
    schedule_id: int | None

    def to_json(self) -> dict[str, Any]:
        changes = profile_json(self.name, self.profile or PromotionProfile())
        return {
            **changes,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "schedule_id": self.schedule_id,
        }


async def live_promotion(session: AsyncSession, ctx: loaded.ShopContext) -> Promotion | None:
    """The promotion live in ``ctx`` with its schedule entry (the live one for that
    profile); None when none is live."""
    if ctx.promotion is None:
        return None
    entry = await session.scalar(
        select(PromotionSchedule)
        .where(
            PromotionSchedule.shop_id == ctx.shop_id,
            PromotionSchedule.status == rules.ScheduleStatus.LIVE.value,
            PromotionSchedule.profile == ctx.promotion,
        )
        .order_by(PromotionSchedule.starts_at.desc())
        .limit(1)
    )
    return Promotion(
        name=ctx.promotion,
        profile=ctx.profile,
        since=entry.switched_on_at if entry else None,
        until=entry.ends_at if entry else None,
        schedule_id=entry.id if entry else None,
    )


async def schedule_entries(
    session: AsyncSession, shop_id: str, *, open_only: bool = False
) -> list[PromotionSchedule]:
    query = select(PromotionSchedule).where(PromotionSchedule.shop_id == shop_id)
    if open_only:
        query = query.where(PromotionSchedule.status.in_([s.value for s in rules.OPEN_STATUSES]))
    return list(await session.scalars(query.order_by(PromotionSchedule.starts_at.desc())))


def as_entries(rows: Sequence[PromotionSchedule]) -> list[rules.ScheduleEntry]:
    return [
        rules.ScheduleEntry(r.id, r.profile, r.starts_at, r.ends_at, rules.ScheduleStatus(r.status))
        for r in rows
    ]


def schedule_json(
    row: PromotionSchedule, routing: RoutingConfig, names: dict[int, str]
) -> dict[str, Any]:
    tz = routing.tz
    return {
        "id": row.id,
        "profile": row.profile,
        "label": rules.label_of(routing, row.profile),
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "starts_local": row.starts_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        "ends_local": row.ends_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        "status": row.status,
        "note": row.note,
        "created_by": names.get(row.created_by) if row.created_by else None,
        "created_at": row.created_at.isoformat(),
        "switched_on_at": row.switched_on_at.isoformat() if row.switched_on_at else None,
        "switched_off_at": row.switched_off_at.isoformat() if row.switched_off_at else None,
    }


async def promotions_view(
    sessions: SessionFactory, actor: CurrentUser, now: datetime
) -> dict[str, Any]:
    """``GET /api/v1/promotions``: the live promotion, the profiles, the schedule."""
    require(actor, READ_ACCESS)
    async with sessions() as session:
        ctx = await loaded.load_shop_context(session, actor.shop_id)
        live = await live_promotion(session, ctx)
        rows = (await schedule_entries(session, actor.shop_id))[:HISTORY_LIMIT]
        user_ids = sorted({r.created_by for r in rows if r.created_by is not None})
        names: dict[int, str] = {}
        if user_ids:
            for user_id, name in await session.execute(
                select(User.id, User.display_name).where(User.id.in_(user_ids))
            ):
                names[user_id] = name
    routing = ctx.routing
    return {
        "server_now": now.isoformat(),
        "timezone": routing.timezone,
        "live": live.to_json() if live else None,
        "profiles": [
            profile_json(name, profile)
            for name, profile in sorted(routing.scoring.promotions.items())
        ],
        "schedules": [schedule_json(r, routing, names) for r in rows],
    }


__all__ = [
    "HISTORY_LIMIT",
    "READ_ACCESS",
    "Promotion",
    "as_entries",
    "live_promotion",
    "profile_json",
    "promotions_view",
    "schedule_entries",
    "schedule_json",
]
