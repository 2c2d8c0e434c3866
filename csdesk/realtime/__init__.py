"""Live delivery to consoles: bus events → per-console queues → websockets.

``hub_ctx`` (a ``cleanup_ctx``, after the bus) runs this process's hub; ``close_live_sockets``
(an ``on_shutdown`` handler) closes every socket with ``GOING_AWAY``. The websocket handler
is ``csdesk.web.live``; the protocol is in ``docs/realtime.md``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from aiohttp import web

from csdesk.keys import BUS_KEY, REDIS_KEY, SESSIONS_KEY, SETTINGS_KEY
from csdesk.realtime.config import LIVE_CONFIG_KEY, LiveConfig
from csdesk.realtime.hub import LiveHub
from csdesk.realtime.redis_store import RedisQueueStore
from csdesk.realtime.store import MemoryQueueStore, QueueStore

__all__ = [
    "HUB_KEY",
    "LIVE_CONFIG_KEY",
    "LiveConfig",
    "LiveHub",
    "close_live_sockets",
    "hub_ctx",
]

HUB_KEY = web.AppKey("live_hub", LiveHub)


def make_store(app: web.Application, config: LiveConfig) -> QueueStore:
    """Redis when the deployment has one (any process can resume any queue), else memory."""
    process_id = uuid.uuid4().hex
    redis = app[REDIS_KEY]
    if redis is None:
        return MemoryQueueStore(process_id, config.max_queue_events)
    return RedisQueueStore(
        redis,
        app[SETTINGS_KEY].redis.key_prefix,
        owner=process_id,
        max_events=config.max_queue_events,
        # The owner touches held queues every sweep; the TTL only clears a dead owner's.
        ttl_s=max(config.idle_timeout_s, 4 * config.sweep_interval_s),
        liveness_ttl_s=config.liveness_ttl_s,
    )


async def hub_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: after ``database_ctx``, ``redis_ctx`` and ``bus_ctx``."""
    config = app.get(LIVE_CONFIG_KEY) or LiveConfig()
    hub = LiveHub(app[BUS_KEY], make_store(app, config), app[SESSIONS_KEY], config)
    await hub.start()
    app[HUB_KEY] = hub
    yield
    await hub.stop()


async def close_live_sockets(app: web.Application) -> None:
    """``on_shutdown``: aiohttp waits for open handlers before cleanup, so sockets go first."""
    hub = app.get(HUB_KEY)
    if hub is not None:
        await hub.close_sockets()
