"""退款 (refund): review (approve / reject) and processing (seeds/003 售后 3-4).

The platform auto-approves a refund the shop leaves alone past its deadline: by default
24 h for a refund-only request before shipping, 5 days once shipped and for every return.
Urgency points rise in steps as the deadline nears (``scoring.deadline_points``); the
queue re-scores an item at ``next_urgency_change``.

Duties: *review* decides (a reviewer must be on every shift, also at 23:00 when finance is
gone); *processing* talks to the warehouse (cancel or intercept an order the buyer just
regretted, before it ships) and pays out after a return arrives. During duty shifts and
promotions the two can be swapped between people, so they are named duties of one role.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from csdesk.clock import require_aware
from csdesk.roles import hotline
from csdesk.roles.base import (
    ContactFacts,
    Decision,
    EscalationRule,
    Followup,
    Intent,
    RefundFacts,
    Risk,
    RoleSpec,
    ScoreFacts,
    ScoreReason,
    contact_decision,
    static_score,
)
from csdesk.roles.config import RoutingConfig
from csdesk.roles.scoring import deadline_points, next_deadline_change
from csdesk.storage.enums import Channel, OrderStatus, RefundKind, ServiceRole

ROLE = ServiceRole.REFUND
REVIEW = "review"
PROCESSING = "processing"

SPEC = RoleSpec(
    key=ROLE,
    title_zh="退款审核 + 退款处理",
    supervisor_zh="售后主管",
    channels=frozenset({Channel.CHAT}),
    escalations=(
        EscalationRule(
            "reject_with_risk",
            ServiceRole.HOTLINE,
            note="拒绝退款且买家有投诉倾向: 热线主动致电沟通",
        ),
    ),
    duties=(REVIEW, PROCESSING),
    kpis=("refunds_before_deadline", "median_handling_time", "intercepted_before_shipping"),
)

_UNSHIPPED = frozenset({OrderStatus.CREATED, OrderStatus.PAID})


def is_unshipped(kind: RefundKind, order_status: OrderStatus) -> bool:
    """Refund-only before the parcel left: the short deadline, and it can be intercepted."""
    return kind is RefundKind.REFUND_ONLY and order_status in _UNSHIPPED


def refund_deadline(
    kind: RefundKind,
    order_status: OrderStatus,
    requested_at: datetime,
    config: RoutingConfig,
) -> datetime:
    """When the platform auto-approves the refund if the shop has not acted."""
    rc = config.refund
    seconds = rc.unshipped_deadline_s if is_unshipped(kind, order_status) else rc.shipped_deadline_s
    return require_aware(requested_at, "requested_at") + timedelta(seconds=seconds)


def duties_for(kind: RefundKind, order_status: OrderStatus) -> tuple[str, ...]:
    """Review always; processing too when the warehouse must stop the parcel or when a
    return will have to be checked and paid out."""
    if is_unshipped(kind, order_status) or kind is RefundKind.RETURN_AND_REFUND:
        return (REVIEW, PROCESSING)
    return (REVIEW,)


def urgency(deadline_at: datetime, now: datetime, config: RoutingConfig) -> ScoreReason | None:
    """Points for deadline nearness (rising in steps; overdue is the maximum)."""
    return deadline_points(deadline_at, now, config)


def next_urgency_change(
    deadline_at: datetime, now: datetime, config: RoutingConfig
) -> datetime | None:
    return next_deadline_change(deadline_at, now, config)


def intake(
    refund: RefundFacts,
    config: RoutingConfig,
    *,
    risk: Risk = Risk.LOW,
    promotion: str | None = None,
) -> Decision:
    """A ``refund.requested`` event → a review item with the platform deadline."""
    deadline = refund_deadline(refund.kind, refund.order_status, refund.requested_at, config)
    extras: tuple[ScoreReason, ...] = ()
    if is_unshipped(refund.kind, refund.order_status) and config.refund.unshipped_bonus:
        bonus = config.refund.unshipped_bonus
        extras = (ScoreReason("unshipped", bonus, f"未发货: 可拦截, 需尽快联系仓库 +{bonus:g}"),)
    facts = ScoreFacts(
        role=ROLE,
        intent=Intent.REFUND,
        risk=risk,
        order_amount_fen=refund.amount_fen,
        buyer_tier=refund.buyer.tier,
        promotion=promotion,
        extras=extras,
    )
    return Decision(
        role=ROLE,
        kind="refund_review",
        score=static_score(facts, config),
        due_at=deadline,
        deadline_at=deadline,
        notes=tuple(f"duty:{d}" for d in duties_for(refund.kind, refund.order_status)),
    )


def intake_return_received(
    refund: RefundFacts,
    received_at: datetime,
    config: RoutingConfig,
    *,
    promotion: str | None = None,
) -> Decision:
    """A ``return.received`` event → a processing item: check the parcel, pay out.
    Assumption: the same window as shipped refunds applies from the parcel's arrival."""
    deadline = require_aware(received_at) + timedelta(seconds=config.refund.shipped_deadline_s)
    facts = ScoreFacts(
        role=ROLE,
        intent=Intent.REFUND,
        order_amount_fen=refund.amount_fen,
        buyer_tier=refund.buyer.tier,
        promotion=promotion,
    )
    return Decision(
        role=ROLE,
        kind="refund_processing",
        score=static_score(facts, config),
        due_at=deadline,
        deadline_at=deadline,
        notes=(f"duty:{PROCESSING}",),
    )


def intake_chat(contact: ContactFacts, config: RoutingConfig) -> Decision:
    """A buyer chat about a refund (from triage, at once): first reply within the SLA."""
    followups = tuple(f for f in [hotline.proactive_call(contact, contact.at, config)] if f)
    return contact_decision(ROLE, contact, config, followups=followups)


def reject_followups(
    contact: ContactFacts, now: datetime, config: RoutingConfig
) -> tuple[Followup, ...]:
    """Rejecting a refund of a buyer already showing risk: the hotline calls first, so the
    buyer hears the reason from a person before a dispute or a bad review."""
    if contact.risk is Risk.LOW:
        return ()
    due = hotline.outbound_allowed_at(now, config)
    rule = SPEC.escalation("reject_with_risk")
    return (Followup(rule.to_role, "proactive_call", due, rule.note),)
