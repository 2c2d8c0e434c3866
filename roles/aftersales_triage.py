"""售后接待 (after-sales triage): screens post-purchase chats by importance (seeds/003).

Buyers who just bought ask after-sales questions by habit, and during 双十一 they flood in.
Triage separates the buyer who wants a refund from the one asking how to install: refunds
go to refund staff *at once*, simple how-to questions bounce to presales (who answer them
with quick replies), the rest (logistics, exchange, quality, complaints) stay here ordered
by priority. Complaint-risk buyers also get a proactive hotline call. Items escalated by
presales report their outcome back (信息反馈机制).
"""

from __future__ import annotations

from datetime import datetime

from csdesk.roles import hotline
from csdesk.roles.base import (
    ContactFacts,
    Decision,
    EscalationRule,
    Followup,
    Intent,
    RoleSpec,
    ScoreFacts,
    ScoreReason,
    sla_for,
    static_score,
)
from csdesk.roles.config import RoutingConfig
from csdesk.storage.enums import Channel, ServiceRole

ROLE = ServiceRole.AFTERSALES_TRIAGE

KEEP = frozenset({Intent.LOGISTICS, Intent.EXCHANGE, Intent.QUALITY, Intent.COMPLAINT})

SPEC = RoleSpec(
    key=ROLE,
    title_zh="售后接待",
    supervisor_zh="售后主管",
    channels=frozenset({Channel.CHAT}),
    escalations=(
        EscalationRule("refund_request", ServiceRole.REFUND, note="退款请求: 立即交退款审核"),
        EscalationRule("simple_howto", ServiceRole.PRESALES, note="简单使用问题: 交售前快捷回复"),
        EscalationRule("callback_request", ServiceRole.HOTLINE, note="买家要求来电: 交热线"),
        EscalationRule("complaint_risk", ServiceRole.HOTLINE, note="投诉风险高: 热线主动致电"),
    ),
    kpis=("satisfaction", "resolution_speed", "complaint_handling_rate", "callback_completion"),
)


def route(
    contact: ContactFacts, config: RoutingConfig
) -> tuple[ServiceRole, EscalationRule | None]:
    """Who handles this after-sales contact, and by which escalation rule."""
    if contact.intent is Intent.REFUND:
        return ServiceRole.REFUND, SPEC.escalation("refund_request")
    if contact.intent is Intent.HOWTO:
        return ServiceRole.PRESALES, SPEC.escalation("simple_howto")
    if contact.intent is Intent.CALLBACK:
        return ServiceRole.HOTLINE, SPEC.escalation("callback_request")
    if contact.intent in KEEP:
        return ROLE, None
    # Pre-sales, payment, address or invoice questions reached triage by habit: the
    # shop's intent map decides (order_review for an address change, ...).
    return config.role_for(contact.intent), None


def extras(contact: ContactFacts, config: RoutingConfig) -> tuple[ScoreReason, ...]:
    """Triage's own importance signals: a buyer asking again is losing patience."""
    if contact.prior_contacts_24h <= 0:
        return ()
    points = config.scoring.repeat_contact_points * contact.prior_contacts_24h
    return (
        ScoreReason(
            "repeat_contact",
            points,
            f"24小时内第 {contact.prior_contacts_24h + 1} 次咨询 +{points:g}",
        ),
    )


def intake(contact: ContactFacts, config: RoutingConfig) -> Decision:
    """A post-purchase contact → the role that handles it, scored, with follow-ups."""
    role, escalation = route(contact, config)
    facts = ScoreFacts(
        role=role,
        intent=contact.intent,
        risk=contact.risk,
        order_amount_fen=contact.order.amount_fen if contact.order else None,
        buyer_tier=contact.buyer.tier,
        promotion=contact.promotion,
        extras=extras(contact, config),
    )
    followups = tuple(f for f in [hotline.proactive_call(contact, contact.at, config)] if f)
    notes: tuple[str, ...] = ()
    if contact.escalated_from is not None:
        notes = (f"处理结果需反馈给 {contact.escalated_from.value}",)
    return Decision(
        role=role,
        kind="chat",
        score=static_score(facts, config),
        due_at=sla_for(role, config).first_response_due(contact.at),
        escalation=escalation,
        followups=followups,
        notes=notes,
    )


def feedback(contact: ContactFacts, resolved_at: datetime, outcome: str) -> Followup | None:
    """信息反馈: the outcome of an escalated contact goes back to the role that sent it."""
    if contact.escalated_from is None:
        return None
    return Followup(contact.escalated_from, "feedback", resolved_at, f"售后处理结果: {outcome}")
