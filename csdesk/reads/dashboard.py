"""The owner dashboard (老板看板): what a shop owner asks on a promotion night, for one shop
at ``now`` — how much money waits in refunds and how much of it the platform will
auto-approve soon if nobody acts, which queue is drowning and how many people each role
needs, whether payment chasing pays off, and which promotion profile is live.

The numbers and where they come from:

* **Refunds.** ``pending``: refund requests not yet decided (status ``requested``), with
  their amount. ``due_within_hour`` / ``due_within_4h``: the pending ones whose platform
  deadline (``Refund.deadline_at``, when the platform auto-approves, see
  ``roles.refund.refund_deadline``) falls in ``[now, now + 1 h)`` / ``[now, now + 4 h)``;
  ``overdue``: pending past their deadline (the platform has approved them already).
  ``decided_today``: refunds the desk approved or rejected since the shop's midnight (the
  refund review items closed with a decision), with their amount.
* **Roles.** ``queued`` and ``oldest_wait_s`` are the queue's (``reads.queues``).
  ``agents_on_shift``: agents online or suspended (挂起, still working their chats) who hold
  the role. ``agents_needed``: Erlang C (``staffing.erlang.agents_needed``), the fewest agents
  answering ``service_level_target`` of contacts within the role's first-response SLA, fed
  with ``arrivals_60m`` (items of the role opened in the last 60 minutes that became work:
  queued, with an agent, or once taken — not a task still waiting for its time, nor one
  that closed before anyone took it, such as a chase whose order got paid) and ``aht_s``,
  the mean of ``closed_at - assigned_at`` over the role's items closed in the last 24 h
  (``aht_samples`` of them; with none, ``DEFAULT_AHT_S``; at least ``MIN_AHT_S`` for
  Erlang C). No arrivals: nobody needed.
* **Chasing** (催付), the chases opened since the shop's midnight: ``chased`` those that
  reached a chaser (assigned, or attempted), ``paid_after_chase`` those whose order was
  paid after (the chase closed with the amount credited, ``Conversation.recovered_fen``),
  ``recovered_amount`` the sum of those amounts.
* **Satisfaction and complaints** since the shop's midnight, and over the last 7 days
  (``last_7_days``: ``now`` minus 7 × 24 h): ``reads.ratings`` (how they are counted is
  said there).

Amounts are yuan with two decimals. ``since`` is the shop's midnight in its routing zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.reads.queues import queue_depths
from csdesk.reads.ratings import ServiceKpis, service_kpis
from csdesk.roles.config import RoutingConfig
from csdesk.routing import facts as loaded
from csdesk.staffing.erlang import agents_needed
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import (
    AgentStatus,
    ConversationStatus,
    RefundKind,
    RefundStatus,
    ServiceRole,
)
from csdesk.storage.kinds import CHASE_KINDS
from csdesk.storage.models import AgentProfile, Conversation, Refund

READ_ACCESS: Final = "dashboard.read"
ARRIVALS_WINDOW: Final = timedelta(minutes=60)
AHT_WINDOW: Final = timedelta(hours=24)
DEFAULT_AHT_S: Final = 300.0
"""Handle time assumed for a role that closed nothing in the last 24 h (a new shop)."""
DEFAULT_SERVICE_LEVEL: Final = 0.8
"""The shop's target: this share of contacts answered within the role's SLA."""
ON_SHIFT: Final = (AgentStatus.ONLINE, AgentStatus.BUSY)
WAITING_OR_HELD: Final = (ConversationStatus.QUEUED, ConversationStatus.ASSIGNED)
SERVICE_WINDOW: Final = timedelta(days=7)
"""The longer view of satisfaction and complaints (a day's ratings are few)."""
MIN_AHT_S: Final = 1.0
"""Handle times under a second (closed as soon as taken) count as one second."""
DECISIONS: Final = ("refund_approved", "refund_approved_after_deadline", "refund_rejected")
"""Dispositions of a refund review item closed by the desk's decision."""


def yuan(fen: int) -> float:
    return round(fen / 100, 2)


@dataclass(frozen=True, slots=True)
class Tally:
    """How many, and how much money (fen)."""

    count: int = 0
    fen: int = 0


@dataclass(frozen=True, slots=True)
class RefundFigures:
    pending: Tally
    pending_by_kind: Mapping[str, Tally]
    due_within_hour: Tally
    due_within_4h: Tally
    overdue: Tally
    decided_today: Tally

    def to_json(self) -> dict[str, Any]:
        return {
            "pending": self.pending.count,
            "pending_amount": yuan(self.pending.fen),
            "due_within_hour": self.due_within_hour.count,
            "due_within_hour_amount": yuan(self.due_within_hour.fen),
            "due_within_4h": self.due_within_4h.count,
            "due_within_4h_amount": yuan(self.due_within_4h.fen),
            "overdue": self.overdue.count,
            "overdue_amount": yuan(self.overdue.fen),
            "decided_today": self.decided_today.count,
            "decided_today_amount": yuan(self.decided_today.fen),
            "pending_by_kind": {
                kind: {"pending": tally.count, "pending_amount": yuan(tally.fen)}
                for kind, tally in self.pending_by_kind.items()
            },
        }


@dataclass(frozen=True, slots=True)
class RoleFigures:
    queued: int
    oldest_wait_s: float
    agents_on_shift: int
    agents_needed: int
    arrivals_60m: int
    aht_s: float
    aht_samples: int
    answer_within_s: int
    service_level_target: float

    @property
    def short(self) -> bool:
        return self.agents_on_shift < self.agents_needed

    def to_json(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "oldest_wait_s": round(self.oldest_wait_s, 1),
            "agents_on_shift": self.agents_on_shift,
            "agents_needed": self.agents_needed,
            "short": self.short,
            "arrivals_60m": self.arrivals_60m,
            "aht_s": round(self.aht_s, 1),
            "aht_samples": self.aht_samples,
            "answer_within_s": self.answer_within_s,
            "service_level_target": self.service_level_target,
        }


@dataclass(frozen=True, slots=True)
class ChasingFigures:
    chased: int
    paid_after_chase: int
    recovered_fen: int

    def to_json(self) -> dict[str, Any]:
        return {
            "chased": self.chased,
            "paid_after_chase": self.paid_after_chase,
            "recovered_amount": yuan(self.recovered_fen),
        }


@dataclass(frozen=True, slots=True)
class Promotion:
    """The live promotion profile (``Shop.config["promotion"]``) and its extra points."""

    name: str
    role_points: Mapping[str, float]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "role_points": dict(self.role_points)}


