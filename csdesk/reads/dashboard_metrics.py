"""The owner dashboard's widgets as *metrics*: each is one SELECT of the rows it counts.

A number on the dashboard and the list behind it cannot disagree because both come from
the same :class:`Metric`: ``rows`` is the SELECT of exactly the counted rows (one row per
refund, conversation, buyer or reply round, with the columns a person reads in the list),
and the figures are aggregates over that SELECT as a subquery (``COUNT(*)``, ``SUM`` of
the amount, ``SUM`` of a 0/1 flag, ``MIN`` of a timestamp, the mean of a seconds column),
optionally per group. The drill-down (``rows_of``) selects from the same subquery with the
same group and flag filter. One builder function per widget, in :data:`METRICS`.

The definitions (``now`` is the moment of the read, ``since`` the shop's midnight in its
routing time zone):

* ``refunds.pending``: refunds ``requested`` (not decided); ``refunds.by_kind`` and
  ``refunds.by_reason`` the same rows grouped by kind (仅退款 / 退货退款) and by the
  buyer's stated reason.
* ``refunds.due_1h`` / ``refunds.due_4h``: pending with the platform's deadline in
  ``[now, now + 1 h)`` / ``[now, now + 4 h)`` (auto-approved then if nobody acts);
  ``refunds.overdue``: pending past it.
* ``refunds.decided_today``: refunds whose review item the desk closed with a decision
  (approved, approved after the deadline, rejected) since midnight.
* ``refunds.intercepts``: warehouse intercepts asked today (the refund workbench's
  ``refund.intercept`` audit record, one row per request); the flag ``succeeded``: the
  order never shipped and the refund was paid out (退款完成) — the parcel was stopped. An
  intercept whose order shipped after all failed; one still in flight is neither.
* ``queues.queued``: items ``queued`` per role (oldest: their earliest ``enqueued_at``);
  the same predicate as ``reads.queues.queue_depths``.
* ``queues.sla_breaches``: open items (queued or with an agent) nobody answered yet whose
  response was due (``due_at``) before ``now``, per role.
* ``queues.arrivals_60m``: items per role opened in the last 60 minutes that became work
  (see ``reads.dashboard``); ``queues.handled_24h``: items per role closed in the last 24 h
  after an agent took them, with their handle time (``closed_at - assigned_at``).
* ``chasing.chased``: 催付 items opened today that reached a chaser (assigned, or
  attempted); flag ``paid``: the order was paid after (the chase closed with the amount
  credited, ``recovered_fen``), amount: that amount. ``chasing.per_chaser``: the same
  rows per agent (0: none holds it).
* ``kpi.inquiry_conversion`` (询单转化率): one row per buyer who opened a pre-sales chat in
  the last N days (``conversion_days``, a shop setting, default 3), asked at the first such
  chat in the window (when the desk opened it: the buyer's first message); flag
  ``converted``: the buyer paid an order at or after that moment (``paid_at``, the
  platform's time) and by ``now``. As the window is N days long, every such payment is
  within N days of asking. Read from ``Conversation.converted_at`` (the first payment at or
  after the chat opened, stamped by ``actions.orders.stamp_conversions`` when a payment is
  applied; migration 0019 backfilled it). A chat opened after an already-applied payment
  that the platform dates later (events out of order) stays unstamped until the buyer's
  next payment.
* ``kpi.first_response``: buyer chats and calls opened today that got a first answer,
  with ``first_response_at - opened_at`` in seconds (the mean is the KPI).
* ``staffing.on_shift``: per role, the agents at work (online, or suspended 挂起 while
  still working their chats) who hold it; one row per agent and role.
* ``kpi.response_rate_3m`` (3 分钟响应率): reply rounds begun today between 08:00 and 24:00
  shop time (``SlaConfig.counted_from`` / ``counted_until``). A round begins with a buyer
  message (buyers write in their chats; the desk's own tasks hold none from buyers) that
  follows, in its conversation, an agent's reply or nothing; it ends at the next agent
  reply. Flag ``answered``: an agent replied within ``response_rate_window_s`` (180 s).
  Rows are the rounds already decided: answered, or unanswered for the whole window. The
  rounds are rows of ``response_round`` (id: the buyer message that began it), written
  with the messages (``actions.messages``: one statement at a buyer message, one at a
  reply), in the order the desk applied them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from csdesk.roles.config import RoutingConfig
from csdesk.storage.enums import AgentStatus, ConversationStatus, RefundStatus, ServiceRole
from csdesk.storage.kinds import BUYER_FACING_KINDS, CHASE_KINDS
from csdesk.storage.models import (
    AgentProfile,
    AuditLog,
    Buyer,
    Conversation,
    Order,
    Refund,
    ResponseRound,
    User,
)
from csdesk.storage.sql import seconds_between

DECISIONS: Final = ("refund_approved", "refund_approved_after_deadline", "refund_rejected")
"""Dispositions of a refund review item closed by the desk's decision."""
WAITING_OR_HELD: Final = (ConversationStatus.QUEUED, ConversationStatus.ASSIGNED)
ARRIVALS_WINDOW: Final = timedelta(minutes=60)
AHT_WINDOW: Final = timedelta(hours=24)
DEFAULT_CONVERSION_DAYS: Final = 3
NO_AGENT: Final = 0
"""The group of chases no agent holds (``chasing.per_chaser``)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """What every metric is relative to: the shop, the moment, the shop's day and rules."""

    shop_id: str
    now: datetime
    since: datetime
    """The shop's midnight (routing time zone), in UTC."""
    routing: RoutingConfig
    conversion_days: int = DEFAULT_CONVERSION_DAYS


