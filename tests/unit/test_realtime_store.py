"""The queue store contract, run against the memory store and the Redis store alike."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from csdesk.realtime.redis_store import RedisQueueStore
from csdesk.realtime.store import NO_OWNER, Append, MemoryQueueStore, QueueState, QueueStore
from tests.services import REDIS_URL, require

MAX_EVENTS = 3
StoreFactory = Callable[[str], QueueStore]


@pytest.fixture(params=["memory", "redis"])
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[StoreFactory]:
    """Stores of processes named by the argument (Redis: sharing one key prefix)."""
    if request.param == "memory":
        yield lambda owner: MemoryQueueStore(owner, MAX_EVENTS)
        return
    require("redis")
    redis = Redis.from_url(REDIS_URL)
    prefix = f"csdesk-test:{uuid.uuid4().hex[:12]}:"

    def factory(owner: str) -> QueueStore:
        return RedisQueueStore(
            redis, prefix, owner=owner, max_events=MAX_EVENTS, ttl_s=60, liveness_ttl_s=60
        )

    yield factory
    keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def test_ids_start_at_zero_and_grow_by_one(make_store: StoreFactory) -> None:
    store = make_store("p1")
    await store.create("q", "shop", 7)
    assert await store.state("q") == QueueState("q", "shop", 7, "p1", -1, -1)
    assert await store.append([Append("q", '{"n":0}'), Append("q", '{"n":1}')]) == [0, 1]
    assert await store.append([Append("q", '{"n":2}'), Append("nope", "{}")]) == [2, None]
    assert [(e.id, e.body) for e in await store.read("q", -1, 10)] == [
        (0, '{"n":0}'),
        (1, '{"n":1}'),
        (2, '{"n":2}'),
    ]
    assert [e.id for e in await store.read("q", 0, 10)] == [1, 2]
    assert [e.id for e in await store.read("q", 0, 1)] == [1]
    assert await store.read("q", 2, 10) == []
    assert await store.read("nope", -1, 10) == []
    state = await store.state("q")
    assert state is not None
    assert (state.last_event_id, state.floor) == (2, -1)


async def test_length_bound_drops_oldest_and_raises_the_floor(make_store: StoreFactory) -> None:
    store = make_store("p1")
    await store.create("q", "shop", 7)
    await store.append([Append("q", "{}") for _ in range(5)])
    assert [e.id for e in await store.read("q", -1, 10)] == [2, 3, 4]
    state = await store.state("q")
    assert state is not None
    assert state.floor == 1
    assert state.resume_problem(1) is None
    assert state.resume_problem(4) is None
    assert state.resume_problem(0) == "too far behind: events up to 1 were dropped"
    assert state.resume_problem(5) == "last_event_id 5 is ahead of the queue (its last event is 4)"


async def test_ack_drops_applied_events(make_store: StoreFactory) -> None:
    store = make_store("p1")
    await store.create("q", "shop", 7)
    await store.append([Append("q", "{}") for _ in range(3)])
    await store.ack("q", 1)
    assert [e.id for e in await store.read("q", -1, 10)] == [2]
    await store.ack("q", 0)  # an older ack changes nothing
    state = await store.state("q")
    assert state is not None
    assert state.floor == 1
    await store.ack("nope", 3)


async def test_only_the_owner_appends_and_hand_over_moves_it(make_store: StoreFactory) -> None:
    store = make_store("p1")
    await store.create("q", "shop", 7)
    await store.append([Append("q", "{}")])
    assert await store.hand_over("q", "p2") is True
    assert await store.append([Append("q", "{}")]) == [None]
    assert await store.hand_over("q", NO_OWNER) is False  # no longer ours to give
    state = await store.state("q")
    assert state is not None
    assert (state.owner, state.last_event_id) == ("p2", 0)


async def test_delete_and_liveness(make_store: StoreFactory) -> None:
    store = make_store("p1")
    await store.create("q", "shop", 7)
    await store.touch(["q"])
    await store.delete(["q", "never-was"])
    assert await store.state("q") is None
    await store.heartbeat()
    assert await store.is_alive("p1") is True
    assert await store.is_alive("p9") is False


@pytest.mark.parametrize("make_store", ["redis"], indirect=True)
async def test_a_queue_moves_between_processes(make_store: StoreFactory) -> None:
    """Server mode: another process reads the queue and, once handed over, continues it."""
    first, second = make_store("p1"), make_store("p2")
    await first.create("q", "shop", 7)
    await first.append([Append("q", "{}") for _ in range(2)])
    assert [e.id for e in await second.read("q", -1, 10)] == [0, 1]
    assert await second.append([Append("q", "{}")]) == [None]
    assert await first.hand_over("q", "p2") is True
    assert await second.append([Append("q", "{}")]) == [2]
    await first.heartbeat()
    assert await second.is_alive("p1") is True
    await first.retire()
    assert await second.is_alive("p1") is False
