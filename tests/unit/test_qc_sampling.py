"""Sampling plans: lot sizes, the risk spotlight, training follow-up, reproducible draws,
and the day's picks spread across the inspectors on duty."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from csdesk.qc.aql import InspectionLevel
from csdesk.qc.sampling import (
    ClosedConversation,
    FixedCount,
    FixedPercent,
    InspectorOnDuty,
    Iso2859,
    LotBy,
    PickReason,
    SamplingPolicy,
    SpotlightRules,
    draw_daily_sample,
    spotlight_reasons,
    spread_across_inspectors,
)

DAY = date(2026, 12, 7)
CLOSED = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def conv(
    cid: int, agent: int | None = 1, role: str = "presales", **facts: object
) -> ClosedConversation:
    return ClosedConversation(cid, agent, role, CLOSED, **facts)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "lot", "expected"),
    [
        (FixedPercent(10), 30, 3),
        (FixedPercent(10), 31, 4),
        (FixedPercent(5), 1, 1),
        (FixedPercent(0), 50, 0),
        (FixedPercent(100), 7, 7),
        (FixedCount(5), 3, 3),
        (FixedCount(5), 40, 5),
        (Iso2859(), 1, 1),
        (Iso2859(), 60, 20),  # E at 2.5 is ↓: F's plan, 20
        (Iso2859(InspectionLevel.S2, "2.5"), 1000, 5),
    ],
)
def test_size_rules(rule: FixedPercent | FixedCount | Iso2859, lot: int, expected: int) -> None:
    assert rule.sample_size(lot) == expected


def test_spotlight_reasons() -> None:
    rules = SpotlightRules()
    quiet = conv(1, intent="presale", risk="low", refund_fen=50_000, rating=3, transfers=1)
    assert spotlight_reasons(quiet, rules) == []
    loud = conv(
        2, fatal_hits=1, intent="complaint", risk="high", refund_fen=50_001, rating=2, transfers=2
    )
    assert [w.reason for w in spotlight_reasons(loud, rules)] == [
        PickReason.FATAL_HIT,
        PickReason.COMPLAINT,
        PickReason.HIGH_RISK,
        PickReason.LARGE_REFUND,
        PickReason.LOW_RATING,
        PickReason.TRANSFER_BOUNCED,
    ]
    off = SpotlightRules(
        fatal_hits=False,
        complaint_or_high_risk=False,
        refund_over_fen=None,
        rating_at_most=None,
        transfers_at_least=None,
    )
    assert spotlight_reasons(loud, off) == []


@pytest.mark.parametrize(
    ("rating", "comment", "detail"),
    [
        (1, None, "rated 1/5"),
        (2, "回复太慢", "rated 2/5: 回复太慢"),
        (2, "慢" * 61, "rated 2/5: " + "慢" * 60 + "…"),
        (3, "一般", None),
        (None, None, None),
    ],
)
def test_a_low_rating_is_spotlit_with_what_the_buyer_said(
    rating: int | None, comment: str | None, detail: str | None
) -> None:
    found = spotlight_reasons(
        replace(conv(1), rating=rating, rating_comment=comment), SpotlightRules()
    )
    assert [w.detail for w in found if w.reason is PickReason.LOW_RATING] == (
        [detail] if detail else []
    )


def _day(n_agents: int = 3, per_agent: int = 40) -> list[ClosedConversation]:
    return [
        conv(agent * 1000 + i, agent=agent, role="presales" if agent % 2 else "refund")
        for agent in range(1, n_agents + 1)
        for i in range(per_agent)
    ]


def test_per_agent_lots_sample_each_agent_by_the_rule() -> None:
    sample = draw_daily_sample(_day(), SamplingPolicy(rule=FixedCount(4)), day=DAY, seed="s")
    per_agent = Counter(p.agent_id for p in sample.picks)
    assert per_agent == {1: 4, 2: 4, 3: 4}
    assert [(lot.key, lot.size, lot.sample_size) for lot in sample.lots] == [
        ("agent:1", 40, 4),
        ("agent:2", 40, 4),
        ("agent:3", 40, 4),
    ]
    assert all(p.reasons == (PickReason.RANDOM,) for p in sample.picks)
    assert "4 of 40 in lot agent:1" in sample.picks[0].why[0].detail


def test_per_role_lots_and_role_rules() -> None:
    policy = SamplingPolicy(
        rule=FixedPercent(10), lot_by=LotBy.ROLE_DAY, role_rules={"refund": FixedCount(1)}
    )
    sample = draw_daily_sample(_day(), policy, day=DAY, seed="s")
    assert {lot.key: lot.sample_size for lot in sample.lots} == {
        "role:presales": 8,
        "role:refund": 1,
    }


def test_draws_are_reproducible_and_order_free() -> None:
    day = _day()
    policy = SamplingPolicy(rule=Iso2859())
    first = draw_daily_sample(day, policy, day=DAY, seed="shop-1")
    again = draw_daily_sample(list(reversed(day)), policy, day=DAY, seed="shop-1")
    assert first == again
    other_seed = draw_daily_sample(day, policy, day=DAY, seed="shop-2")
    other_day = draw_daily_sample(day, policy, day=date(2026, 12, 8), seed="shop-1")
    ids = [p.conversation_id for p in first.picks]
    assert ids != [p.conversation_id for p in other_seed.picks]
    assert ids != [p.conversation_id for p in other_day.picks]


def test_one_lot_does_not_shift_another() -> None:
    policy = SamplingPolicy(rule=FixedCount(3))
    base = draw_daily_sample(_day(), policy, day=DAY, seed="s")
    more = _day() + [conv(9000 + i, agent=4) for i in range(10)]
    grown = draw_daily_sample(more, policy, day=DAY, seed="s")
    agent1 = [p.conversation_id for p in base.picks if p.agent_id == 1]
    assert agent1 == [p.conversation_id for p in grown.picks if p.agent_id == 1]


def test_spotlight_is_always_picked_and_says_why() -> None:
    day = _day()
    day[5] = conv(day[5].conversation_id, agent=1, rating=1)
    day[6] = conv(day[6].conversation_id, agent=1, risk="high", fatal_hits=2)
    sample = draw_daily_sample(day, SamplingPolicy(rule=FixedCount(0)), day=DAY, seed="s")
    assert [(p.conversation_id, p.reasons) for p in sample.picks] == [
        (1005, (PickReason.LOW_RATING,)),
        (1006, (PickReason.FATAL_HIT, PickReason.HIGH_RISK)),
    ]
    assert all(p.spotlight for p in sample.picks)


def test_spotlight_and_random_both_named() -> None:
    day = [conv(i, rating=1) for i in range(1, 4)]
    sample = draw_daily_sample(day, SamplingPolicy(rule=FixedPercent(100)), day=DAY, seed="s")
    assert all(p.reasons == (PickReason.LOW_RATING, PickReason.RANDOM) for p in sample.picks)


def test_training_followup_boosts_the_agents_rate() -> None:
    day = _day(n_agents=2, per_agent=40)
    policy = SamplingPolicy(rule=FixedCount(4))
    sample = draw_daily_sample(day, policy, day=DAY, seed="s", training_boost={2: 2.5})
    per_agent = Counter(p.agent_id for p in sample.picks)
    assert per_agent == {1: 4, 2: 10}
    boosted = [p for p in sample.picks if PickReason.TRAINING_FOLLOWUP in p.reasons]
    assert len(boosted) == 6
    assert all(p.agent_id == 2 for p in boosted)
    assert "agent 2 at 2.5x" in boosted[0].why[0].detail


def test_training_boost_in_a_role_lot_and_capped() -> None:
    day = [conv(i, agent=1 if i < 90 else 2) for i in range(100)]
    policy = SamplingPolicy(rule=FixedPercent(10), lot_by=LotBy.ROLE_DAY)
    sample = draw_daily_sample(day, policy, day=DAY, seed="x", training_boost={2: 3.0})
    agent2 = [p for p in sample.picks if p.agent_id == 2]
    assert len(agent2) == 3  # 10 % x 3 of 10 conversations
    capped = draw_daily_sample(day, policy, day=DAY, seed="x", training_boost={2: 50.0})
    assert sum(1 for p in capped.picks if p.agent_id == 2) == 10


def test_duplicate_conversation_is_refused() -> None:
    with pytest.raises(ValueError, match="given twice"):
        draw_daily_sample([conv(1), conv(1)], SamplingPolicy(), day=DAY, seed="s")


def test_spread_is_even_and_deterministic() -> None:
    sample = draw_daily_sample(
        _day(n_agents=5, per_agent=30), SamplingPolicy(rule=FixedCount(5)), day=DAY, seed="s"
    )
    inspectors = [InspectorOnDuty(11), InspectorOnDuty(12), InspectorOnDuty(13)]
    spread = spread_across_inspectors(sample.picks, inspectors)
    sizes = sorted(len(v) for v in spread.values())
    assert sizes == [8, 8, 9]
    assert spread == spread_across_inspectors(sample.picks, inspectors)
    # Every agent's five picks go to more than one inspector.
    for agent in range(1, 6):
        holders = {i for i, picks in spread.items() for p in picks if p.agent_id == agent}
        assert len(holders) >= 2


def test_spread_by_share_and_spotlight_first() -> None:
    day = [conv(i, agent=i % 3, rating=1 if i < 4 else None) for i in range(12)]
    sample = draw_daily_sample(day, SamplingPolicy(rule=FixedPercent(100)), day=DAY, seed="s")
    spread = spread_across_inspectors(
        sample.picks, [InspectorOnDuty(1, share=1.0), InspectorOnDuty(2, share=0.5)]
    )
    assert (len(spread[1]), len(spread[2])) == (8, 4)
    spotlighted = [p for p in spread[2] if p.spotlight]
    assert spotlighted  # the urgent ones are shared, not all dealt to the first inspector
    assert spread_across_inspectors(sample.picks, []) == {}
