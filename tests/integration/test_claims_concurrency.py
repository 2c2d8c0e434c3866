"""No item is ever assigned twice: ≥ 8 concurrent claimers through the real actions, on
SQLite and PostgreSQL, with the memory and the Redis queue index."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from csdesk.actions.outbox import Outbox
from csdesk.actions.routing import assign, fill_agent
from csdesk.clock import utcnow
from csdesk.routing.facts import load_shop_context
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ConversationStatus, ServiceRole
from csdesk.storage.models import Conversation
from tests.helpers import deps, make_agent, post_event, settle

CLAIMERS = 8


async def test_eight_agents_racing_for_one_item(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agents = [
        await make_agent(
            sessions, shop_id, f"r{n}", [ServiceRole.PRESALES], status=AgentStatus.AWAY
        )
        for n in range(CLAIMERS)
    ]
    await post_event(client, "message.received", {"buyer_nick": "抢手", "text": "有货吗"})
    await settle(client)
    async with sessions() as session:
        item_id = await session.scalar(select(Conversation.id))
    assert item_id is not None
    now = utcnow()

    async def grab(agent_id: int) -> bool:
        async with sessions.begin() as session:
            ctx = await load_shop_context(session, shop_id)
            conversation = await session.get(Conversation, item_id)
            assert conversation is not None
            return await assign(session, ctx, conversation, agent_id, now, Outbox(), "race")

    results = await asyncio.gather(*(grab(agent) for agent in agents))
    assert sum(results) == 1
    async with sessions() as session:
        conversation = await session.get(Conversation, item_id)
        assert conversation is not None
    assert conversation.assigned_agent_id == agents[results.index(True)]


@pytest.mark.parametrize("items", [40])
async def test_eight_agents_draining_a_queue_take_each_item_once(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, items: int
) -> None:
    agents = [
        await make_agent(
            sessions,
            shop_id,
            f"d{n}",
            [ServiceRole.PRESALES],
            status=AgentStatus.AWAY,
            chat_capacity=items,
        )
        for n in range(CLAIMERS)
    ]
    for n in range(items):
        await post_event(client, "message.received", {"buyer_nick": f"b{n}", "text": "在吗"})
    await settle(client)
    async with sessions.begin() as session:
        from sqlalchemy import update

        from csdesk.storage.models import AgentProfile

        await session.execute(update(AgentProfile).values(status=AgentStatus.ONLINE))
    now = utcnow()
    dependencies = deps(client)

    async def drain(agent_id: int) -> list[int]:
        taken: list[int] = []
        for _ in range(items):  # bounded: retry after losing a race
            outbox = Outbox()
            try:
                async with sessions.begin() as session:
                    ctx = await load_shop_context(session, shop_id)
                    got = await fill_agent(session, ctx, agent_id, now, outbox, dependencies.queue)
            except Exception as exc:  # SQLite's single writer may refuse; the test retries
                if "locked" not in str(exc):
                    raise
                continue
            await outbox.flush(dependencies.bus, dependencies.queue)
            taken.extend(got)
            if not got:
                break
        return taken

    results = await asyncio.gather(*(drain(agent) for agent in agents))
    claimed = [item for taken in results for item in taken]
    assert len(claimed) == len(set(claimed))
    async with sessions() as session:
        assigned = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.status == ConversationStatus.ASSIGNED)
        )
        queued = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.status == ConversationStatus.QUEUED)
        )
    assert assigned == len(claimed)
    assert assigned + (queued or 0) == items
    # A claim whose transaction lost a race leaves its item queued in the database; after
    # the reconcile sweep the index holds exactly the database's queued items again.
    from csdesk.actions.sweeps import reconcile_queue_index

    await reconcile_queue_index(dependencies, utcnow())
    assert await dependencies.queue.depth(shop_id, "presales") == queued
