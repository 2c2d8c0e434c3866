"""The what-if builder (``csdesk.simulation.whatif``), pure: facts and adjustments in, the
engine's scenario out; the adjustments' parser names the bad field; a roster change moves
the engine's staffing from its hour on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from csdesk.errors import BadInputError
from csdesk.reads.whatif import AgentFact, HandleFact, ShopFacts
from csdesk.roles.config import RoutingConfig
from csdesk.routing.assignment import AssignmentConfig
from csdesk.simulation import whatif
from csdesk.simulation.engine import Simulation
from csdesk.simulation.report import to_json
from csdesk.simulation.scenarios import RosterChange, RosterGroup
from csdesk.storage.enums import ServiceRole

NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)  # 18:30 in Shanghai


def agent(*roles: str, on_shift: bool = True, capacity: int = 5) -> AgentFact:
    return AgentFact(frozenset(roles), on_shift, capacity)


def facts(
    agents: tuple[AgentFact, ...] = (),
    arrivals: dict[str, tuple[int, ...]] | None = None,
    handle: dict[str, HandleFact] | None = None,
    promotion: str | None = None,
) -> ShopFacts:
    return ShopFacts(
        shop_id="s",
        now=NOW,
        timezone="Asia/Shanghai",
        agents=agents,
        arrivals=arrivals or {},
        days=7,
        handle=handle or {},
        routing=RoutingConfig(),
        assignment=AssignmentConfig(),
        promotion=promotion,
    )


def by_hour(**counts: int) -> tuple[int, ...]:
    """24 counts by local hour: ``by_hour(h18=70)``."""
    hours = [0] * 24
    for key, n in counts.items():
        hours[int(key.removeprefix("h"))] = n
    return tuple(hours)


R = ServiceRole


@pytest.mark.parametrize(
    ("agents", "expected"),
    [
        pytest.param((), (), id="nobody"),
        pytest.param(
            (agent("presales"), agent("presales"), agent("refund")),
            ((frozenset({R.PRESALES}), 2), (frozenset({R.REFUND}), 1)),
            id="one group per role",
        ),
        pytest.param(
            (agent("refund"), agent("aftersales_triage"), agent("refund", "aftersales_triage")),
            ((frozenset({R.AFTERSALES_TRIAGE, R.REFUND}), 3),),
            id="overlapping roles merge",
        ),
        pytest.param(
            (
                agent("presales"),
                agent("presales", on_shift=False),
                agent("hotline", on_shift=False),
            ),
            ((frozenset({R.PRESALES}), 1),),
            id="only who is on shift",
        ),
        pytest.param(
            (agent("presales", on_shift=False), agent("hotline", on_shift=False)),
            ((frozenset({R.PRESALES}), 1), (frozenset({R.HOTLINE}), 1)),
            id="nobody on shift: everyone counts",
        ),
        pytest.param(
            (agent("presales", "no_such_role"), agent()),
            ((frozenset({R.PRESALES}), 1),),
            id="unknown and empty roles ignored",
        ),
    ],
)
def test_roster_groups(
    agents: tuple[AgentFact, ...], expected: tuple[tuple[frozenset[ServiceRole], int], ...]
) -> None:
    groups = whatif.roster_groups(agents)
    assert tuple((g.roles, g.count) for g in groups) == expected


@pytest.mark.parametrize(
    ("arrivals", "adjust", "stream", "expected_rates"),
    [
        # 70 presale chats at 18:00 local over 7 days: 10 an hour at 18:00, the first hour.
        pytest.param(
            {"chat:presale": by_hour(h18=70)}, {"hours": 24}, "chat:presale", (10.0, 0.0), id="rate"
        ),
        pytest.param(
            {"chat:presale": by_hour(h18=70)},
            {"hours": 24, "scale": 1.5},
            "chat:presale",
            (15.0, 0.0),
            id="scaled",
        ),
        pytest.param(
            {"refund": by_hour(h19=14, h20=28)},
            {"hours": 24},
            "refund",
            (0.0, 2.0, 4.0),
            id="later hours",
        ),
        pytest.param(
            {"order": by_hour(h17=7)},
            {"hours": 24},
            "order",
            (0.0,) * 23 + (1.0,),
            id="wraps the day",
        ),
    ],
)
def test_arrival_rates_come_from_last_week_per_local_hour(
    arrivals: dict[str, tuple[int, ...]],
    adjust: dict[str, Any],
    stream: str,
    expected_rates: tuple[float, ...],
) -> None:
    scenario = whatif.build(facts(arrivals=arrivals), whatif.parse_adjustments(adjust))
    (found,) = [s for s in scenario.streams if s.name == stream]
    assert found.per_hour[: len(expected_rates)] == pytest.approx(expected_rates)
    assert scenario.start == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_chat_streams_carry_their_intent() -> None:
    scenario = whatif.build(
        facts(arrivals={"chat:refund": by_hour(h18=7), "chat:strange": by_hour(h18=7)}),
        whatif.Adjustments(),
    )
    intents = {s.name: s.intent for s in scenario.streams}
    assert intents == {"chat:refund": "refund", "chat:strange": "other"}


@pytest.mark.parametrize(
    ("handle", "kind", "expected"),
    [
        pytest.param({"chat": HandleFact(90.0, 40)}, "chat", 90.0, id="measured"),
        pytest.param({"chat": HandleFact(90.0, 4)}, "chat", 300.0, id="too few: default"),
        pytest.param({}, "refund_review", 300.0, id="none: default"),
        pytest.param({"call": HandleFact(0.0, 50)}, "call", 240.0, id="zero: default"),
    ],
)
def test_handle_times_measured_where_enough(
    handle: dict[str, HandleFact], kind: str, expected: float
) -> None:
    scenario = whatif.build(facts(handle=handle), whatif.Adjustments())
    assert scenario.handle[kind].mean_s == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # 18:30 now: the day starts at 18:00, so 20:00 is two hours in; 08:00 is 14.
        pytest.param([("refund", 2, 20)], [RosterChange(R.REFUND, 2.0, 2)], id="from 20:00"),
        pytest.param([("refund", -1, 8)], [RosterChange(R.REFUND, 14.0, -1)], id="next morning"),
        pytest.param([("refund", 2, 18)], [RosterChange(R.REFUND, 0.0, 2)], id="from the start"),
    ],
)
def test_roster_changes_become_hours_after_the_start(
    changes: list[tuple[str, int, int]], expected: list[RosterChange]
) -> None:
    adjustments = whatif.parse_adjustments(
        {
            "hours": 24,
            "roster_changes": [{"role": r, "delta": d, "from_hour": h} for r, d, h in changes],
        }
    )
    scenario = whatif.build(facts(agents=(agent("refund"),)), adjustments)
    assert list(scenario.roster_changes) == expected


def test_a_change_past_the_end_is_left_out_and_an_unstaffed_role_gets_a_group() -> None:
    adjustments = whatif.parse_adjustments(
        {
            "hours": 2,
            "roster_changes": [
                {"role": "hotline", "delta": 3, "from_hour": 19},
                {"role": "refund", "delta": 1, "from_hour": 23},
            ],
        }
    )
    scenario = whatif.build(facts(agents=(agent("presales"),)), adjustments)
    assert [(c.role, c.delta) for c in scenario.roster_changes] == [(R.HOTLINE, 3)]
    assert RosterGroup(frozenset({R.HOTLINE}), 0) in scenario.roster


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scale": 0}, "scale"),
        ({"scale": 6}, "scale"),
        ({"scale": "2"}, "scale"),
        ({}, "hours"),
        ({"hours": None}, "hours"),
        ({"hours": 0}, "hours"),
        ({"hours": 49}, "hours"),
        ({"hours": 2.5}, "hours"),
        ({"policy": "lifo"}, "policy"),
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
        ({"promotion": ""}, "promotion"),
        ({"promotion": 3}, "promotion"),
        ({"colour": "red"}, "colour"),
        ({"roster_changes": {}}, "roster_changes"),
        ({"roster_changes": [{}] * 13}, "roster_changes"),
        ({"roster_changes": ["x"]}, "roster_changes[0]"),
        (
            {"roster_changes": [{"role": "cook", "delta": 1, "from_hour": 2}]},
            "roster_changes[0].role",
        ),
        (
            {"roster_changes": [{"role": "refund", "delta": 0, "from_hour": 2}]},
            "roster_changes[0].delta",
        ),
        ({"roster_changes": [{"role": "refund", "from_hour": 2}]}, "roster_changes[0].delta"),
        (
            {"roster_changes": [{"role": "refund", "delta": 51, "from_hour": 2}]},
            "roster_changes[0].delta",
        ),
        (
            {
                "roster_changes": [
                    {"role": "refund", "delta": 1, "from_hour": 2},
                    {"role": "refund", "delta": 1, "from_hour": 24},
                ]
            },
            "roster_changes[1].from_hour",
        ),
        ({"roster_changes": [{"role": "refund", "delta": 1, "at": 2}]}, "roster_changes[0].at"),
    ],
)
def test_bad_adjustments_name_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(BadInputError) as raised:
        whatif.parse_adjustments(body)
    assert raised.value.field == field


def test_adjustments_round_trip_and_their_baseline() -> None:
    body = {
        "roster_changes": [{"role": "refund", "delta": 2, "from_hour": 20}],
        "scale": 1.5,
        "hours": 12,
        "policy": "fifo",
        "seed": 7,
        "promotion": "double11",
    }
    adjustments = whatif.parse_adjustments(body)
    assert adjustments.to_json() == body
    assert whatif.parse_adjustments(adjustments.to_json()) == adjustments
    assert not adjustments.is_baseline
    baseline = adjustments.baseline()
    assert baseline.is_baseline
    assert (baseline.policy, baseline.seed, baseline.hours, baseline.promotion) == (
        "fifo",
        7,
        12,
        "double11",
    )
    assert whatif.parse_adjustments({"hours": 24}) == whatif.Adjustments()


def test_more_refund_staff_from_an_hour_serves_the_refund_wave_sooner() -> None:
    """The engine honours the change: the same seed, the same arrivals, two more refund
    agents from 20:00 wait less there and change nothing before it."""
    shop = facts(
        agents=(agent("refund"), agent("presales"), agent("presales")),
        arrivals={"refund": by_hour(h20=7 * 40, h21=7 * 40), "chat:presale": by_hour(h18=7 * 20)},
    )
    plain = whatif.build(shop, whatif.parse_adjustments({"hours": 5}))
    more = whatif.build(
        shop,
        whatif.parse_adjustments(
            {"hours": 5, "roster_changes": [{"role": "refund", "delta": 2, "from_hour": 20}]}
        ),
    )
    a = to_json(Simulation(plain, "csdesk", 3).run())
    b = to_json(Simulation(more, "csdesk", 3).run())
    for result in (a, b):
        for row in result["roles"].values():
            assert row["served"] + row["abandoned"] == row["arrivals"]
    assert b["roles"]["refund"]["arrivals"] == a["roles"]["refund"]["arrivals"]
    assert b["roles"]["refund"]["wait_p90_s"] < a["roles"]["refund"]["wait_p90_s"]
    assert b["roles"]["presales"] == a["roles"]["presales"]


def test_taking_people_off_leaves_more_waiting() -> None:
    shop = facts(
        agents=(agent("presales"),) * 4,
        arrivals={"chat:presale": by_hour(h18=7 * 150, h19=7 * 150)},
    )
    plain = whatif.build(shop, whatif.parse_adjustments({"hours": 2}))
    fewer = whatif.build(
        shop,
        whatif.parse_adjustments(
            {"hours": 2, "roster_changes": [{"role": "presales", "delta": -3, "from_hour": 18}]}
        ),
    )
    a = to_json(Simulation(plain, "csdesk", 1).run())["roles"]["presales"]
    b = to_json(Simulation(fewer, "csdesk", 1).run())["roles"]["presales"]
    assert b["arrivals"] == a["arrivals"]
    assert b["wait_p90_s"] > a["wait_p90_s"]


def test_expected_arrivals_bound_the_run() -> None:
    shop = facts(arrivals={"order": tuple([7 * 1000] * 24)})
    scenario = whatif.build(shop, whatif.parse_adjustments({"hours": 48, "scale": 5}))
    assert whatif.expected_arrivals(scenario) == pytest.approx(48 * 5000)
    assert whatif.expected_arrivals(scenario) > whatif.MAX_EXPECTED_ARRIVALS


def test_the_job_plans_a_baseline_only_when_something_changed_and_refuses_too_big() -> None:
    from csdesk.jobs.whatif import TooBigError, plan

    shop = facts(agents=(agent("presales"),), arrivals={"chat:presale": by_hour(h18=70)})
    assert [name for name, _ in plan(shop, whatif.Adjustments())] == ["adjusted"]
    assert [name for name, _ in plan(shop, whatif.Adjustments(scale=2.0))] == [
        "baseline",
        "adjusted",
    ]
    busy = facts(arrivals={"order": tuple([7 * 1000] * 24)})
    with pytest.raises(TooBigError, match="arrivals expected"):
        plan(busy, whatif.parse_adjustments({"hours": 48, "scale": 5}))


def test_the_job_reports_progress_up_to_done_and_both_runs_in_its_result() -> None:
    from csdesk.jobs.whatif import plan, simulate

    shop = facts(
        agents=(agent("presales"), agent("refund")),
        arrivals={"chat:presale": by_hour(h18=7 * 30, h19=7 * 30), "refund": by_hour(h19=70)},
    )
    adjustments = whatif.parse_adjustments(
        {"hours": 3, "roster_changes": [{"role": "refund", "delta": 1, "from_hour": 19}]}
    )
    seen: list[float] = []

    class Recorder(list[float]):
        def __setitem__(self, index: Any, value: Any) -> None:
            seen.append(value)
            super().__setitem__(index, value)

    progress = Recorder([0.0])
    result = simulate(shop, plan(shop, adjustments), adjustments, progress)
    assert seen == sorted(seen)
    assert seen[-1] == pytest.approx(1.0)
    assert set(result) >= {"baseline", "adjusted", "elapsed_s"}
    for name in ("baseline", "adjusted"):
        run = result[name]
        assert run["charts"]["depth_svg"].startswith("<svg xmlns=")
        assert run["scenario"]["hours"] == 3
        for row in run["roles"].values():
            assert row["served"] + row["abandoned"] == row["arrivals"]
    assert result["adjusted"]["scenario"]["roster_changes"] == [
        {"role": "refund", "from_hour": 1.0, "delta": 1}
    ]
