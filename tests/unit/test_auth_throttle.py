"""Login throttle on both stores (in-memory and a real Redis), with time moved by the test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from csdesk.auth.throttle import (
    MEMORY_STORE_SWEEP_AT,
    Attempt,
    AttemptStore,
    LoginThrottle,
    MemoryAttemptStore,
    RedisAttemptStore,
    SharedWithLocalFloor,
    Throttled,
)
from tests.services import REDIS_URL, require

T0 = datetime(2025, 11, 11, 0, 0, tzinfo=UTC)
LIMIT = 3
WINDOW_S = 600


@pytest.fixture(params=["memory", "redis", "redis+local"])
async def store(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[AttemptStore]:
    if request.param == "memory":
        yield MemoryAttemptStore()
        return
    require("redis")
    redis = Redis.from_url(REDIS_URL)
    try:
        shared = RedisAttemptStore(redis, redis_prefix)
        if request.param == "redis":
            yield shared
        else:
            yield SharedWithLocalFloor(shared, MemoryAttemptStore())
    finally:
        await redis.aclose()


@pytest.fixture
def throttle(store: AttemptStore) -> LoginThrottle:
    return LoginThrottle(store, limit=LIMIT, window_s=WINDOW_S)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def fail(throttle: LoginThrottle, username: str, address: str | None, now: datetime) -> None:
    """One failed attempt: reserved and never given back."""
    assert isinstance(await throttle.begin(username, address, now), Attempt)


async def test_refuses_after_limit_until_the_oldest_leaves_the_window(
    throttle: LoginThrottle,
) -> None:
    for n in range(LIMIT):
        await fail(throttle, "xiaomei", None, at(n * 60))
    refused = await throttle.begin("xiaomei", None, at(200))
    assert refused == Throttled(retry_after_s=WINDOW_S - 200)
    assert isinstance(await throttle.begin("xiaomei", None, at(WINDOW_S - 1)), Throttled)
    # The first failure (t=0) has left the window; the other two still count.
    await fail(throttle, "xiaomei", None, at(WINDOW_S))
    assert await throttle.begin("xiaomei", None, at(WINDOW_S + 1)) == Throttled(retry_after_s=59)


async def test_retry_after_rounds_up_and_is_never_zero(throttle: LoginThrottle) -> None:
    for _ in range(LIMIT):
        await fail(throttle, "xiaomei", None, at(0))
    assert await throttle.begin("xiaomei", None, at(WINDOW_S - 0.2)) == Throttled(retry_after_s=1)
    assert await throttle.begin("xiaomei", None, at(10.5)) == Throttled(retry_after_s=WINDOW_S - 10)


async def test_usernames_and_addresses_count_separately(throttle: LoginThrottle) -> None:
    for n in range(LIMIT):
        await fail(throttle, "xiaomei", f"10.0.0.{n}", at(n))
    assert isinstance(await throttle.begin("xiaomei", "10.0.0.99", at(10)), Throttled)
    # Another user from one of those addresses is fine: that address has one failure.
    assert isinstance(await throttle.begin("laowang", "10.0.0.1", at(10)), Attempt)

    for n in range(LIMIT):
        await fail(throttle, f"guess{n}", "10.9.9.9", at(n))
    assert isinstance(await throttle.begin("laoli", "10.9.9.9", at(10)), Throttled)


async def test_an_office_address_may_have_more_failures_than_one_user(
    store: AttemptStore,
) -> None:
    throttle = LoginThrottle(store, limit=LIMIT, window_s=WINDOW_S, address_limit=3 * LIMIT)
    # Three agents behind one office address each use up their own allowance.
    for user in ("agent0", "agent1", "agent2"):
        for n in range(LIMIT):
            await fail(throttle, user, "10.8.8.8", at(n))
    # Now the address has had 3 × LIMIT failures: anyone from it waits, elsewhere is fine.
    assert isinstance(await throttle.begin("agent3", "10.8.8.8", at(20)), Throttled)
    assert isinstance(await throttle.begin("agent3", "10.7.7.7", at(20)), Attempt)


async def test_refused_by_address_gives_back_the_username_slot(throttle: LoginThrottle) -> None:
    for n in range(LIMIT):
        await fail(throttle, f"guess{n}", "10.9.9.9", at(n))
    for _ in range(LIMIT + 2):
        assert isinstance(await throttle.begin("xiaomei", "10.9.9.9", at(10)), Throttled)
    # None of those refusals used up xiaomei's own allowance.
    for _ in range(LIMIT):
        await fail(throttle, "xiaomei", "10.1.1.1", at(20))


async def test_success_clears_the_username_but_not_the_address(throttle: LoginThrottle) -> None:
    for _ in range(LIMIT - 1):
        await fail(throttle, "xiaomei", "10.0.0.1", at(0))
    attempt = await throttle.begin("xiaomei", "10.0.0.1", at(1))
    assert isinstance(attempt, Attempt)
    await throttle.succeeded(attempt)
    # From another address, xiaomei starts afresh ...
    for _ in range(LIMIT):
        await fail(throttle, "xiaomei", "10.0.0.2", at(2))
    # ... while 10.0.0.1 still holds its failures, minus the successful attempt.
    await fail(throttle, "laowang", "10.0.0.1", at(3))
    assert isinstance(await throttle.begin("laoli", "10.0.0.1", at(4)), Throttled)


async def test_parallel_attempts_cannot_overshoot(throttle: LoginThrottle) -> None:
    results = await asyncio.gather(*(throttle.begin("xiaomei", None, at(0)) for _ in range(20)))
    assert sum(isinstance(r, Attempt) for r in results) == LIMIT


async def test_memory_store_forgets_stale_keys() -> None:
    store = MemoryAttemptStore()
    throttle = LoginThrottle(store, limit=LIMIT, window_s=WINDOW_S)
    for n in range(MEMORY_STORE_SWEEP_AT):
        await fail(throttle, f"user{n}", None, at(0))
    assert len(store) == MEMORY_STORE_SWEEP_AT
    await fail(throttle, "late", None, at(WINDOW_S + 1))
    assert len(store) == 1


@pytest.mark.parametrize(("limit", "window_s"), [(0, 60), (5, 0)])
def test_needs_a_positive_limit_and_window(limit: int, window_s: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        LoginThrottle(MemoryAttemptStore(), limit=limit, window_s=window_s)


async def test_naive_now_is_a_bug(throttle: LoginThrottle) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await throttle.begin("xiaomei", None, datetime(2025, 1, 1))


async def test_a_redis_flush_does_not_reopen_the_door(redis_prefix: str) -> None:
    """The shared counts cannot be rebuilt; this process's own still throttle."""
    require("redis")
    redis = Redis.from_url(REDIS_URL)
    try:
        throttle = LoginThrottle(
            SharedWithLocalFloor(RedisAttemptStore(redis, redis_prefix), MemoryAttemptStore()),
            limit=LIMIT,
            window_s=WINDOW_S,
        )
        for n in range(LIMIT):
            await fail(throttle, "xiaomei", None, at(n))
        # What FLUSHDB does to this deployment's keys, and only to them.
        keys = [key async for key in redis.scan_iter(match=f"{redis_prefix}*")]
        assert keys
        await redis.delete(*keys)
        assert isinstance(await throttle.begin("xiaomei", None, at(LIMIT)), Throttled)
        assert isinstance(await throttle.begin("xiaomei", None, at(WINDOW_S + 1)), Attempt)
    finally:
        await redis.aclose()


async def test_redis_unreachable_throttles_per_process() -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.2)
    try:
        throttle = LoginThrottle(
            SharedWithLocalFloor(RedisAttemptStore(unreachable, "x:"), MemoryAttemptStore()),
            limit=LIMIT,
            window_s=WINDOW_S,
        )
        for n in range(LIMIT):
            await fail(throttle, "xiaomei", None, at(n))
        assert isinstance(await throttle.begin("xiaomei", None, at(LIMIT)), Throttled)
    finally:
        await unreachable.aclose()
