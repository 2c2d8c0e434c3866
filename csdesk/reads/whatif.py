"""What-if (模拟推演) as read: the facts a shop's own scenario is built from (its roster,
last week's arrivals per stream and local hour, handle times measured from closed items,
its routing rules), and the runs asked for with their state, progress and result.

The scenario itself is built by the pure ``csdesk.simulation.whatif.build``; runs are
written by ``csdesk.actions.whatif``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import NotFoundError
from csdesk.roles.config import RoutingConfig
from csdesk.routing.assignment import AssignmentConfig
from csdesk.routing.facts import load_shop_context
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import AgentProfile, Conversation, Order, Refund, RosterShift, User
from csdesk.storage.sql import seconds_between, utc_minute
from csdesk.storage.whatif_models import WhatIfRun

READ_ACCESS: Final = "whatif.read"
RUN_ACCESS: Final = "whatif.run"
HISTORY_DAYS: Final = 7
LIST_LIMIT: Final = 50
HANDLED_KINDS: Final = (
    "chat",
    "call",
    "callback",
    "proactive_call",
    "phone_chase",
    "payment_chase",
    "order_check",
    "refund_review",
)
"""Item kinds whose handle time the simulator draws (its ``Scenario.handle`` keys)."""


@dataclass(frozen=True)
class AgentFact:
    roles: frozenset[str]
    """Service role keys the agent holds."""
    on_shift: bool
    """A roster shift covers now, or the agent is signed in (online or busy)."""
    chat_capacity: int


@dataclass(frozen=True)
class HandleFact:
    mean_s: float
    samples: int


@dataclass(frozen=True)
class ShopFacts:
    """Everything ``simulation.whatif.build`` needs, read at ``now``."""

    shop_id: str
    now: datetime
    timezone: str
    agents: tuple[AgentFact, ...]
    arrivals: Mapping[str, tuple[int, ...]]
    """Stream name (``chat:<intent>``, ``call``, ``order``, ``refund``) → 24 counts, one per
    local hour of day, summed over the last ``days`` days."""
    days: int
    handle: Mapping[str, HandleFact]
    """Item kind → mean seconds from assignment to close, over items closed in the window."""
    routing: RoutingConfig
    assignment: AssignmentConfig
    promotion: str | None


async def _minute_counts(session: AsyncSession, column: Any, *where: Any) -> list[tuple[str, int]]:
    minute = utc_minute(column)
    rows = await session.execute(select(minute, func.count()).where(*where).group_by(minute))
    return [(str(m), int(n)) for m, n in rows.all()]


def _by_local_hour(counts: list[tuple[str, int]], zone: ZoneInfo) -> list[int]:
    hours = [0] * 24
    for minute, n in counts:
        at = datetime.strptime(minute, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        hours[at.astimezone(zone).hour] += n
    return hours


async def shop_facts(
    sessions: SessionFactory, shop_id: str, now: datetime, days: int = HISTORY_DAYS
) -> ShopFacts:
    """The shop as it stands at ``now`` and its last ``days`` days. Arrivals are counted
    per UTC minute in the database (at most 1,440 rows a day per stream, whatever the
    traffic) and folded into local hours here."""
    since = now - timedelta(days=days)
    async with sessions() as session:
        ctx = await load_shop_context(session, shop_id)
        zone = ctx.routing.tz
        on_roster = set(
            await session.scalars(
                select(RosterShift.user_id).where(
                    RosterShift.shop_id == shop_id,
                    RosterShift.starts_at <= now,
                    RosterShift.ends_at > now,
                )
            )
        )
        agents = [
            AgentFact(
                roles=frozenset(str(r) for r in profile.service_roles),
                on_shift=user_id in on_roster or profile.status.value in ("online", "busy"),
                chat_capacity=profile.chat_capacity,
            )
            for user_id, profile in (
                await session.execute(
                    select(AgentProfile.user_id, AgentProfile)
                    .join(User, User.id == AgentProfile.user_id)
                    .where(
                        AgentProfile.shop_id == shop_id,
                        User.is_active.is_(True),
                    )
                    .order_by(AgentProfile.user_id)
                )
            ).all()
        ]
        arrivals: dict[str, tuple[int, ...]] = {}
        chat_window = (
            Conversation.shop_id == shop_id,
            Conversation.opened_at >= since,
            Conversation.opened_at < now,
        )
        intents = await session.execute(
            select(Conversation.intent)
            .where(*chat_window, Conversation.kind == "chat")
            .group_by(Conversation.intent)
        )
        for (intent,) in intents.all():
            condition = (
                Conversation.intent.is_(None) if intent is None else Conversation.intent == intent
            )
            counts = await _minute_counts(
                session,
                Conversation.opened_at,
                *chat_window,
                Conversation.kind == "chat",
                condition,
            )
            name = f"chat:{intent or 'other'}"
            merged = _by_local_hour(counts, zone)
            if name in arrivals:
                merged = [a + b for a, b in zip(arrivals[name], merged, strict=True)]
            arrivals[name] = tuple(merged)
        sources: list[tuple[str, Any, tuple[Any, ...]]] = [
            ("call", Conversation.opened_at, (*chat_window, Conversation.kind == "call")),
            (
                "order",
                Order.created_at,
                (Order.shop_id == shop_id, Order.created_at >= since, Order.created_at < now),
            ),
            (
                "refund",
                Refund.requested_at,
                (
                    Refund.shop_id == shop_id,
                    Refund.requested_at >= since,
                    Refund.requested_at < now,
                ),
            ),
        ]
        for name, column, where in sources:
            arrivals[name] = tuple(
                _by_local_hour(await _minute_counts(session, column, *where), zone)
            )
        held = seconds_between(Conversation.closed_at, Conversation.assigned_at)
        handle_rows = await session.execute(
            select(Conversation.kind, func.avg(held), func.count())
            .where(
                Conversation.shop_id == shop_id,
                Conversation.closed_at >= since,
                Conversation.closed_at < now,
                Conversation.assigned_at.is_not(None),
                Conversation.kind.in_(HANDLED_KINDS),
            )
            .group_by(Conversation.kind)
        )
        handle = {
            str(kind): HandleFact(float(mean), int(n))
            for kind, mean, n in handle_rows.all()
            if mean is not None
        }
    return ShopFacts(
        shop_id=shop_id,
        now=now,
        timezone=ctx.routing.timezone,
        agents=tuple(agents),
        arrivals={k: v for k, v in arrivals.items() if any(v)},
        days=days,
        handle=handle,
        routing=ctx.routing,
        assignment=ctx.assignment,
        promotion=ctx.promotion,
    )


def run_json(row: WhatIfRun, requested_by: str | None, *, with_result: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": row.id,
        "status": row.status,
        "progress": row.progress,
        "parameters": row.parameters,
        "requested_by": requested_by,
        "requested_at": row.requested_at.isoformat(),
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "error": row.error,
    }
    if with_result:
        data["result"] = row.result
    return data


STRANDED_AFTER: Final = timedelta(minutes=2)
"""A run still queued this long after it was asked for lost its job (an embedded process
restarted between the request and the job)."""
STALE_AFTER: Final = timedelta(minutes=10)
"""A run still running this long after it started lost its process (a run is bounded to
well under a minute)."""


async def stranded_runs(sessions: SessionFactory, now: datetime) -> list[int]:
    """Runs of every shop whose job was lost: queued too long, or running too long."""
    async with sessions() as session:
        rows = await session.scalars(
            select(WhatIfRun.id)
            .where(
                ((WhatIfRun.status == "queued") & (WhatIfRun.requested_at < now - STRANDED_AFTER))
                | ((WhatIfRun.status == "running") & (WhatIfRun.started_at < now - STALE_AFTER))
            )
            .order_by(WhatIfRun.id)
            .limit(100)
        )
        return list(rows)


async def list_runs(
    sessions: SessionFactory, actor: CurrentUser, limit: int = LIST_LIMIT
) -> dict[str, Any]:
    """The shop's runs, newest first, without their results (the list polls this)."""
    require(actor, READ_ACCESS)
    async with sessions() as session:
        rows = await session.execute(
            select(WhatIfRun, User.display_name)
            .outerjoin(User, User.id == WhatIfRun.requested_by)
            .where(WhatIfRun.shop_id == actor.shop_id)
            .order_by(WhatIfRun.requested_at.desc(), WhatIfRun.id.desc())
            .limit(limit)
        )
        return {"runs": [run_json(row, name, with_result=False) for row, name in rows.all()]}


