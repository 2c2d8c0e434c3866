"""Per-shop routing configuration: defaults, merging a shop's overrides, errors by key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from csdesk.roles.config import (
    ClockTime,
    ConfigError,
    DeadlineStep,
    RoutingConfig,
    build_triage_rules,
)
from csdesk.roles.triage import default_rules


def lookup(config: object, path: str) -> Any:
    """``a.b.c`` through attributes and mappings (mapping keys matched by their value)."""
    value: Any = config
    for part in path.split("."):
        if isinstance(value, Mapping):
            matches = [v for k, v in value.items() if str(getattr(k, "value", k)) == part]
            assert matches, f"{part} not in {list(value)}"
            value = matches[0]
        else:
            value = getattr(value, part)
    return value


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("timezone", "Asia/Shanghai"),
        ("sla.first_response_s.presales", 30),
        ("sla.first_response_s.refund", 30),
        ("sla.first_response_s.hotline", 20),
        ("sla.response_rate_window_s", 180),
        ("sla.counted_from", ClockTime(8 * 60)),
        ("sla.counted_until", ClockTime(24 * 60)),
        ("payment_chasing.delay_s", 15 * 60),
        ("payment_chasing.max_attempts", 3),
        ("payment_chasing.window_s", 24 * 3600),
        ("payment_chasing.quiet_start", ClockTime(22 * 60)),
        ("payment_chasing.quiet_end", ClockTime(8 * 60)),
        ("payment_chasing.big_order_fen", 200_000),
        ("refund.unshipped_deadline_s", 24 * 3600),
        ("refund.shipped_deadline_s", 5 * 24 * 3600),
        ("order_review.duplicate_window_s", 30 * 60),
        ("intent_roles.refund", "refund"),
        ("intent_roles.howto", "presales"),
        ("intent_roles.complaint", "aftersales_triage"),
        ("intent_roles.callback", "hotline"),
        ("scoring.tier_points.88vip", 8.0),
        ("scoring.promotions.double11.role_points.refund", 10.0),
    ],
)
def test_defaults(path: str, expected: object) -> None:
    assert lookup(RoutingConfig(), path) == expected


def test_no_overrides_is_the_default() -> None:
    assert RoutingConfig.from_overrides({}) == RoutingConfig()
    assert RoutingConfig.from_overrides(None) == RoutingConfig()
    assert RoutingConfig.from_overrides({}).triage is default_rules()


@pytest.mark.parametrize(
    ("overrides", "path", "expected"),
    [
        ({"payment_chasing": {"delay_s": 300}}, "payment_chasing.delay_s", 300),
        ({"payment_chasing": {"delay_s": 300}}, "payment_chasing.max_attempts", 3),
        (
            {"payment_chasing": {"quiet_start": "23:30"}},
            "payment_chasing.quiet_start",
            ClockTime(23 * 60 + 30),
        ),
        ({"sla": {"first_response_s": {"presales": 20}}}, "sla.first_response_s.presales", 20),
        ({"sla": {"first_response_s": {"presales": 20}}}, "sla.first_response_s.hotline", 20),
        ({"sla": {"first_response_s": {"presales": 20}}}, "sla.first_response_s.refund", 30),
        ({"scoring": {"tier_points": {"vip": 6}}}, "scoring.tier_points.vip", 6.0),
        ({"scoring": {"tier_points": {"vip": 6}}}, "scoring.tier_points.88vip", 8.0),
        ({"scoring": {"aging_points_per_minute": 1}}, "scoring.aging_weight_per_s", 1 / 60),
        (
            {"scoring": {"promotions": {"blackfriday": {"role_points": {"refund": 3}}}}},
            "scoring.promotions.blackfriday.role_points.refund",
            3.0,
        ),
        (
            {"scoring": {"promotions": {"double11": {"role_points": {"hotline": 2}}}}},
            "scoring.promotions.double11.role_points.refund",
            10.0,
        ),
        (
            {"scoring": {"deadline_steps": [{"within_s": 0, "points": 9}]}},
            "scoring.deadline_steps",
            (DeadlineStep(0, 9.0),),
        ),
        ({"refund": {"shipped_deadline_s": 7 * 86400}}, "refund.shipped_deadline_s", 7 * 86400),
        (
            {"intent_roles": {"howto": "aftersales_triage"}},
            "intent_roles.howto",
            "aftersales_triage",
        ),
        (
            {"intent_roles": {"howto": "aftersales_triage"}},
            "triage.intent_roles.howto",
            "aftersales_triage",
        ),
        ({"timezone": "Asia/Urumqi"}, "tz.key", "Asia/Urumqi"),
        ({"triage": {"min_weight": 2}}, "triage.min_weight", 2.0),
    ],
)
def test_overrides_merge(overrides: dict[str, Any], path: str, expected: object) -> None:
    assert lookup(RoutingConfig.from_overrides(overrides), path) == expected


def test_overrides_do_not_leak_into_defaults() -> None:
    RoutingConfig.from_overrides({"scoring": {"tier_points": {"vip": 99}}})
    assert RoutingConfig().scoring.tier_points[lookup_key("vip")] == 5.0


def lookup_key(value: str) -> Any:
    return next(k for k in RoutingConfig().scoring.tier_points if k.value == value)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"payment_chasing": {"dely_s": 1}}, "payment_chasing.dely_s"),
        ({"payment_chasing": {"delay_s": "abc"}}, "payment_chasing.delay_s"),
        ({"payment_chasing": {"delay_s": True}}, "payment_chasing.delay_s"),
        ({"payment_chasing": {"delay_s": -1}}, "payment_chasing.delay_s"),
        ({"payment_chasing": {"max_attempts": 2.5}}, "payment_chasing.max_attempts"),
        ({"payment_chasing": {"quiet_start": "22h"}}, "payment_chasing.quiet_start"),
        ({"payment_chasing": "x"}, "payment_chasing"),
        ({"sla": {"counted_from": "25:00"}}, "sla.counted_from"),
        ({"sla": {"counted_from": "23:00", "counted_until": "08:00"}}, "sla.counted_until"),
        ({"sla": {"first_response_s": {"sales": 10}}}, "sla.first_response_s.sales"),
        ({"sla": {"first_response_s": {"presales": 0}}}, "sla.first_response_s.presales"),
        ({"scoring": {"tier_points": {"vipp": 1}}}, "scoring.tier_points.vipp"),
        ({"scoring": {"risk_points": {"high": "a lot"}}}, "scoring.risk_points.high"),
        ({"scoring": {"aging_points_per_minute": 0}}, "scoring.aging_points_per_minute"),
        ({"scoring": {"value_steps": [{"min_fen": 5}]}}, "scoring.value_steps[0].points"),
        (
            {
                "scoring": {
                    "deadline_steps": [{"within_s": 0, "points": 1}, {"within_s": 9, "points": 5}]
                }
            },
            "scoring.deadline_steps",
        ),
        (
            {"scoring": {"promotions": {"x": {"role_points": {"refund": -1}}}}},
            "scoring.promotions.x.role_points.refund",
        ),
        ({"intent_roles": {"refund": "finance"}}, "intent_roles.refund"),
        ({"intent_roles": {"shopping": "presales"}}, "intent_roles.shopping"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        (
            {"triage": {"phrases": {"x": {"intent": "nope", "weight": 1}}}},
            "triage.phrases.x.intent",
        ),
        ({"triage": {"phrases": {"x": {"intent": "refund"}}}}, "triage.phrases.x.weight"),
        ({"triage": {"phrases": {"x": {"weight": 1}}}}, "triage.phrases.x"),
        ({"triage": {"phrases": {"没这个词": None}}}, "triage.phrases.没这个词"),
        ({"triage": {"phrases": {"退款": {"weight": -2}}}}, "triage.phrases.退款.weight"),
        ({"triage": {"phrases": {"退款": {"colour": "red"}}}}, "triage.phrases.退款.colour"),
        (
            {"triage": {"phrases": {"\u200d": {"intent": "refund", "weight": 1}}}},
            "triage.phrases.\u200d",
        ),
        ({"triage": {"precedence": ["refund"]}}, "triage.precedence"),
        ({"triage": {"intent_roles": {}}}, "triage.intent_roles"),
        ({"triage": {"proactive_call_risk": "extreme"}}, "triage.proactive_call_risk"),
        ({"triage": []}, "triage"),
        ({"nonsense": 1}, "nonsense"),
    ],
)
def test_errors_name_the_bad_key(overrides: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        RoutingConfig.from_overrides(overrides)
    assert info.value.key == key, str(info.value)
    assert str(info.value).startswith(f"{key}: ")


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("00:00", 0), ("08:00", 480), ("22:30", 1350), ("24:00", 1440), ("7:05", 425)],
)
def test_clock_time_parse(text: str, minutes: int) -> None:
    assert ClockTime.parse(text) == ClockTime(minutes)


@pytest.mark.parametrize("text", ["", "8", "08:60", "24:01", "-1:00", "ab:cd", "08:5"])
def test_clock_time_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        ClockTime.parse(text)


def test_clock_time_prints_as_hh_mm() -> None:
    assert str(ClockTime(8 * 60 + 5)) == "08:05"


def test_triage_phrase_edits_keep_other_defaults() -> None:
    rules = build_triage_rules({"phrases": {"退款": {"weight": 4}, "tk": None}})
    by_phrase = {r.phrase: r for r in rules.phrases}
    assert by_phrase["退款"].weight == 4.0
    assert by_phrase["退款"].intent is not None
    assert "tk" not in by_phrase
    assert by_phrase["退货"] == {r.phrase: r for r in default_rules().phrases}["退货"]