@dataclass(frozen=True, slots=True)
class Lookup:
    """A column a list shows from another table, found by its primary key (``key``) from
    the rows' column ``via`` (or an earlier lookup's) with an outer join: added to the list
    only, so the counted rows stay exactly the rows (and the count reads no other table)."""

    name: str
    column: Any
    key: Any
    via: str


BUYER: Final = Lookup("buyer", Buyer.nick, Buyer.id, "buyer_id")


@dataclass(frozen=True, slots=True)
class Metric:
    """One widget: ``rows`` selects exactly the counted rows, with an ``id`` column first;
    the named columns say what the figures aggregate."""

    key: str
    rows: Select[Any]
    columns: tuple[str, ...]
    """The columns a list shows, in order (keys of ``rows``' labelled columns)."""
    order: tuple[str, ...] = ("id",)
    amount: str | None = None
    """A fen column: its sum is the metric's amount."""
    group: str | None = None
    flag: str | None = None
    """A 0/1 column: its sum is the metric's ``hits`` (paid, converted, answered...)."""
    seconds: str | None = None
    """A seconds column: its sum and count give the metric's mean."""
    oldest: str | None = None
    """A timestamp column: its minimum (the oldest waiting item)."""
    lookups: tuple[Lookup, ...] = ()
    """Columns of the list from other tables (``columns`` may name them)."""


@dataclass(frozen=True, slots=True)
class Figures:
    count: int = 0
    fen: int = 0
    hits: int = 0
    seconds_sum: float = 0.0
    seconds_n: int = 0
    oldest: datetime | None = None

    @property
    def mean_s(self) -> float | None:
        return self.seconds_sum / self.seconds_n if self.seconds_n else None

    @property
    def rate(self) -> float | None:
        """``hits / count``; None with nothing counted."""
        return self.hits / self.count if self.count else None


@dataclass(frozen=True, slots=True)
class Measured:
    """A metric's figures: ``total`` over every row, and per group when it has groups."""

    key: str
    total: Figures
    groups: Mapping[str, Figures] = field(default_factory=dict)


# ---- the rows of each widget ------------------------------------------------------------


