"""Short messages without evidence: the model alone must not raise a high-risk alarm on a
content-free message (第二条), and short real threats stay high (docs/triage.md)."""

from __future__ import annotations

import math

import pytest

from csdesk.roles.classifier.model import shipped_model
from csdesk.roles.config import ConfigError, build_triage_rules
from csdesk.roles.triage import (
    MODEL_ALARM_MIN_EVIDENCE,
    Intent,
    Risk,
    classify,
    default_rules,
)

# The margin cross-validation on the training split recommends when the check is on.
EVIDENCE_CHECK = {"model_alarm_min_evidence": 1.0}

NEUTRAL_SHORT = ["第一条", "第二条", "二楼", "第三个", "1", "好", "收到", "嗯嗯", "ok", "在不在"]
SHORT_THREATS = ["我要投诉", "12315见", "骗子", "垃圾店"]


@pytest.mark.parametrize("text", NEUTRAL_SHORT)
def test_neutral_short_messages_stay_low_with_the_evidence_check(text: str) -> None:
    result = classify(text, build_triage_rules(EVIDENCE_CHECK))
    assert result.risk is Risk.LOW, result.reasons
    assert result.intent is not Intent.COMPLAINT
    assert not result.proactive_call


@pytest.mark.parametrize("text", SHORT_THREATS)
@pytest.mark.parametrize("check", [True, False])
def test_short_threats_stay_high(text: str, check: bool) -> None:
    rules = build_triage_rules(EVIDENCE_CHECK) if check else default_rules()
    result = classify(text, rules)
    assert result.risk is Risk.HIGH, result.reasons
    assert result.proactive_call


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("第二条", "model complaint ignored: short text"),
        ("第二条", "model risk high ignored"),
        ("第一条", "model complaint ignored: short text"),
    ],
)
def test_the_reasons_say_why_the_model_was_ignored(text: str, reason: str) -> None:
    result = classify(text, build_triage_rules(EVIDENCE_CHECK))
    assert any(r.startswith(reason) for r in result.reasons), result.reasons


def test_long_messages_are_not_checked() -> None:
    # 什么破玩意儿 has five units or more: the check is for very short texts only.
    rules = build_triage_rules({**EVIDENCE_CHECK, "model_alarm_short_units": 3})
    assert classify("你们这是什么破玩意儿", rules).risk is Risk.HIGH


def test_a_longer_short_window_checks_more() -> None:
    # With no short window at all nothing is checked: 第二条 is the model's complaint again.
    rules = build_triage_rules({**EVIDENCE_CHECK, "model_alarm_short_units": 0})
    assert classify("第二条", rules).intent is Intent.COMPLAINT


def test_the_check_is_off_by_default_until_the_lead_decides() -> None:
    # Turning it on lowers held-out high-risk recall (docs/triage.md): a shop setting.
    assert MODEL_ALARM_MIN_EVIDENCE < 0
    assert default_rules().model_alarm_min_evidence < 0


def test_prediction_margins_exclude_rule_features_and_single_units() -> None:
    model = shipped_model()
    bare = model.predict("第二条", ["§rule:other", "§rule-risk:low"])
    assert bare.units == 3
    assert bare.intent_text_margin < 1.0  # 二, 条 alone lean toward complaint; not counted
    strong = model.predict("我要投诉你们", ["§rule:complaint", "§rule-risk:high"])
    assert strong.high_text_margin > 1.0
    assert math.isfinite(strong.intent_text_margin)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"model_alarm_min_evidence": math.inf}, "triage.model_alarm_min_evidence"),
        ({"model_alarm_short_units": -1}, "triage.model_alarm_short_units"),
    ],
)
def test_bad_settings_are_named(overrides: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        build_triage_rules(overrides)
