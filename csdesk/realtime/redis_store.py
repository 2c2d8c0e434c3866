"""Server-mode queues in Redis, so a console can resume on any web process.

Layout under ``settings.redis.key_prefix`` (``{<queue>}`` is a hash tag: both keys of a
queue sit in one slot, so the scripts also run on a cluster)::

    <prefix>live:{<queue>}:meta     HASH    shop_id, user_id, owner, last, floor
    <prefix>live:{<queue>}:events   STREAM  entry id "<event id>-1", field e = event body
    <prefix>live:proc:<process>     STRING  present while that web process is alive

Stream entry ids carry the event id, so "everything after n" is one ``XRANGE`` and trimming
to a bound or an acknowledgement is one ``XTRIM MINID``. Every write refreshes the TTL; the
owning process also touches its queues while it holds them, so the TTL only ever removes
queues of a process that died.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from csdesk.realtime.protocol import QueuedEvent
from csdesk.realtime.store import Append, QueueState

# Owner check and id in one step: a process that lost the queue (handed over, expired)
# cannot append behind its new owner's back.
APPEND_LUA = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return -1 end
local id = redis.call('HINCRBY', KEYS[1], 'last', 1)
redis.call('XADD', KEYS[2], id .. '-1', 'e', ARGV[2])
local floor = id - tonumber(ARGV[3])
if floor > tonumber(redis.call('HGET', KEYS[1], 'floor')) then
  redis.call('HSET', KEYS[1], 'floor', floor)
  redis.call('XTRIM', KEYS[2], 'MINID', (floor + 1) .. '-0')
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return id
"""

ACK_LUA = """
local floor = tonumber(redis.call('HGET', KEYS[1], 'floor'))
if floor == nil then return 0 end
local upto = tonumber(ARGV[1])
if upto > floor then
  redis.call('HSET', KEYS[1], 'floor', upto)
  redis.call('XTRIM', KEYS[2], 'MINID', (upto + 1) .. '-0')
end
return 1
"""

HAND_OVER_LUA = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[2])
return 1
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisQueueStore:
    def __init__(
        self,
        redis: Redis,
        key_prefix: str,
        *,
        owner: str,
        max_events: int,
        ttl_s: float,
        liveness_ttl_s: float,
    ) -> None:
        self._redis = redis
        self._prefix = f"{key_prefix}live:"
        self._owner = owner
        self._max_events = max_events
        self._ttl_ms = int(ttl_s * 1000)
        self._liveness_ms = int(liveness_ttl_s * 1000)
        # register_script runs EVALSHA and loads the script again after a SCRIPT FLUSH.
        self._append = redis.register_script(APPEND_LUA)
        self._ack = redis.register_script(ACK_LUA)
        self._hand_over = redis.register_script(HAND_OVER_LUA)

    @property
    def owner(self) -> str:
        return self._owner

    def _keys(self, queue_id: str) -> list[str]:
        base = f"{self._prefix}{{{queue_id}}}:"
        return [f"{base}meta", f"{base}events"]

    def _proc(self, owner: str) -> str:
        return f"{self._prefix}proc:{owner}"

    async def create(self, queue_id: str, shop_id: str, user_id: int) -> None:
        meta, _ = self._keys(queue_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                meta,
                mapping={
                    "shop_id": shop_id,
                    "user_id": user_id,
                    "owner": self._owner,
                    "last": -1,
                    "floor": -1,
                },
            )
            pipe.pexpire(meta, self._ttl_ms)
            await pipe.execute()

    async def state(self, queue_id: str) -> QueueState | None:
        meta, _ = self._keys(queue_id)
        raw = await self._redis.hgetall(meta)  # type: ignore[misc]
        if not raw:
            return None
        data = {_text(k): _text(v) for k, v in raw.items()}
        return QueueState(
            queue_id=queue_id,
            shop_id=data["shop_id"],
            user_id=int(data["user_id"]),
            owner=data["owner"],
            last_event_id=int(data["last"]),
            floor=int(data["floor"]),
        )

    async def append(self, items: Sequence[Append]) -> list[int | None]:
        if not items:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for item in items:
                await self._append(
                    keys=self._keys(item.queue_id),
                    args=[self._owner, item.body, self._max_events, self._ttl_ms],
                    client=pipe,
                )
            results = await pipe.execute()
        return [int(r) if int(r) >= 0 else None for r in results]

    async def read(self, queue_id: str, after: int, limit: int) -> list[QueuedEvent]:
        _, events = self._keys(queue_id)
        entries = await self._redis.xrange(events, min=f"{after + 1}-0", max="+", count=limit)
        return [
            QueuedEvent(int(_text(entry_id).partition("-")[0]), _text(fields[b"e"]))
            for entry_id, fields in entries
        ]

    async def ack(self, queue_id: str, upto: int) -> None:
        await self._ack(keys=self._keys(queue_id), args=[upto])

    async def hand_over(self, queue_id: str, to: str) -> bool:
        meta, _ = self._keys(queue_id)
        return bool(await self._hand_over(keys=[meta], args=[self._owner, to]))

    async def touch(self, queue_ids: Sequence[str]) -> None:
        if not queue_ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for queue_id in queue_ids:
                for key in self._keys(queue_id):
                    pipe.pexpire(key, self._ttl_ms)
            await pipe.execute()

    async def delete(self, queue_ids: Sequence[str]) -> None:
        if not queue_ids:
            return
        # One DEL per queue: a queue's keys share a slot, different queues need not.
        async with self._redis.pipeline(transaction=False) as pipe:
            for queue_id in queue_ids:
                pipe.delete(*self._keys(queue_id))
            await pipe.execute()

    async def heartbeat(self) -> None:
        await self._redis.set(self._proc(self._owner), "1", px=self._liveness_ms)

    async def is_alive(self, owner: str) -> bool:
        return bool(await self._redis.exists(self._proc(owner)))

    async def retire(self) -> None:
        await self._redis.delete(self._proc(self._owner))
