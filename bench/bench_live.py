"""Live delivery benchmark: buyer message in over HTTP → the assigned agent's websocket.

N agent consoles (default 500) hold websockets to one csdesk process on 127.0.0.1, each
agent with one conversation assigned. Buyers then write at R messages/s (default 200/s)
through signed ``POST /api/v1/events``, round robin over those conversations, for a bounded
time; the figure is the latency from just before the POST to the agent's socket receiving
the matching ``message.created`` (acceptance, processing and routing, bus, hub, socket).
A second, shorter phase publishes the same events straight onto the bus at the same rate:
the hub-and-socket share of that latency on its own.

Not a test and not tuned: when the offered rate is above what one process routes, the
backlog (and so the latency) grows for as long as the load lasts, and the numbers say so.
Client and server share one process and event loop, as in the other benchmarks.

    python -m bench.bench_live [--consoles 500] [--rate 200] [--seconds 10]
                               [--database-url postgresql+asyncpg://...] [--redis-url ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bench.ingest import SECRET, SHOP, bench_settings, pg_admin
from csdesk.actions.agents import AgentProfileSpec, set_agent_profile
from csdesk.actions.shops import ensure_shop
from csdesk.actions.users import create_user, issue_token
from csdesk.app import create_app, for_serving
from csdesk.bus.base import BusEvent
from csdesk.ingest.signature import sign
from csdesk.keys import BUS_KEY, PROCESSOR_KEY, SESSIONS_KEY
from csdesk.realtime import close_live_sockets, hub_ctx
from csdesk.settings import Settings
from csdesk.storage import migrate
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ServiceRole, UserRole
from csdesk.storage.models import Buyer, Conversation
from csdesk.web import live

POST_CONCURRENCY = 64
HUB_ONLY_SECONDS = 3.0


def live_app(settings: Settings) -> web.Application:
    """``create_app`` with the live wiring; adds it only while app.py does not yet."""
    app = for_serving(create_app(settings))
    if not any(
        route.resource is not None and route.resource.canonical == "/api/v1/live"
        for route in app.router.routes()
    ):
        app.cleanup_ctx.append(hub_ctx)
        app.on_shutdown.append(close_live_sockets)
        app.router.add_routes(live.routes)
    return app


def _body(event_type: str, data: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "event_id": uuid.uuid4().hex,
            "type": event_type,
            "shop_id": SHOP,
            "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
            "data": data,
        },
        ensure_ascii=False,
    ).encode()


async def _post(http: aiohttp.ClientSession, url: str, nick: str, text: str) -> None:
    body = _body("message.received", {"buyer_nick": nick, "text": text})
    headers = {"X-Csdesk-Signature": sign(body, SECRET), "Content-Type": "application/json"}
    async with http.post(url, data=body, headers=headers) as response:
        await response.read()
        if response.status not in (200, 202):
            raise RuntimeError(f"POST /api/v1/events answered {response.status}")


async def _agents(sessions: SessionFactory, count: int, run: str) -> list[tuple[int, str]]:
    """``count`` presales agents online with room for one chat each: (user id, token)."""
    ids = []
    for n in range(count):
        user = await create_user(
            sessions,
            shop_id=SHOP,
            username=f"bench-{run}-{n}",
            role=UserRole.AGENT,
            password=None,
        )
        ids.append((user.id, user.username))
    async with sessions.begin() as session:
        for user_id, _ in ids:
            spec = AgentProfileSpec(
                user_id=user_id,
                service_roles=(ServiceRole.PRESALES,),
                chat_capacity=1,
                status=AgentStatus.ONLINE,
            )
            await set_agent_profile(session, SHOP, spec)
    return [(user_id, await issue_token(sessions, name)) for user_id, name in ids]


async def _assignments(sessions: SessionFactory) -> dict[int, str]:
    """Agent id → the nick of the buyer whose chat it holds."""
    async with sessions() as session:
        rows = await session.execute(
            select(Conversation.assigned_agent_id, Buyer.nick)
            .join(Buyer, Buyer.id == Conversation.buyer_id)
            .where(Conversation.shop_id == SHOP, Conversation.assigned_agent_id.is_not(None))
        )
        return {agent_id: nick for agent_id, nick in rows if agent_id is not None}


def _percentiles(latencies: Sequence[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(latencies)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 1)

    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


class _Deliveries:
    """Latency of each awaited text, taken when a console's socket receives it."""

    def __init__(self) -> None:
        self.sent_at: dict[str, float] = {}
        self.latencies: list[float] = []
        self.samples: list[tuple[float, float]] = []
        """(sent at, latency) of each delivery, for the latency over the run."""
        self.last_at = 0.0
        self.all_in = asyncio.Event()
        self.expected = 0

    def expect(self, text: str) -> None:
        self.expected += 1
        self.all_in.clear()
        self.sent_at[text] = time.perf_counter()

    def received(self, text: str) -> None:
        started = self.sent_at.pop(text, None)
        if started is None:
            return
        self.last_at = time.perf_counter()
        self.latencies.append(self.last_at - started)
        self.samples.append((started, self.last_at - started))
        if len(self.latencies) == self.expected:
            self.all_in.set()


