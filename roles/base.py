"""Typed facts and decision records shared by the six service roles (seeds/003 part II).

Roles are pure: facts in, decision out, ``now`` passed in. Nothing in ``csdesk.roles``
reads a clock, a database or the network, so every rule is a table of (input, expected).
Times are timezone-aware UTC; shop-local time (``config.tz``, Asia/Shanghai by default)
is used only for wall-clock rules: quiet hours and the 08:00-24:00 response-rate window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from csdesk.clock import require_aware
from csdesk.roles.config import ClockTime, RoutingConfig
from csdesk.roles.scoring import Score, ScoreFacts, ScoreReason, static_score
from csdesk.roles.triage_rules import Intent, Risk
from csdesk.storage.enums import BuyerTier, Channel, OrderStatus, RefundKind, ServiceRole

__all__ = [
    "BuyerFacts",
    "ClockTime",
    "ContactFacts",
    "Decision",
    "EscalationRule",
    "Followup",
    "Intent",
    "OrderFacts",
    "OrderItem",
    "RefundFacts",
    "Risk",
    "RoleSpec",
    "Score",
    "ScoreFacts",
    "ScoreReason",
    "Sla",
    "contact_decision",
    "in_daily_window",
    "next_allowed_at",
    "sla_for",
    "static_score",
]

AFTERSALES_INTENTS = frozenset(
    {Intent.LOGISTICS, Intent.EXCHANGE, Intent.QUALITY, Intent.REFUND, Intent.COMPLAINT}
)
"""Problems after the purchase: presales passes these on (问题升级机制)."""


# --- facts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuyerFacts:
    buyer_id: int
    tier: BuyerTier = BuyerTier.NORMAL


@dataclass(frozen=True)
class OrderItem:
    sku: str
    title: str = ""
    qty: int = 1
    price_fen: int = 0


@dataclass(frozen=True)
class OrderFacts:
    """An order as the platform reports it (money in fen, times UTC)."""

    order_id: int
    buyer_id: int
    status: OrderStatus
    amount_fen: int
    created_at: datetime
    items: tuple[OrderItem, ...] = ()
    gifts: tuple[str, ...] = ()
    """Gifts and promo items the system attached (checked against the campaign)."""
    campaign: str | None = None
    invoice_title: str | None = None
    receiver_name: str | None = None
    receiver_phone: str | None = None
    address: str | None = None
    paid_at: datetime | None = None
    shipped_at: datetime | None = None

    @property
    def is_shipped(self) -> bool:
        return self.status in (OrderStatus.SHIPPED, OrderStatus.RECEIVED)


@dataclass(frozen=True)
class RefundFacts:
    refund_id: int
    order_id: int
    kind: RefundKind
    order_status: OrderStatus
    """The order's status when the refund was requested (shipped or not sets the deadline)."""
    amount_fen: int
    requested_at: datetime
    buyer: BuyerFacts
    reason: str = ""


@dataclass(frozen=True)
class ContactFacts:
    """A triaged buyer contact: a chat message or an inbound call."""

    channel: Channel
    intent: Intent
    risk: Risk
    at: datetime
    buyer: BuyerFacts
    order: OrderFacts | None = None
    """The buyer's latest order with the shop, if any (post-purchase context)."""
    prior_contacts_24h: int = 0
    """Earlier contacts about the same matter: a buyer asking again is losing patience."""
    first_contact: bool = False
    """No earlier contact with the shop at all: a conversion opportunity for presales."""
    escalated_from: ServiceRole | None = None
    """Set when another role handed this contact over (presales → aftersales_triage)."""
    promotion: str | None = None


# --- shop-local time ---------------------------------------------------------------------


def _local_minutes(at: datetime, tz: ZoneInfo) -> int:
    local = require_aware(at).astimezone(tz)
    return local.hour * 60 + local.minute


def _contains(start: int, end: int, minute: int) -> bool:
    start, end = start % 1440, end % 1440
    if start == end:
        return False  # an empty window: e.g. quiet hours switched off
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end  # wraps midnight (22:00-08:00)


def in_daily_window(at: datetime, start: ClockTime, end: ClockTime, tz: ZoneInfo) -> bool:
    """Is ``at`` inside the daily shop-local window [start, end)?"""
    return _contains(start.minutes, end.minutes, _local_minutes(at, tz))


