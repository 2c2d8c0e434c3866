"""热线 (hotline): inbound 400 calls and outbound calls (seeds/003 呼叫).

Outbound work, in the seed's order: phone chases of big unpaid orders (scripted, polite,
never pushy), proactive calls to buyers showing complaint intent, and bulk notices (a
双十一 presale that cannot ship within 7 days). Outbound calls respect quiet hours; an
inbound call must be answered within the hotline SLA (default 20 s).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from csdesk.clock import require_aware
from csdesk.roles.base import (
    BuyerFacts,
    ContactFacts,
    Decision,
    EscalationRule,
    Followup,
    Intent,
    OrderFacts,
    Risk,
    RoleSpec,
    ScoreFacts,
    ScoreReason,
    next_allowed_at,
    sla_for,
    static_score,
)
from csdesk.roles.config import RoutingConfig
from csdesk.storage.enums import Channel, ServiceRole

ROLE = ServiceRole.HOTLINE

SPEC = RoleSpec(
    key=ROLE,
    title_zh="热线 (接待 + 呼出)",
    supervisor_zh="热线主管",
    channels=frozenset({Channel.HOTLINE}),
    escalations=(
        EscalationRule(
            "refund_request_on_call", ServiceRole.REFUND, note="来电要求退款: 交退款审核"
        ),
        EscalationRule(
            "aftersales_problem_on_call",
            ServiceRole.AFTERSALES_TRIAGE,
            feedback=True,
            note="来电售后问题: 交售后接待, 结果回告热线",
        ),
    ),
    kpis=("answer_rate", "phone_chase_paid", "complaints_defused", "notice_reach"),
)

_CHASE_SCRIPT = (
    "您好，非常抱歉，打扰您了，我这边是{shop}的客服，我看您拍了{item}，"
    "不知道您对这个订单需要了解一些什么内容？"
)


def phone_chase_script(shop: str, item: str) -> str:
    """The polite phone-chase opening of seeds/003: an offer to help, never pressure."""
    return _CHASE_SCRIPT.format(shop=shop, item=item)


def outbound_allowed_at(at: datetime, config: RoutingConfig) -> datetime:
    """``at``, or the end of the outbound quiet hours it falls in."""
    hc = config.hotline
    return next_allowed_at(at, hc.outbound_quiet_start, hc.outbound_quiet_end, config.tz)


def _facts(
    buyer: BuyerFacts,
    *,
    intent: Intent | None = None,
    risk: Risk = Risk.LOW,
    order: OrderFacts | None = None,
    promotion: str | None = None,
) -> ScoreFacts:
    return ScoreFacts(
        role=ROLE,
        intent=intent,
        risk=risk,
        order_amount_fen=order.amount_fen if order else None,
        buyer_tier=buyer.tier,
        promotion=promotion,
    )


def _contact_facts(contact: ContactFacts) -> ScoreFacts:
    return _facts(
        contact.buyer,
        intent=contact.intent,
        risk=contact.risk,
        order=contact.order,
        promotion=contact.promotion,
    )


def intake_call(call: ContactFacts, config: RoutingConfig) -> Decision:
    """An inbound call: answer within the hotline SLA; hint the hand-over by intent."""
    escalation = None
    if call.intent is Intent.REFUND:
        escalation = SPEC.escalation("refund_request_on_call")
    elif call.intent in (Intent.QUALITY, Intent.EXCHANGE, Intent.LOGISTICS):
        escalation = SPEC.escalation("aftersales_problem_on_call")
    return Decision(
        role=ROLE,
        kind="call",
        score=static_score(_contact_facts(call), config),
        due_at=sla_for(ROLE, config).first_response_due(call.at),
        escalation=escalation,
        followups=tuple(f for f in [proactive_call(call, call.at, config)] if f),
    )


def intake_callback(contact: ContactFacts, now: datetime, config: RoutingConfig) -> Decision:
    """A chat asking for a call (intent ``callback``): an outbound call, at an allowed hour."""
    return Decision(
        role=ROLE,
        kind="callback",
        score=static_score(_contact_facts(contact), config),
        due_at=outbound_allowed_at(now, config),
    )


def proactive_call(contact: ContactFacts, now: datetime, config: RoutingConfig) -> Followup | None:
    """A complaint-risk buyer gets a proactive, friendly call (seeds/003 呼叫 二): fewer
    refund disputes and complaints. Risk threshold: ``triage.proactive_call_risk``."""
    if contact.risk.rank < config.triage.proactive_call_risk.rank:
        return None
    if contact.channel is Channel.HOTLINE:
        return None  # the buyer is on the phone already
    due = require_aware(now) + timedelta(seconds=config.hotline.proactive_call_delay_s)
    return Followup(
        role=ROLE,
        kind="proactive_call",
        due_at=outbound_allowed_at(due, config),
        reason=f"投诉风险{contact.risk.value}: 主动致电安抚",
    )


def proactive_call_task(
    contact: ContactFacts, followup: Followup, config: RoutingConfig
) -> Decision:
    """The hotline queue item for a proactive call follow-up."""
    return Decision(
        role=ROLE,
        kind="proactive_call",
        score=static_score(_contact_facts(contact), config),
        due_at=followup.due_at,
    )


def phone_chase_task(
    order: OrderFacts,
    buyer: BuyerFacts,
    due_at: datetime,
    config: RoutingConfig,
    promotion: str | None = None,
) -> Decision:
    """A big unpaid order chased by phone (handed over by payment_chasing)."""
    return Decision(
        role=ROLE,
        kind="phone_chase",
        score=static_score(_facts(buyer, order=order, promotion=promotion), config),
        due_at=outbound_allowed_at(due_at, config),
        notes=("话术: 礼貌询问, 不催促 (seeds/003)",),
    )


def notice_calls(
    orders: Iterable[tuple[OrderFacts, BuyerFacts]],
    reason: str,
    now: datetime,
    config: RoutingConfig,
) -> tuple[Decision, ...]:
    """Bulk notice calls (e.g. a presale that cannot ship in time), one per order, at an
    allowed hour, bigger orders and better buyers first by score."""
    due = outbound_allowed_at(now, config)
    notice = ScoreReason("notice", 0.0, f"通知: {reason}")
    return tuple(
        Decision(
            role=ROLE,
            kind="notice_call",
            score=static_score(_facts(buyer, order=order), config).plus(notice),
            due_at=due,
            notes=(reason,),
        )
        for order, buyer in orders
    )
