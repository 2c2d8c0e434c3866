"""Typed application keys: everything the app shares lives here, no module globals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from csdesk.bus.base import EventBus
    from csdesk.ingest.acceptor import EventAcceptor
    from csdesk.ingest.processor import EventProcessor
    from csdesk.ingest.secrets import SecretCache
    from csdesk.settings import Settings
    from csdesk.storage.engine import SessionFactory

SETTINGS_KEY: web.AppKey[Settings] = web.AppKey("settings")
ENGINE_KEY = web.AppKey("engine", AsyncEngine)
SESSIONS_KEY: web.AppKey[SessionFactory] = web.AppKey("sessions")
REDIS_KEY: web.AppKey[Redis | None] = web.AppKey("redis")
BUS_KEY: web.AppKey[EventBus] = web.AppKey("bus")
TEMPLATES_KEY = web.AppKey("templates", jinja2.Environment)
ACCEPTOR_KEY: web.AppKey[EventAcceptor] = web.AppKey("acceptor")
PROCESSOR_KEY: web.AppKey[EventProcessor] = web.AppKey("processor")
SECRETS_KEY: web.AppKey[SecretCache] = web.AppKey("secrets")
