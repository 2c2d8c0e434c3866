"""The alert rules (``csdesk/alerts/rules.py``): a shop's health and thresholds in, the
alerts out. One table per rule, worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csdesk.alerts.rules import (
    AlertKind,
    RoleHealth,
    Severity,
    ShopHealth,
    ThresholdError,
    Thresholds,
    WaitingBuyer,
    evaluate,
)

NOW = datetime(2026, 11, 11, 13, 0, tzinfo=UTC)
OFF = {
    "queue_depth": 0,
    "queue_wait_s": 0,
    "refund_due_count": 0,
    "agent_silent_s": 0,
    "staffing_short": 0,
}


def role(
    name: str = "presales", queued: int = 0, wait: float = 0.0, on: int = 3, need: int = 3
) -> RoleHealth:
    return RoleHealth(name, queued, wait, on, need)


def only(**limits: Any) -> Thresholds:
    """Every rule off but those named."""
    return Thresholds.from_json({**OFF, **limits})


def keys(health: ShopHealth, limits: Thresholds) -> list[str]:
    return [a.key for a in evaluate(health, limits, NOW)]


@pytest.mark.parametrize(
    ("roles", "limits", "expected"),
    [
        ([role(queued=20)], only(queue_depth=20), []),  # at the threshold: not over it
        ([role(queued=21)], only(queue_depth=20), ["queue:presales"]),
        ([role(queued=21)], only(), []),  # rule off
        ([role(queued=0, wait=601)], only(queue_wait_s=600), ["queue:presales"]),
        ([role(queued=1, wait=600)], only(queue_wait_s=600), []),
        (
            [role("refund", queued=6), role("presales", queued=6)],
            only(queue_depth=20, queue_depth_by_role={"refund": 5}),
            ["queue:refund"],
        ),
        (
            [role("refund", queued=30), role("presales", queued=30)],
            only(queue_depth=20, queue_depth_by_role={"refund": 0}),
            ["queue:presales"],  # a role's own 0 switches its queue rule off
        ),
        ([role(need=5, on=3)], only(staffing_short=2), ["staffing:presales"]),
        ([role(need=5, on=4)], only(staffing_short=2), []),
        ([role(need=0, on=0)], only(staffing_short=1), []),
    ],
)
def test_queue_and_staffing(
    roles: list[RoleHealth], limits: Thresholds, expected: list[str]
) -> None:
    assert keys(ShopHealth(roles=tuple(roles)), limits) == expected


@pytest.mark.parametrize(
    ("due", "limit", "fires"),
    [(0, 1, False), (1, 1, True), (2, 3, False), (3, 3, True), (9, 0, False)],
)
def test_refunds_about_to_auto_approve(due: int, limit: int, fires: bool) -> None:
    health = ShopHealth(refunds_due=due, refunds_due_fen=12_345)
    alerts = evaluate(health, only(refund_due_count=limit), NOW)
    assert [a.key for a in alerts] == (["refund_due"] if fires else [])
    if fires:
        (alert,) = alerts
        assert alert.kind is AlertKind.REFUND_DUE
        assert alert.severity is Severity.CRITICAL
        assert f"{due} 笔退款" in alert.text
        assert "¥123.45" in alert.text
        assert alert.detail["amount"] == 123.45


def waiting(agent: int, seconds: int, item: int = 1, name: str = "小美") -> WaitingBuyer:
    return WaitingBuyer(agent, name, item, NOW - timedelta(seconds=seconds))


@pytest.mark.parametrize(
    ("buyers", "expected"),
    [
        ([waiting(7, 299)], []),
        ([waiting(7, 300)], ["agent_silent:7"]),
        ([waiting(7, 400, 1), waiting(7, 900, 2), waiting(8, 10, 3)], ["agent_silent:7"]),
        ([waiting(8, 301, 3), waiting(7, 301, 1)], ["agent_silent:7", "agent_silent:8"]),
    ],
)
def test_agent_silent(buyers: list[WaitingBuyer], expected: list[str]) -> None:
    health = ShopHealth(waiting=tuple(buyers))
    assert keys(health, only(agent_silent_s=300)) == expected


def test_agent_silent_names_the_longest_wait_and_how_many() -> None:
    health = ShopHealth(waiting=(waiting(7, 400, 1), waiting(7, 900, 2)))
    (alert,) = evaluate(health, only(agent_silent_s=300), NOW)
    assert alert.detail["conversation_id"] == 2
    assert alert.detail["waiting"] == 2
    assert alert.detail["silent_s"] == 900
    assert "小美 有 2 位买家在等回复" in alert.text
    assert "15分钟" in alert.text


def test_severity_doubles_into_critical() -> None:
    limits = only(queue_depth=10)
    (warning,) = evaluate(ShopHealth(roles=(role(queued=15),)), limits, NOW)
    (critical,) = evaluate(ShopHealth(roles=(role(queued=21),)), limits, NOW)
    assert (warning.severity, critical.severity) == (Severity.WARNING, Severity.CRITICAL)
    assert "售前接待队列 21 条排队（阈值 10）" in critical.text


def test_every_rule_at_once_in_a_fixed_order() -> None:
    health = ShopHealth(
        roles=(role("refund", queued=50, on=0, need=4), role("presales", queued=30)),
        refunds_due=2,
        waiting=(waiting(3, 1000),),
    )
    assert keys(health, Thresholds()) == [
        "queue:presales",
        "queue:refund",
        "refund_due",
        "agent_silent:3",
        "staffing:refund",
    ]


def test_defaults() -> None:
    assert Thresholds.from_json(None) == Thresholds.from_json({}) == Thresholds()
    assert Thresholds().to_json() == {
        "queue_depth": 20,
        "queue_wait_s": 600,
        "refund_due_count": 1,
        "agent_silent_s": 300,
        "staffing_short": 1,
        "queue_depth_by_role": {},
    }
    assert Thresholds.from_json(Thresholds().to_json()) == Thresholds()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([], "thresholds"),
        ({"queue_depht": 3}, "queue_depht"),
        ({"queue_depth": -1}, "queue_depth"),
        ({"queue_depth": "20"}, "queue_depth"),
        ({"queue_depth": 2.5}, "queue_depth"),
        ({"queue_wait_s": True}, "queue_wait_s"),
        ({"agent_silent_s": 10**9}, "agent_silent_s"),
        ({"queue_depth_by_role": {"finance": 3}}, "queue_depth_by_role.finance"),
        ({"queue_depth_by_role": {"refund": -3}}, "queue_depth_by_role.refund"),
        ({"queue_depth_by_role": [1]}, "queue_depth_by_role"),
    ],
)
def test_bad_thresholds_are_named(raw: Any, field: str) -> None:
    with pytest.raises(ThresholdError) as caught:
        Thresholds.from_json(raw)
    assert caught.value.field == field