def _refund_rows(scope: Scope, *where: Any) -> Any:
    return select(
        Refund.id.label("id"),
        Refund.external_id.label("refund"),
        Refund.order_id.label("order_id"),
        Refund.buyer_id.label("buyer_id"),
        Refund.kind.label("kind"),
        Refund.reason.label("reason"),
        Refund.status.label("status"),
        Refund.amount_fen.label("amount_fen"),
        Refund.requested_at.label("requested_at"),
        Refund.deadline_at.label("deadline_at"),
    ).where(Refund.shop_id == scope.shop_id, *where)


REFUND_LOOKUPS: Final = (Lookup("order", Order.external_id, Order.id, "order_id"), BUYER)


_REFUND_COLUMNS: Final = (
    "refund",
    "order",
    "buyer",
    "kind",
    "reason",
    "amount_fen",
    "requested_at",
    "deadline_at",
)
_PENDING = Refund.status == RefundStatus.REQUESTED


def refunds_pending(scope: Scope) -> Metric:
    return Metric(
        "refunds.pending",
        _refund_rows(scope, _PENDING),
        _REFUND_COLUMNS,
        order=("deadline_at", "id"),
        amount="amount_fen",
        lookups=REFUND_LOOKUPS,
    )


def refunds_by_kind(scope: Scope) -> Metric:
    return Metric(
        "refunds.by_kind",
        _refund_rows(scope, _PENDING),
        _REFUND_COLUMNS,
        order=("deadline_at", "id"),
        amount="amount_fen",
        lookups=REFUND_LOOKUPS,
        group="kind",
    )


def refunds_by_reason(scope: Scope) -> Metric:
    return Metric(
        "refunds.by_reason",
        _refund_rows(scope, _PENDING),
        _REFUND_COLUMNS,
        order=("deadline_at", "id"),
        amount="amount_fen",
        lookups=REFUND_LOOKUPS,
        group="reason",
    )


def _due_within(key: str, hours: int) -> Callable[[Scope], Metric]:
    def build(scope: Scope) -> Metric:
        until = scope.now + timedelta(hours=hours)
        return Metric(
            key,
            _refund_rows(
                scope, _PENDING, Refund.deadline_at >= scope.now, Refund.deadline_at < until
            ),
            _REFUND_COLUMNS,
            order=("deadline_at", "id"),
            amount="amount_fen",
            lookups=REFUND_LOOKUPS,
        )

    build.__name__ = key.replace(".", "_")
    return build


refunds_due_1h = _due_within("refunds.due_1h", 1)
refunds_due_4h = _due_within("refunds.due_4h", 4)


def refunds_overdue(scope: Scope) -> Metric:
    return Metric(
        "refunds.overdue",
        _refund_rows(scope, _PENDING, Refund.deadline_at < scope.now),
        _REFUND_COLUMNS,
        order=("deadline_at", "id"),
        amount="amount_fen",
        lookups=REFUND_LOOKUPS,
    )


def refunds_decided_today(scope: Scope) -> Metric:
    decided = select(Conversation.refund_id).where(
        Conversation.shop_id == scope.shop_id,
        Conversation.refund_id.is_not(None),
        Conversation.status == ConversationStatus.CLOSED,
        Conversation.closed_at >= scope.since,
        Conversation.disposition.in_(DECISIONS),
    )
    return Metric(
        "refunds.decided_today",
        _refund_rows(scope, Refund.id.in_(decided)),
        (*_REFUND_COLUMNS[:6], "status", "amount_fen", "requested_at"),
        amount="amount_fen",
        lookups=REFUND_LOOKUPS,
    )


