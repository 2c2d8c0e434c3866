"""Redis queue index for server mode: one sorted set per (shop, role), Lua for claims.

Layout under ``settings.redis.key_prefix`` (``{shop}`` is a hash tag: one slot per shop, so
the multi-key scripts also run on a cluster)::

    <prefix>q:{<shop>}:r:<role>        ZSET  member = zero-padded item id, score = -sort_key
    <prefix>q:{<shop>}:roles           SET   roles that have a queue (so rebuild can clear them)
    <prefix>q:{<shop>}:built           STRING  written by rebuild/restore only: gone = index lost
    <prefix>q:{<shop>}:tmp:<token>:<role>    ZSET being built by rebuild, expires on its own

Scores are negated and members padded so that plain ZRANGE order is the queue order: the
highest sort key first, then the lowest id. (ZREVRANGE would break ties by the HIGHER member.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from csdesk.routing.queues.base import Claimed, QueueEntry, check_item, check_names

_ID_WIDTH = 20
"""Digits of a padded id: BIGINT ids have at most 19, so string order equals number order."""

_REBUILD_CHUNK = 1000
_TEMP_TTL_MS = 10 * 60 * 1000
"""A rebuild that dies half-way leaves temporary sets; they vanish after this."""


def _lua(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


CLAIM_LUA = _lua("claim.lua")
REBUILD_LUA = _lua("rebuild.lua")


def member(item_id: int) -> str:
    return f"{item_id:0{_ID_WIDTH}d}"


class RedisWorkQueue:
    def __init__(self, redis: Redis, key_prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{key_prefix}q:"
        # register_script runs EVALSHA and loads the script again after a SCRIPT FLUSH.
        self._claim = redis.register_script(CLAIM_LUA)
        self._swap = redis.register_script(REBUILD_LUA)

    def _shop(self, shop_id: str) -> str:
        return f"{self._prefix}{{{shop_id}}}:"

    def key(self, shop_id: str, role: str) -> str:
        check_names(shop_id, role)
        return f"{self._shop(shop_id)}r:{role}"

    async def push(self, shop_id: str, role: str, item_id: int, sort_key: float) -> None:
        key = self.key(shop_id, role)
        check_item(item_id, sort_key)
        # MULTI/EXEC: one round trip, and the role is registered whenever its set exists.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(f"{self._shop(shop_id)}roles", role)
            pipe.zadd(key, {member(item_id): -float(sort_key)})
            await pipe.execute()

    async def remove(self, shop_id: str, role: str, item_id: int) -> bool:
        removed: int = await self._redis.zrem(self.key(shop_id, role), member(item_id))
        return removed == 1

    async def claim(
        self, shop_id: str, roles: Sequence[str], *, exclude: frozenset[int] = frozenset()
    ) -> Claimed | None:
        unique_roles = list(dict.fromkeys(roles))
        if not unique_roles:
            return None
        keys = [self.key(shop_id, role) for role in unique_roles]
        result: Any = await self._claim(keys=keys, args=[member(i) for i in exclude])
        if result is None:
            return None
        index, raw_member, raw_score = result
        return Claimed(
            role=unique_roles[int(index) - 1],
            item_id=int(raw_member),
            sort_key=-float(raw_score),
        )

    async def claim_item(self, shop_id: str, role: str, item_id: int) -> bool:
        # ZREM is atomic: of several callers taking one item, exactly one sees 1.
        return await self.remove(shop_id, role, item_id)

    async def depth(self, shop_id: str, role: str) -> int:
        count: int = await self._redis.zcard(self.key(shop_id, role))
        return count

    async def peek(self, shop_id: str, role: str, limit: int = 10) -> list[tuple[int, float]]:
        key = self.key(shop_id, role)
        if limit <= 0:
            return []
        rows: list[tuple[bytes, float]] = await self._redis.zrange(
            key, 0, limit - 1, withscores=True
        )
        return [(int(raw), -score) for raw, score in rows]

    async def rebuild(self, shop_id: str, items: Iterable[QueueEntry]) -> None:
        shop = self._shop(shop_id)
        temp = f"{shop}tmp:{uuid.uuid4().hex}:"
        roles: set[str] = set()
        # Build the new sets aside, in chunks (one pipeline per chunk), then swap them in with
        # one script: readers never see a half-built index.
        async with self._redis.pipeline(transaction=False) as pipe:
            chunk: dict[str, dict[str, float]] = {}
            count = 0
            for role, item_id, sort_key in items:
                check_names(shop_id, role)
                check_item(item_id, sort_key)
                roles.add(role)
                chunk.setdefault(role, {})[member(item_id)] = -float(sort_key)
                count += 1
                if count >= _REBUILD_CHUNK:
                    await self._write_chunk(pipe, temp, chunk)
                    chunk, count = {}, 0
            await self._write_chunk(pipe, temp, chunk)
        await self._swap(
            keys=[f"{shop}roles", f"{shop}built"],
            args=[f"{shop}r:", temp, *sorted(roles)],
        )

    async def restore(self, shop_id: str, items: Iterable[QueueEntry]) -> None:
        shop = self._shop(shop_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            chunk: dict[str, dict[str, float]] = {}
            count = 0
            for role, item_id, sort_key in items:
                check_names(shop_id, role)
                check_item(item_id, sort_key)
                chunk.setdefault(role, {})[member(item_id)] = -float(sort_key)
                count += 1
                if count >= _REBUILD_CHUNK:
                    self._add_chunk(pipe, shop, chunk)
                    await pipe.execute()
                    chunk, count = {}, 0
            self._add_chunk(pipe, shop, chunk)
            # Last: until every entry is in, the index still reads as lost.
            pipe.set(f"{shop}built", "restored")
            await pipe.execute()

    async def built(self, shop_id: str) -> bool:
        check_names(shop_id, "built")
        found: int = await self._redis.exists(f"{self._shop(shop_id)}built")
        return found == 1

    @staticmethod
    def _add_chunk(pipe: Pipeline, shop: str, chunk: dict[str, dict[str, float]]) -> None:
        for role, members in chunk.items():
            pipe.sadd(f"{shop}roles", role)
            pipe.zadd(f"{shop}r:{role}", members)

    @staticmethod
    async def _write_chunk(pipe: Pipeline, temp: str, chunk: dict[str, dict[str, float]]) -> None:
        if not chunk:
            return
        for role, members in chunk.items():
            pipe.zadd(f"{temp}{role}", members)
            pipe.pexpire(f"{temp}{role}", _TEMP_TTL_MS)
        await pipe.execute()
