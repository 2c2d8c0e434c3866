"""Login throttling: at most N failed sign-ins per username, and per client address, per window.

A sliding window of attempt times per key. An attempt *reserves* a slot before the password
is checked and gives it back only on success, so a burst of parallel guesses cannot all slip
in before the first failure is recorded. Once a key holds N attempts inside the window every
further attempt is refused, right password or not, until the oldest one leaves the window.

Stores: in memory for embedded mode (one process), Redis for server mode (all web processes
share the counts). Both take ``now`` from the caller, so tests can move time instead of
sleeping. In server mode each process also keeps its own count beside Redis
(:class:`SharedWithLocalFloor`): the counts cannot be rebuilt after a Redis flush, so the
process's own attempts still throttle then (a guesser spread over N processes gets at most
N times the limit in that window, not an open door), and a Redis outage throttles per
process instead of failing every sign-in.
"""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from csdesk.clock import require_aware

log = logging.getLogger(__name__)

MEMORY_STORE_SWEEP_AT: Final = 10_000
"""Distinct keys held before the in-memory store drops the ones whose window has passed."""


class AttemptStore(Protocol):
    async def reserve(
        self, key: str, attempt_id: str, *, now_ms: int, window_ms: int, limit: int
    ) -> int | None:
        """Record an attempt unless ``limit`` are already inside the window.

        Returns None when recorded, else the milliseconds until a slot frees up.
        """

    async def release(self, key: str, attempt_id: str) -> None:
        """Forget one attempt (it succeeded, or a sibling key refused it)."""

    async def clear(self, key: str) -> None: ...


class MemoryAttemptStore:
    """One process only: embedded mode, where there is one web process."""

    def __init__(self) -> None:
        self._attempts: dict[str, dict[str, int]] = {}

    def __len__(self) -> int:
        """Keys held (stale ones included until the next sweep)."""
        return len(self._attempts)

    async def reserve(
        self, key: str, attempt_id: str, *, now_ms: int, window_ms: int, limit: int
    ) -> int | None:
        if len(self._attempts) >= MEMORY_STORE_SWEEP_AT:
            self._sweep(now_ms - window_ms)
        attempts = self._attempts.setdefault(key, {})
        for stale in [a for a, at in attempts.items() if at <= now_ms - window_ms]:
            del attempts[stale]
        if len(attempts) >= limit:
            return min(attempts.values()) + window_ms - now_ms
        attempts[attempt_id] = now_ms
        return None

    async def release(self, key: str, attempt_id: str) -> None:
        attempts = self._attempts.get(key)
        if attempts is not None:
            attempts.pop(attempt_id, None)
            if not attempts:
                del self._attempts[key]

    async def clear(self, key: str) -> None:
        self._attempts.pop(key, None)

    def _sweep(self, cutoff_ms: int) -> None:
        stale = [k for k, v in self._attempts.items() if max(v.values(), default=0) <= cutoff_ms]
        for key in stale:
            del self._attempts[key]


