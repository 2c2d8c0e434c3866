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
  the role (the metric ``staffing.on_shift``: its drill-down lists them). The drill-down
  ``staffing.needed`` shows per role how ``agents_needed`` was computed.
  ``agents_needed``: Erlang C (``staffing.erlang.agents_needed``), the fewest agents
  answering ``service_level_target`` of contacts within the role's first-response SLA, fed
  with ``arrivals_60m`` (items of the role opened in the last 60 minutes that became work:
  queued, with an agent, or once taken — not a task still waiting for its time, nor one
  that closed before anyone took it, such as a chase whose order got paid) and ``aht_s``,
  the mean of ``closed_at - assigned_at`` over the role's items closed in the last 24 h
  (``aht_samples`` of them; with none, ``DEFAULT_AHT_S``; at least ``MIN_AHT_S`` for
  Erlang C). No arrivals: nobody needed.
* **Promotion**: the live profile (``reads.promotions.live_promotion``): its name and label,
  what it changes, and since and until when (the schedule entry that switched it on).
* **Chasing** (催付), the chases opened since the shop's midnight: ``chased`` those that
  reached a chaser (assigned, or attempted), ``paid_after_chase`` those whose order was
  paid after (the chase closed with the amount credited, ``Conversation.recovered_fen``),
  ``recovered_amount`` the sum of those amounts.

* **Satisfaction and complaints** since the shop's midnight, and over the last 7 days
  (``last_7_days``: ``now`` minus 7 × 24 h): ``reads.ratings`` (how they are counted is
  said there).

Beyond the contract's keys (see ``reads.dashboard_metrics`` for each definition): pending
refunds by reason, warehouse intercepts asked and succeeded today, SLA breaches per role,
chasing per chaser, and the KPIs ``kpis`` (询单转化率, first-response time, 3-minute response
rate). Every figure is a :class:`~csdesk.reads.dashboard_metrics.Metric`: the same SELECT
gives the number and, drilled down (:func:`drill`), the rows behind it.

Amounts are yuan with two decimals. ``since`` is the shop's midnight in its routing zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, NotFoundError
from csdesk.reads.dashboard_metrics import (
    AHT_WINDOW,
    ARRIVALS_WINDOW,
    DECISIONS,
    DEFAULT_CONVERSION_DAYS,
    METRICS,
    NO_AGENT,
    PENDING_REFUND_METRICS,
    Figures,
    Measured,
    Metric,
    Scope,
    measure,
    measure_pending_refunds,
    rows_of,
    rows_query,
)
from csdesk.reads.promotions import Promotion, live_promotion
from csdesk.reads.ratings import ServiceKpis, service_kpis
from csdesk.roles.config import RoutingConfig
from csdesk.routing import facts as loaded
from csdesk.staffing.erlang import Staffing, agents_needed
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import RefundKind, ServiceRole
from csdesk.storage.models import Shop, User

READ_ACCESS: Final = "dashboard.read"
DEFAULT_AHT_S: Final = 300.0
"""Handle time assumed for a role that closed nothing in the last 24 h (a new shop)."""
DEFAULT_SERVICE_LEVEL: Final = 0.8
"""The shop's target: this share of contacts answered within the role's SLA."""
MIN_AHT_S: Final = 1.0
"""Handle times under a second (closed as soon as taken) count as one second."""
SERVICE_WINDOW: Final = timedelta(days=7)
"""The longer view of satisfaction and complaints (a day's ratings are few)."""
MAX_CONVERSION_DAYS: Final = 30
SLOW_METRICS: Final = frozenset(
    {"kpi.inquiry_conversion", "kpi.first_response", "kpi.response_rate_3m", "queues.handled_24h"}
)
"""Figures over days of rows that move slowly (KPIs, the 24 h handle time; likewise the
satisfaction and complaint figures): the live aggregator re-reads them less often than
the rest (``cached``, ``cached_service``)."""
DRILL_LIMIT: Final = 100_000
"""The most rows a drill-down or export lists (a figure above it says so)."""


def yuan(fen: int) -> float:
    return round(fen / 100, 2)


def _rate(figures: Figures) -> float | None:
    rate = figures.rate
    return None if rate is None else round(rate, 4)


