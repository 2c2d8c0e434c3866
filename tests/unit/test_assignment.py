"""Table-driven tests of the pure assignment rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from csdesk.routing.assignment import (
    AgentFacts,
    ItemFacts,
    chase_claim_binds,
    is_eligible,
    may_take,
    pick_agent,
)
from csdesk.storage.enums import AgentStatus, Channel

NOW = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)


def agent(user_id: int, **changes: object) -> AgentFacts:
    base = AgentFacts(
        user_id=user_id,
        status=AgentStatus.ONLINE,
        roles=frozenset({"presales"}),
        skills=frozenset(),
        chat_capacity=5,
        hotline_capacity=1,
        chat_load=0,
        hotline_load=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def item(**changes: object) -> ItemFacts:
    base = ItemFacts(item_id=1, role="presales", channel=Channel.CHAT, enqueued_at=NOW)
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("who", "what", "expected"),
    [
        (agent(1), item(), True),
        (agent(1, status=AgentStatus.BUSY), item(), False),
        (agent(1, status=AgentStatus.AWAY), item(), False),
        (agent(1, status=AgentStatus.OFFLINE), item(), False),
        (agent(1, roles=frozenset({"refund"})), item(), False),
        (agent(1, chat_load=5), item(), False),
        (agent(1, chat_load=4), item(), True),
        (
            agent(1, chat_load=5, roles=frozenset({"presales", "hotline"})),
            item(channel=Channel.HOTLINE, role="hotline"),
            True,
        ),
        (
            agent(1, hotline_load=1, roles=frozenset({"hotline"})),
            item(channel=Channel.HOTLINE, role="hotline"),
            False,
        ),
        (agent(1), item(excluded_agent_ids=frozenset({1})), False),
        # Refund duties: while someone online holds the item's duty, only they take it.
        (agent(1), item(duty_holders=frozenset({1, 2})), True),
        (agent(3), item(duty_holders=frozenset({1, 2})), False),
        (agent(3), item(duty_holders=frozenset()), True),
    ],
)
def test_eligibility(who: AgentFacts, what: ItemFacts, expected: bool) -> None:
    assert is_eligible(who, what) is expected


@pytest.mark.parametrize(
    ("agents", "what", "now", "expected_id", "reason_part"),
    [
        # Least loaded by load/capacity ratio.
        ([agent(1, chat_load=3), agent(2, chat_load=1)], item(), NOW, 2, "least loaded"),
        (
            [agent(1, chat_load=2, chat_capacity=8), agent(2, chat_load=1, chat_capacity=2)],
            item(),
            NOW,
            1,
            "least loaded",
        ),
        # Ties: longest since last assignment first, then lower id.
        (
            [agent(1, last_assigned_at=NOW), agent(2, last_assigned_at=NOW - timedelta(minutes=5))],
            item(),
            NOW,
            2,
            "least loaded",
        ),
        ([agent(2), agent(1)], item(), NOW, 1, "least loaded"),
        # Sticky owner within protection, even when busier.
        (
            [agent(1, chat_load=4), agent(2)],
            item(protection_owner_id=1, protection_until=NOW + timedelta(hours=1)),
            NOW,
            1,
            "protection",
        ),
        # Protection expired: normal rules.
        (
            [agent(1, chat_load=4), agent(2)],
            item(protection_owner_id=1, protection_until=NOW),
            NOW,
            2,
            "least loaded",
        ),
        # Owner without capacity: someone else takes it.
        (
            [agent(1, chat_load=5), agent(2)],
            item(protection_owner_id=1, protection_until=NOW + timedelta(hours=1)),
            NOW,
            2,
            "least",
        ),
        # Skill required: the qualified agent even if busier.
        (
            [agent(1), agent(2, chat_load=3, skills=frozenset({"vip"}))],
            item(required_skills=frozenset({"vip"})),
            NOW,
            2,
            "vip",
        ),
        # Nobody qualified free, fallback window passed: anyone eligible.
        (
            [agent(1, chat_load=1), agent(2, chat_load=5, skills=frozenset({"vip"}))],
            item(required_skills=frozenset({"vip"}), enqueued_at=NOW - timedelta(seconds=61)),
            NOW,
            1,
            "fallback",
        ),
    ],
)
def test_pick_agent(
    agents: list[AgentFacts], what: ItemFacts, now: datetime, expected_id: int, reason_part: str
) -> None:
    pick = pick_agent(what, agents, now)
    assert pick is not None
    assert pick.agent_id == expected_id
    assert reason_part in pick.reason


@pytest.mark.parametrize(
    ("agents", "what"),
    [
        ([], item()),
        ([agent(1, status=AgentStatus.AWAY)], item()),
        # Qualified agent busy, fallback window not yet open: wait.
        (
            [agent(1), agent(2, chat_load=5, skills=frozenset({"vip"}))],
            item(required_skills=frozenset({"vip"}), enqueued_at=NOW - timedelta(seconds=10)),
        ),
    ],
)
def test_nobody_picked(agents: list[AgentFacts], what: ItemFacts) -> None:
    assert pick_agent(what, agents, NOW) is None


def test_may_take_respects_skills_until_fallback() -> None:
    vip_item = item(required_skills=frozenset({"vip"}), enqueued_at=NOW - timedelta(seconds=5))
    assert may_take(agent(1, skills=frozenset({"vip"})), vip_item, NOW)
    assert not may_take(agent(2), vip_item, NOW)
    assert may_take(agent(2), vip_item, NOW + timedelta(seconds=60))


def test_the_duty_holder_gets_the_item_even_when_busier() -> None:
    reviewer = agent(1, roles=frozenset({"refund"}), chat_load=3)
    processor = agent(2, roles=frozenset({"refund"}), chat_load=0)
    review = item(role="refund", duty_holders=frozenset({1}))
    pick = pick_agent(review, [reviewer, processor], NOW)
    assert pick is not None
    assert pick.agent_id == 1
    # Nobody holding the duty is online: the least loaded in the role takes it.
    pick = pick_agent(item(role="refund"), [reviewer, processor], NOW)
    assert pick is not None
    assert pick.agent_id == 2


@pytest.mark.parametrize(
    ("status", "roles", "role", "binds"),
    [
        (AgentStatus.ONLINE, {"payment_chasing"}, "payment_chasing", True),
        (AgentStatus.BUSY, {"payment_chasing"}, "payment_chasing", True),
        (AgentStatus.AWAY, {"payment_chasing"}, "payment_chasing", True),  # back soon
        (AgentStatus.OFFLINE, {"payment_chasing"}, "payment_chasing", False),  # off shift
        (None, (), "payment_chasing", False),  # no agent any more
        (AgentStatus.ONLINE, {"payment_chasing"}, "hotline", False),  # cannot phone-chase
        (AgentStatus.ONLINE, {"payment_chasing", "hotline"}, "hotline", True),
        (AgentStatus.ONLINE, {"hotline"}, "payment_chasing", False),
    ],
)
def test_chase_claim_binds_only_a_holder_who_can_work_the_chase(
    status: AgentStatus | None, roles: set[str], role: str, binds: bool
) -> None:
    assert chase_claim_binds(status, roles, role) is binds
