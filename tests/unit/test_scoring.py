"""Priority score: factors and reasons, deadline steps, aging sort key, starvation bound."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdesk.roles.config import RoutingConfig
from csdesk.roles.scoring import (
    Score,
    ScoreFacts,
    ScoreReason,
    deadline_points,
    effective_score,
    explain,
    max_wait_s,
    next_deadline_change,
    score_bounds,
    sort_key,
    static_score,
)
from csdesk.roles.triage_rules import Intent, Risk
from csdesk.storage.enums import BuyerTier, ServiceRole

CONFIG = RoutingConfig()
T0 = datetime(2024, 11, 11, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai on 双十一


def factors(score: Score) -> dict[str, float]:
    return {r.factor: r.points for r in score.reasons}


@pytest.mark.parametrize(
    ("facts", "expected_points", "expected_factors"),
    [
        (
            ScoreFacts(role=ServiceRole.PRESALES, intent=Intent.HOWTO),
            10 + 2,
            {"role": 10.0, "intent": 2.0},
        ),
        (
            ScoreFacts(role=ServiceRole.REFUND, intent=Intent.REFUND, risk=Risk.MEDIUM),
            20 + 10 + 5,
            {"role": 20.0, "intent": 10.0, "risk": 5.0},
        ),
        (
            ScoreFacts(
                role=ServiceRole.AFTERSALES_TRIAGE,
                intent=Intent.COMPLAINT,
                risk=Risk.HIGH,
                order_amount_fen=239_900,
                buyer_tier=BuyerTier.VIP88,
            ),
            12 + 12 + 15 + 8 + 8,
            {"role": 12.0, "intent": 12.0, "risk": 15.0, "order_value": 8.0, "buyer_tier": 8.0},
        ),
        (
            ScoreFacts(role=ServiceRole.PAYMENT_CHASING, order_amount_fen=9_999),
            6,
            {"role": 6.0},
        ),
        (
            ScoreFacts(role=ServiceRole.PAYMENT_CHASING, order_amount_fen=10_000),
            6 + 1,
            {"role": 6.0, "order_value": 1.0},
        ),
        (
            ScoreFacts(role=ServiceRole.PAYMENT_CHASING, order_amount_fen=50_000),
            6 + 4,
            {"role": 6.0, "order_value": 4.0},
        ),
        (
            ScoreFacts(role=ServiceRole.REFUND, intent=Intent.REFUND, promotion="double11"),
            20 + 10 + 10,
            {"role": 20.0, "intent": 10.0, "promotion": 10.0},
        ),
        (
            ScoreFacts(role=ServiceRole.PRESALES, intent=Intent.PRESALE, promotion="double11"),
            10 + 4 + 6,
            {"role": 10.0, "intent": 4.0, "promotion": 6.0},
        ),
        (
            ScoreFacts(role=ServiceRole.ORDER_REVIEW, promotion="double11"),
            8,
            {"role": 8.0},
        ),
        (
            ScoreFacts(
                role=ServiceRole.ORDER_REVIEW,
                extras=tuple(ScoreReason(f"flag:{i}", 4.0, "flag") for i in range(5)),
            ),
            8 + 15,
            {"role": 8.0, "flag:0": 4.0, "extra_cap": -5.0},
        ),
    ],
)
def test_static_score(
    facts: ScoreFacts, expected_points: float, expected_factors: dict[str, float]
) -> None:
    score = static_score(facts, CONFIG)
    assert score.points == expected_points
    got = factors(score)
    assert {k: got[k] for k in expected_factors} == expected_factors
    assert score.points == sum(r.points for r in score.reasons)


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (ScoreFacts(role=ServiceRole.PRESALES, buyer_tier=BuyerTier.VIP), "VIP买家 +5"),
        (ScoreFacts(role=ServiceRole.PRESALES, buyer_tier=BuyerTier.VIP88), "88VIP买家 +8"),
        (ScoreFacts(role=ServiceRole.REFUND), "角色 退款 +20"),
        (ScoreFacts(role=ServiceRole.REFUND, risk=Risk.HIGH), "风险 高 +15"),
        (
            ScoreFacts(role=ServiceRole.REFUND, order_amount_fen=239_900),
            "订单金额 ¥2,399.00 ≥ ¥2,000.00 +8",
        ),
        (ScoreFacts(role=ServiceRole.REFUND, promotion="double11"), "大促 double11: 退款 +10"),
    ],
)
def test_reason_texts(facts: ScoreFacts, reason: str) -> None:
    assert reason in [r.reason for r in static_score(facts, CONFIG).reasons]


def test_reasons_serialize_to_the_queue_shape() -> None:
    doc = static_score(ScoreFacts(role=ServiceRole.REFUND), CONFIG).to_json()
    assert doc == [{"factor": "role", "points": 20.0, "reason": "角色 退款 +20"}]


def test_unknown_promotion_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown promotion 'black_friday'"):
        static_score(ScoreFacts(role=ServiceRole.REFUND, promotion="black_friday"), CONFIG)


def test_shop_weights_come_from_config() -> None:
    shop = RoutingConfig.from_overrides({"scoring": {"tier_points": {"vip": 7}}})
    facts = ScoreFacts(role=ServiceRole.PRESALES, buyer_tier=BuyerTier.VIP)
    assert static_score(facts, shop).points == static_score(facts, CONFIG).points + 2


@pytest.mark.parametrize(
    ("remaining", "points"),
    [
        (timedelta(days=3), None),
        (timedelta(hours=48, seconds=1), None),
        (timedelta(hours=48), 2.0),
        (timedelta(hours=24), 4.0),
        (timedelta(hours=11), 8.0),
        (timedelta(hours=5), 12.0),
        (timedelta(hours=2), 18.0),
        (timedelta(minutes=59), 25.0),
        (timedelta(seconds=1), 25.0),
        (timedelta(0), 30.0),
        (timedelta(hours=-3), 30.0),
    ],
)
def test_deadline_points_rise_as_the_deadline_nears(
    remaining: timedelta, points: float | None
) -> None:
    reason = deadline_points(T0 + remaining, T0, CONFIG)
    assert (reason.points if reason else None) == points


def test_deadline_points_none_without_deadline() -> None:
    assert deadline_points(None, T0, CONFIG) is None
    assert next_deadline_change(None, T0, CONFIG) is None


@pytest.mark.parametrize(
    ("remaining", "change_before_deadline"),
    [
        (timedelta(days=3), timedelta(hours=48)),
        (timedelta(hours=30), timedelta(hours=24)),
        (timedelta(hours=24), timedelta(hours=12)),  # at a boundary: the next one
        (timedelta(hours=2), timedelta(hours=1)),
        (timedelta(minutes=30), timedelta(0)),
        (timedelta(0), None),
        (timedelta(hours=-1), None),
    ],
)
def test_next_deadline_change(
    remaining: timedelta, change_before_deadline: timedelta | None
) -> None:
    deadline = T0 + remaining
    expected = None if change_before_deadline is None else deadline - change_before_deadline
    assert next_deadline_change(deadline, T0, CONFIG) == expected


def test_effective_score_is_static_plus_aging() -> None:
    w = CONFIG.scoring.aging_weight_per_s
    now = T0 + timedelta(minutes=10)
    assert effective_score(30.0, T0, now, CONFIG) == pytest.approx(30.0 + w * 600)
    assert effective_score(30.0, now, now, CONFIG) == pytest.approx(30.0)


def test_explain_adds_deadline_and_aging_reasons() -> None:
    static = static_score(ScoreFacts(role=ServiceRole.REFUND, intent=Intent.REFUND), CONFIG)
    full = explain(static, T0 + timedelta(hours=2), T0, T0 + timedelta(minutes=5), CONFIG)
    got = factors(full)
    assert got["deadline"] == 18.0
    assert got["aging"] == pytest.approx(10.0)
    assert "已等待 5分钟 +10" in [r.reason for r in full.reasons]


# --- properties ---------------------------------------------------------------------------

PROMOTIONS = [None, *sorted(CONFIG.scoring.promotions)]

facts_strategy = st.builds(
    ScoreFacts,
    role=st.sampled_from(list(ServiceRole)),
    intent=st.none() | st.sampled_from(list(Intent)),
    risk=st.sampled_from(list(Risk)),
    order_amount_fen=st.none() | st.integers(min_value=0, max_value=10**9),
    buyer_tier=st.sampled_from(list(BuyerTier)),
    promotion=st.sampled_from(PROMOTIONS),
    extras=st.lists(
        st.builds(
            ScoreReason,
            factor=st.just("extra"),
            points=st.floats(min_value=-20, max_value=20, allow_nan=False),
            reason=st.just("x"),
        ),
        max_size=4,
    ).map(tuple),
)
times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)


@given(facts_strategy)
def test_scores_are_deterministic(facts: ScoreFacts) -> None:
    first = static_score(facts, CONFIG)
    again = static_score(dataclasses.replace(facts), CONFIG)
    assert first == again
    assert first.points == sum(r.points for r in first.reasons)


@given(facts_strategy, st.none() | times, times)
def test_scores_stay_within_bounds(
    facts: ScoreFacts, deadline: datetime | None, now: datetime
) -> None:
    lo, hi = score_bounds(CONFIG)
    static = static_score(facts, CONFIG).points
    dl = deadline_points(deadline, now, CONFIG)
    keyed = static + (dl.points if dl else 0.0)
    assert lo - 1e-9 <= keyed <= hi + 1e-9


@given(
    low=facts_strategy,
    high=facts_strategy,
    enqueued=times,
    arrival_delay_s=st.floats(min_value=0, max_value=10 * 3600, allow_nan=False),
)
def test_waiting_time_bound_under_higher_priority_arrivals(
    low: ScoreFacts, high: ScoreFacts, enqueued: datetime, arrival_delay_s: float
) -> None:
    """An item at the lowest possible score, waiting longer than the bound, outranks any
    newly arriving item, even one at the highest possible score; before the bound, the
    highest-score newcomer still goes first, so the bound is tight."""
    lo, hi = score_bounds(CONFIG)
    bound = max_wait_s(CONFIG)
    assert bound == pytest.approx((hi - lo) / CONFIG.scoring.aging_weight_per_s)
    arrival = enqueued + timedelta(seconds=arrival_delay_s)
    old_key = sort_key(lo, enqueued, CONFIG)
    new_key = sort_key(hi, arrival, CONFIG)
    if arrival_delay_s > bound + 1e-3:
        assert old_key > new_key
    elif arrival_delay_s < bound - 1e-3:
        assert new_key > old_key
    # and for real items: anything the old item is at least as good as the lowest item
    old_real = sort_key(static_score(low, CONFIG).points, enqueued, CONFIG)
    new_real = sort_key(static_score(high, CONFIG).points, arrival, CONFIG)
    if arrival_delay_s > bound + 1e-3:
        assert old_real > new_real


def test_starvation_simulation() -> None:
    """One agent serves one item per tick while one top-score item arrives per tick (the
    agent is fully busy with urgent work): the lowest item still gets served within
    ``max_wait_s + tick``."""
    lo, hi = score_bounds(CONFIG)
    tick = timedelta(seconds=30)
    queue: list[tuple[float, int, datetime]] = [(sort_key(lo, T0, CONFIG), 0, T0)]
    served_at = None
    for n in range(1, 10_000):
        now = T0 + n * tick
        queue.append((sort_key(hi, now, CONFIG), n, now))
        best = max(queue, key=lambda item: (item[0], -item[1]))
        queue.remove(best)
        if best[1] == 0:
            served_at = now
            break
    assert served_at is not None
    assert (served_at - T0).total_seconds() <= max_wait_s(CONFIG) + tick.total_seconds()


@settings(max_examples=200)
@given(
    items=st.lists(
        st.tuples(st.floats(min_value=0, max_value=200, allow_nan=False), times),
        min_size=2,
        max_size=30,
    ),
    later=st.floats(min_value=0, max_value=30 * 86400, allow_nan=False),
)
def test_sort_key_order_equals_effective_score_order(
    items: list[tuple[float, datetime]], later: float
) -> None:
    now = max(t for _, t in items) + timedelta(seconds=later)
    by_key = sorted(items, key=lambda it: sort_key(it[0], it[1], CONFIG), reverse=True)
    effective = [effective_score(p, t, now, CONFIG) for p, t in by_key]
    assert effective == sorted(effective, reverse=True)


@given(deadline=times, now=times)
def test_deadline_points_constant_until_next_change(deadline: datetime, now: datetime) -> None:
    change = next_deadline_change(deadline, now, CONFIG)

    def pts(at: datetime) -> float:
        reason = deadline_points(deadline, at, CONFIG)
        return reason.points if reason else 0.0

    if change is None:
        for later in (timedelta(hours=1), timedelta(days=30)):
            assert pts(now + later) == pts(now)
        return
    assert change > now
    assert pts(change - timedelta(microseconds=1)) == pts(now)
    assert pts(now + (change - now) / 2) == pts(now)
    assert pts(change) > pts(now)