@dataclass(frozen=True, slots=True)
class Tally:
    """How many, and how much money (fen)."""

    count: int = 0
    fen: int = 0

    @classmethod
    def of(cls, figures: Figures) -> Tally:
        return cls(figures.count, figures.fen)


@dataclass(frozen=True, slots=True)
class RefundFigures:
    pending: Tally
    pending_by_kind: Mapping[str, Tally]
    due_within_hour: Tally
    due_within_4h: Tally
    overdue: Tally
    decided_today: Tally
    pending_by_reason: Mapping[str, Tally]
    intercepts_requested: int = 0
    intercepts_succeeded: int = 0

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
            "pending_by_reason": [
                {"reason": reason, "pending": tally.count, "pending_amount": yuan(tally.fen)}
                for reason, tally in sorted(
                    self.pending_by_reason.items(), key=lambda kv: (-kv[1].fen, kv[0])
                )
            ],
            "intercepts_requested": self.intercepts_requested,
            "intercepts_succeeded": self.intercepts_succeeded,
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
    sla_breaches: int = 0
    erlang: Staffing | None = field(default=None, compare=False)
    """Erlang C's answer for ``agents_needed`` (None: no arrivals, nobody needed)."""

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
            "sla_breaches": self.sla_breaches,
        }


@dataclass(frozen=True, slots=True)
class ChaserFigures:
    agent_id: int
    agent: str | None
    chased: int
    paid_after_chase: int
    recovered_fen: int

    def to_json(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "agent": self.agent,
            "chased": self.chased,
            "paid_after_chase": self.paid_after_chase,
            "recovered_amount": yuan(self.recovered_fen),
        }


@dataclass(frozen=True, slots=True)
class ChasingFigures:
    chased: int
    paid_after_chase: int
    recovered_fen: int
    per_chaser: tuple[ChaserFigures, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "chased": self.chased,
            "paid_after_chase": self.paid_after_chase,
            "recovered_amount": yuan(self.recovered_fen),
            "per_chaser": [chaser.to_json() for chaser in self.per_chaser],
        }


@dataclass(frozen=True, slots=True)
class Kpis:
    conversion_days: int
    inquiry: Figures
    first_response: Figures
    rounds: Figures
    response_window_s: int
    counted_from: str
    counted_until: str

    def to_json(self) -> dict[str, Any]:
        mean = self.first_response.mean_s
        return {
            "inquiry_conversion": {
                "days": self.conversion_days,
                "askers": self.inquiry.count,
                "converted": self.inquiry.hits,
                "rate": _rate(self.inquiry),
            },
            "first_response": {
                "answered": self.first_response.count,
                "mean_s": None if mean is None else round(mean, 1),
            },
            "response_rate_3m": {
                "rounds": self.rounds.count,
                "answered": self.rounds.hits,
                "rate": _rate(self.rounds),
                "window_s": self.response_window_s,
                "counted_from": self.counted_from,
                "counted_until": self.counted_until,
            },
        }


@dataclass(frozen=True, slots=True)
class Dashboard:
    generated_at: datetime
    since: datetime
    timezone: str
    promotion: Promotion | None
    refunds: RefundFigures
    roles: Mapping[str, RoleFigures]
    chasing: ChasingFigures
    kpis: Kpis
    service: ServiceKpis
    service_7d: ServiceKpis
    measured: Mapping[str, Measured] = field(default_factory=dict, compare=False)
    """Every metric's figures as read (or reused), by key: what the live aggregator keeps."""

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "since": self.since.isoformat(),
            "timezone": self.timezone,
            "promotion": self.promotion.to_json() if self.promotion is not None else None,
            "refunds": self.refunds.to_json(),
            "roles": {role: figures.to_json() for role, figures in self.roles.items()},
            "chasing": self.chasing.to_json(),
            "kpis": self.kpis.to_json(),
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


def conversion_days_of(config: Mapping[str, Any] | None) -> int:
    """``Shop.config["dashboard"]["conversion_days"]``: the N of 询单转化率 (default 3)."""
    section = (config or {}).get("dashboard")
    days = section.get("conversion_days") if isinstance(section, Mapping) else None
    if isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= MAX_CONVERSION_DAYS:
        return days
    return DEFAULT_CONVERSION_DAYS