# Prune, count and add in one step, so two web processes cannot both take the last slot.
_RESERVE_LUA: Final = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return false
"""


class RedisAttemptStore:
    """Shared by every web process. Keys: ``<prefix>login-throttle:<kind>:<value>`` (sorted sets).

    The key expiry only collects garbage; whether an attempt counts is decided by its
    score against the caller's ``now``.
    """

    def __init__(self, redis: Redis, key_prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{key_prefix}login-throttle:"
        self._reserve = redis.register_script(_RESERVE_LUA)

    async def reserve(
        self, key: str, attempt_id: str, *, now_ms: int, window_ms: int, limit: int
    ) -> int | None:
        wait_ms = await self._reserve(
            keys=[self._prefix + key], args=[now_ms, window_ms, limit, attempt_id]
        )
        return None if wait_ms is None else int(wait_ms)

    async def release(self, key: str, attempt_id: str) -> None:
        await self._redis.zrem(self._prefix + key, attempt_id)

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


class SharedWithLocalFloor:
    """The shared store, with this process's own count as a floor under it.

    An attempt must pass both; without a Redis loss the shared count is always the higher,
    so this changes nothing. After a flush the shared count restarts at zero while the local
    one still holds this process's recent attempts; with Redis unreachable the local count
    alone decides (logged), rather than every sign-in failing with it.
    """

    def __init__(self, shared: AttemptStore, local: AttemptStore) -> None:
        self.shared = shared
        self.local = local

    async def reserve(
        self, key: str, attempt_id: str, *, now_ms: int, window_ms: int, limit: int
    ) -> int | None:
        wait_ms = await self.local.reserve(
            key, attempt_id, now_ms=now_ms, window_ms=window_ms, limit=limit
        )
        if wait_ms is not None:
            return wait_ms
        try:
            wait_ms = await self.shared.reserve(
                key, attempt_id, now_ms=now_ms, window_ms=window_ms, limit=limit
            )
        except RedisError:
            log.warning("login throttle: Redis unreachable, counting this process's attempts")
            return None
        if wait_ms is not None:
            await self.local.release(key, attempt_id)
        return wait_ms

    async def release(self, key: str, attempt_id: str) -> None:
        await self.local.release(key, attempt_id)
        try:
            await self.shared.release(key, attempt_id)
        except RedisError:
            log.warning("login throttle: Redis unreachable, release kept local")

    async def clear(self, key: str) -> None:
        await self.local.clear(key)
        try:
            await self.shared.clear(key)
        except RedisError:
            log.warning("login throttle: Redis unreachable, clear kept local")


@dataclass(frozen=True)
class Attempt:
    """A reserved login attempt; pass it back to :meth:`LoginThrottle.succeeded`."""

    id: str
    username_key: str
    address_key: str | None


@dataclass(frozen=True)
class Throttled:
    retry_after_s: int


@dataclass(frozen=True)
class LoginThrottle:
    store: AttemptStore
    limit: int
    window_s: int
    address_limit: int | None = None
    """Failures per client address (default: ``limit``). Higher in practice: a shop's agents
    share one office address, and five typos among thirty people must not lock them all out."""

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_s < 1:
            raise ValueError("login throttle needs limit >= 1 and window_s >= 1")
        if self.address_limit is not None and self.address_limit < 1:
            raise ValueError("login throttle needs address_limit >= 1")

    async def begin(self, username: str, address: str | None, now: datetime) -> Attempt | Throttled:
        """Reserve an attempt for ``username`` from ``address``, or say how long to wait."""
        now_ms = _ms(now)
        attempt = Attempt(
            id=secrets.token_hex(8),
            # Bounded, so junk in the form cannot make huge keys; real usernames are shorter.
            username_key=f"user:{username[:100]}",
            address_key=f"addr:{address}" if address else None,
        )
        reserved: list[str] = []
        limits = ((attempt.username_key, self.limit), (attempt.address_key, self.address_limit))
        for key, limit in limits:
            if key is None:
                continue
            wait_ms = await self.store.reserve(
                key,
                attempt.id,
                now_ms=now_ms,
                window_ms=self.window_s * 1000,
                limit=limit or self.limit,
            )
            if wait_ms is not None:
                for done in reserved:
                    await self.store.release(done, attempt.id)
                return Throttled(retry_after_s=max(1, math.ceil(wait_ms / 1000)))
            reserved.append(key)
        return attempt

    async def succeeded(self, attempt: Attempt) -> None:
        """Earlier typos of this user are forgiven; the address keeps its count of failures.

        Clearing the address too would let someone reset their address's count by signing in
        to an account of their own between guesses.
        """
        await self.store.clear(attempt.username_key)
        if attempt.address_key:
            await self.store.release(attempt.address_key, attempt.id)


def _ms(now: datetime) -> int:
    return int(require_aware(now, "now").timestamp() * 1000)