def refunds_intercepts(scope: Scope) -> Metric:
    succeeded = and_(Order.shipped_at.is_(None), Refund.status == RefundStatus.REFUNDED)
    rows = (
        select(
            AuditLog.id.label("id"),
            Refund.external_id.label("refund"),
            Order.external_id.label("order"),
            Refund.buyer_id.label("buyer_id"),
            Refund.amount_fen.label("amount_fen"),
            AuditLog.at.label("requested_at"),
            Order.status.label("order_status"),
            Refund.status.label("status"),
            case((succeeded, 1), else_=0).label("succeeded"),
        )
        .join(
            Refund,
            and_(
                Refund.shop_id == AuditLog.shop_id,
                Refund.id == cast(AuditLog.target_id, BigInteger),
            ),
        )
        .join(Order, Order.id == Refund.order_id)
        .where(
            AuditLog.shop_id == scope.shop_id,
            AuditLog.at >= scope.since,
            AuditLog.action == "refund.intercept",
            AuditLog.target_type == "refund",
        )
    )
    return Metric(
        "refunds.intercepts",
        rows,
        ("refund", "order", "buyer", "amount_fen", "requested_at", "order_status", "status"),
        amount="amount_fen",
        flag="succeeded",
        lookups=(BUYER,),
    )


def _item_rows(*columns: Any) -> Select[Any]:
    return select(
        Conversation.id.label("id"),
        Conversation.role.label("role"),
        Conversation.kind.label("kind"),
        Conversation.buyer_id.label("buyer_id"),
        *columns,
    )


def queues_queued(scope: Scope) -> Metric:
    rows = _item_rows(
        Conversation.enqueued_at.label("enqueued_at"),
        Conversation.priority_score.label("score"),
    ).where(
        Conversation.shop_id == scope.shop_id,
        Conversation.status == ConversationStatus.QUEUED,
    )
    return Metric(
        "queues.queued",
        rows,
        ("role", "kind", "buyer", "enqueued_at", "score"),
        order=("enqueued_at", "id"),
        group="role",
        oldest="enqueued_at",
        lookups=(BUYER,),
    )


def queues_sla_breaches(scope: Scope) -> Metric:
    rows = _item_rows(
        Conversation.status.label("status"),
        Conversation.opened_at.label("opened_at"),
        Conversation.due_at.label("due_at"),
        Conversation.assigned_agent_id.label("agent_id"),
    ).where(
        Conversation.shop_id == scope.shop_id,
        Conversation.status.in_(WAITING_OR_HELD),
        Conversation.first_response_at.is_(None),
        Conversation.due_at < scope.now,
    )
    return Metric(
        "queues.sla_breaches",
        rows,
        ("role", "kind", "buyer", "status", "opened_at", "due_at"),
        order=("due_at", "id"),
        group="role",
        oldest="due_at",
        lookups=(BUYER,),
    )


def queues_arrivals_60m(scope: Scope) -> Metric:
    rows = _item_rows(
        Conversation.status.label("status"), Conversation.opened_at.label("opened_at")
    ).where(
        Conversation.shop_id == scope.shop_id,
        Conversation.opened_at > scope.now - ARRIVALS_WINDOW,
        Conversation.opened_at <= scope.now,
        or_(Conversation.status.in_(WAITING_OR_HELD), Conversation.assigned_at.is_not(None)),
    )
    return Metric(
        "queues.arrivals_60m",
        rows,
        ("role", "kind", "buyer", "status", "opened_at"),
        order=("opened_at", "id"),
        group="role",
        lookups=(BUYER,),
    )


def queues_handled_24h(scope: Scope) -> Metric:
    rows = _item_rows(
        Conversation.assigned_at.label("assigned_at"),
        Conversation.closed_at.label("closed_at"),
        seconds_between(Conversation.closed_at, Conversation.assigned_at).label("handle_s"),
    ).where(
        Conversation.shop_id == scope.shop_id,
        Conversation.status == ConversationStatus.CLOSED,
        Conversation.closed_at > scope.now - AHT_WINDOW,
        Conversation.assigned_at.is_not(None),
    )
    return Metric(
        "queues.handled_24h",
        rows,
        ("role", "kind", "buyer", "assigned_at", "closed_at", "handle_s"),
        order=("closed_at", "id"),
        group="role",
        seconds="handle_s",
        lookups=(BUYER,),
    )


