"""Role registry, declared escalations, SLA and shop-local time windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from csdesk.roles import ROLES, get_role
from csdesk.roles.base import (
    ClockTime,
    in_daily_window,
    next_allowed_at,
    sla_for,
)
from csdesk.roles.config import RoutingConfig
from csdesk.storage.enums import ServiceRole

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG = RoutingConfig()


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def test_registry_has_the_six_roles() -> None:
    assert set(ROLES) == set(ServiceRole)
    for key, spec in ROLES.items():
        assert spec.key is key
        assert spec.channels, f"{key} works in no channel"


def test_escalations_point_at_other_roles() -> None:
    for spec in ROLES.values():
        for rule in spec.escalations:
            assert rule.to_role in ROLES
            assert rule.to_role is not spec.key


@pytest.mark.parametrize(
    ("key", "role"),
    [("refund", ServiceRole.REFUND), (ServiceRole.HOTLINE, ServiceRole.HOTLINE)],
)
def test_get_role(key: str | ServiceRole, role: ServiceRole) -> None:
    assert get_role(key).key is role


def test_get_role_unknown() -> None:
    with pytest.raises(KeyError, match="finance"):
        get_role("finance")


@pytest.mark.parametrize(
    ("role", "seconds"),
    [(ServiceRole.PRESALES, 30), (ServiceRole.REFUND, 30), (ServiceRole.HOTLINE, 20)],
)
def test_first_response_targets(role: ServiceRole, seconds: int) -> None:
    sla = get_role(role).sla(CONFIG)
    assert sla.first_response_due(sh(11, 12)) == sh(11, 12) + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("opened", "first_response", "now", "breached"),
    [
        (sh(11, 12), sh(11, 12) + timedelta(seconds=30), sh(11, 13), False),
        (sh(11, 12), sh(11, 12) + timedelta(seconds=31), sh(11, 13), True),
        (sh(11, 12), None, sh(11, 12) + timedelta(seconds=10), False),
        (sh(11, 12), None, sh(11, 12) + timedelta(seconds=40), True),
    ],
)
def test_first_response_breach(
    opened: datetime, first_response: datetime | None, now: datetime, breached: bool
) -> None:
    sla = sla_for(ServiceRole.PRESALES, CONFIG)
    assert sla.first_response_breached(opened, first_response, now) is breached


@pytest.mark.parametrize(
    ("buyer_at", "reply_at", "now", "expected"),
    [
        (sh(11, 7, 59), sh(11, 9), sh(11, 9), None),  # before 08:00: not counted
        (sh(11, 8, 0), sh(11, 8, 3), sh(11, 9), True),
        (
            sh(11, 8, 0),
            sh(
                11,
                8,
                3,
            )
            + timedelta(seconds=1),
            sh(11, 9),
            False,
        ),
        (sh(11, 23, 59), None, sh(12, 0, 1), None),  # still inside the 3 minutes
        (sh(11, 23, 59), None, sh(12, 0, 5), False),
        (sh(12, 0, 0), None, sh(12, 9), None),  # 00:00-08:00 does not count
    ],
)
def test_three_minute_response_rate(
    buyer_at: datetime, reply_at: datetime | None, now: datetime, expected: bool | None
) -> None:
    sla = sla_for(ServiceRole.PRESALES, CONFIG)
    assert sla.responded_in_time(buyer_at, reply_at, now) is expected


def t(text: str) -> ClockTime:
    return ClockTime.parse(text)


@pytest.mark.parametrize(
    ("at", "start", "end", "inside", "allowed"),
    [
        (sh(11, 23), "22:00", "08:00", True, sh(12, 8)),
        (sh(11, 3), "22:00", "08:00", True, sh(11, 8)),
        (sh(11, 8), "22:00", "08:00", False, sh(11, 8)),
        (sh(11, 3), "00:00", "07:00", True, sh(11, 7)),
        (sh(11, 7), "00:00", "07:00", False, sh(11, 7)),
        (sh(11, 23), "08:00", "24:00", True, sh(12, 0)),
        (sh(11, 0), "08:00", "24:00", False, sh(11, 0)),
        (sh(11, 3), "22:00", "22:00", False, sh(11, 3)),  # an empty window: no quiet hours
    ],
)
def test_daily_windows(at: datetime, start: str, end: str, inside: bool, allowed: datetime) -> None:
    assert in_daily_window(at, t(start), t(end), SHANGHAI) is inside
    assert next_allowed_at(at, t(start), t(end), SHANGHAI) == allowed


def test_shop_time_zone_is_config() -> None:
    urumqi = RoutingConfig.from_overrides({"timezone": "Asia/Urumqi"})  # UTC+6
    nine_in_shanghai = sh(11, 9)  # 07:00 in Urumqi: before that shop's 08:00
    assert sla_for(ServiceRole.PRESALES, CONFIG).counts_for_response_rate(nine_in_shanghai)
    assert not sla_for(ServiceRole.PRESALES, urumqi).counts_for_response_rate(nine_in_shanghai)