async def load_scope(session: AsyncSession, shop_id: str, now: datetime) -> tuple[Scope, Any]:
    """The scope every metric of the shop's dashboard is read in, and the shop context."""
    ctx = await loaded.load_shop_context(session, shop_id)
    config = await session.scalar(select(Shop.config).where(Shop.id == shop_id))
    scope = Scope(
        shop_id=shop_id,
        now=now,
        since=shop_midnight(now, ctx.routing),
        routing=ctx.routing,
        conversion_days=conversion_days_of(config),
    )
    return scope, ctx


async def dashboard(sessions: SessionFactory, actor: CurrentUser, now: datetime) -> Dashboard:
    require(actor, READ_ACCESS)
    return await shop_dashboard(sessions, actor.shop_id, now)


async def shop_dashboard(
    sessions: SessionFactory,
    shop_id: str,
    now: datetime,
    *,
    cached: Mapping[str, Measured] | None = None,
    cached_service: tuple[ServiceKpis, ServiceKpis] | None = None,
) -> Dashboard:
    """The dashboard of one shop, for the live aggregator (its callers checked access);
    figures in ``cached`` (and the service KPIs in ``cached_service``: today's, the last 7
    days') are reused instead of read again."""
    async with sessions() as session:
        scope, ctx = await load_scope(session, shop_id, now)
        measured = dict(cached or {})
        if not all(key in measured for key in PENDING_REFUND_METRICS):
            # One statement for the six figures over pending refunds.
            measured.update(await measure_pending_refunds(session, scope))
        for key, build in METRICS.items():
            if key not in measured:
                measured[key] = await measure(session, build(scope))
        on_shift = _on_shift(measured["staffing.on_shift"])
        if cached_service is not None:
            service, service_7d = cached_service
        else:
            service = await service_kpis(session, shop_id, scope.since, now)
            service_7d = await service_kpis(session, shop_id, now - SERVICE_WINDOW, now)
        names = await _names(session, [int(g) for g in measured["chasing.per_chaser"].groups])
        promotion = await live_promotion(session, ctx)
    sla = scope.routing.sla
    return Dashboard(
        generated_at=now,
        since=scope.since,
        timezone=ctx.routing.timezone,
        promotion=promotion,
        refunds=_refunds(measured),
        roles=_roles(measured, on_shift, now, ctx.routing),
        chasing=_chasing(measured["chasing.per_chaser"], names),
        kpis=Kpis(
            conversion_days=scope.conversion_days,
            inquiry=measured["kpi.inquiry_conversion"].total,
            first_response=measured["kpi.first_response"].total,
            rounds=measured["kpi.response_rate_3m"].total,
            response_window_s=sla.response_rate_window_s,
            counted_from=str(sla.counted_from),
            counted_until=str(sla.counted_until),
        ),
        service=service,
        service_7d=service_7d,
        measured=measured,
    )


HEALTH_METRICS: Final = (
    "queues.queued",
    "queues.handled_24h",
    "queues.arrivals_60m",
    "queues.sla_breaches",
    "refunds.due_1h",
    "staffing.on_shift",
)
"""What the alert rules judge, of the dashboard's figures (``reads.alerts.shop_health``)."""


async def health_figures(
    session: AsyncSession, shop_id: str, now: datetime
) -> tuple[dict[str, RoleFigures], Tally]:
    """Per role queue and staffing (on shift against needed), and the refunds due within
    the hour: the dashboard's own figures, for the alert rules (their caller checked
    access; only these metrics are read)."""
    scope, ctx = await load_scope(session, shop_id, now)
    measured = {key: await measure(session, METRICS[key](scope)) for key in HEALTH_METRICS}
    on_shift = _on_shift(measured["staffing.on_shift"])
    roles = _roles(measured, on_shift, now, ctx.routing)
    return roles, Tally.of(measured["refunds.due_1h"].total)


def _group(measured: Measured, key: str) -> Figures:
    return measured.groups.get(key, Figures())


def _refunds(measured: Mapping[str, Measured]) -> RefundFigures:
    by_kind = measured["refunds.by_kind"]
    intercepts = measured["refunds.intercepts"].total
    return RefundFigures(
        pending=Tally.of(measured["refunds.pending"].total),
        pending_by_kind={kind.value: Tally.of(_group(by_kind, kind.value)) for kind in RefundKind},
        due_within_hour=Tally.of(measured["refunds.due_1h"].total),
        due_within_4h=Tally.of(measured["refunds.due_4h"].total),
        overdue=Tally.of(measured["refunds.overdue"].total),
        decided_today=Tally.of(measured["refunds.decided_today"].total),
        pending_by_reason={
            reason: Tally.of(figures)
            for reason, figures in measured["refunds.by_reason"].groups.items()
        },
        intercepts_requested=intercepts.count,
        intercepts_succeeded=intercepts.hits,
    )


