"""A Redis loss is an incident, not a silence: with 30 presales items queued and the queue
index wiped (only this test's keys, as a FLUSHDB would wipe them all), the queues API shows
the gap; an agent going online and an agent already online, idle, both get queued work at
once; the worker's 10-second watch restores the index when nobody asks for work."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis
from sqlalchemy import func, select

from csdesk.actions.sweeps import watch_queue_index
from csdesk.actions.users import issue_token
from csdesk.clock import utcnow
from csdesk.keys import SETTINGS_KEY
from csdesk.routing.queues import QUEUE_KEY
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ConversationStatus, ServiceRole, UserRole
from csdesk.storage.models import Conversation
from tests.helpers import deps, make_agent, post_event, settle, token_for
from tests.services import REDIS_URL

pytestmark = pytest.mark.redis
REDIS_BACKENDS = pytest.mark.parametrize(
    "backend", ["sqlite+redis", "postgres+redis"], indirect=True
)
QUEUED = 30
CAPACITY = 5


async def _lose_index(prefix: str) -> int:
    """What FLUSHDB does to this deployment's keys, without touching anyone else's."""
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
        return len(keys)
    finally:
        await client.aclose()


async def _queue_presales(client: TestClient[Any, Any], first: int, count: int) -> None:
    for n in range(first, first + count):
        await post_event(client, "message.received", {"buyer_nick": f"买家{n}", "text": "在吗"})
    await settle(client)


async def _held(sessions: SessionFactory, agent_id: int) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).where(
                Conversation.assigned_agent_id == agent_id,
                Conversation.status == ConversationStatus.ASSIGNED,
            )
        )
        return int(count or 0)


async def _until_held(sessions: SessionFactory, agent_id: int, count: int) -> int:
    """Within seconds, or the assertion that follows shows how many they got."""
    held = await _held(sessions, agent_id)
    for _ in range(50):
        if held >= count:
            break
        await asyncio.sleep(0.1)
        held = await _held(sessions, agent_id)
    return held


async def _queues(client: TestClient[Any, Any], token: str) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/queues?limit=0", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


@REDIS_BACKENDS
async def test_after_a_redis_loss_idle_agents_get_the_queued_work_at_once(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    supervisor = await token_for(sessions, shop_id, "组长", UserRole.SUPERVISOR)
    await _queue_presales(client, 0, QUEUED)
    before = (await _queues(client, supervisor))["roles"]["presales"]
    assert (before["depth"], before["index_depth"]) == (QUEUED, QUEUED)

    assert await _lose_index(client.app[SETTINGS_KEY].redis.key_prefix) > 0
    # Work arriving after the loss lands in fresh sets: the index holds a fraction.
    await _queue_presales(client, QUEUED, 2)
    gap = await _queues(client, supervisor)
    assert gap["index_intact"] is False
    assert (gap["roles"]["presales"]["depth"], gap["roles"]["presales"]["index_depth"]) == (
        QUEUED + 2,
        2,
    )
    metrics = await client.get("/metrics", headers={"Authorization": f"Bearer {supervisor}"})
    assert metrics.status == 200
    scraped = await metrics.text()
    assert 'csdesk_queue_depth{role="presales"} 32.0' in scraped
    assert 'csdesk_queue_index_depth{role="presales"} 2.0' in scraped
    assert "csdesk_queue_index_intact 0.0" in scraped

    # One agent already online and idle (came on while the index looked empty) ...
    waiting = await make_agent(
        sessions, shop_id, "在线小美", [ServiceRole.PRESALES], chat_capacity=CAPACITY
    )
    # ... and one going online now, through the workbench.
    arriving = await make_agent(
        sessions,
        shop_id,
        "上线小王",
        [ServiceRole.PRESALES],
        chat_capacity=CAPACITY,
        status=AgentStatus.AWAY,
    )
    token = await issue_token(sessions, "上线小王")
    response = await client.post(
        "/api/v1/workbench/status",
        json={"status": "online"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == 200, await response.text()
    assert len((await response.json())["assigned"]) == CAPACITY
    assert await _held(sessions, arriving) == CAPACITY
    # The agent already online is offered work right after that transaction commits.
    assert await _until_held(sessions, waiting, CAPACITY) == CAPACITY

    after = await _queues(client, supervisor)
    assert after["index_intact"] is True
    left = QUEUED + 2 - 2 * CAPACITY
    assert (after["roles"]["presales"]["depth"], after["roles"]["presales"]["index_depth"]) == (
        left,
        left,
    )


@REDIS_BACKENDS
async def test_the_watch_restores_a_lost_index_when_nobody_asks_for_work(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    await _queue_presales(client, 0, QUEUED)
    queue = client.app[QUEUE_KEY]
    # The shop came after the app's start-up rebuild: the first watch marks its index.
    assert await watch_queue_index(deps(client), utcnow()) == 0
    assert await queue.built(shop_id)
    await _lose_index(client.app[SETTINGS_KEY].redis.key_prefix)
    assert not await queue.built(shop_id)
    assert await queue.depth(shop_id, ServiceRole.PRESALES.value) == 0
    idle = await make_agent(
        sessions, shop_id, "在线小美", [ServiceRole.PRESALES], chat_capacity=CAPACITY
    )

    # What the worker runs every 10 seconds.
    assert await watch_queue_index(deps(client), utcnow()) == CAPACITY

    assert await queue.built(shop_id)
    assert await _held(sessions, idle) == CAPACITY
    assert await queue.depth(shop_id, ServiceRole.PRESALES.value) == QUEUED - CAPACITY


@REDIS_BACKENDS
async def test_the_watch_offers_work_to_an_agent_idle_next_to_a_queue(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """Nothing should strand an agent beside a queue; if something does, it does not last."""
    await _queue_presales(client, 0, 3)
    idle = await make_agent(sessions, shop_id, "在线小美", [ServiceRole.PRESALES])
    other_role = await make_agent(sessions, shop_id, "退款小李", [ServiceRole.REFUND])
    assert await watch_queue_index(deps(client), utcnow()) == 3
    assert await _held(sessions, idle) == 3
    assert await _held(sessions, other_role) == 0
    assert await watch_queue_index(deps(client), utcnow()) == 0
