"""Redis pub/sub bus for server mode: every web process sees every event once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from redis.asyncio import Redis

from csdesk.bus.base import BusEvent


class RedisBus:
    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis = redis
        self._channel = channel
        self._closing = False

    async def publish(self, events: Sequence[BusEvent]) -> None:
        if not events:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.publish(self._channel, event.to_json())
            await pipe.execute()

    async def subscribe(self) -> AsyncIterator[BusEvent]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel)
        try:
            while not self._closing:
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                yield BusEvent.from_json(message["data"])
        finally:
            await pubsub.unsubscribe(self._channel)
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        self._closing = True
