"""``routing.facts.agent_facts``, what placement knows of the floor, read from the database
on every backend: who holds the role, their open load per channel, and when each was last
handed something (closed work included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from csdesk.routing.facts import agent_facts
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, Channel, ConversationStatus, ServiceRole
from csdesk.storage.models import Conversation
from tests.helpers import make_agent

T0 = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)


def _conversation(
    shop_id: str, agent: int, status: ConversationStatus, channel: Channel, at: datetime
) -> Conversation:
    return Conversation(
        shop_id=shop_id,
        channel=channel,
        kind="chat" if channel is Channel.CHAT else "call",
        role=ServiceRole.REFUND.value,
        status=status,
        assigned_agent_id=agent,
        opened_at=at,
        assigned_at=at,
    )


async def test_holders_of_a_role_with_their_load_and_last_assignment(
    sessions: SessionFactory, shop_id: str
) -> None:
    refund = await make_agent(sessions, shop_id, "tk1", [ServiceRole.REFUND])
    both = await make_agent(
        sessions, shop_id, "tk2", [ServiceRole.PRESALES, ServiceRole.REFUND, ServiceRole.HOTLINE]
    )
    review = await make_agent(sessions, shop_id, "sh1", [ServiceRole.ORDER_REVIEW])
    away = await make_agent(sessions, shop_id, "tk3", [ServiceRole.REFUND], status=AgentStatus.AWAY)
    assigned, closed = ConversationStatus.ASSIGNED, ConversationStatus.CLOSED
    async with sessions.begin() as session:
        session.add_all(
            [
                _conversation(shop_id, refund, assigned, Channel.CHAT, T0),
                _conversation(shop_id, refund, assigned, Channel.CHAT, T0 + timedelta(minutes=1)),
                _conversation(shop_id, refund, closed, Channel.CHAT, T0 + timedelta(minutes=9)),
                _conversation(shop_id, both, assigned, Channel.HOTLINE, T0 + timedelta(minutes=2)),
                _conversation(shop_id, away, assigned, Channel.CHAT, T0 + timedelta(minutes=3)),
            ]
        )

    async with sessions() as session:
        holders = {f.user_id: f for f in await agent_facts(session, shop_id, role="refund")}
        reviewers = await agent_facts(session, shop_id, role="order_review")
        everyone = await agent_facts(session, shop_id, online_only=False)
    assert set(holders) == {refund, both}  # online holders only: not the reviewer, not away
    assert (holders[refund].chat_load, holders[refund].hotline_load) == (2, 0)  # open only
    assert (holders[both].chat_load, holders[both].hotline_load) == (0, 1)
    assert holders[refund].last_assigned_at == T0 + timedelta(minutes=9)  # the closed one
    assert holders[both].last_assigned_at == T0 + timedelta(minutes=2)
    assert holders[both].roles == frozenset({"presales", "refund", "hotline"})
    assert [f.user_id for f in reviewers] == [review]
    assert reviewers[0].last_assigned_at is None  # never handed anything
    assert {f.user_id for f in everyone} == {refund, both, review, away}