CHASE_LOOKUPS: Final = (
    Lookup("agent", User.display_name, User.id, "agent_id"),
    BUYER,
    Lookup("order", Order.external_id, Order.id, "order_id"),
    Lookup("order_amount_fen", Order.amount_fen, Order.id, "order_id"),
)


def _chase_rows(scope: Scope) -> Select[Any]:
    return select(
        Conversation.id.label("id"),
        func.coalesce(Conversation.assigned_agent_id, NO_AGENT).label("agent_id"),
        Conversation.buyer_id.label("buyer_id"),
        Conversation.order_id.label("order_id"),
        Conversation.kind.label("kind"),
        Conversation.opened_at.label("opened_at"),
        Conversation.attempts.label("attempts"),
        case((Conversation.recovered_fen.is_not(None), 1), else_=0).label("paid"),
        func.coalesce(Conversation.recovered_fen, 0).label("recovered_fen"),
    ).where(
        Conversation.shop_id == scope.shop_id,
        Conversation.kind.in_(CHASE_KINDS),
        Conversation.opened_at >= scope.since,
        or_(Conversation.assigned_agent_id.is_not(None), Conversation.attempts > 0),
    )


_CHASE_COLUMNS: Final = (
    "agent",
    "buyer",
    "order",
    "order_amount_fen",
    "kind",
    "opened_at",
    "attempts",
    "recovered_fen",
)


def chasing_chased(scope: Scope) -> Metric:
    return Metric(
        "chasing.chased",
        _chase_rows(scope),
        _CHASE_COLUMNS,
        amount="recovered_fen",
        flag="paid",
        lookups=CHASE_LOOKUPS,
    )


def chasing_per_chaser(scope: Scope) -> Metric:
    return Metric(
        "chasing.per_chaser",
        _chase_rows(scope),
        _CHASE_COLUMNS,
        amount="recovered_fen",
        flag="paid",
        group="agent_id",
        lookups=CHASE_LOOKUPS,
    )


def kpi_inquiry_conversion(scope: Scope) -> Metric:
    window_start = scope.now - timedelta(days=scope.conversion_days)
    # Each chat carries its buyer's first payment at or after it opened (``converted_at``,
    # stamped as payments are applied): the earliest over a buyer's asks in the window is
    # the first payment after the first ask, so one indexed pass over the window's
    # pre-sales chats answers it, with no search of orders.
    asks = (
        select(
            Conversation.buyer_id.label("buyer_id"),
            func.min(Conversation.opened_at).label("asked_at"),
            func.min(Conversation.converted_at).label("first_paid_at"),
        )
        .where(
            Conversation.shop_id == scope.shop_id,
            Conversation.kind == "chat",
            Conversation.role == ServiceRole.PRESALES.value,
            Conversation.opened_at >= window_start,
            Conversation.opened_at <= scope.now,
            Conversation.buyer_id.is_not(None),
        )
        .group_by(Conversation.buyer_id)
        .subquery("asks")
    )
    paid = asks.c.first_paid_at <= scope.now
    rows = select(
        asks.c.buyer_id.label("id"),
        asks.c.buyer_id.label("buyer_id"),
        asks.c.asked_at.label("asked_at"),
        case((paid, asks.c.first_paid_at)).label("paid_at"),
        case((paid, 1), else_=0).label("converted"),
    )
    return Metric(
        "kpi.inquiry_conversion",
        rows,
        ("buyer", "asked_at", "paid_at"),
        order=("asked_at", "id"),
        flag="converted",
        lookups=(BUYER,),
    )


def kpi_first_response(scope: Scope) -> Metric:
    rows = _item_rows(
        Conversation.opened_at.label("opened_at"),
        Conversation.first_response_at.label("first_response_at"),
        seconds_between(Conversation.first_response_at, Conversation.opened_at).label("response_s"),
        Conversation.assigned_agent_id.label("agent_id"),
    ).where(
        Conversation.shop_id == scope.shop_id,
        Conversation.kind.in_(BUYER_FACING_KINDS),
        Conversation.opened_at >= scope.since,
        Conversation.opened_at <= scope.now,
        Conversation.first_response_at.is_not(None),
    )
    return Metric(
        "kpi.first_response",
        rows,
        ("role", "kind", "buyer", "opened_at", "first_response_at", "response_s"),
        order=("opened_at", "id"),
        seconds="response_s",
        lookups=(BUYER,),
    )


