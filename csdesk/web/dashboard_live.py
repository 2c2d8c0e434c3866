"""The owner dashboard, live: ``GET /api/v1/dashboard/live`` (a WebSocket of snapshots) and
the aggregator behind it.

**Snapshots, not events.** The dashboard is a handful of sums; what a watcher needs after
any change, or after a reconnect, is the latest sums, never the history. So this socket is
not the console's resumable event queue (``/api/v1/live``, docs/realtime.md): on connect it
sends the latest snapshot of the shop, then each new one; a dropped socket reconnects and
gets the current one. Frames (server → client, JSON): ``{"op": "snapshot", "dashboard":
{...same as GET /api/v1/dashboard...}, "charts": {key: svg}}`` — ``charts`` only when the
series changed since the last frame on this socket.

**The aggregator** (:class:`DashboardFeed`, one per web process) recomputes a shop's
dashboard when something happened in it, at most once a second per shop across all web
processes, and only for shops someone watches:

* every process listens to the bus; any event of a watched shop (console events, and
  ``events.applied`` after each batch of platform events) marks the shop dirty here;
* a dirty shop (or one not refreshed for ``idle_refresh_s``: waits grow and deadlines
  near without any event) is recomputed by whichever process takes the shop's **lease**
  first (Redis ``SET NX PX`` in server mode, a dict in embedded mode), valid ``interval_s``;
  the others wait out the lease and try again if still dirty — a trailing edge, so the
  last change of a burst is always shown;
* the computing process publishes ``dashboard.snapshot`` on the bus (no recipients) with
  the moment it began reading; every process hands it to its watchers and forgets the
  dirt of events older than that moment.

The time series (``reads.dashboard_series``) are re-read at most every ``series_every_s``,
and the slow figures over days of rows (the KPIs and the 24 h handle time,
``reads.dashboard.SLOW_METRICS``, satisfaction and complaints) every ``slow_every_s``, by
the computing process; the
refunds, queues and chasing are read at every refresh. Charts are drawn per locale by each
process, once per change.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from aiohttp import WSCloseCode, WSMsgType, web
from redis.asyncio import Redis

from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent, EventBus
from csdesk.clock import utcnow
from csdesk.i18n import I18N_KEY, Catalogs, request_locale
from csdesk.keys import BUS_KEY, REDIS_KEY, SESSIONS_KEY, SETTINGS_KEY
from csdesk.reads import dashboard as dashboard_read
from csdesk.reads.dashboard_metrics import Measured
from csdesk.reads.dashboard_series import Series, shop_series
from csdesk.reads.ratings import ServiceKpis
from csdesk.realtime.origin import is_foreign_origin
from csdesk.storage.engine import SessionFactory
from csdesk.web.console.dashboard_charts import charts as draw_charts
from csdesk.web.openapi import SECURED, documented, error_answer

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
PATH: Final = "/api/v1/dashboard/live"
HEARTBEAT_S: Final = 20.0


# ---- the lease --------------------------------------------------------------------------


class Lease(Protocol):
    async def take(self, shop_id: str, ttl_s: float) -> float:
        """0 if this process now holds the shop's lease for ``ttl_s``; else the seconds
        until the holder's lease ends."""
        ...


class MemoryLease:
    """Embedded mode: one process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._until: dict[str, float] = {}
        self._clock = clock

    async def take(self, shop_id: str, ttl_s: float) -> float:
        now = self._clock()
        until = self._until.get(shop_id, 0.0)
        if until > now:
            return until - now
        self._until[shop_id] = now + ttl_s
        return 0.0


class RedisLease:
    """Server mode: ``SET key NX PX`` — one web process of all takes it."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def take(self, shop_id: str, ttl_s: float) -> float:
        key = f"{self._prefix}dashboard:lease:{shop_id}"
        ttl_ms = max(1, int(ttl_s * 1000))
        if await self._redis.set(key, b"1", nx=True, px=ttl_ms):
            return 0.0
        left = await self._redis.pttl(key)
        return max(int(left), 1) / 1000 if left and left > 0 else 0.05


# ---- watchers ---------------------------------------------------------------------------


@dataclass(eq=False)
class Watcher:
    """One dashboard socket: the newest frame waits in ``slot`` (older ones are dropped)."""

    shop_id: str
    locale: str
    ws: web.WebSocketResponse | None = None
    slot: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(maxsize=1))
    charts_sent: str | None = None

    def offer(self, frame: str) -> None:
        if self.slot.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.slot.get_nowait()
        self.slot.put_nowait(frame)