async def _read(ws: aiohttp.ClientWebSocketResponse, deliveries: list[_Deliveries]) -> None:
    async for message in ws:
        if message.type is not aiohttp.WSMsgType.TEXT:
            continue
        frame = json.loads(message.data)
        if frame.get("op") == "event" and frame["type"] == "message.created":
            text = frame["payload"]["message"]["text"]
            for tracker in deliveries:
                tracker.received(text)


async def _paced(rate: float, seconds: float, send: Callable[[int], None]) -> int:
    """Call ``send(seq)`` ``rate`` times a second for ``seconds``; returns how many."""
    started = time.perf_counter()
    seq = 0
    while (now := time.perf_counter()) - started < seconds:
        due = started + seq / rate
        if due > now:
            await asyncio.sleep(due - now)
        send(seq)
        seq += 1
    return seq


def _phase(
    tracker: _Deliveries, sent: int, started: float, seconds: float, drained: bool
) -> dict[str, Any]:
    delivered = len(tracker.latencies)
    by_second: dict[int, list[float]] = {}
    for sent_at, latency in tracker.samples:
        by_second.setdefault(int(sent_at - started), []).append(latency)
    return {
        "sent": sent,
        "delivered": delivered,
        "undelivered": sent - delivered,
        "all_delivered": drained,
        **_percentiles(tracker.latencies),
        "offered_per_s": round(sent / seconds, 1),
        # Median latency of the messages sent in each second of the load: flat when the
        # process keeps up, a ramp when a backlog builds.
        "p50_ms_by_second_sent": [
            round(statistics.median(by_second[second]) * 1000, 1) for second in sorted(by_second)
        ],
    }