async def page_view(sessions: SessionFactory, actor: CurrentUser) -> dict[str, Any]:
    """The page's boot data: the runs, the shop's promotion profiles, its time zone."""
    require(actor, READ_ACCESS)
    async with sessions() as session:
        ctx = await load_shop_context(session, actor.shop_id)
    listed = await list_runs(sessions, actor)
    return {
        **listed,
        "timezone": ctx.routing.timezone,
        "promotion": ctx.promotion,
        "profiles": [
            {"name": name, "label": profile.label or name}
            for name, profile in sorted(ctx.routing.scoring.promotions.items())
        ],
    }


async def get_run(sessions: SessionFactory, actor: CurrentUser, run_id: int) -> dict[str, Any]:
    """One run with its result; another shop's run is not found."""
    require(actor, READ_ACCESS)
    async with sessions() as session:
        found = (
            await session.execute(
                select(WhatIfRun, User.display_name)
                .outerjoin(User, User.id == WhatIfRun.requested_by)
                .where(WhatIfRun.id == run_id, WhatIfRun.shop_id == actor.shop_id)
            )
        ).first()
    if found is None:
        raise NotFoundError(f"no what-if run {run_id}")
    return run_json(found[0], found[1], with_result=True)


__all__ = [
    "READ_ACCESS",
    "RUN_ACCESS",
    "AgentFact",
    "HandleFact",
    "ShopFacts",
    "get_run",
    "list_runs",
    "page_view",
    "shop_facts",
    "stranded_runs",
]
