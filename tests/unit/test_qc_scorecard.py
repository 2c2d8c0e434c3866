"""The scorecard's arithmetic: weighted sections, N/A, bonus, critical items, auto ratings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from csdesk.qc.scorecard import (
    HitFact,
    Item,
    Scorecard,
    ScorecardError,
    Section,
    auto_ratings,
    check_rating,
    default_scorecard,
    scorecard_from_json,
    total,
)
from csdesk.qc.scripts import default_script
from csdesk.storage.enums import ServiceRole

CARD = Scorecard(
    sections=(Section("a", "A", 60), Section("b", "B", 40)),
    items=(
        Item("a1", "a1", "a", max_rating=5),
        Item("a2", "a2", "a", max_rating=5),
        Item("b1", "b1", "b", max_rating=4),
        Item("crit", "crit", "", max_rating=1, critical=True),
    ),
    bonus_max=5,
)


@pytest.mark.parametrize(
    ("ratings", "bonus", "expected", "critical_failed"),
    [
        ({"a1": 5, "a2": 5, "b1": 4, "crit": 1}, 0, 100.0, False),
        ({"a1": 0, "a2": 5, "b1": 4, "crit": 1}, 0, 70.0, False),  # a: 5/10 of 60
        ({"a1": 5, "a2": 5, "b1": 2, "crit": 1}, 0, 80.0, False),  # b: 2/4 of 40
        ({"a1": 5, "a2": None, "b1": 4, "crit": 1}, 0, 100.0, False),  # N/A drops out
        ({"a1": None, "a2": None, "b1": 2, "crit": 1}, 0, 50.0, False),  # b takes all weight
        ({"a1": 4, "a2": 4, "b1": 4, "crit": 1}, 3, 91.0, False),  # 88 + 3 bonus
        ({"a1": 5, "a2": 5, "b1": 4, "crit": 1}, 5, 100.0, False),  # capped at 100
        ({"a1": 5, "a2": 5, "b1": 4, "crit": 0}, 5, 0.0, True),  # critical zeroes all
        ({}, 0, 0.0, False),
    ],
)
def test_total(
    ratings: dict[str, int | None], bonus: int, expected: float, critical_failed: bool
) -> None:
    result = total(CARD, ratings, bonus)
    assert result.total == expected
    assert result.critical_failed is critical_failed


def test_cost_is_what_each_item_lost() -> None:
    result = total(CARD, {"a1": 0, "a2": 5, "b1": 3, "crit": 1})
    assert result.cost == {"a1": 30.0, "a2": 0.0, "b1": 10.0}


@pytest.mark.parametrize(
    ("key", "rating", "field"),
    [
        ("a1", 6, "items.a1.rating"),
        ("a1", -1, "items.a1.rating"),
        ("a1", "5", "items.a1.rating"),
        ("a1", True, "items.a1.rating"),
        ("crit", None, "items.crit.rating"),
        ("nope", 1, "items.nope"),
    ],
)
def test_bad_ratings_name_the_item(key: str, rating: object, field: str) -> None:
    with pytest.raises(ScorecardError) as caught:
        check_rating(CARD, key, rating)
    assert caught.value.field == field


def test_bonus_outside_the_card_is_refused() -> None:
    with pytest.raises(ScorecardError) as caught:
        total(CARD, {}, 6)
    assert caught.value.field == "bonus"


@pytest.mark.parametrize(
    ("hits", "expected"),
    [
        ([], {"greeting": 5, "closing": 5, "forbidden": 5, "abuse": 1}),
        ([HitFact("greeting_missing", "minor")], {"greeting": 3}),
        ([HitFact("forbidden_phrase", "major")] * 2, {"forbidden": 1}),
        ([HitFact("forbidden_phrase", "major")] * 3, {"forbidden": 0}),
        # A fatal hit fails the critical item; it does not also cost the wording item.
        ([HitFact("forbidden_phrase", "fatal")], {"abuse": 0, "forbidden": 5}),
        (
            [HitFact("long_gap_no_apology", "minor"), HitFact("followup_missed", "major")],
            {"waiting": 1},
        ),
    ],
)
def test_auto_ratings(hits: list[HitFact], expected: dict[str, int]) -> None:
    ratings = auto_ratings(default_scorecard(), default_script(ServiceRole.PRESALES), hits)
    for key, value in expected.items():
        assert ratings[key] == value
    assert "accuracy" not in ratings  # manual items are the inspector's


def test_items_a_role_does_not_require_start_na() -> None:
    card = default_scorecard()
    hotline = auto_ratings(card, default_script(ServiceRole.HOTLINE), [])
    presales = auto_ratings(card, default_script(ServiceRole.PRESALES), [])
    assert hotline["rating_invite"] is None
    assert presales["order_confirm"] is None
    assert presales["extreme"] == 5
    refund = auto_ratings(card, default_script(ServiceRole.REFUND), [])
    assert refund["extreme"] is None


def test_the_card_round_trips_through_json() -> None:
    card = default_scorecard()
    assert scorecard_from_json(card.to_json()) == card
    with pytest.raises(ScorecardError):
        scorecard_from_json({"sections": [{"key": "a"}], "items": []})
    with pytest.raises(ScorecardError):
        replace(card, items=(Item("x", "x", "nowhere"),))
