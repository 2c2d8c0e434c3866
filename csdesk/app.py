"""``create_app(settings)``: one aiohttp application for embedded and server mode."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from redis.asyncio import Redis

from csdesk.bus.memory import MemoryBus
from csdesk.bus.redis import RedisBus
from csdesk.ingest import ingest_ctx
from csdesk.jobs import jobs_ctx
from csdesk.jobs.listeners import listeners_ctx
from csdesk.keys import BUS_KEY, ENGINE_KEY, REDIS_KEY, SESSIONS_KEY, SETTINGS_KEY, TEMPLATES_KEY
from csdesk.routing.queues import queue_ctx
from csdesk.settings import Settings
from csdesk.storage.engine import create_engine, create_session_factory

log = logging.getLogger(__name__)
WEB_DIR = Path(__file__).parent / "web"


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[SETTINGS_KEY].database)
    app[ENGINE_KEY] = engine
    app[SESSIONS_KEY] = create_session_factory(engine)
    yield
    await engine.dispose()


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    redis: Redis | None = None
    if settings.redis.url:
        redis = Redis.from_url(settings.redis.url, socket_timeout=5, socket_connect_timeout=2)
    app[REDIS_KEY] = redis
    yield
    if redis is not None:
        await redis.aclose()


async def bus_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    redis = app[REDIS_KEY]
    if redis is not None:
        app[BUS_KEY] = RedisBus(redis, channel=f"{settings.redis.key_prefix}bus")
    else:
        app[BUS_KEY] = MemoryBus()
    yield
    await app[BUS_KEY].close()


def create_app(settings: Settings, *, demo: bool = False, traffic: Any = None) -> web.Application:
    """The application; ``demo`` adds the buyer-traffic simulator of ``csdesk demo``
    (``traffic``: its ``csdesk.demo.TrafficOptions``, pace and promotion replay)."""
    from csdesk.auth.middleware import auth_middleware
    from csdesk.auth.setup import setup_auth
    from csdesk.i18n import setup_i18n
    from csdesk.realtime import close_live_sockets, hub_ctx
    from csdesk.web import (
        admin_api,
        alerts_api,
        auth_views,
        dashboard_api,
        dashboard_live,
        events_api,
        favicon,
        health,
        live,
        metrics,
        openapi,
        privacy_api,
        promotions_api,
        public_media,
        qc_api,
        queues_api,
        quick_replies_api,
        roles_api,
        search_api,
        shop_config_api,
        supervisor_api,
        teams_api,
        training_api,
        webhooks_api,
        whatif_api,
    )
    from csdesk.web.console import admin_views as console_admin_views
    from csdesk.web.console import api as console_api
    from csdesk.web.console import chase_views as console_chase_views
    from csdesk.web.console import hotline_views as console_hotline_views
    from csdesk.web.console import order_review_views as console_order_review_views
    from csdesk.web.console import qc_views as console_qc_views
    from csdesk.web.console import refund_views as console_refund_views
    from csdesk.web.console import supervisor_views as console_supervisor_views
    from csdesk.web.console import training_views as console_training_views
    from csdesk.web.console import views as console_views
    from csdesk.web.errors import error_middleware
    from csdesk.web.security import proxy_middleware, setup_security

    app = web.Application(
        middlewares=[proxy_middleware, error_middleware, auth_middleware],
        client_max_size=settings.webhook.max_body_bytes * 4,
    )
    app[SETTINGS_KEY] = settings
    app[TEMPLATES_KEY] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(WEB_DIR / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        enable_async=False,
    )
    # Order matters: each context may use what the ones before it set up.
    app.cleanup_ctx.extend(
        [database_ctx, redis_ctx, bus_ctx, queue_ctx, ingest_ctx, jobs_ctx, listeners_ctx]
    )
    if demo:
        from csdesk.demo import TRAFFIC_KEY, TrafficOptions, traffic_ctx

        app[TRAFFIC_KEY] = traffic if isinstance(traffic, TrafficOptions) else TrafficOptions()
        app.cleanup_ctx.append(traffic_ctx)
    setup_security(app)
    setup_auth(app)
    setup_i18n(app)
    # Live websockets: one hub per process fed by the bus; sockets close GOING_AWAY.
    app.cleanup_ctx.append(hub_ctx)
    app.on_shutdown.append(close_live_sockets)
    # The owner dashboard's aggregator: snapshots at most once a second per shop.
    app.cleanup_ctx.append(dashboard_live.dashboard_feed_ctx)
    app.on_shutdown.append(dashboard_live.close_dashboard_sockets)
    # Each web module: its ``routes``, each /api/ route with its OpenAPI operation beside it.
    web_modules = [
        health,
        favicon,
        metrics,
        auth_views,
        events_api,
        openapi,
        queues_api,
        dashboard_api,
        dashboard_live,
        live,
        console_views,
        console_refund_views,
        console_supervisor_views,
        console_hotline_views,
        console_order_review_views,
        console_chase_views,
        console_api,
        roles_api,
        supervisor_api,
        shop_config_api,
        admin_api,
        webhooks_api,
        console_admin_views,
        search_api,
        privacy_api,
        quick_replies_api,
        public_media,
        teams_api,
        qc_api,
        console_qc_views,
        training_api,
        console_training_views,
        alerts_api,
        promotions_api,
        whatif_api,
    ]
    for module in web_modules:
        app.router.add_routes(module.routes)
    app.router.add_static("/static", WEB_DIR / "static", name="static")
    return app


async def _freeze_startup_heap(app: web.Application) -> None:
    """What exists once the app has started (modules, ORM mappers, compiled triage automata,
    configuration) lives as long as the process. Moved out of the collector's sight, a full
    collection no longer walks it while buyers wait: measured, full collections of that heap
    paused the event loop for up to ~220 ms during the live benchmark."""
    gc.collect()
    gc.freeze()


def for_serving(app: web.Application) -> web.Application:
    """The process-wide tuning of a long-running web process (``csdesk serve``, ``csdesk
    demo``, the benchmarks that stand in for them); not for tests, which build many apps
    in one process."""
    app.on_startup.append(_freeze_startup_heap)
    return app