def _on_shift(measured: Measured) -> dict[str, int]:
    return {role: figures.count for role, figures in measured.groups.items()}


def _roles(
    measured: Mapping[str, Measured],
    on_shift: Mapping[str, int],
    now: datetime,
    routing: RoutingConfig,
) -> dict[str, RoleFigures]:
    figures = {}
    for role in ServiceRole:
        queued = _group(measured["queues.queued"], role.value)
        handled = _group(measured["queues.handled_24h"], role.value)
        count = _group(measured["queues.arrivals_60m"], role.value).count
        aht = handled.mean_s if handled.seconds_n else DEFAULT_AHT_S
        assert aht is not None
        aht = max(aht, 0.0)
        within = routing.sla.first_response_s.get(role, 30)
        erlang = (
            agents_needed(count, max(aht, MIN_AHT_S), within, DEFAULT_SERVICE_LEVEL)
            if count
            else None
        )
        needed = erlang.agents if erlang is not None else 0
        oldest = queued.oldest
        figures[role.value] = RoleFigures(
            queued=queued.count,
            oldest_wait_s=(now - oldest).total_seconds() if oldest is not None else 0.0,
            agents_on_shift=on_shift.get(role.value, 0),
            agents_needed=needed,
            arrivals_60m=count,
            aht_s=aht,
            aht_samples=handled.seconds_n,
            answer_within_s=within,
            service_level_target=DEFAULT_SERVICE_LEVEL,
            sla_breaches=_group(measured["queues.sla_breaches"], role.value).count,
            erlang=erlang,
        )
    return figures


async def _names(session: AsyncSession, user_ids: list[int]) -> dict[int, str]:
    wanted = sorted({u for u in user_ids if u != NO_AGENT})
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {int(user_id): str(name) for user_id, name in rows.all()}


def _chasing(per_chaser: Measured, names: Mapping[int, str]) -> ChasingFigures:
    total = per_chaser.total
    chasers = tuple(
        sorted(
            (
                ChaserFigures(
                    agent_id=int(agent_id),
                    agent=names.get(int(agent_id)),
                    chased=figures.count,
                    paid_after_chase=figures.hits,
                    recovered_fen=figures.fen,
                )
                for agent_id, figures in per_chaser.groups.items()
            ),
            key=lambda c: (-c.recovered_fen, -c.chased, c.agent_id),
        )
    )
    return ChasingFigures(total.count, total.hits, total.fen, chasers)


# ---- drill-down ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Drill:
    """The rows behind one figure, with the figure they make."""

    metric: Metric
    group: str | None
    flag: bool | None
    figures: Figures
    rows: list[dict[str, Any]]
    truncated: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric.key,
            "group": self.group,
            "flag": self.flag,
            "columns": ["id", *self.metric.columns],
            "count": self.figures.count,
            "amount": yuan(self.figures.fen) if self.metric.amount else None,
            "truncated": self.truncated,
            "rows": [
                {"id": row["id"], **{c: _json_value(c, row[c]) for c in self.metric.columns}}
                for row in self.rows
            ],
        }