@dataclass(frozen=True, slots=True)
class Dashboard:
    generated_at: datetime
    since: datetime
    timezone: str
    promotion: Promotion | None
    refunds: RefundFigures
    roles: Mapping[str, RoleFigures]
    chasing: ChasingFigures
    service: ServiceKpis
    service_7d: ServiceKpis

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "since": self.since.isoformat(),
            "timezone": self.timezone,
            "promotion": self.promotion.to_json() if self.promotion is not None else None,
            "refunds": self.refunds.to_json(),
            "roles": {role: figures.to_json() for role, figures in self.roles.items()},
            "chasing": self.chasing.to_json(),
            "satisfaction": {
                **self.service.satisfaction.to_json(),
                "last_7_days": self.service_7d.satisfaction.to_json(),
            },
            "complaints": {
                **self.service.complaints.to_json(),
                "last_7_days": self.service_7d.complaints.to_json(),
            },
        }


def shop_midnight(now: datetime, routing: RoutingConfig) -> datetime:
    """The start of the shop's day holding ``now``, in UTC."""
    local = now.astimezone(routing.tz)
    return datetime.combine(local.date(), time(0), tzinfo=routing.tz).astimezone(UTC)


async def dashboard(sessions: SessionFactory, actor: CurrentUser, now: datetime) -> Dashboard:
    require(actor, READ_ACCESS)
    shop_id = actor.shop_id
    async with sessions() as session:
        ctx = await loaded.load_shop_context(session, shop_id)
        since = shop_midnight(now, ctx.routing)
        refunds = await _refunds(session, shop_id, now, since)
        roles = await _roles(session, shop_id, now, ctx.routing)
        chasing = await _chasing(session, shop_id, since)
        service = await service_kpis(session, shop_id, since, now)
        service_7d = await service_kpis(session, shop_id, now - SERVICE_WINDOW, now)
    promotion = None
    if ctx.promotion is not None:
        profile = ctx.routing.scoring.promotions.get(ctx.promotion)
        points = profile.role_points if profile is not None else {}
        promotion = Promotion(ctx.promotion, {role.value: p for role, p in points.items()})
    return Dashboard(
        generated_at=now,
        since=since,
        timezone=ctx.routing.timezone,
        promotion=promotion,
        refunds=refunds,
        roles=roles,
        chasing=chasing,
        service=service,
        service_7d=service_7d,
    )


def _tally(count: int | None, fen: int | None) -> Tally:
    return Tally(int(count or 0), int(fen or 0))