def counted_hours(scope: Scope) -> tuple[datetime, datetime]:
    """Today's 08:00-24:00 (``SlaConfig.counted_from`` / ``counted_until``) in UTC."""
    tz = scope.routing.tz
    day = scope.since.astimezone(tz).date()
    sla = scope.routing.sla

    def at(minutes: int) -> datetime:
        local = datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minutes)
        # Wall-clock minutes after local midnight (a DST day keeps its 08:00).
        return datetime.combine(local.date(), time(local.hour, local.minute), tzinfo=tz).astimezone(
            UTC
        )

    return at(sla.counted_from.minutes), at(sla.counted_until.minutes)


def kpi_response_rate_3m(scope: Scope) -> Metric:
    window_s = scope.routing.sla.response_rate_window_s
    start, end = counted_hours(scope)
    replied = and_(ResponseRound.answered_at.is_not(None), ResponseRound.answered_at <= scope.now)
    waited = seconds_between(ResponseRound.answered_at, ResponseRound.asked_at)
    answered = and_(replied, waited <= window_s)
    rows = select(
        ResponseRound.id.label("id"),
        ResponseRound.conversation_id.label("conversation_id"),
        ResponseRound.asked_at.label("asked_at"),
        case((replied, ResponseRound.answered_at)).label("reply_at"),
        case((replied, waited)).label("wait_s"),
        case((answered, 1), else_=0).label("answered"),
    ).where(
        ResponseRound.shop_id == scope.shop_id,
        ResponseRound.asked_at >= max(start, scope.since),
        ResponseRound.asked_at < min(end, scope.now + timedelta(microseconds=1)),
        or_(answered, ResponseRound.asked_at <= scope.now - timedelta(seconds=window_s)),
    )
    return Metric(
        "kpi.response_rate_3m",
        rows,
        ("conversation_id", "buyer", "asked_at", "reply_at", "wait_s"),
        order=("asked_at", "id"),
        flag="answered",
        lookups=(
            Lookup("buyer_id", Conversation.buyer_id, Conversation.id, "conversation_id"),
            BUYER,
        ),
    )


ON_SHIFT: Final = (AgentStatus.ONLINE, AgentStatus.BUSY)
"""Agents at work: online, or suspended (挂起) while still working their chats."""


def staffing_on_shift(scope: Scope) -> Metric:
    # One row per agent and role held: an agent counts in each role they hold. The roles
    # are a JSON list; its text holds each one quoted, the same on SQLite and PostgreSQL.
    held = cast(AgentProfile.service_roles, String)
    per_role = [
        select(
            AgentProfile.user_id.label("id"),
            literal(role.value).label("role"),
            AgentProfile.status.label("status"),
        ).where(
            AgentProfile.shop_id == scope.shop_id,
            AgentProfile.status.in_(ON_SHIFT),
            held.like(f'%"{role.value}"%'),
        )
        for role in ServiceRole
    ]
    rows = select(union_all(*per_role).subquery("on_shift"))
    return Metric(
        "staffing.on_shift",
        rows,
        ("role", "agent", "status"),
        order=("role", "id"),
        group="role",
        lookups=(Lookup("agent", User.display_name, User.id, "id"),),
    )


