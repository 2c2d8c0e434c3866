"""Erlang C against an independent computation: the textbook factorial sum in exact
rational arithmetic (fractions), so neither the recursion nor float rounding is assumed."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from csdesk.staffing.erlang import (
    StaffingInputError,
    agents_needed,
    asa_seconds,
    erlang_b,
    erlang_c,
    parse_service_level,
    service_level,
)


def erlang_c_by_factorials(agents: int, traffic: Fraction) -> Fraction:
    """C(N, A) = (A^N/N! · N/(N-A)) / (Σ_{k<N} A^k/k! + A^N/N! · N/(N-A))."""
    top = traffic**agents / math.factorial(agents) * Fraction(agents) / (agents - traffic)
    below = sum(traffic**k / math.factorial(k) for k in range(agents))
    return top / (below + top)


def service_level_by_factorials(agents: int, traffic: Fraction, aht: float, within: float) -> float:
    wait = float(erlang_c_by_factorials(agents, traffic))
    return 1 - wait * math.exp(-(agents - float(traffic)) * within / aht)


def fewest_agents_by_factorials(
    per_hour: int, aht: int, within: float, target: float
) -> tuple[int, float]:
    traffic = Fraction(per_hour * aht, 3600)
    agents = math.floor(traffic) + 1
    while service_level_by_factorials(agents, traffic, aht, within) < target:
        agents += 1
    return agents, service_level_by_factorials(agents, traffic, aht, within)


CASES = [
    # (arrivals per hour, AHT s, answer within s, target)
    (200, 180, 20, 0.80),
    (720, 240, 15, 0.80),
    (60, 300, 30, 0.90),
    (1000, 120, 10, 0.95),
    (30, 600, 60, 0.50),
    (5000, 200, 20, 0.80),
    (10, 3600, 0, 0.30),
]


@pytest.mark.parametrize(("per_hour", "aht", "within", "target"), CASES)
def test_agents_needed_equals_the_factorial_formula(
    per_hour: int, aht: int, within: float, target: float
) -> None:
    agents, level = fewest_agents_by_factorials(per_hour, aht, within, target)
    got = agents_needed(per_hour, aht, within, target)
    assert got.agents == agents
    assert got.service_level == pytest.approx(level, abs=1e-9)
    traffic = Fraction(per_hour * aht, 3600)
    wait = float(erlang_c_by_factorials(agents, traffic))
    assert got.p_wait == pytest.approx(wait, rel=1e-9)
    assert got.asa_seconds == pytest.approx(wait * aht / (agents - float(traffic)), rel=1e-9)
    assert got.occupancy == pytest.approx(float(traffic) / agents)
    assert got.traffic_erlangs == pytest.approx(float(traffic))


@pytest.mark.parametrize(
    ("agents", "traffic"), [(1, "1/2"), (2, "3/2"), (11, "10"), (55, "48"), (120, "231/2")]
)
def test_erlang_c_equals_the_factorial_formula(agents: int, traffic: str) -> None:
    exact = erlang_c_by_factorials(agents, Fraction(traffic))
    assert erlang_c(agents, float(Fraction(traffic))) == pytest.approx(float(exact), rel=1e-12)


def test_published_worked_example_call_centre_helper() -> None:
    """Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example"
    (callcentrehelper.com): 100 calls in 30 minutes, AHT 3 minutes, target 80 % answered
    within 20 s. Traffic 10 erlangs; with 11 agents the probability of waiting is 68.21 %
    and the service level 39 %; the raw requirement (before shrinkage) is 14 agents."""
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=5e-5)
    assert service_level(11, 10.0, 180, 20) == pytest.approx(0.39, abs=5e-3)
    got = agents_needed(200, 180, 20, 0.80)
    assert got.traffic_erlangs == pytest.approx(10.0)
    assert got.agents == 14
    assert got.service_level == pytest.approx(0.8884, abs=5e-5)  # 13 agents: 79.6 %


def test_one_agent_is_the_m_m_1_queue() -> None:
    # M/M/1: P(wait) = ρ and ASA = ρ/(1-ρ) · AHT.
    assert erlang_c(1, 0.75) == pytest.approx(0.75)
    assert asa_seconds(1, 0.75, 100) == pytest.approx(300.0)


def test_recursion_is_stable_at_thousands_of_agents() -> None:
    # A^N/N! overflows a float long before this; the recursion does not.
    got = agents_needed(360_000, 180, 20, 0.8)
    assert got.traffic_erlangs == pytest.approx(18_000)
    assert 18_000 < got.agents < 18_200
    assert 0.8 <= got.service_level < 1
    assert 0 <= erlang_b(20_000, 18_000.0) <= 1


def test_overload_waits_always() -> None:
    assert erlang_c(10, 10.0) == 1.0
    assert service_level(9, 10.0, 180, 20) == 0.0
    assert asa_seconds(10, 10.0, 180) == math.inf


@pytest.mark.parametrize(
    ("text", "fraction"),
    [("0.8", 0.8), ("80", 0.8), ("80%", 0.8), ("80.5 %", 0.805), (".95", 0.95), ("1%", 0.01)],
)
def test_service_level_as_fraction_or_percent(text: str, fraction: float) -> None:
    assert parse_service_level(text) == pytest.approx(fraction)


@pytest.mark.parametrize("text", ["0", "1", "100", "100%", "-5", "abc", "nan", "", "150"])
def test_unreachable_or_malformed_service_level_is_refused(text: str) -> None:
    with pytest.raises(StaffingInputError) as info:
        parse_service_level(text)
    assert info.value.field == "--service-level"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((0, 180, 20, 0.8), "--arrivals-per-hour"),
        ((100, 0, 20, 0.8), "--aht-seconds"),
        ((100, 180, -1, 0.8), "--answer-within"),
        ((100, float("nan"), 20, 0.8), "--aht-seconds"),
        ((1e9, 3600, 20, 0.8), "--arrivals-per-hour"),
    ],
)
def test_bad_inputs_name_the_option(args: tuple[float, float, float, float], field: str) -> None:
    with pytest.raises(StaffingInputError) as info:
        agents_needed(*args)
    assert info.value.field == field
