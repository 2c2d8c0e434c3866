"""The queue index, one suite over both implementations (memory, and Redis for real)."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from csdesk.routing.queues import Claimed, MemoryWorkQueue, RedisWorkQueue, WorkQueue
from tests.services import REDIS_URL, require

SHOP = "shop-1"
OTHER_SHOP = "shop-2"
ROLES = ("presales", "refund", "aftersales_triage")

QueueFactory = Callable[[], Awaitable[WorkQueue]]


@pytest.fixture(params=["memory", "redis"])
async def queue_factory(
    request: pytest.FixtureRequest, redis_prefix: str
) -> AsyncIterator[QueueFactory]:
    """Views of ONE index: Redis gets a client (a connection) per view, memory shares one."""
    if request.param == "memory":
        shared = MemoryWorkQueue()

        async def memory_view() -> WorkQueue:
            return shared

        yield memory_view
        return
    require("redis")
    clients: list[Redis] = []

    async def redis_view() -> WorkQueue:
        client = Redis.from_url(REDIS_URL)
        clients.append(client)
        return RedisWorkQueue(client, redis_prefix)

    yield redis_view
    for client in clients:
        await client.aclose()


@pytest.fixture
async def queue(queue_factory: QueueFactory) -> WorkQueue:
    return await queue_factory()


async def drain(queue: WorkQueue, shop_id: str, roles: tuple[str, ...]) -> list[Claimed]:
    claimed = []
    while (item := await queue.claim(shop_id, roles)) is not None:
        claimed.append(item)
    return claimed


async def test_order_is_key_descending_then_id_ascending(queue: WorkQueue) -> None:
    for item_id, key in [(1, 5.0), (2, 7.0), (3, 5.0), (10, 7.0), (9, 7.0), (100, -1.0)]:
        await queue.push(SHOP, "refund", item_id, key)

    # 9 before 10: a string-ordered tie-break would get this wrong.
    expected = [(2, 7.0), (9, 7.0), (10, 7.0), (1, 5.0), (3, 5.0), (100, -1.0)]
    assert await queue.peek(SHOP, "refund", 10) == expected
    assert [(c.item_id, c.sort_key) for c in await drain(queue, SHOP, ("refund",))] == expected


async def test_repush_updates_the_key(queue: WorkQueue) -> None:
    await queue.push(SHOP, "presales", 1, 1.0)
    await queue.push(SHOP, "presales", 2, 2.0)
    await queue.push(SHOP, "presales", 1, 3.0)
    await queue.push(SHOP, "presales", 2, 2.0)  # same key again: a no-op

    assert await queue.depth(SHOP, "presales") == 2
    assert await queue.peek(SHOP, "presales") == [(1, 3.0), (2, 2.0)]


async def test_claim_across_roles_takes_the_global_best(queue: WorkQueue) -> None:
    await queue.push(SHOP, "presales", 1, 5.0)
    await queue.push(SHOP, "refund", 3, 9.0)
    await queue.push(SHOP, "aftersales_triage", 2, 9.0)
    await queue.push(SHOP, "hotline", 4, 100.0)  # a role this agent does not hold

    claimed = await drain(queue, SHOP, ("presales", "refund", "aftersales_triage"))

    assert claimed == [
        Claimed("aftersales_triage", 2, 9.0),  # tie on the key: the lower id, whatever the role
        Claimed("refund", 3, 9.0),
        Claimed("presales", 1, 5.0),
    ]
    assert await queue.depth(SHOP, "hotline") == 1
    assert await queue.claim(SHOP, ()) is None
    assert await queue.claim(SHOP, ("no_such_role",)) is None


async def test_claim_skips_excluded_items(queue: WorkQueue) -> None:
    await queue.push(SHOP, "presales", 1, 9.0)
    await queue.push(SHOP, "presales", 2, 8.0)
    await queue.push(SHOP, "refund", 3, 7.0)

    assert await queue.claim(SHOP, ("presales", "refund"), exclude=frozenset({1})) == Claimed(
        "presales", 2, 8.0
    )
    assert await queue.claim(SHOP, ("presales",), exclude=frozenset({1})) is None
    assert await queue.claim(SHOP, ("presales", "refund"), exclude=frozenset({1, 3})) is None
    assert await queue.claim(SHOP, ("presales", "refund")) == Claimed("presales", 1, 9.0)
    assert await queue.peek(SHOP, "refund") == [(3, 7.0)]


async def test_claim_item_takes_one_specific_item_once(queue: WorkQueue) -> None:
    await queue.push(SHOP, "refund", 7, 1.0)
    await queue.push(SHOP, "refund", 8, 2.0)

    assert await queue.claim_item(SHOP, "refund", 7) is True
    assert await queue.claim_item(SHOP, "refund", 7) is False
    assert await queue.claim_item(SHOP, "presales", 8) is False  # wrong role: not taken
    assert await queue.peek(SHOP, "refund") == [(8, 2.0)]


async def test_remove(queue: WorkQueue) -> None:
    await queue.push(SHOP, "refund", 7, 1.0)

    assert await queue.remove(SHOP, "refund", 7) is True
    assert await queue.remove(SHOP, "refund", 7) is False
    assert await queue.remove(SHOP, "no_such_role", 7) is False
    assert await queue.depth(SHOP, "refund") == 0


async def test_depth_and_peek(queue: WorkQueue) -> None:
    assert await queue.depth(SHOP, "refund") == 0
    assert await queue.peek(SHOP, "refund") == []
    for item_id in range(1, 21):
        await queue.push(SHOP, "refund", item_id, float(item_id % 4))

    assert await queue.depth(SHOP, "refund") == 20
    assert await queue.peek(SHOP, "refund", 3) == [(3, 3.0), (7, 3.0), (11, 3.0)]
    assert await queue.peek(SHOP, "refund", 0) == []
    assert len(await queue.peek(SHOP, "refund", 100)) == 20
    assert await queue.depth(SHOP, "refund") == 20  # peeking claims nothing


async def test_rebuild_replaces_the_shops_index(queue: WorkQueue) -> None:
    await queue.push(SHOP, "presales", 1, 1.0)
    await queue.push(SHOP, "presales", 2, 2.0)
    await queue.push(SHOP, "refund", 3, 3.0)
    await queue.push(OTHER_SHOP, "presales", 1, 1.0)

    await queue.rebuild(
        SHOP,
        [("refund", 4, 1.0), ("hotline", 5, 2.0), ("hotline", 5, 3.0), ("hotline", 6, 3.0)],
    )

    assert await queue.depth(SHOP, "presales") == 0  # a role without items ends empty
    assert await queue.peek(SHOP, "refund") == [(4, 1.0)]
    assert await queue.peek(SHOP, "hotline") == [(5, 3.0), (6, 3.0)]  # last entry for 5 won
    assert await queue.peek(OTHER_SHOP, "presales") == [(1, 1.0)]

    await queue.push(SHOP, "presales", 9, 0.0)  # the index keeps working after a rebuild
    await queue.rebuild(SHOP, [])
    for role in ("presales", "refund", "hotline"):
        assert await queue.depth(SHOP, role) == 0
    assert await queue.depth(OTHER_SHOP, "presales") == 1


async def test_rebuild_of_many_items(queue: WorkQueue) -> None:
    items = [(ROLES[i % 3], i, float(i % 17)) for i in range(5_000)]

    await queue.rebuild(SHOP, iter(items))  # any iterable, consumed once

    for role in ROLES:
        expected = sorted(
            ((i, k) for r, i, k in items if r == role), key=lambda pair: (-pair[1], pair[0])
        )
        assert await queue.depth(SHOP, role) == len(expected)
        assert await queue.peek(SHOP, role, 50) == expected[:50]


async def test_shops_are_isolated(queue: WorkQueue) -> None:
    await queue.push(SHOP, "refund", 1, 1.0)
    await queue.push(OTHER_SHOP, "refund", 1, 5.0)
    await queue.push(OTHER_SHOP, "refund", 2, 4.0)

    assert await queue.claim(SHOP, ("refund",)) == Claimed("refund", 1, 1.0)
    assert await queue.claim(SHOP, ("refund",)) is None
    assert await queue.depth(OTHER_SHOP, "refund") == 2
    assert await queue.claim_item(SHOP, "refund", 2) is False
    assert await queue.remove(OTHER_SHOP, "refund", 1) is True
    assert await queue.peek(OTHER_SHOP, "refund") == [(2, 4.0)]


async def test_sort_keys_round_trip_exactly(queue: WorkQueue) -> None:
    keys = [0.1 + 0.2, 1e300, -1e-300, 5e-324, math.inf, -math.inf, 1234567.000000001, -0.5]
    for item_id, key in enumerate(keys):
        await queue.push(SHOP, "refund", item_id, key)

    claimed = await drain(queue, SHOP, ("refund",))

    assert [c.sort_key for c in claimed] == sorted(keys, reverse=True)
    assert all(c.sort_key == keys[c.item_id] for c in claimed)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda q: q.push(SHOP, "refund", 1, math.nan), "NaN"),
        (lambda q: q.push(SHOP, "refund", -1, 1.0), "item_id"),
        (lambda q: q.push(SHOP, "", 1, 1.0), "role"),
        (lambda q: q.push("a}b", "refund", 1, 1.0), "shop_id"),
        (lambda q: q.claim(SHOP, ("refund", "{x}")), "role"),
        (lambda q: q.rebuild(SHOP, [("refund", 1, math.nan)]), "NaN"),
    ],
)
async def test_bad_input_is_refused(
    queue: WorkQueue, call: Callable[[WorkQueue], Awaitable[Any]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await call(queue)


async def test_rebuild_refusing_bad_input_keeps_the_old_index(queue: WorkQueue) -> None:
    await queue.push(SHOP, "refund", 1, 1.0)

    with pytest.raises(ValueError, match="NaN"):
        await queue.rebuild(SHOP, [("refund", 2, 2.0), ("refund", 3, math.nan)])

    assert await queue.peek(SHOP, "refund") == [(1, 1.0)]


# --- concurrency ------------------------------------------------------------------------------

CLAIMERS = 8
ITEMS = 2_000


def _key(item_id: int) -> float:
    # Few distinct keys, so most comparisons fall to the id tie-break.
    return float(item_id * 7919 % 13)


async def _claimer(queue: WorkQueue, stop: asyncio.Event | None = None) -> list[Claimed]:
    taken: list[Claimed] = []
    while True:
        item = await queue.claim(SHOP, ROLES)
        if item is not None:
            taken.append(item)
            await asyncio.sleep(0)  # lets the memory claimers interleave too
        elif stop is None or stop.is_set():
            return taken
        else:
            await asyncio.sleep(0.001)  # ran ahead of the producer: do not spin on Redis


async def _sniper(queue: WorkQueue, seed: int) -> list[int]:
    """Takes specific items by id, racing the claimers for them."""
    rng = random.Random(seed)
    taken = []
    for item_id in rng.sample(range(ITEMS), 300):
        if await queue.claim_item(SHOP, ROLES[item_id % 3], item_id):
            taken.append(item_id)
        await asyncio.sleep(0)
    return taken


async def test_concurrent_claimers_take_every_item_exactly_once(
    queue_factory: QueueFactory,
) -> None:
    loader = await queue_factory()
    await loader.rebuild(SHOP, [(ROLES[i % 3], i, _key(i)) for i in range(ITEMS)])
    views = [await queue_factory() for _ in range(CLAIMERS + 2)]

    claimed_lists, sniped_lists = await asyncio.gather(
        asyncio.gather(*(_claimer(view) for view in views[:CLAIMERS])),
        asyncio.gather(*(_sniper(view, seed) for seed, view in enumerate(views[CLAIMERS:]))),
    )

    claimed = [c for per_claimer in claimed_lists for c in per_claimer]
    all_ids = [c.item_id for c in claimed] + [i for sniped in sniped_lists for i in sniped]
    assert sorted(all_ids) == list(range(ITEMS))  # none lost, none twice
    assert all(c.sort_key == _key(c.item_id) and c.role == ROLES[c.item_id % 3] for c in claimed)
    # Each claim took the best item left, and the index only shrank: so every claimer saw
    # its items in queue order.
    for per_claimer in claimed_lists:
        order = [(-c.sort_key, c.item_id) for c in per_claimer]
        assert order == sorted(order)
    assert sum(1 for per_claimer in claimed_lists if per_claimer) > 1  # they really shared


async def test_claimers_racing_a_producer_lose_nothing(queue_factory: QueueFactory) -> None:
    producer = await queue_factory()
    views = [await queue_factory() for _ in range(CLAIMERS)]
    done = asyncio.Event()

    async def produce() -> None:
        for item_id in range(ITEMS):
            await producer.push(SHOP, ROLES[item_id % 3], item_id, _key(item_id))
            if item_id % 50 == 0:
                await asyncio.sleep(0)
        done.set()

    results, _ = await asyncio.gather(
        asyncio.gather(*(_claimer(view, done) for view in views)), produce()
    )

    ids = [c.item_id for per_claimer in results for c in per_claimer]
    assert sorted(ids) == list(range(ITEMS))
    for role in ROLES:
        assert await producer.depth(SHOP, role) == 0


# --- Redis specifics --------------------------------------------------------------------------


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    require("redis")
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


async def test_redis_keys_stay_under_the_prefix_and_rebuild_leaves_no_temp_keys(
    redis_client: Redis, redis_prefix: str
) -> None:
    queue = RedisWorkQueue(redis_client, redis_prefix)
    await queue.push(SHOP, "refund", 1, 1.0)
    await queue.rebuild(SHOP, [("presales", i, 1.0) for i in range(2_500)])

    # Only this test's prefix: other runs sharing the server may hold keys of a shop-1 too.
    keys = sorted([k.decode() async for k in redis_client.scan_iter(match=f"{redis_prefix}*")])

    assert keys == [
        f"{redis_prefix}q:{{{SHOP}}}:built",
        f"{redis_prefix}q:{{{SHOP}}}:r:presales",
        f"{redis_prefix}q:{{{SHOP}}}:roles",
    ]
    assert await redis_client.ttl(keys[1]) == -1  # the temporary set's expiry did not stick
    assert await redis_client.ttl(keys[0]) == -1  # the marker never expires by itself


async def test_built_marks_a_rebuild_and_a_restore_and_a_loss_clears_it(
    redis_client: Redis, redis_prefix: str
) -> None:
    queue = RedisWorkQueue(redis_client, redis_prefix)
    assert not await queue.built(SHOP)  # never built
    await queue.rebuild(SHOP, [("presales", 1, 1.0), ("presales", 2, 2.0)])
    assert await queue.built(SHOP)
    keys = [k async for k in redis_client.scan_iter(match=f"{redis_prefix}*")]
    await redis_client.delete(*keys)  # what a FLUSHDB does
    await queue.push(SHOP, "presales", 3, 3.0)  # traffic after the loss: a fragment
    assert not await queue.built(SHOP)
    # A restore adds (the push racing with it survives) and marks the index built again.
    await queue.restore(SHOP, [("presales", 1, 1.0), ("presales", 2, 2.0), ("refund", 4, 0.5)])
    assert await queue.built(SHOP)
    assert await queue.peek(SHOP, "presales") == [(3, 3.0), (2, 2.0), (1, 1.0)]
    assert await queue.peek(SHOP, "refund") == [(4, 0.5)]
    # The restored roles are registered: a later rebuild clears them like any other.
    await queue.rebuild(SHOP, [])
    assert await queue.depth(SHOP, "refund") == 0


async def test_the_memory_index_is_never_lost_alone() -> None:
    queue = MemoryWorkQueue()
    assert await queue.built(SHOP)
    await queue.restore(SHOP, [("presales", 1, 1.0)])
    assert await queue.peek(SHOP, "presales") == [(1, 1.0)]


async def test_redis_matches_memory_on_random_operations(
    redis_client: Redis, redis_prefix: str
) -> None:
    """Differential: the memory queue is checked against a model (tests/unit), Redis
    against the memory queue, on the same random operations."""
    for seed in range(10):
        rng = random.Random(seed)
        memory: WorkQueue = MemoryWorkQueue()
        redis: WorkQueue = RedisWorkQueue(redis_client, f"{redis_prefix}{seed}:")
        for _ in range(200):
            op = rng.choice(["push", "push", "push", "claim", "claim_item", "remove", "peek"])
            role = rng.choice(ROLES)
            item_id = rng.randrange(40)
            if op == "push":
                key = float(rng.randrange(-3, 4)) if rng.random() < 0.7 else rng.uniform(-9, 9)
                args: tuple[Any, ...] = (SHOP, role, item_id, key)
            elif op == "claim":
                roles = tuple(rng.sample(ROLES, rng.randint(1, 3)))
                excluded = frozenset(rng.sample(range(40), rng.randint(0, 3)))
                both = [await q.claim(SHOP, roles, exclude=excluded) for q in (memory, redis)]
                assert both[0] == both[1], (seed, op, roles, excluded)
                continue
            elif op == "peek":
                args = (SHOP, role, rng.randint(0, 8))
            else:
                args = (SHOP, role, item_id)
            results = [await getattr(q, op)(*args) for q in (memory, redis)]
            assert results[0] == results[1], (seed, op, args)
        if seed % 3 == 0:
            entries = [
                (rng.choice(ROLES), rng.randrange(40), rng.uniform(-1, 1)) for _ in range(30)
            ]
            for q in (memory, redis):
                await q.rebuild(SHOP, entries)
        for role in ROLES:
            assert await memory.peek(SHOP, role, 100) == await redis.peek(SHOP, role, 100)