METRICS: Final[Mapping[str, Callable[[Scope], Metric]]] = {
    "refunds.pending": refunds_pending,
    "refunds.by_kind": refunds_by_kind,
    "refunds.by_reason": refunds_by_reason,
    "refunds.due_1h": refunds_due_1h,
    "refunds.due_4h": refunds_due_4h,
    "refunds.overdue": refunds_overdue,
    "refunds.decided_today": refunds_decided_today,
    "refunds.intercepts": refunds_intercepts,
    "queues.queued": queues_queued,
    "queues.sla_breaches": queues_sla_breaches,
    "queues.arrivals_60m": queues_arrivals_60m,
    "queues.handled_24h": queues_handled_24h,
    "chasing.chased": chasing_chased,
    "chasing.per_chaser": chasing_per_chaser,
    "kpi.inquiry_conversion": kpi_inquiry_conversion,
    "kpi.first_response": kpi_first_response,
    "kpi.response_rate_3m": kpi_response_rate_3m,
    "staffing.on_shift": staffing_on_shift,
}
"""Every widget's metric, by key (the drill-down's path names the key). Another module may
add its own (satisfaction ratings): a builder of a :class:`Metric` from a :class:`Scope`."""


# ---- figures and rows -------------------------------------------------------------------


def _figures(row: Sequence[Any], metric: Metric, offset: int) -> Figures:
    values = list(row[offset:])
    count = int(values.pop(0) or 0)
    fen = int(values.pop(0) or 0) if metric.amount else 0
    hits = int(values.pop(0) or 0) if metric.flag else 0
    seconds_sum, seconds_n = 0.0, 0
    if metric.seconds:
        seconds_sum = float(values.pop(0) or 0.0)
        seconds_n = int(values.pop(0) or 0)
    oldest = values.pop(0) if metric.oldest else None
    if isinstance(oldest, str):  # SQLite MIN over a subquery loses the column type
        oldest = datetime.fromisoformat(oldest).replace(tzinfo=UTC)
    elif isinstance(oldest, datetime) and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return Figures(count, fen, hits, seconds_sum, int(seconds_n), oldest)


async def measure(session: AsyncSession, metric: Metric) -> Measured:
    """The metric's figures in one query (grouped metrics: one row per group, the total
    summed from them)."""
    sub = metric.rows.subquery()
    aggregates: list[Any] = [func.count()]
    if metric.amount:
        aggregates.append(func.sum(sub.c[metric.amount]))
    if metric.flag:
        aggregates.append(func.sum(sub.c[metric.flag]))
    if metric.seconds:
        aggregates += [func.sum(sub.c[metric.seconds]), func.count(sub.c[metric.seconds])]
    if metric.oldest:
        aggregates.append(func.min(sub.c[metric.oldest]))
    if metric.group is None:
        row = (await session.execute(select(*aggregates).select_from(sub))).one()
        return Measured(metric.key, _figures(row, metric, 0))
    column = sub.c[metric.group]
    groups = {
        str(row[0]): _figures(row, metric, 1)
        for row in await session.execute(
            select(column, *aggregates).select_from(sub).group_by(column)
        )
    }
    return Measured(metric.key, _sum(groups.values()), groups)


def _sum(parts: Any) -> Figures:
    parts = list(parts)
    oldest = [p.oldest for p in parts if p.oldest is not None]
    return Figures(
        count=sum(p.count for p in parts),
        fen=sum(p.fen for p in parts),
        hits=sum(p.hits for p in parts),
        seconds_sum=sum(p.seconds_sum for p in parts),
        seconds_n=sum(p.seconds_n for p in parts),
        oldest=min(oldest) if oldest else None,
    )


PENDING_REFUND_METRICS: Final = (
    "refunds.pending",
    "refunds.by_kind",
    "refunds.by_reason",
    "refunds.due_1h",
    "refunds.due_4h",
    "refunds.overdue",
)
"""Metrics over the same rows (pending refunds) that :func:`measure_pending_refunds` reads
in one statement."""


