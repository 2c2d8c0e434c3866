"""Presales, after-sales triage and hotline intake: routing, escalation, feedback, SLA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csdesk.roles import aftersales_triage, hotline, presales
from csdesk.roles.base import BuyerFacts, ContactFacts, Intent, OrderFacts, Risk
from csdesk.roles.config import RoutingConfig
from csdesk.storage.enums import BuyerTier, Channel, OrderStatus, ServiceRole

CONFIG = RoutingConfig()
NOON = datetime(2024, 11, 11, 4, 0, tzinfo=UTC)  # 12:00 Shanghai
LATE = datetime(2024, 11, 11, 15, 30, tzinfo=UTC)  # 23:30 Shanghai
MORNING = datetime(2024, 11, 12, 0, 0, tzinfo=UTC)  # 08:00 Shanghai next day
ORDER = OrderFacts(1, 7, OrderStatus.RECEIVED, 59_900, NOON - timedelta(days=3))


def contact(
    intent: Intent,
    risk: Risk = Risk.LOW,
    *,
    at: datetime = NOON,
    channel: Channel = Channel.CHAT,
    **more: object,
) -> ContactFacts:
    return ContactFacts(channel, intent, risk, at, BuyerFacts(7, BuyerTier.NORMAL), **more)  # type: ignore[arg-type]


# --- presales -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "role", "escalated"),
    [
        (Intent.PRESALE, ServiceRole.PRESALES, False),
        (Intent.HOWTO, ServiceRole.PRESALES, False),
        (Intent.OTHER, ServiceRole.PRESALES, False),
        (Intent.QUALITY, ServiceRole.AFTERSALES_TRIAGE, True),
        (Intent.LOGISTICS, ServiceRole.AFTERSALES_TRIAGE, True),
        (Intent.COMPLAINT, ServiceRole.AFTERSALES_TRIAGE, True),
        (Intent.REFUND, ServiceRole.REFUND, True),  # triage passes it on again, at once
    ],
)
def test_presales_intake(intent: Intent, role: ServiceRole, escalated: bool) -> None:
    decision = presales.intake(contact(intent), CONFIG)
    assert decision.role is role
    assert decision.due_at == NOON + timedelta(seconds=30)
    if escalated:
        assert decision.escalation is not None
        assert decision.escalation.to_role is ServiceRole.AFTERSALES_TRIAGE
        assert decision.escalation.feedback is True
        assert "处理结果需反馈给 presales" in decision.notes
    else:
        assert decision.escalation is None


def test_presales_first_contact_is_a_conversion_chance() -> None:
    plain = presales.intake(contact(Intent.PRESALE), CONFIG).score.points
    first = presales.intake(contact(Intent.PRESALE, first_contact=True), CONFIG).score.points
    assert first == plain + 3


# --- after-sales triage ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "role", "rule"),
    [
        (Intent.REFUND, ServiceRole.REFUND, "refund_request"),
        (Intent.HOWTO, ServiceRole.PRESALES, "simple_howto"),
        (Intent.CALLBACK, ServiceRole.HOTLINE, "callback_request"),
        (Intent.LOGISTICS, ServiceRole.AFTERSALES_TRIAGE, None),
        (Intent.EXCHANGE, ServiceRole.AFTERSALES_TRIAGE, None),
        (Intent.QUALITY, ServiceRole.AFTERSALES_TRIAGE, None),
        (Intent.COMPLAINT, ServiceRole.AFTERSALES_TRIAGE, None),
        (Intent.ADDRESS_CHANGE, ServiceRole.ORDER_REVIEW, None),
        (Intent.PAYMENT, ServiceRole.PAYMENT_CHASING, None),
        (Intent.PRESALE, ServiceRole.PRESALES, None),
    ],
)
def test_triage_route(intent: Intent, role: ServiceRole, rule: str | None) -> None:
    got_role, escalation = aftersales_triage.route(contact(intent), CONFIG)
    assert got_role is role
    assert (escalation.when if escalation else None) == rule


def test_triage_route_follows_the_shop_intent_map() -> None:
    shop = RoutingConfig.from_overrides({"intent_roles": {"address_change": "aftersales_triage"}})
    assert (
        aftersales_triage.route(contact(Intent.ADDRESS_CHANGE), shop)[0]
        is ServiceRole.AFTERSALES_TRIAGE
    )


def test_refund_outranks_howto() -> None:
    refund = aftersales_triage.intake(contact(Intent.REFUND, order=ORDER), CONFIG)
    howto = aftersales_triage.intake(contact(Intent.HOWTO, order=ORDER), CONFIG)
    assert refund.score.points > howto.score.points


@pytest.mark.parametrize(("prior", "points"), [(0, None), (1, 3.0), (2, 6.0)])
def test_repeat_contacts_raise_priority(prior: int, points: float | None) -> None:
    decision = aftersales_triage.intake(contact(Intent.LOGISTICS, prior_contacts_24h=prior), CONFIG)
    got = {r.factor: r.points for r in decision.score.reasons}.get("repeat_contact")
    assert got == points


@pytest.mark.parametrize(
    ("risk", "at", "due"),
    [
        (Risk.LOW, NOON, None),
        (Risk.MEDIUM, NOON, None),
        (Risk.HIGH, NOON, NOON),
        (Risk.HIGH, LATE, MORNING),  # no calls at 23:30: 08:00 the next morning
    ],
)
def test_complaint_risk_gets_a_proactive_call(
    risk: Risk, at: datetime, due: datetime | None
) -> None:
    decision = aftersales_triage.intake(contact(Intent.COMPLAINT, risk, at=at), CONFIG)
    calls = [f for f in decision.followups if f.kind == "proactive_call"]
    assert [f.due_at for f in calls] == ([] if due is None else [due])
    assert all(f.role is ServiceRole.HOTLINE for f in calls)


def test_feedback_goes_back_to_the_escalating_role() -> None:
    escalated = contact(Intent.QUALITY, escalated_from=ServiceRole.PRESALES)
    followup = aftersales_triage.feedback(escalated, NOON + timedelta(hours=1), "已补发")
    assert followup is not None
    assert (followup.role, followup.kind) == (ServiceRole.PRESALES, "feedback")
    assert "已补发" in followup.reason
    assert aftersales_triage.feedback(contact(Intent.QUALITY), NOON, "x") is None


# --- hotline ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "rule"),
    [
        (Intent.REFUND, "refund_request_on_call"),
        (Intent.QUALITY, "aftersales_problem_on_call"),
        (Intent.PRESALE, None),
    ],
)
def test_inbound_call(intent: Intent, rule: str | None) -> None:
    decision = hotline.intake_call(contact(intent, channel=Channel.HOTLINE), CONFIG)
    assert (decision.role, decision.kind) == (ServiceRole.HOTLINE, "call")
    assert decision.due_at == NOON + timedelta(seconds=20)  # answer within 20 s
    assert (decision.escalation.when if decision.escalation else None) == rule


def test_a_caller_is_not_called_back_proactively() -> None:
    decision = hotline.intake_call(
        contact(Intent.COMPLAINT, Risk.HIGH, channel=Channel.HOTLINE), CONFIG
    )
    assert decision.followups == ()


@pytest.mark.parametrize(("now", "due"), [(NOON, NOON), (LATE, MORNING)])
def test_callback_request_waits_for_daytime(now: datetime, due: datetime) -> None:
    assert hotline.intake_callback(contact(Intent.CALLBACK, at=now), now, CONFIG).due_at == due


def test_proactive_call_delay_is_shop_config() -> None:
    shop = RoutingConfig.from_overrides({"hotline": {"proactive_call_delay_s": 600}})
    followup = hotline.proactive_call(contact(Intent.COMPLAINT, Risk.HIGH), NOON, shop)
    assert followup is not None
    assert followup.due_at == NOON + timedelta(minutes=10)


def test_phone_chase_script_is_polite() -> None:
    script = hotline.phone_chase_script("某某旗舰店", "55寸电视")
    assert script.startswith("您好，非常抱歉，打扰您了")
    assert "某某旗舰店" in script
    assert "55寸电视" in script


def test_notice_calls_one_per_order_at_an_allowed_hour() -> None:
    orders = [(ORDER, BuyerFacts(7)), (ORDER, BuyerFacts(8, BuyerTier.VIP))]
    calls = hotline.notice_calls(orders, "预售延迟发货", LATE, CONFIG)
    assert [c.due_at for c in calls] == [MORNING, MORNING]
    assert calls[1].score.points == calls[0].score.points + 5


def test_role_extras_are_shop_config() -> None:
    shop = RoutingConfig.from_overrides(
        {"scoring": {"repeat_contact_points": 5, "first_contact_points": 0}}
    )
    repeat = aftersales_triage.intake(contact(Intent.LOGISTICS, prior_contacts_24h=2), shop)
    assert {r.factor: r.points for r in repeat.score.reasons}["repeat_contact"] == 10.0
    first = presales.intake(contact(Intent.PRESALE, first_contact=True), shop)
    assert "first_contact" not in {r.factor for r in first.score.reasons}
