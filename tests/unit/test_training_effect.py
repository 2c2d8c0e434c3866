"""The measured effect of a course (csdesk.training.effect): Newcombe's interval against
published values, the verdict table, and before/after rates equal to rates counted here by
hand from the same chats."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from csdesk.training.effect import (
    Counts,
    ScoredChat,
    Verdict,
    compare,
    measure,
    newcombe,
    wilson,
    windows,
)

NOW = datetime(2026, 12, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "after", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10.
        (Counts(80, 48), Counts(70, 56), 0.0524, 0.3339),
        (Counts(10, 3), Counts(10, 9), 0.1705, 0.8090),
    ],
)
def test_newcombe_matches_the_published_intervals(
    before: Counts, after: Counts, low: float, high: float
) -> None:
    _, got_low, got_high = newcombe(before, after)
    assert round(got_low, 4) == low
    assert round(got_high, 4) == high


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(0, 10, 0.0, 0.2775), (5, 10, 0.2366, 0.7634), (10, 10, 0.7225, 1.0)],
)
def test_wilson(successes: int, n: int, low: float, high: float) -> None:
    got = wilson(successes, n)
    assert (round(got[0], 4), round(got[1], 4)) == (low, high)


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [
        (Counts(100, 20), Counts(100, 3), Verdict.FEWER),
        (Counts(100, 3), Counts(100, 20), Verdict.MORE),
        (Counts(100, 5), Counts(100, 4), Verdict.NO_CLEAR_CHANGE),
        (Counts(100, 20), Counts(10, 0), Verdict.NOT_ENOUGH_DATA),  # too few after
        (Counts(0, 0), Counts(50, 1), Verdict.NOT_ENOUGH_DATA),
        (Counts(19, 10), Counts(200, 0), Verdict.NOT_ENOUGH_DATA),  # min 20 a side
    ],
)
def test_verdict_only_when_the_data_supports_it(
    before: Counts, after: Counts, verdict: Verdict
) -> None:
    result = compare("forbidden_phrase", before, after, min_chats=20)
    assert result.verdict is verdict
    if result.low is not None and result.high is not None and result.difference is not None:
        assert result.low <= result.difference <= result.high


def test_rates_are_per_100_chats() -> None:
    result = compare("x", Counts(73, 3), Counts(83, 1))
    data = result.to_json()
    assert data["before"]["rate"] == round(300 / 73, 2)
    assert data["after"]["rate"] == round(100 / 83, 2)


def test_windows_stop_at_now() -> None:
    passed = NOW - timedelta(days=10)
    before, after = windows(passed, 30, NOW)
    assert (before.start, before.end) == (passed - timedelta(days=30), passed)
    assert (after.start, after.end) == (passed, NOW)


def test_measure_equals_counting_by_hand() -> None:
    rng = random.Random(12)
    passed = {1: NOW - timedelta(days=12), 2: NOW - timedelta(days=5), 3: NOW - timedelta(days=40)}
    chats = []
    for n in range(600):
        agent = rng.choice([1, 2, 3, 4])
        at = NOW - timedelta(days=rng.uniform(0, 80))
        cats = frozenset(c for c in ("forbidden_phrase", "closing_missing") if rng.random() < 0.15)
        chats.append(ScoredChat(n, agent, at, cats))
    effect = measure(chats, passed, ["forbidden_phrase", "closing_missing"], NOW, window_days=30)

    pooled_by_hand: dict[str, list[int]] = {}
    for row in effect.agents:
        when = passed[row.agent_id]
        for comparison in row.comparisons:
            c = comparison.category
            before = [
                ch
                for ch in chats
                if ch.agent_id == row.agent_id and when - timedelta(days=30) <= ch.closed_at < when
            ]
            after = [
                ch
                for ch in chats
                if ch.agent_id == row.agent_id
                and when <= ch.closed_at < min(when + timedelta(days=30), NOW)
            ]
            assert comparison.before.chats == len(before)
            assert comparison.after.chats == len(after)
            assert comparison.before.with_category == sum(c in ch.categories for ch in before)
            assert comparison.after.with_category == sum(c in ch.categories for ch in after)
            sums = pooled_by_hand.setdefault(c, [0, 0, 0, 0])
            sums[0] += len(before)
            sums[1] += sum(c in ch.categories for ch in before)
            sums[2] += len(after)
            sums[3] += sum(c in ch.categories for ch in after)
    assert [a.agent_id for a in effect.agents] == [1, 2, 3]  # agent 4 never passed
    for comparison in effect.pooled:
        b_n, b_k, a_n, a_k = pooled_by_hand[comparison.category]
        assert (comparison.before.chats, comparison.before.with_category) == (b_n, b_k)
        assert (comparison.after.chats, comparison.after.with_category) == (a_n, a_k)
        assert comparison.before.rate == pytest.approx(100 * b_k / b_n)
        assert comparison.after.rate == pytest.approx(100 * a_k / a_n)


def test_counts_refuse_impossible_values() -> None:
    with pytest.raises(ValueError, match="outside"):
        Counts(3, 4)
