"""售前接待 (presales): daily selling and questions (seeds/003 售前 2).

Presales also answers *simple* after-sales questions (how to install, how to power on)
with quick replies, so after-sales staff stay free for refunds. Real after-sales problems
are escalated to aftersales_triage (问题升级机制) and the outcome comes back to the presales
agent who owns the buyer (信息反馈机制), so the buyer hears it from a familiar agent.
"""

from __future__ import annotations

import dataclasses

from csdesk.roles import aftersales_triage, hotline
from csdesk.roles.base import (
    AFTERSALES_INTENTS,
    ContactFacts,
    Decision,
    EscalationRule,
    Intent,
    RoleSpec,
    ScoreFacts,
    ScoreReason,
    sla_for,
    static_score,
)
from csdesk.roles.config import RoutingConfig
from csdesk.storage.enums import Channel, ServiceRole

ROLE = ServiceRole.PRESALES

ANSWERS = frozenset({Intent.PRESALE, Intent.HOWTO, Intent.OTHER})

SPEC = RoleSpec(
    key=ROLE,
    title_zh="售前接待",
    supervisor_zh="售前主管",
    channels=frozenset({Channel.CHAT}),
    escalations=(
        EscalationRule(
            "aftersales_problem",
            ServiceRole.AFTERSALES_TRIAGE,
            feedback=True,
            note="售后问题升级给售后接待, 处理结果反馈回售前",
        ),
    ),
    kpis=("sales", "conversion_rate", "target_completion"),
)


def intake(contact: ContactFacts, config: RoutingConfig) -> Decision:
    """A buyer chat presales received: answer it, or escalate an after-sales problem."""
    if contact.intent in AFTERSALES_INTENTS:
        decision = aftersales_triage.intake(
            dataclasses.replace(contact, escalated_from=ROLE), config
        )
        hop = SPEC.escalation("aftersales_problem")
        notes = decision.notes
        if decision.escalation is not None:  # triage passes it on again (e.g. to refund)
            notes = (*notes, decision.escalation.note)
        return dataclasses.replace(decision, escalation=hop, notes=notes)
    extras: tuple[ScoreReason, ...] = ()
    points = config.scoring.first_contact_points
    if contact.first_contact and contact.intent is Intent.PRESALE and points:
        extras = (ScoreReason("first_contact", points, f"新客询单: 转化机会 +{points:g}"),)
    facts = ScoreFacts(
        role=ROLE,
        intent=contact.intent,
        risk=contact.risk,
        order_amount_fen=contact.order.amount_fen if contact.order else None,
        buyer_tier=contact.buyer.tier,
        promotion=contact.promotion,
        extras=extras,
    )
    return Decision(
        role=ROLE,
        kind="chat",
        score=static_score(facts, config),
        due_at=sla_for(ROLE, config).first_response_due(contact.at),
        followups=tuple(f for f in [hotline.proactive_call(contact, contact.at, config)] if f),
    )
