"""Queue indexes: which queued item an agent takes next (memory embedded, Redis server mode)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import Redis

from csdesk.keys import REDIS_KEY, SETTINGS_KEY
from csdesk.routing.queues.base import QUEUE_KEY, Claimed, QueueEntry, WorkQueue
from csdesk.routing.queues.memory import MemoryWorkQueue
from csdesk.routing.queues.redis import RedisWorkQueue
from csdesk.settings import Settings

__all__ = [
    "QUEUE_KEY",
    "Claimed",
    "MemoryWorkQueue",
    "QueueEntry",
    "RedisWorkQueue",
    "WorkQueue",
    "make_queue",
    "queue_ctx",
]


def make_queue(settings: Settings, redis: Redis | None) -> WorkQueue:
    """Redis when the deployment has one (every web process and worker shares the index)."""
    if redis is None:
        return MemoryWorkQueue()
    return RedisWorkQueue(redis, settings.redis.key_prefix)


async def queue_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: after ``redis_ctx``. The index holds no connections of its own.

    It starts empty (memory) or as Redis left it; the router rebuilds it from the database.
    """
    app[QUEUE_KEY] = make_queue(app[SETTINGS_KEY], app[REDIS_KEY])
    yield
