"""自动挂起: the limit an agent works under and the status its open-chat count calls for."""

from __future__ import annotations

import pytest

from csdesk.routing.assignment import (
    AssignmentConfig,
    auto_suspend_change,
    auto_suspend_limit,
)
from csdesk.storage.enums import AgentStatus

ONLINE, BUSY, AWAY, OFFLINE = (
    AgentStatus.ONLINE,
    AgentStatus.BUSY,
    AgentStatus.AWAY,
    AgentStatus.OFFLINE,
)


@pytest.mark.parametrize(
    ("agent", "shop", "expected"),
    [
        (None, None, None),  # default: off
        (None, 4, 4),  # the shop's default
        (3, 4, 3),  # the agent's own wins
        (0, 4, None),  # the agent turned it off
        (3, None, 3),
    ],
)
def test_limit(agent: int | None, shop: int | None, expected: int | None) -> None:
    assert auto_suspend_limit(agent, shop) == expected


@pytest.mark.parametrize(
    ("status", "suspended", "load", "limit", "expected"),
    [
        (ONLINE, False, 2, 3, None),
        (ONLINE, False, 3, 3, (BUSY, True)),  # reaching N
        (ONLINE, False, 5, 3, (BUSY, True)),  # over N (the limit was lowered)
        (ONLINE, False, 9, None, None),  # off
        (BUSY, True, 3, 3, None),  # still at N
        (BUSY, True, 2, 3, (ONLINE, False)),  # below N again
        (BUSY, True, 5, None, (ONLINE, False)),  # the limit was turned off
        (BUSY, False, 0, 3, None),  # busy by choice stays busy
        (AWAY, False, 5, 3, None),
        (OFFLINE, False, 5, 3, None),
    ],
)
def test_change(
    status: AgentStatus,
    suspended: bool,
    load: int,
    limit: int | None,
    expected: tuple[AgentStatus, bool] | None,
) -> None:
    assert auto_suspend_change(status, suspended, load, limit) == expected


def test_shop_default_is_checked() -> None:
    assert AssignmentConfig.from_overrides({}).auto_suspend_at is None
    assert AssignmentConfig.from_overrides({"auto_suspend_at": 6}).auto_suspend_at == 6
    assert AssignmentConfig.from_overrides({"auto_suspend_at": None}).auto_suspend_at is None
    for bad in (0, -1, "6", True, 2.5):
        with pytest.raises(ValueError, match=r"assignment\.auto_suspend_at"):
            AssignmentConfig.from_overrides({"auto_suspend_at": bad})
