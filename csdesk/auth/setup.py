"""``setup_auth(app)``: the auth state the app keeps (clock, login throttle)."""

from __future__ import annotations

from aiohttp import web

from csdesk.auth.current import AUTH_CLOCK_KEY
from csdesk.auth.throttle import (
    AttemptStore,
    LoginThrottle,
    MemoryAttemptStore,
    RedisAttemptStore,
    SharedWithLocalFloor,
)
from csdesk.clock import utcnow
from csdesk.keys import REDIS_KEY, SETTINGS_KEY

LOGIN_THROTTLE_KEY = web.AppKey("login_throttle", LoginThrottle)


def setup_auth(app: web.Application) -> None:
    """Call from ``create_app``. Tests may set ``AUTH_CLOCK_KEY`` afterwards, before start."""
    app[AUTH_CLOCK_KEY] = utcnow
    # on_startup runs after every cleanup_ctx has started, so REDIS_KEY is set by then
    # wherever this call sits in create_app.
    app.on_startup.append(_start_throttle)


async def _start_throttle(app: web.Application) -> None:
    settings = app[SETTINGS_KEY]
    redis = app[REDIS_KEY]
    store: AttemptStore
    if redis is None:
        store = MemoryAttemptStore()
    else:
        store = SharedWithLocalFloor(
            RedisAttemptStore(redis, settings.redis.key_prefix), MemoryAttemptStore()
        )
    app[LOGIN_THROTTLE_KEY] = LoginThrottle(
        store,
        limit=settings.auth.login_failures_allowed,
        window_s=settings.auth.login_window_s,
        address_limit=settings.auth.login_failures_per_address,
    )
