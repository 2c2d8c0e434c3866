"""Promotion mode, pure (``csdesk/roles/promotion.py`` and the profile in ``roles/config``):
what a live profile changes, how a stored score follows a switch, and when a schedule
switches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csdesk.roles import promotion as rules
from csdesk.roles.config import ClockTime, ConfigError, RoutingConfig
from csdesk.roles.promotion import ScheduleEntry, ScheduleStatus, ScheduleStep
from csdesk.roles.scoring import ScoreFacts, static_score
from csdesk.roles.triage_rules import Intent
from csdesk.storage.enums import ServiceRole

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
DEFAULT = RoutingConfig()


def test_built_in_profiles() -> None:
    profiles = DEFAULT.scoring.promotions
    assert {name: p.label for name, p in profiles.items()} == {
        "double11": "双十一",
        "618": "618",
        "juhuasuan": "聚划算",
    }
    d11 = profiles["double11"]
    assert d11.role_points[ServiceRole.REFUND] == 10.0
    assert d11.chat_capacity_extra == 2
    assert d11.refund_reviewers_process
    assert d11.howto_to_everyone
    assert (d11.chase_quiet_start, d11.chase_quiet_end) == (ClockTime(0), ClockTime(8 * 60))


def test_effective_routing_takes_the_profiles_sla_and_quiet_hours() -> None:
    config = RoutingConfig.from_overrides(
        {
            "scoring": {
                "promotions": {
                    "blackfriday": {
                        "label": "黑五",
                        "first_response_s": {"presales": 15},
                        "chase_quiet_start": "23:30",
                        "chase_quiet_end": "07:00",
                    }
                }
            }
        }
    )
    live = rules.effective_routing(config, "blackfriday")
    assert live.sla.first_response_s[ServiceRole.PRESALES] == 15
    assert live.sla.first_response_s[ServiceRole.HOTLINE] == 20  # unnamed roles keep theirs
    assert live.payment_chasing.quiet_start == ClockTime(23 * 60 + 30)
    assert live.payment_chasing.quiet_end == ClockTime(7 * 60)
    assert live.payment_chasing.delay_s == config.payment_chasing.delay_s
    assert rules.effective_routing(config, None) is config
    assert rules.effective_routing(config, "unknown") is config
    # 618 names no SLA and no quiet hours: nothing but the object identity changes.
    assert rules.effective_routing(config, "618") is config


@pytest.mark.parametrize(
    ("profile", "key"),
    [
        ({"chat_capacity_extra": 21}, "scoring.promotions.x.chat_capacity_extra"),
        ({"chat_capacity_extra": -1}, "scoring.promotions.x.chat_capacity_extra"),
        ({"first_response_s": {"presales": 0}}, "scoring.promotions.x.first_response_s.presales"),
        ({"chase_quiet_start": "23:00"}, "scoring.promotions.x.chase_quiet_end"),
        ({"chase_quiet_end": "25:00"}, "scoring.promotions.x.chase_quiet_end"),
        ({"label": "长" * 41}, "scoring.promotions.x.label"),
        ({"howto_to_everyone": "yes"}, "scoring.promotions.x.howto_to_everyone"),
        ({"role_points": {"refund": -2}}, "scoring.promotions.x.role_points.refund"),
    ],
)
def test_bad_profiles_are_named(profile: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RoutingConfig.from_overrides({"scoring": {"promotions": {"x": profile}}})
    assert caught.value.key == key


def test_bad_profile_key_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        RoutingConfig.from_overrides({"scoring": {"promotions": {"a b": {}}}})
    assert caught.value.key == "scoring.promotions.a b"


def stored(role: ServiceRole, promotion: str | None) -> tuple[float, list[dict[str, Any]]]:
    """What open_item stores: the static score of a refund question with order value."""
    score = static_score(
        ScoreFacts(role=role, intent=Intent.REFUND, order_amount_fen=60_000, promotion=promotion),
        DEFAULT,
    )
    return score.points, score.to_json()


@pytest.mark.parametrize(
    ("role", "before", "after"),
    [
        (ServiceRole.REFUND, None, "double11"),
        (ServiceRole.REFUND, "double11", None),
        (ServiceRole.REFUND, "double11", "618"),
        (ServiceRole.PRESALES, "juhuasuan", "double11"),
        (ServiceRole.AFTERSALES_TRIAGE, "double11", "juhuasuan"),
    ],
)
def test_repromote_gives_what_scoring_at_the_new_promotion_would(
    role: ServiceRole, before: str | None, after: str | None
) -> None:
    points, breakdown = stored(role, before)
    changed = rules.repromote(points, breakdown, role.value, after, DEFAULT)
    assert changed is not None
    assert (changed.points, changed.breakdown) == stored(role, after)


@pytest.mark.parametrize(
    ("role", "before", "after"),
    [
        (ServiceRole.HOTLINE, None, "double11"),  # double11 gives the hotline nothing
        (ServiceRole.REFUND, "double11", "double11"),
        (ServiceRole.ORDER_REVIEW, "618", None),
    ],
)
def test_repromote_leaves_unchanged_scores_alone(
    role: ServiceRole, before: str | None, after: str | None
) -> None:
    points, breakdown = stored(role, before)
    assert rules.repromote(points, breakdown, role.value, after, DEFAULT) is None


def entry(
    id: int, start_h: float, end_h: float, status: ScheduleStatus, profile: str = "double11"
) -> ScheduleEntry:
    return ScheduleEntry(id, profile, NOW + start_h * H, NOW + end_h * H, status)


S, L = ScheduleStatus.SCHEDULED, ScheduleStatus.LIVE


@pytest.mark.parametrize(
    ("entries", "live", "expected"),
    [
        ([entry(1, 0.5, 2, S)], None, []),  # not yet
        ([entry(1, 0, 2, S)], None, [ScheduleStep(1, L, True, "double11")]),
        ([entry(1, -1, 2, L)], "double11", []),  # running
        (
            [entry(1, -3, 0, L)],
            "double11",
            [ScheduleStep(1, ScheduleStatus.ENDED, True, None)],
        ),
        (
            [entry(1, -3, -1, L)],
            "618",  # switched to 618 by hand meanwhile: that stays
            [ScheduleStep(1, ScheduleStatus.ENDED, False, "618")],
        ),
        (
            [entry(1, -5, -1, S)],
            None,  # the desk was down for the whole window
            [ScheduleStep(1, ScheduleStatus.MISSED, False, None)],
        ),
        (
            [entry(2, 0, 3, S, "618"), entry(1, -3, 0, L)],
            "double11",  # one ends as the next begins: it hands over
            [
                ScheduleStep(1, ScheduleStatus.ENDED, True, None),
                ScheduleStep(2, L, True, "618"),
            ],
        ),
        ([entry(1, -3, 0, ScheduleStatus.CANCELLED)], None, []),
    ],
)
def test_schedule_steps(
    entries: list[ScheduleEntry], live: str | None, expected: list[ScheduleStep]
) -> None:
    assert rules.schedule_steps(entries, live, NOW) == expected


@pytest.mark.parametrize(
    ("start_h", "end_h", "clash"),
    [(2, 3, None), (-2, 0, None), (0, 2, 1), (1.5, 1.6, 1), (-1, 0.1, 1), (5, 6, None)],
)
def test_overlaps(start_h: float, end_h: float, clash: int | None) -> None:
    entries = [entry(1, 0, 2, S), entry(2, 5, 6, ScheduleStatus.ENDED)]
    found = rules.overlapping(entries, NOW + start_h * H, NOW + end_h * H)
    assert (found.id if found else None) == clash


def test_double11_chases_until_midnight() -> None:
    """A chase due at 23:00 shop time waits for the morning every day but 双十一."""
    from csdesk.roles import payment_chasing

    at_2300 = datetime(2026, 11, 11, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    at_0100 = at_2300 + 2 * H
    assert payment_chasing.is_quiet(at_2300, DEFAULT)
    live = rules.effective_routing(DEFAULT, "double11")
    assert not payment_chasing.is_quiet(at_2300, live)
    assert payment_chasing.is_quiet(at_0100, live)
    assert payment_chasing.next_allowed(at_0100, live) == datetime(2026, 11, 12, 0, 0, tzinfo=UTC)