async def _refunds(
    session: AsyncSession, shop_id: str, now: datetime, since: datetime
) -> RefundFigures:
    pending = and_(Refund.shop_id == shop_id, Refund.status == RefundStatus.REQUESTED)
    by_kind: dict[str, Tally] = {
        str(kind): _tally(count, fen)
        for kind, count, fen in await session.execute(
            select(Refund.kind, func.count(), func.sum(Refund.amount_fen))
            .where(pending)
            .group_by(Refund.kind)
        )
    }

    # One pass over the pending refunds: each window is a conditional count and sum.
    windows = {
        "hour": and_(Refund.deadline_at >= now, Refund.deadline_at < now + timedelta(hours=1)),
        "4h": and_(Refund.deadline_at >= now, Refund.deadline_at < now + timedelta(hours=4)),
        "overdue": Refund.deadline_at < now,
    }
    columns = []
    for condition in windows.values():
        columns += [
            func.count(case((condition, 1))),
            func.sum(case((condition, Refund.amount_fen))),
        ]
    row = (await session.execute(select(*columns).where(pending))).one()
    due = {name: _tally(row[2 * i], row[2 * i + 1]) for i, name in enumerate(windows)}

    decided = select(Conversation.refund_id).where(
        Conversation.shop_id == shop_id,
        Conversation.refund_id.is_not(None),
        Conversation.status == ConversationStatus.CLOSED,
        Conversation.closed_at >= since,
        Conversation.disposition.in_(DECISIONS),
    )
    decided_row = (
        await session.execute(
            select(func.count(), func.sum(Refund.amount_fen)).where(
                Refund.shop_id == shop_id, Refund.id.in_(decided)
            )
        )
    ).one()
    pending_all = Tally(
        sum(t.count for t in by_kind.values()), sum(t.fen for t in by_kind.values())
    )
    return RefundFigures(
        pending=pending_all,
        pending_by_kind={kind.value: by_kind.get(kind.value, Tally()) for kind in RefundKind},
        due_within_hour=due["hour"],
        due_within_4h=due["4h"],
        overdue=due["overdue"],
        decided_today=_tally(decided_row[0], decided_row[1]),
    )


async def _roles(
    session: AsyncSession, shop_id: str, now: datetime, routing: RoutingConfig
) -> dict[str, RoleFigures]:
    depths = await queue_depths(session, shop_id)
    on_shift: dict[str, int] = {}
    for (held,) in await session.execute(
        select(AgentProfile.service_roles).where(
            AgentProfile.shop_id == shop_id, AgentProfile.status.in_(ON_SHIFT)
        )
    ):
        for role in set(held or ()):
            on_shift[role] = on_shift.get(role, 0) + 1
    arrivals = {
        role: int(count)
        for role, count in await session.execute(
            select(Conversation.role, func.count())
            .where(
                Conversation.shop_id == shop_id,
                Conversation.opened_at > now - ARRIVALS_WINDOW,
                Conversation.opened_at <= now,
                or_(
                    Conversation.status.in_(WAITING_OR_HELD),
                    Conversation.assigned_at.is_not(None),
                ),
            )
            .group_by(Conversation.role)
        )
    }
    handled: dict[str, list[float]] = {}
    for role, assigned_at, closed_at in await session.execute(
        select(Conversation.role, Conversation.assigned_at, Conversation.closed_at).where(
            Conversation.shop_id == shop_id,
            Conversation.status == ConversationStatus.CLOSED,
            Conversation.closed_at > now - AHT_WINDOW,
            Conversation.assigned_at.is_not(None),
        )
    ):
        # Mean over the rows in Python: subtracting timestamps differs per database.
        if closed_at is not None and assigned_at is not None:
            held_s = (closed_at - assigned_at).total_seconds()
            handled.setdefault(role, []).append(max(held_s, 0.0))
    figures = {}
    for role in ServiceRole:
        depth = depths[role.value]
        samples = handled.get(role.value, [])
        aht = sum(samples) / len(samples) if samples else DEFAULT_AHT_S
        within = routing.sla.first_response_s.get(role, 30)
        count = arrivals.get(role.value, 0)
        needed = (
            agents_needed(count, max(aht, MIN_AHT_S), within, DEFAULT_SERVICE_LEVEL).agents
            if count
            else 0
        )
        figures[role.value] = RoleFigures(
            queued=depth.depth,
            oldest_wait_s=depth.oldest_wait_s(now),
            agents_on_shift=on_shift.get(role.value, 0),
            agents_needed=needed,
            arrivals_60m=count,
            aht_s=aht,
            aht_samples=len(samples),
            answer_within_s=within,
            service_level_target=DEFAULT_SERVICE_LEVEL,
        )
    return figures


async def _chasing(session: AsyncSession, shop_id: str, since: datetime) -> ChasingFigures:
    row = (
        await session.execute(
            select(
                func.count(),
                func.count(Conversation.recovered_fen),
                func.sum(func.coalesce(Conversation.recovered_fen, 0)),
            ).where(
                Conversation.shop_id == shop_id,
                Conversation.kind.in_(CHASE_KINDS),
                Conversation.opened_at >= since,
                or_(Conversation.assigned_agent_id.is_not(None), Conversation.attempts > 0),
            )
        )
    ).one()
    return ChasingFigures(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


__all__ = [
    "READ_ACCESS",
    "ChasingFigures",
    "Dashboard",
    "Promotion",
    "RefundFigures",
    "RoleFigures",
    "Tally",
    "dashboard",
    "shop_midnight",
    "yuan",
]
