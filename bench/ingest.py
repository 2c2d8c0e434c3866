"""Ingest benchmark: ``POST /api/v1/events`` against a bare aiohttp endpoint, same run.

The baseline does what any webhook receiver must (read the body, verify the HMAC, parse
JSON, answer 202) and nothing else; csdesk additionally validates, makes the event durable
before answering (group commit) and processes it in the background. Both run in this process
on one event loop with the same client concurrency, so the ratio cancels out the machine.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.engine import make_url

from csdesk.actions.shops import ensure_shop
from csdesk.app import create_app, for_serving
from csdesk.ingest.signature import sign, verify
from csdesk.keys import SESSIONS_KEY
from csdesk.settings import (
    AuthSettings,
    DatabaseSettings,
    RedisSettings,
    Settings,
    WebhookSettings,
    sqlite_url,
)
from csdesk.storage import migrate

SECRET = "bench-webhook-secret"
SHOP = "bench-shop"


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _event_body(n: int, run: str) -> bytes:
    kinds = n % 4
    data: dict[str, Any]
    if kinds == 0:
        event_type, data = (
            "order.created",
            {
                "buyer_nick": f"buyer{n % 500}",
                "order_id": f"{run}-o{n}",
                "amount": "199.00",
                "items": [{"sku": "SKU-1", "title": "保温杯", "qty": 1, "price": "199.00"}],
                "address": "浙江省杭州市余杭区文一西路969号",
            },
        )
    else:
        event_type, data = (
            "message.received",
            {
                "buyer_nick": f"buyer{n % 500}",
                "text": ["这个有货吗", "什么时候发货", "我要退款"][kinds - 1],
            },
        )
    return json.dumps(
        {
            "event_id": f"{run}-{n}",
            "type": event_type,
            "shop_id": SHOP,
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": data,
        }
    ).encode()


async def drive(url: str, bodies: list[bytes], concurrency: int) -> LoadResult:
    latencies: list[float] = []
    next_index = 0
    statuses: dict[int, int] = {}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal next_index
        while next_index < len(bodies):
            body = bodies[next_index]
            next_index += 1
            headers = {"X-Csdesk-Signature": sign(body, SECRET), "Content-Type": "application/json"}
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if set(statuses) - {200, 202}:
        raise RuntimeError(f"unexpected statuses during the benchmark: {statuses}")
    latencies.sort()
    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99) - 1] * 1000,
    )


def bare_app() -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(body, SECRET, request.headers.get("X-Csdesk-Signature")):
            return web.json_response({"error": "signature"}, status=401)
        event = json.loads(body)
        return web.json_response({"accepted": True, "event_id": event["event_id"]}, status=202)

    app = web.Application()
    app.router.add_post("/api/v1/events", receive)
    return app


async def serve(app: web.Application, port: int) -> Callable[[], Awaitable[None]]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return runner.cleanup


async def pg_admin(url: str, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    admin_url = make_url(url).set(database="postgres" if "csdesk_bench_" in url else None)
    engine = create_async_engine(
        admin_url if admin_url.database else url, isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _drain(app: web.Application, started: float, limit_s: float) -> float | None:
    """Seconds from ``started`` until every accepted event left ``received`` (or None)."""
    from sqlalchemy import func, select

    from csdesk.storage.enums import EventStatus
    from csdesk.storage.models import PlatformEvent

    while time.perf_counter() - started < limit_s:
        async with app[SESSIONS_KEY]() as session:
            left = await session.scalar(
                select(func.count())
                .select_from(PlatformEvent)
                .where(PlatformEvent.status == EventStatus.RECEIVED)
            )
        if not left:
            return time.perf_counter() - started
        await asyncio.sleep(0.2)
    return None


def bench_settings(data_dir: Path, database_url: str | None, redis_url: str | None) -> Settings:
    return Settings(
        data_dir=data_dir,
        database=DatabaseSettings(url=database_url or sqlite_url(data_dir)),
        redis=RedisSettings(url=redis_url, key_prefix=f"csdesk-bench:{uuid.uuid4().hex[:8]}:"),
        auth=AuthSettings(secret_key="bench"),
        webhook=WebhookSettings(secret=SECRET),
        run_jobs_in_process=redis_url is None,
    )


async def run_ingest(
    *,
    requests: int,
    concurrency: int,
    database_url: str | None = None,
    redis_url: str | None = None,
    port: int = 18731,
) -> dict[str, Any]:
    """Bare baseline then csdesk, same bodies, same concurrency; returns figures and ratio."""
    data_dir = Path(tempfile.mkdtemp(prefix="csdesk-bench-"))
    scratch: str | None = None
    try:
        if database_url is not None:
            # A database of its own: earlier runs' leftovers must not count, nor stay behind.
            scratch = f"csdesk_bench_{uuid.uuid4().hex[:10]}"
            await pg_admin(database_url, f'CREATE DATABASE "{scratch}"')
            database_url = (
                make_url(database_url).set(database=scratch).render_as_string(hide_password=False)
            )
        settings = bench_settings(data_dir, database_url, redis_url)
        await asyncio.to_thread(migrate.upgrade, settings.database.url)
        run = uuid.uuid4().hex[:8]
        bodies = [_event_body(n, run) for n in range(requests)]
        warmup = [_event_body(n, run + "w") for n in range(min(200, requests))]

        stop = await serve(bare_app(), port)
        try:
            await drive(f"http://127.0.0.1:{port}/api/v1/events", warmup, concurrency)
            # The bodies twice: the bare endpoint is about twice as fast, so both runs last
            # about as long and a second of this VM's speed drift weighs alike on each.
            bare = await drive(
                f"http://127.0.0.1:{port}/api/v1/events", bodies + bodies, concurrency
            )
        finally:
            await stop()

        app = for_serving(create_app(settings))
        stop = await serve(app, port + 1)
        try:
            await ensure_shop(app[SESSIONS_KEY], SHOP, "压测店")
            await drive(f"http://127.0.0.1:{port + 1}/api/v1/events", warmup, concurrency)
            started = time.perf_counter()
            ours = await drive(f"http://127.0.0.1:{port + 1}/api/v1/events", bodies, concurrency)
            drained_s = await _drain(app, started, limit_s=180.0)
        finally:
            await stop()
        return {
            "mode": "server" if redis_url else "embedded",
            "database": "postgresql" if database_url and "postgresql" in database_url else "sqlite",
            "requests": requests,
            "baseline_requests": bare.requests,
            "concurrency": concurrency,
            "baseline_rps": round(bare.per_second, 1),
            "baseline_p50_ms": round(bare.p50_ms, 2),
            "baseline_p99_ms": round(bare.p99_ms, 2),
            "csdesk_rps": round(ours.per_second, 1),
            "csdesk_p50_ms": round(ours.p50_ms, 2),
            "csdesk_p99_ms": round(ours.p99_ms, 2),
            "ratio": round(ours.per_second / bare.per_second, 3),
            # Routing every accepted event (triage, scoring, assignment), from the first
            # request until nothing is left ``received``: the real capacity of one process.
            "processed_per_s": round((requests + len(warmup)) / drained_s, 1)
            if drained_s
            else None,
        }
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if scratch is not None and database_url is not None:
            await pg_admin(database_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