@dataclass
class _Shop:
    watchers: set[Watcher] = field(default_factory=set)
    dirty_since: float | None = None
    """Epoch seconds of the oldest event not yet in a snapshot (None: clean)."""
    refreshed_at: float = 0.0
    """When the last snapshot seen began reading (epoch seconds)."""
    next_try: float = 0.0
    latest: dict[str, Any] | None = None
    charts: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per locale, the charts of ``series_hash``."""
    series_hash: str | None = None
    series: Series | None = None
    series_read_at: float = 0.0
    slow: dict[str, Measured] = field(default_factory=dict)
    """The slow figures (``reads.dashboard.SLOW_METRICS``) this process last read."""
    slow_read_at: float = 0.0
    service: tuple[ServiceKpis, ServiceKpis] | None = None


class DashboardFeed:
    def __init__(
        self,
        sessions: SessionFactory,
        bus: EventBus,
        lease: Lease,
        catalogs: Catalogs | None,
        *,
        interval_s: float = 1.0,
        idle_refresh_s: float = 5.0,
        series_every_s: float = 5.0,
        slow_every_s: float = 15.0,
        tick_s: float = 0.1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._lease = lease
        self._catalogs = catalogs
        self.interval_s = interval_s
        self.idle_refresh_s = idle_refresh_s
        self.series_every_s = series_every_s
        self.slow_every_s = slow_every_s
        self._tick_s = tick_s
        self._clock = clock
        self._shops: dict[str, _Shop] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self.computed = 0
        """Snapshots this process computed (the others came from other processes)."""

    # -- lifecycle

    async def start(self) -> None:
        ready = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._listen(ready), name="dashboard-feed-listen"),
            asyncio.create_task(self._loop(), name="dashboard-feed-loop"),
        ]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await ready.wait()

    async def close_sockets(self) -> None:
        """``on_shutdown``: the dashboards reconnect elsewhere (or poll meanwhile)."""
        sockets = [w.ws for shop in self._shops.values() for w in shop.watchers if w.ws]
        for ws in sockets:
            with contextlib.suppress(Exception):
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- watchers

    def watch(self, shop_id: str, locale: str, ws: web.WebSocketResponse | None = None) -> Watcher:
        watcher = Watcher(shop_id, locale, ws)
        shop = self._shops.setdefault(shop_id, _Shop())
        shop.watchers.add(watcher)
        if shop.latest is not None:
            watcher.offer(self._frame(shop, watcher))
        else:
            shop.dirty_since = shop.dirty_since or self._clock()
            self._wake.set()
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        shop = self._shops.get(watcher.shop_id)
        if shop is None:
            return
        shop.watchers.discard(watcher)
        if not shop.watchers:
            del self._shops[watcher.shop_id]

    # -- the bus

    async def _listen(self, ready: asyncio.Event) -> None:
        while True:
            try:
                subscription = self._bus.subscribe()
                ready.set()
                async for event in subscription:
                    self._on_event(event)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("dashboard feed: bus subscription lost; again in 1 s", exc_info=True)
                await asyncio.sleep(1.0)

    def _on_event(self, event: BusEvent) -> None:
        shop = self._shops.get(event.shop_id)
        if shop is None:
            return
        if event.type == ev.INTERNAL_DASHBOARD_SNAPSHOT:
            self._on_snapshot(shop, event.payload)
            return
        if shop.dirty_since is None:
            shop.dirty_since = self._clock()
            self._wake.set()

    def _on_snapshot(self, shop: _Shop, payload: dict[str, Any]) -> None:
        started = float(payload.get("started_at", 0.0))
        if started < shop.refreshed_at:
            return  # an older snapshot overtaken by a newer one
        shop.refreshed_at = started
        if shop.dirty_since is not None and started >= shop.dirty_since:
            shop.dirty_since = None
        shop.latest = payload
        series = payload.get("series")
        if isinstance(series, dict) and payload.get("series_hash") != shop.series_hash:
            shop.series_hash = str(payload.get("series_hash"))
            shop.series = _series_of(series)
            shop.charts = {}
        for watcher in shop.watchers:
            watcher.offer(self._frame(shop, watcher))

    def _frame(self, shop: _Shop, watcher: Watcher) -> str:
        assert shop.latest is not None
        frame: dict[str, Any] = {"op": "snapshot", "dashboard": shop.latest["dashboard"]}
        if shop.series is not None and watcher.charts_sent != shop.series_hash:
            frame["charts"] = self.charts_for(shop, watcher.locale)
            watcher.charts_sent = shop.series_hash
        return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))

    def charts_for(self, shop: _Shop, locale: str) -> dict[str, str]:
        drawn = shop.charts.get(locale)
        if drawn is None and shop.series is not None and shop.latest is not None:
            tz = ZoneInfo(shop.latest["dashboard"].get("timezone") or "UTC")
            gettext = self._catalogs.get(locale).gettext if self._catalogs else (lambda s: s)
            drawn = draw_charts(shop.series, tz, gettext)
            shop.charts[locale] = drawn
        return drawn or {}

    # -- the aggregator

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._tick_s):
                    await self._wake.wait()
            self._wake.clear()
            now = self._clock()
            for shop_id, shop in list(self._shops.items()):
                stale = now - shop.refreshed_at >= self.idle_refresh_s
                if (shop.dirty_since is None and not stale) or now < shop.next_try:
                    continue
                try:
                    await self._refresh(shop_id, shop, now)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("dashboard feed: refreshing shop %s failed", shop_id)
                    shop.next_try = self._clock() + self.interval_s

    async def _refresh(self, shop_id: str, shop: _Shop, now: float) -> None:
        wait = await self._lease.take(shop_id, self.interval_s)
        if wait > 0:
            shop.next_try = now + wait
            return
        shop.next_try = now + self.interval_s
        started = self._clock()
        moment = utcnow()
        fresh_slow = not shop.slow or started - shop.slow_read_at >= self.slow_every_s
        view = await dashboard_read.shop_dashboard(
            self._sessions,
            shop_id,
            moment,
            cached=None if fresh_slow else shop.slow,
            cached_service=None if fresh_slow else shop.service,
        )
        if fresh_slow:
            shop.slow = {k: view.measured[k] for k in dashboard_read.SLOW_METRICS}
            shop.service = (view.service, view.service_7d)
            shop.slow_read_at = started
        payload: dict[str, Any] = {"started_at": started, "dashboard": view.to_json()}
        if shop.series is None or started - shop.series_read_at >= self.series_every_s:
            async with self._sessions() as session:
                fresh = await shop_series(session, shop_id, moment)
            shop.series_read_at = started
            payload["series"] = fresh.to_json()
        elif shop.latest is not None and "series" in shop.latest:
            payload["series"] = shop.latest["series"]
        if "series" in payload:
            payload["series_hash"] = hashlib.sha1(
                json.dumps(payload["series"], sort_keys=True).encode(), usedforsecurity=False
            ).hexdigest()
        self.computed += 1
        await self._bus.publish([BusEvent(ev.INTERNAL_DASHBOARD_SNAPSHOT, shop_id, (), payload)])


def _series_of(data: dict[str, Any]) -> Series:
    from datetime import datetime

    return Series(
        datetime.fromisoformat(str(data["start"])),
        {name: tuple(int(v) for v in values) for name, values in data["series"].items()},
    )


FEED_KEY: Final = web.AppKey("dashboard_feed", DashboardFeed)


async def dashboard_feed_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx`` after the bus: this process's aggregator."""
    redis = app[REDIS_KEY]
    lease: Lease = (
        RedisLease(redis, app[SETTINGS_KEY].redis.key_prefix)
        if redis is not None
        else MemoryLease()
    )
    feed = DashboardFeed(app[SESSIONS_KEY], app[BUS_KEY], lease, app.get(I18N_KEY))
    await feed.start()
    app[FEED_KEY] = feed
    yield
    await feed.stop()