def _local_at(day: datetime, minutes: int, tz: ZoneInfo) -> datetime:
    date = day.date() + timedelta(days=minutes // 1440)
    minutes %= 1440
    return datetime.combine(date, time(minutes // 60, minutes % 60), tzinfo=tz)


def next_allowed_at(at: datetime, start: ClockTime, end: ClockTime, tz: ZoneInfo) -> datetime:
    """``at`` itself, or the end of the daily window [start, end) it falls in (UTC)."""
    at = require_aware(at)
    if not in_daily_window(at, start, end, tz):
        return at
    local = at.astimezone(tz)
    s, e = start.minutes % 1440, end.minutes % 1440
    minute = local.hour * 60 + local.minute
    # In a window that wraps midnight, before midnight the end is tomorrow.
    days = 1 if s > e and minute >= s else 0
    return _local_at(local, e + 1440 * days, tz).astimezone(at.tzinfo)


# --- service levels ----------------------------------------------------------------------


@dataclass(frozen=True)
class Sla:
    """A role's service level, from the shop's config."""

    role: ServiceRole
    first_response_s: int
    """Chat: first reply; hotline: answering the call."""
    response_rate_window_s: int
    counted_from: ClockTime
    counted_until: ClockTime
    tz: ZoneInfo

    def first_response_due(self, opened_at: datetime) -> datetime:
        return require_aware(opened_at) + timedelta(seconds=self.first_response_s)

    def first_response_breached(
        self, opened_at: datetime, first_response_at: datetime | None, now: datetime
    ) -> bool:
        answered = require_aware(first_response_at or now)
        return answered > self.first_response_due(opened_at)

    def counts_for_response_rate(self, buyer_message_at: datetime) -> bool:
        """Only buyer messages sent 08:00-24:00 shop time count for the 3-minute rate."""
        return in_daily_window(buyer_message_at, self.counted_from, self.counted_until, self.tz)

    def responded_in_time(
        self, buyer_message_at: datetime, reply_at: datetime | None, now: datetime
    ) -> bool | None:
        """True/False for a counted message once decided; None if it does not count or the
        window is still open without a reply."""
        if not self.counts_for_response_rate(buyer_message_at):
            return None
        due = require_aware(buyer_message_at) + timedelta(seconds=self.response_rate_window_s)
        if reply_at is not None:
            return require_aware(reply_at) <= due
        return False if require_aware(now) > due else None


def sla_for(role: ServiceRole, config: RoutingConfig) -> Sla:
    sla = config.sla
    return Sla(
        role=role,
        first_response_s=sla.first_response_s[role],
        response_rate_window_s=sla.response_rate_window_s,
        counted_from=sla.counted_from,
        counted_until=sla.counted_until,
        tz=config.tz,
    )


# --- decisions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationRule:
    """问题升级: when this role hands an item to another; ``feedback`` means the outcome
    comes back to the sender (信息反馈机制)."""

    when: str
    to_role: ServiceRole
    feedback: bool = False
    note: str = ""


@dataclass(frozen=True)
class Followup:
    """A task a decision asks for besides its own item (a proactive call, feedback)."""

    role: ServiceRole
    kind: str
    due_at: datetime
    reason: str


@dataclass(frozen=True)
class Decision:
    """What a role decided about one item."""

    role: ServiceRole
    """The role that owns the item now (may differ from the deciding role: escalation)."""
    kind: str
    """``chat``, ``call``, ``payment_chase``, ``phone_chase``, ``order_check``,
    ``refund_review``, ``proactive_call`` ..."""
    score: Score
    """Static priority with reasons; the queue adds deadline and aging points."""
    due_at: datetime | None = None
    """SLA target (first response) or when a task becomes due."""
    deadline_at: datetime | None = None
    """A hard external deadline (refund auto-approval) feeding ``deadline_points``."""
    escalation: EscalationRule | None = None
    followups: tuple[Followup, ...] = ()
    notes: tuple[str, ...] = ()


def contact_decision(
    role: ServiceRole,
    contact: ContactFacts,
    config: RoutingConfig,
    *,
    followups: tuple[Followup, ...] = (),
) -> Decision:
    """A buyer chat answered by ``role``, scored from the contact, first reply within SLA."""
    facts = ScoreFacts(
        role=role,
        intent=contact.intent,
        risk=contact.risk,
        order_amount_fen=contact.order.amount_fen if contact.order else None,
        buyer_tier=contact.buyer.tier,
        promotion=contact.promotion,
    )
    return Decision(
        role=role,
        kind="chat",
        score=static_score(facts, config),
        due_at=sla_for(role, config).first_response_due(contact.at),
        followups=followups,
    )


@dataclass(frozen=True)
class RoleSpec:
    """What a role declares: titles, channels, SLA, escalations, duties, KPIs. (Which events
    a role takes is decided by its intake functions, which the engine calls.)"""

    key: ServiceRole
    title_zh: str
    supervisor_zh: str
    channels: frozenset[Channel]
    escalations: tuple[EscalationRule, ...] = ()
    duties: tuple[str, ...] = ()
    """Named duties inside the role (refund: review, processing), swappable on rosters."""
    kpis: tuple[str, ...] = ()

    def escalation(self, when: str) -> EscalationRule:
        for rule in self.escalations:
            if rule.when == when:
                return rule
        raise KeyError(f"{self.key}: no escalation {when!r}")

    def sla(self, config: RoutingConfig) -> Sla:
        return sla_for(self.key, config)
