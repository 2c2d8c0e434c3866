"""What two transactions (two web processes, a worker) must not both do: open a second chat
for one buyer, or fill one agent's last free slot twice. The two-process end-to-end check
is ``test_two_web_processes``; these pin each guarantee down with two sessions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from csdesk.actions.buyers import BuyerSpec, ensure_buyer
from csdesk.actions.outbox import Outbox
from csdesk.actions.routing import open_buyer_chat, open_item, place
from csdesk.bus.base import EventBus
from csdesk.clock import utcnow
from csdesk.keys import BUS_KEY
from csdesk.roles.base import Decision
from csdesk.roles.scoring import Score
from csdesk.routing.facts import load_shop_context
from csdesk.routing.queues import QUEUE_KEY
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import Channel, ConversationStatus, ServiceRole
from csdesk.storage.models import Conversation
from tests.helpers import make_agent

POSTGRES_BACKENDS = pytest.mark.parametrize(
    "backend", ["postgres", "postgres+redis"], indirect=True
)
PRESALES_CHAT = Decision(role=ServiceRole.PRESALES, kind="chat", score=Score.of(()))
ORDER_CHECK = Decision(role=ServiceRole.ORDER_REVIEW, kind="order_check", score=Score.of(()))


async def _buyer(sessions: SessionFactory, shop_id: str, nick: str) -> int:
    async with sessions.begin() as session:
        buyer, _ = await ensure_buyer(session, shop_id, BuyerSpec(nick=nick, created_at=utcnow()))
        return buyer.id


async def _open_chats(sessions: SessionFactory, buyer_id: int) -> list[int]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Conversation.id).where(
                    Conversation.buyer_id == buyer_id,
                    Conversation.kind == "chat",
                    Conversation.status != ConversationStatus.CLOSED,
                )
            )
        )


async def test_a_buyer_has_one_open_chat_and_any_number_of_other_items(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    buyer_id = await _buyer(sessions, shop_id, "小王")
    now = utcnow()
    async with sessions.begin() as session:
        first, opened = await open_buyer_chat(
            session, shop_id=shop_id, buyer_id=buyer_id, decision=PRESALES_CHAT, now=now
        )
        assert opened
        # Work items and calls are not chats: several may be open beside it.
        for _ in range(2):
            await open_item(
                session,
                shop_id=shop_id,
                decision=ORDER_CHECK,
                channel=Channel.CHAT,
                now=now,
                buyer_id=buyer_id,
            )
    async with sessions.begin() as session:
        # A process that did not see the chat (its facts were loaded before) meets it.
        again, opened = await open_buyer_chat(
            session, shop_id=shop_id, buyer_id=buyer_id, decision=PRESALES_CHAT, now=now
        )
        assert (again.id, opened) == (first.id, False)
        again.status = ConversationStatus.CLOSED
        again.closed_at = now
    async with sessions.begin() as session:
        # Once it is closed, the buyer's next message opens a new thread.
        fresh, opened = await open_buyer_chat(
            session, shop_id=shop_id, buyer_id=buyer_id, decision=PRESALES_CHAT, now=now
        )
        assert opened
    assert await _open_chats(sessions, buyer_id) == [fresh.id]


@POSTGRES_BACKENDS
async def test_two_transactions_opening_one_buyers_chat_meet_in_one(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    buyer_id = await _buyer(sessions, shop_id, "小李")
    now = utcnow()
    async with sessions.begin() as first_tx:
        first, opened = await open_buyer_chat(
            first_tx, shop_id=shop_id, buyer_id=buyer_id, decision=PRESALES_CHAT, now=now
        )
        assert opened

        async def second() -> tuple[int, bool]:
            async with sessions.begin() as second_tx:
                chat, opened = await open_buyer_chat(
                    second_tx, shop_id=shop_id, buyer_id=buyer_id, decision=PRESALES_CHAT, now=now
                )
                return chat.id, opened

        racing = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not racing.done()  # waits for the first transaction's verdict
    assert await racing == (first.id, False)
    assert await _open_chats(sessions, buyer_id) == [first.id]


async def _queued_chat(sessions: SessionFactory, shop_id: str, nick: str) -> int:
    buyer_id = await _buyer(sessions, shop_id, nick)
    async with sessions.begin() as session:
        chat, _ = await open_buyer_chat(
            session, shop_id=shop_id, buyer_id=buyer_id, decision=PRESALES_CHAT, now=utcnow()
        )
        return chat.id


async def _held(sessions: SessionFactory, agent_id: int) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).where(
                Conversation.assigned_agent_id == agent_id,
                Conversation.status == ConversationStatus.ASSIGNED,
            )
        )
        return int(count or 0)


@POSTGRES_BACKENDS
@pytest.mark.parametrize(("capacity", "held_after"), [(1, 1), (2, 2)])
async def test_two_transactions_placing_for_one_agent_never_overfill(
    client: TestClient[Any, Any],
    sessions: SessionFactory,
    shop_id: str,
    capacity: int,
    held_after: int,
) -> None:
    """The first transaction holds the agent; the second passes them over (the item waits
    in the queue) and, once it commits, offers them queued work: with room left they take
    it, with none they do not."""
    agent_id = await make_agent(
        sessions, shop_id, "唯一客服", [ServiceRole.PRESALES], chat_capacity=capacity
    )
    first_item = await _queued_chat(sessions, shop_id, "甲")
    second_item = await _queued_chat(sessions, shop_id, "乙")
    bus: EventBus = client.app[BUS_KEY]
    queue = client.app[QUEUE_KEY]
    now = utcnow()

    async def place_item(item_id: int, session: Any, outbox: Outbox) -> int | None:
        ctx = await load_shop_context(session, shop_id)
        conversation = await session.get(Conversation, item_id)
        assert conversation is not None
        return await place(session, ctx, conversation, now, outbox)

    first_outbox, second_outbox = Outbox(), Outbox()
    async with sessions.begin() as first_tx:
        assert await place_item(first_item, first_tx, first_outbox) == agent_id
        async with sessions.begin() as second_tx:
            assert await place_item(second_item, second_tx, second_outbox) is None
    assert len(second_outbox.follow_ups) == 1  # offer the agent queued work after commit
    await first_outbox.flush(bus, queue, sessions)
    assert await _held(sessions, agent_id) == 1
    await second_outbox.flush(bus, queue, sessions)
    assert await _held(sessions, agent_id) == held_after