async def run_live(
    *,
    consoles: int = 500,
    rate: float = 200.0,
    seconds: float = 10.0,
    drain_s: float = 10.0,
    database_url: str | None = None,
    redis_url: str | None = None,
) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="csdesk-bench-live-"))
    scratch: str | None = None
    run = uuid.uuid4().hex[:6]
    try:
        if database_url is not None:
            scratch = f"csdesk_bench_{uuid.uuid4().hex[:10]}"
            await pg_admin(database_url, f'CREATE DATABASE "{scratch}"')
            database_url = (
                make_url(database_url).set(database=scratch).render_as_string(hide_password=False)
            )
        settings = bench_settings(data_dir, database_url, redis_url)
        await asyncio.to_thread(migrate.upgrade, settings.database.url)
        app = live_app(settings)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        base = f"http://127.0.0.1:{port}"
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        sockets: list[aiohttp.ClientWebSocketResponse] = []
        readers: list[asyncio.Task[None]] = []
        try:
            sessions = app[SESSIONS_KEY]
            await ensure_shop(sessions, SHOP, "压测店")
            agents = await _agents(sessions, consoles, run)
            # One chat per agent (capacity 1, least loaded first): set up, not measured.
            setup = asyncio.Semaphore(POST_CONCURRENCY)

            async def open_chat(n: int) -> None:
                async with setup:
                    await _post(http, f"{base}/api/v1/events", f"b{run}-{n}", "在吗")

            await asyncio.gather(*(open_chat(n) for n in range(consoles)))
            await app[PROCESSOR_KEY].wait_idle()
            held = await _assignments(sessions)
            tokens = [(agent_id, token) for agent_id, token in agents if agent_id in held]
            if len(tokens) < consoles:
                raise RuntimeError(f"only {len(tokens)} of {consoles} agents got a chat")

            end_to_end, hub_only = _Deliveries(), _Deliveries()
            trackers = [end_to_end, hub_only]
            for _, token in tokens:
                ws = await http.ws_connect(
                    f"{base}/api/v1/live", headers={"Authorization": f"Bearer {token}"}
                )
                await ws.send_json({"op": "hello", "queue_id": None, "last_event_id": -1})
                welcome = json.loads((await ws.receive()).data)
                if welcome.get("op") != "welcome":
                    raise RuntimeError(f"no welcome: {welcome}")
                sockets.append(ws)
                readers.append(asyncio.create_task(_read(ws, trackers)))

            nicks = [held[agent_id] for agent_id, _ in tokens]
            posting = asyncio.Semaphore(POST_CONCURRENCY)
            posts: set[asyncio.Task[None]] = set()

            async def post_one(seq: int) -> None:
                text = f"bench-{run}-{seq}"
                async with posting:
                    end_to_end.expect(text)
                    await _post(http, f"{base}/api/v1/events", nicks[seq % len(nicks)], text)

            def send_http(seq: int) -> None:
                task = asyncio.create_task(post_one(seq))
                posts.add(task)
                task.add_done_callback(posts.discard)

            started = time.perf_counter()
            sent = await _paced(rate, seconds, send_http)
            await asyncio.gather(*posts)
            backlog_at_end = sent - len(end_to_end.latencies)
            try:
                async with asyncio.timeout(drain_s):
                    await end_to_end.all_in.wait()
                drained = True
            except TimeoutError:
                drained = False
            delivered_span = max(end_to_end.last_at - started, 1e-9)
            e2e = _phase(end_to_end, sent, started, seconds, drained)
            e2e["backlog_at_end_of_load"] = backlog_at_end
            e2e["delivered_per_s"] = round(len(end_to_end.latencies) / delivered_span, 1)

            # The same events straight onto the bus: hub, queue and socket only.
            bus = app[BUS_KEY]
            agent_ids = [agent_id for agent_id, _ in tokens]

            def send_bus(seq: int) -> None:
                text = f"hub-{run}-{seq}"
                hub_only.expect(text)
                event = BusEvent(
                    "message.created",
                    SHOP,
                    (f"user:{agent_ids[seq % len(agent_ids)]}",),
                    {"conversation_id": 0, "message": {"text": text, "sender": "buyer"}},
                )
                task = asyncio.create_task(bus.publish([event]))
                posts.add(task)
                task.add_done_callback(posts.discard)

            hub_started = time.perf_counter()
            hub_sent = await _paced(rate, HUB_ONLY_SECONDS, send_bus)
            try:
                async with asyncio.timeout(drain_s):
                    await hub_only.all_in.wait()
                hub_drained = True
            except TimeoutError:
                hub_drained = False
            hub = _phase(hub_only, hub_sent, hub_started, HUB_ONLY_SECONDS, hub_drained)
        finally:
            for task in readers:
                task.cancel()
            for ws in sockets:
                await ws.close()
            await http.close()
            await runner.cleanup()
            if redis_url is not None:
                redis = Redis.from_url(redis_url)
                prefix = settings.redis.key_prefix
                keys = [key async for key in redis.scan_iter(match=f"{prefix}*", count=1000)]
                if keys:
                    await redis.delete(*keys)
                await redis.aclose()
        return {
            "bench": "live",
            "mode": settings.mode,
            "database": "postgresql" if database_url else "sqlite",
            "consoles": consoles,
            "target_rate_per_s": rate,
            "seconds": seconds,
            "end_to_end": e2e,
            "hub_only": hub,
        }
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if scratch is not None and database_url is not None:
            await pg_admin(database_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--consoles", type=int, default=500)
    parser.add_argument("--rate", type=float, default=200.0, help="buyer messages per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the load lasts")
    parser.add_argument("--drain", type=float, default=10.0, help="wait this long after it")
    parser.add_argument("--database-url", default=None, help="PostgreSQL (default: SQLite)")
    parser.add_argument("--redis-url", default=None, help="server mode (default: embedded)")
    args = parser.parse_args(argv)
    if args.consoles < 1 or args.rate <= 0 or args.seconds <= 0:
        print("bench_live: --consoles, --rate and --seconds must be positive", file=sys.stderr)
        return 2
    result = asyncio.run(
        run_live(
            consoles=args.consoles,
            rate=args.rate,
            seconds=args.seconds,
            drain_s=args.drain,
            database_url=args.database_url,
            redis_url=args.redis_url,
        )
    )
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
