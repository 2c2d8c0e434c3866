"""Soak: many websocket consoles and a steady stream of signed events against one real
``csdesk serve`` process, for a while; errors, delivery and the process's memory.

The server is a subprocess (embedded mode: SQLite, in-process jobs) and the load (the
sockets and the POSTs) comes from this process, never from the server's: its resident
memory is its own, read from ``/proc``, sampled every second. ``consoles`` agents (online,
presales, 5 chats each) hold one websocket each; buyers (new ones in turn, then again)
write at up to ``rate`` events/s for ``seconds``, with at most 64 requests in flight: when
the server is slower the offered rate falls to what it sustains (reported), the run stays
bounded.

Checked (and returned): every POST acknowledged (202), no socket closed by the server,
every accepted event processed once the stream stops; the assignment events the sockets
received; memory at start, after the first tenth and at the end, and its slope (least
squares over the samples after the first tenth, MB per minute: flat is near 0); the
machine's load average before and after (the run shares the machine).

Used by ``csdesk bench --only soak`` (60 s, 500 consoles, 1,000/s) and, shortened, by
``tests/integration/test_soak.py``.

    python -m bench.soak [--consoles 500] [--rate 1000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from csdesk.actions.shops import ensure_shop
from csdesk.auth.tokens import new_api_token, sha256_hex
from csdesk.clock import utcnow
from csdesk.ingest.signature import sign
from csdesk.settings import sqlite_url
from csdesk.storage import migrate
from csdesk.storage.engine import create_session_factory
from csdesk.storage.enums import AgentStatus, EventStatus, ServiceRole, UserRole
from csdesk.storage.models import AgentProfile, ApiToken, PlatformEvent, User

SECRET = "soak-webhook-secret"
SHOP = "soak-shop"
IN_FLIGHT = 64
BUYERS = 5000
DRAIN_S = 120.0


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _slope_mb_per_min(samples: list[float]) -> float:
    """Least-squares slope of one-per-second samples, in MB per minute."""
    n = len(samples)
    if n < 2:
        return 0.0
    mean_x = (n - 1) / 2
    mean_y = sum(samples) / n
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(samples))
    variance = sum((x - mean_x) ** 2 for x in range(n))
    return covariance / variance * 60


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _seed(data: Path, consoles: int) -> list[str]:
    """The shop and its agents with their API tokens, in one transaction of bulk INSERTs
    (set up, not measured; as the QC sampling benchmark seeds)."""
    await asyncio.to_thread(migrate.upgrade, sqlite_url(data))
    engine = create_async_engine(sqlite_url(data))
    sessions = create_session_factory(engine)
    tokens = [new_api_token() for _ in range(consoles)]
    now = utcnow()
    try:
        await ensure_shop(sessions, SHOP, "压测店")
        async with sessions.begin() as session:
            users = [
                User(
                    shop_id=SHOP,
                    username=f"soak{n}",
                    display_name=f"客服{n}",
                    role=UserRole.AGENT,
                    password_hash=None,
                    created_at=now,
                )
                for n in range(consoles)
            ]
            session.add_all(users)
            await session.flush()
            session.add_all(
                AgentProfile(
                    user_id=user.id,
                    shop_id=SHOP,
                    service_roles=[ServiceRole.PRESALES.value],
                    skills=[],
                    chat_capacity=5,
                    hotline_capacity=1,
                    status=AgentStatus.ONLINE,
                    status_changed_at=now,
                )
                for user in users
            )
            session.add_all(
                ApiToken(
                    shop_id=SHOP,
                    user_id=user.id,
                    token_hash=sha256_hex(token),
                    name="soak",
                    created_at=now,
                )
                for user, token in zip(users, tokens, strict=True)
            )
    finally:
        await engine.dispose()
    return tokens


async def _processed(data: Path) -> dict[str, int]:
    engine = create_async_engine(sqlite_url(data))
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(PlatformEvent.status, func.count()).group_by(PlatformEvent.status)
            )
            return {str(EventStatus(status).value): int(n) for status, n in rows}
    finally:
        await engine.dispose()


def _start_server(port: int, env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "csdesk", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def run_soak(
    *,
    consoles: int = 500,
    rate: float = 1000.0,
    seconds: float = 60.0,
    buyers: int = BUYERS,
    drain_s: float = DRAIN_S,
) -> dict[str, Any]:
    """One soak (see the module); ``buyers`` write in turn (fewer buyers: more messages
    in open chats, fewer new ones), ``drain_s`` bounds the wait for the backlog."""
    data = Path(tempfile.mkdtemp(prefix="csdesk-soak-"))
    port = _port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSDESK_")}
    env.update(CSDESK_DATA_DIR=str(data), CSDESK_WEBHOOK_SECRET=SECRET, CSDESK_SECRET_KEY="soak")
    log = (data / "serve.log").open("wb")
    server: subprocess.Popen[bytes] | None = None
    try:
        tokens = await _seed(data, consoles)
        load_before = os.getloadavg()
        server = _start_server(port, env, log)
        timeout = aiohttp.ClientTimeout(total=60)
        connector = aiohttp.TCPConnector(limit=IN_FLIGHT + consoles + 8)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with http.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("csdesk serve did not start")
                await asyncio.sleep(0.1)
            sockets: list[aiohttp.ClientWebSocketResponse] = []
            received = {"events": 0}

            async def read(ws: aiohttp.ClientWebSocketResponse) -> None:
                async for message in ws:
                    text = message.type is aiohttp.WSMsgType.TEXT
                    if text and json.loads(message.data).get("op") == "event":
                        received["events"] += 1

            readers = []
            connecting = asyncio.Semaphore(32)

            async def connect(token: str) -> None:
                async with connecting:
                    ws = await http.ws_connect(
                        f"{base}/api/v1/live",
                        headers={"Authorization": f"Bearer {token}"},
                        heartbeat=20,
                    )
                    await ws.send_json({"op": "hello", "queue_id": None, "last_event_id": -1})
                sockets.append(ws)
                readers.append(asyncio.create_task(read(ws)))

            await asyncio.gather(*(connect(token) for token in tokens))
            rss = {"start": _rss_mb(server.pid)}
            samples: list[float] = []
            statuses: dict[int, int] = {}
            errors: list[str] = []
            run = uuid.uuid4().hex[:6]
            in_flight = asyncio.Semaphore(IN_FLIGHT)
            tasks: set[asyncio.Task[None]] = set()

            async def post(seq: int) -> None:
                body = json.dumps(
                    {
                        "event_id": f"{run}-{seq}",
                        "type": "message.received",
                        "shop_id": SHOP,
                        "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                        "data": {"buyer_nick": f"b{run}{seq % buyers}", "text": "在吗，有货吗"},
                    },
                    ensure_ascii=False,
                ).encode()
                headers = {
                    "Content-Type": "application/json",
                    "X-Csdesk-Signature": sign(body, SECRET),
                }
                try:
                    async with http.post(
                        f"{base}/api/v1/events", data=body, headers=headers
                    ) as response:
                        await response.read()
                        statuses[response.status] = statuses.get(response.status, 0) + 1
                except (aiohttp.ClientError, TimeoutError) as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                finally:
                    in_flight.release()

            started = time.monotonic()
            next_sample = started + 1
            seq = 0
            while (now := time.monotonic()) - started < seconds:
                due = started + seq / rate
                if due > now:
                    await asyncio.sleep(due - now)
                await in_flight.acquire()
                task = asyncio.create_task(post(seq))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                seq += 1
                if time.monotonic() >= next_sample:
                    samples.append(_rss_mb(server.pid))
                    next_sample += 1
            await asyncio.gather(*tasks)
            elapsed = time.monotonic() - started
            drain_started = time.monotonic()
            counts: dict[str, int] = {}
            while time.monotonic() - drain_started < drain_s:
                counts = await _processed(data)
                if set(counts) <= {"processed"} and counts.get("processed", 0) >= statuses.get(
                    202, 0
                ):
                    break
                await asyncio.sleep(0.5)
            drained_in = time.monotonic() - drain_started
            rss["after_first_tenth"] = samples[max(0, len(samples) // 10)] if samples else 0.0
            rss["end"] = _rss_mb(server.pid)
            rss["peak"] = max([rss["start"], rss["end"], *samples])
            steady = samples[len(samples) // 10 :]
            load_after = os.getloadavg()
            closed = sum(1 for ws in sockets if ws.closed)
            for ws in sockets:
                await ws.close()
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        return {
            "bench": "soak",
            "consoles": consoles,
            "buyers": buyers,
            "target_rate_per_s": rate,
            "seconds": round(elapsed, 1),
            "sent": seq,
            "accepted": statuses.get(202, 0),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "errors": len(errors),
            "first_errors": errors[:3],
            "achieved_rate_per_s": round(seq / elapsed, 1),
            "ratio": round(min(1.0, seq / elapsed / rate), 3),
            "sockets_closed_by_server": closed,
            "socket_events_received": received["events"],
            "events": counts,
            "drain_s": round(drained_in, 1),
            "rss_mb": {k: round(v, 1) for k, v in rss.items()},
            "rss_growth_mb": round(rss["end"] - rss["after_first_tenth"], 1),
            "rss_slope_mb_per_min": round(_slope_mb_per_min(steady), 2),
            "load_average": {
                "before": [round(x, 2) for x in load_before],
                "after": [round(x, 2) for x in load_after],
            },
            "load_process": os.getpid(),
            "server_process": server.pid,
            "server_alive": server.poll() is None,
        }
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--consoles", type=int, default=500)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    result = asyncio.run(run_soak(consoles=args.consoles, rate=args.rate, seconds=args.seconds))
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