async def measure_pending_refunds(session: AsyncSession, scope: Scope) -> dict[str, Measured]:
    """The figures of :data:`PENDING_REFUND_METRICS` from one pass over the shop's pending
    refunds (one index range), grouped by kind and reason: the same rows and sums as each
    metric's own query (``measure``), in one round trip instead of six."""
    deadline = Refund.deadline_at
    windows = {
        "refunds.due_1h": and_(deadline >= scope.now, deadline < scope.now + timedelta(hours=1)),
        "refunds.due_4h": and_(deadline >= scope.now, deadline < scope.now + timedelta(hours=4)),
        "refunds.overdue": deadline < scope.now,
    }
    aggregates: list[Any] = [func.count(), func.sum(Refund.amount_fen)]
    for predicate in windows.values():
        aggregates += [
            func.sum(case((predicate, 1), else_=0)),
            func.sum(case((predicate, Refund.amount_fen), else_=0)),
        ]
    query = (
        select(Refund.kind, Refund.reason, *aggregates)
        .where(Refund.shop_id == scope.shop_id, _PENDING)
        .group_by(Refund.kind, Refund.reason)
    )
    by_kind: dict[str, list[Figures]] = {}
    by_reason: dict[str, list[Figures]] = {}
    totals: list[Figures] = []
    window_totals: dict[str, list[Figures]] = {key: [] for key in windows}
    for row in await session.execute(query):
        kind = row[0].value if hasattr(row[0], "value") else str(row[0])
        figures = Figures(int(row[2] or 0), int(row[3] or 0))
        totals.append(figures)
        by_kind.setdefault(kind, []).append(figures)
        by_reason.setdefault(str(row[1]), []).append(figures)
        for n, key in enumerate(windows):
            window_totals[key].append(Figures(int(row[4 + 2 * n] or 0), int(row[5 + 2 * n] or 0)))
    return {
        "refunds.pending": Measured("refunds.pending", _sum(totals)),
        "refunds.by_kind": Measured(
            "refunds.by_kind",
            _sum(totals),
            {kind: _sum(parts) for kind, parts in by_kind.items()},
        ),
        "refunds.by_reason": Measured(
            "refunds.by_reason",
            _sum(totals),
            {reason: _sum(parts) for reason, parts in by_reason.items()},
        ),
        **{key: Measured(key, _sum(parts)) for key, parts in window_totals.items()},
    }


def rows_query(metric: Metric, *, group: str | None = None, flag: bool | None = None) -> Any:
    """The SELECT of the rows behind a figure: the metric's rows, of one group, with the
    flag set (or not), with the columns of its lookups (outer joins on primary keys, so
    the rows are the counted ones, each once)."""
    sub = metric.rows.subquery()
    shown: list[Any] = [sub]
    joined: Any = sub
    available: dict[str, Any] = {column.key: column for column in sub.c}
    for lookup in metric.lookups:
        table = aliased(lookup.column.class_)
        key = getattr(table, lookup.key.key)
        found = getattr(table, lookup.column.key)
        joined = joined.outerjoin(table, key == available[lookup.via])
        if lookup.name in available:  # a hop on the way (the chat's buyer): not shown twice
            available[lookup.name] = found
            continue
        shown.append(found.label(lookup.name))
        available[lookup.name] = found
    query = select(*shown).select_from(joined)
    if group is not None and metric.group is not None:
        column = sub.c[metric.group]
        if isinstance(column.type, Integer):
            try:
                query = query.where(column == int(group))
            except ValueError:
                query = query.where(literal(False))
        else:
            query = query.where(cast(column, String) == group)
    if flag is not None and metric.flag is not None:
        query = query.where(sub.c[metric.flag] == (1 if flag else 0))
    return query.order_by(*(sub.c[name] for name in metric.order))


async def rows_of(
    session: AsyncSession,
    metric: Metric,
    *,
    group: str | None = None,
    flag: bool | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    query = rows_query(metric, group=group, flag=flag)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row._mapping) for row in await session.execute(query)]


__all__ = [
    "DECISIONS",
    "METRICS",
    "NO_AGENT",
    "ON_SHIFT",
    "PENDING_REFUND_METRICS",
    "Figures",
    "Measured",
    "Metric",
    "Scope",
    "counted_hours",
    "measure",
    "measure_pending_refunds",
    "rows_of",
    "rows_query",
]