def _json_value(column: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if column.endswith("_fen") and isinstance(value, int):
        return yuan(value)
    if isinstance(value, float):
        return round(value, 3)
    if hasattr(value, "value"):
        return value.value
    return value


NEEDED: Final = "staffing.needed"
"""The drill-down of "agents needed": per role, how Erlang C got there (not a SELECT of
rows; computed from the dashboard's own figures: arrivals, handle times, on shift)."""
NEEDED_COLUMNS: Final = (
    "role",
    "arrivals_60m",
    "aht_s",
    "aht_samples",
    "answer_within_s",
    "service_level_target",
    "traffic_erlangs",
    "agents_needed",
    "service_level",
    "asa_s",
    "occupancy",
    "agents_on_shift",
)
DRILLS: Final = (*sorted(METRICS), NEEDED)
"""Every figure with a drill-down, by key (the rows API's path names one)."""


def needed_rows(roles: Mapping[str, RoleFigures], group: str | None) -> list[dict[str, Any]]:
    """One row per role (or the one ``group``): the inputs and answer of Erlang C."""
    rows = []
    for role, figures in roles.items():
        if group is not None and role != group:
            continue
        erlang = figures.erlang
        rows.append(
            {
                "id": role,
                "role": role,
                "arrivals_60m": figures.arrivals_60m,
                "aht_s": round(figures.aht_s, 1),
                "aht_samples": figures.aht_samples,
                "answer_within_s": figures.answer_within_s,
                "service_level_target": figures.service_level_target,
                "traffic_erlangs": round(erlang.traffic_erlangs, 4) if erlang else 0.0,
                "agents_needed": figures.agents_needed,
                "service_level": round(erlang.service_level, 4) if erlang else None,
                "asa_s": round(erlang.asa_seconds, 2) if erlang else None,
                "occupancy": round(erlang.occupancy, 4) if erlang else None,
                "agents_on_shift": figures.agents_on_shift,
            }
        )
    return rows


async def _needed_drill(
    sessions: SessionFactory, shop_id: str, now: datetime, group: str | None, flag: bool | None
) -> Drill:
    if flag is not None:
        raise BadInputError("flag", f"{NEEDED} has no flag")
    if group is not None and group not in {role.value for role in ServiceRole}:
        raise BadInputError("group", f"{NEEDED}: no role {group!r}")
    async with sessions() as session:
        scope, ctx = await load_scope(session, shop_id, now)
        keys = ("queues.queued", "queues.handled_24h", "queues.arrivals_60m", "staffing.on_shift")
        measured = {key: await measure(session, METRICS[key](scope)) for key in keys}
    measured["queues.sla_breaches"] = Measured("queues.sla_breaches", Figures())
    roles = _roles(measured, _on_shift(measured["staffing.on_shift"]), now, ctx.routing)
    rows = needed_rows(roles, group)
    metric = Metric(NEEDED, select(), NEEDED_COLUMNS, group="role")
    return Drill(metric, group, None, Figures(count=len(rows)), rows, False)


async def drill(
    sessions: SessionFactory,
    actor: CurrentUser,
    key: str,
    now: datetime,
    *,
    group: str | None = None,
    flag: bool | None = None,
    limit: int = DRILL_LIMIT,
) -> Drill:
    """The rows behind a figure: the metric ``key``'s rows (of ``group``, with its flag set
    or not), counted by the same SELECT the dashboard counts them with."""
    require(actor, READ_ACCESS)
    if key == NEEDED:
        return await _needed_drill(sessions, actor.shop_id, now, group, flag)
    build = METRICS.get(key)
    if build is None:
        raise NotFoundError(f"no dashboard figure {key!r}")
    async with sessions() as session:
        scope, _ = await load_scope(session, actor.shop_id, now)
        metric = build(scope)
        if group is not None and metric.group is None:
            raise BadInputError("group", f"{key} has no groups")
        if flag is not None and metric.flag is None:
            raise BadInputError("flag", f"{key} has no flag")
        query = rows_query(metric, group=group, flag=flag).subquery()
        aggregates: list[Any] = [func.count()]
        if metric.amount:
            aggregates.append(func.sum(query.c[metric.amount]))
        if metric.flag:
            aggregates.append(func.sum(query.c[metric.flag]))
        total = (await session.execute(select(*aggregates).select_from(query))).one()
        rows = await rows_of(session, metric, group=group, flag=flag, limit=limit)
    count = int(total[0] or 0)
    fen = int(total[1] or 0) if metric.amount else 0
    hits = int(total[-1] or 0) if metric.flag else 0
    return Drill(metric, group, flag, Figures(count, fen, hits), rows, count > len(rows))


__all__ = [
    "AHT_WINDOW",
    "ARRIVALS_WINDOW",
    "DECISIONS",
    "DRILLS",
    "NEEDED",
    "READ_ACCESS",
    "SLOW_METRICS",
    "ChasingFigures",
    "Dashboard",
    "Drill",
    "Kpis",
    "Promotion",
    "RefundFigures",
    "RoleFigures",
    "Tally",
    "conversion_days_of",
    "dashboard",
    "drill",
    "health_figures",
    "load_scope",
    "shop_dashboard",
    "shop_midnight",
    "yuan",
]
