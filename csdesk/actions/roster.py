"""The roster editor (排班): one shop-local day's shifts replaced at once, audited, with a
warning where refund review is uncovered ("a reviewer must be on every shift").

The shifts arrive as JSON; parsing them is pure (``parse_day_shifts``: every problem names
its field, ``shifts[2].ends_at``) and checked against the shop's agents in the action.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select

from csdesk.actions import audit
from csdesk.actions.agents import ShiftSpec, set_roster
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.work_items import InputError
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.clock import day_window
from csdesk.roles import ROLES
from csdesk.routing import facts as loaded
from csdesk.storage.enums import ServiceRole
from csdesk.storage.models import AgentProfile

ROSTER_EDIT: Final = "roster.edit"
MAX_SHIFT: Final = timedelta(hours=24)
DESIGNATED_CHASER: Final = "designated_chaser"
"""排班: 每天指定一人做订单催付 (the seed roster's duty of the day's one chaser)."""
DUTIES: Final[Mapping[ServiceRole, frozenset[str]]] = {
    **{key: frozenset(spec.duties) for key, spec in ROLES.items()},
    ServiceRole.PAYMENT_CHASING: frozenset({DESIGNATED_CHASER}),
}
"""Named duties each role's shifts may carry (refund: review / processing)."""


# -- parsing (pure) -------------------------------------------------------------------------


def parse_duty(role: ServiceRole, raw: object, field: str) -> str | None:
    if raw is None or raw == "":
        return None
    allowed = DUTIES.get(role, frozenset())
    if not isinstance(raw, str) or raw not in allowed:
        choices = ", ".join(sorted(allowed)) or "none"
        raise InputError(field, f"{role.value} duties: {choices}")
    return raw


def _when(raw: object, field: str) -> datetime:
    if not isinstance(raw, str):
        raise InputError(field, "must be an ISO 8601 date-time with a timezone")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(field, "must be an ISO 8601 date-time with a timezone") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(field, "must include a timezone (e.g. +08:00)")
    return value.astimezone(UTC)


def parse_day_shifts(raw: object, day: date, tz: ZoneInfo) -> list[ShiftSpec]:
    """The shifts of one shop-local day from JSON; every problem names its field
    (``shifts[2].ends_at``). Pure: users are checked against the shop afterwards."""
    if not isinstance(raw, list):
        raise InputError("shifts", "must be a list")
    start, end = day_window(day, tz)
    specs: list[ShiftSpec] = []
    for n, item in enumerate(raw):
        at = f"shifts[{n}]"
        if not isinstance(item, dict):
            raise InputError(at, "must be an object")
        user_id = item.get("user_id")
        if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
            raise InputError(f"{at}.user_id", "must be a user id")
        try:
            role = ServiceRole(str(item.get("service_role")))
        except ValueError:
            choices = ", ".join(r.value for r in ServiceRole)
            raise InputError(f"{at}.service_role", f"must be one of {choices}") from None
        starts_at = _when(item.get("starts_at"), f"{at}.starts_at")
        ends_at = _when(item.get("ends_at"), f"{at}.ends_at")
        if not start <= starts_at < end:
            raise InputError(f"{at}.starts_at", f"must fall on {day.isoformat()} (shop time)")
        if ends_at <= starts_at:
            raise InputError(f"{at}.ends_at", "must be after starts_at")
        if ends_at - starts_at > MAX_SHIFT:
            raise InputError(f"{at}.ends_at", "a shift lasts at most 24 hours")
        duty = parse_duty(role, item.get("duty"), f"{at}.duty")
        for m, other in enumerate(specs):
            if (
                other.user_id == user_id
                and other.service_role is role
                and other.duty == duty
                and starts_at < other.ends_at
                and other.starts_at < ends_at
            ):
                raise InputError(f"{at}.starts_at", f"overlaps shifts[{m}] (same user, role, duty)")
        specs.append(ShiftSpec(user_id, role, starts_at, ends_at, duty))
    return specs


def coverage_warnings(specs: Sequence[ShiftSpec], day: date, tz: ZoneInfo) -> list[str]:
    """Where the day has no refund reviewer: "a reviewer must be on every shift" (also at
    23:00 when finance is gone). A warning, not an error: the supervisor may know better."""
    start, end = day_window(day, tz)
    covering = sorted(
        (max(s.starts_at, start), min(s.ends_at, end))
        for s in specs
        if s.service_role is ServiceRole.REFUND and s.duty in (None, "review")
    )
    gaps: list[tuple[datetime, datetime]] = []
    cursor = start
    for begin, finish in covering:
        if begin > cursor:
            gaps.append((cursor, begin))
        cursor = max(cursor, finish)
    if cursor < end:
        gaps.append((cursor, end))
    return [
        f"refund review uncovered {a.astimezone(tz):%H:%M}-"
        f"{'24:00' if b == end else format(b.astimezone(tz), '%H:%M')} (shop time)"
        for a, b in gaps
    ]


# -- the action -----------------------------------------------------------------------------


async def replace_day(
    deps: Deps, actor: CurrentUser, day: date, raw_shifts: object, now: datetime
) -> dict[str, Any]:
    """Make ``raw_shifts`` the shifts starting on ``day`` (shop time); the ones there
    before are removed (a night shift from the day before stays)."""
    require(actor, ROSTER_EDIT)
    async with transaction(deps) as (session, outbox):
        ctx = await loaded.load_shop_context(session, actor.shop_id)
        tz = ctx.routing.tz
        specs = parse_day_shifts(raw_shifts, day, tz)
        agents = set(
            await session.scalars(
                select(AgentProfile.user_id).where(
                    AgentProfile.shop_id == actor.shop_id,
                    AgentProfile.user_id.in_({s.user_id for s in specs}),
                )
            )
        )
        for n, spec in enumerate(specs):
            if spec.user_id not in agents:
                raise InputError(
                    f"shifts[{n}].user_id", f"user {spec.user_id} is not an agent of this shop"
                )
        start, end = day_window(day, tz)
        ids = await set_roster(session, actor.shop_id, specs, window_start=start, window_end=end)
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="roster.replace_day",
            target_type="roster",
            target_id=day.isoformat(),
            at=now,
            detail={"shifts": len(ids), "user_ids": sorted(agents)},
        )
        outbox.publish(
            BusEvent(
                ev.ROSTER_CHANGED,
                actor.shop_id,
                (*(ev.to_user(u) for u in sorted(agents)), ev.SUPERVISORS),
                {"day": day.isoformat(), "shift_ids": ids},
            )
        )
    return {
        "day": day.isoformat(),
        "shift_ids": ids,
        "warnings": coverage_warnings(specs, day, tz),
    }


__all__ = [
    "DESIGNATED_CHASER",
    "DUTIES",
    "MAX_SHIFT",
    "ROSTER_EDIT",
    "coverage_warnings",
    "day_window",
    "parse_day_shifts",
    "parse_duty",
    "replace_day",
]