async def close_dashboard_sockets(app: web.Application) -> None:
    feed = app.get(FEED_KEY)
    if feed is not None:
        await feed.close_sockets()


# ---- the socket -------------------------------------------------------------------------


@routes.get(PATH, allow_head=False)
@documented(
    {
        "summary": "Owner dashboard live: a WebSocket of snapshots ({op: snapshot, dashboard, "
        "charts}), the latest at once, then at most one a second while the shop changes "
        "(docs/dashboard.md)",
        "security": SECURED,
        "responses": {
            "101": {"description": "switching to the WebSocket protocol"},
            "400": error_answer("not a WebSocket upgrade"),
            "401": error_answer("no login"),
            "403": error_answer("role without access, or an Origin of another site"),
        },
    }
)
async def dashboard_live(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    require(user, dashboard_read.READ_ACCESS)
    origin = request.headers.get("Origin")
    if is_foreign_origin(origin, request.host):
        return web.json_response(
            {"error": f"forbidden: Origin {origin!r} is not this site ({request.host})"},
            status=403,
        )
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=4096)
    if not ws.can_prepare(request).ok:
        return web.json_response(
            {"error": "not a WebSocket upgrade: connect with a WebSocket client"}, status=400
        )
    await ws.prepare(request)
    feed = request.app[FEED_KEY]
    watcher = feed.watch(user.shop_id, request_locale(request), ws)

    async def send() -> None:
        while True:
            frame = await watcher.slot.get()
            await ws.send_str(frame)

    sender = asyncio.create_task(send())
    try:
        async for message in ws:
            if message.type is WSMsgType.ERROR:
                break  # the client only listens; anything it sends is ignored
    finally:
        feed.unwatch(watcher)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
    return ws


__all__ = [
    "FEED_KEY",
    "PATH",
    "DashboardFeed",
    "Lease",
    "MemoryLease",
    "RedisLease",
    "Watcher",
    "close_dashboard_sockets",
    "dashboard_feed_ctx",
    "routes",
]
