"""Faults injected into real processes while a platform sends signed events.

Each test runs ``csdesk serve`` (and ``csdesk worker`` in server mode) as subprocesses and
streams signed ``message.received`` events at them the way a marketplace does: an event
that got no answer (the process was gone) is sent again with the same ``event_id`` until
it is acknowledged (202, or 200 for a duplicate). Then it injects one fault:

- ``kill -9`` of the web process at a random point of the stream (embedded and server
  mode), restarted on the same port;
- ``kill -9`` of the worker at a random point (server mode), restarted;
- a restart of PostgreSQL under load (a private cluster on its own port);
- a restart of Redis that loses every key (a private redis-server on its own port).

And checks afterwards, from the database: every acknowledged event is stored once and
processed once (one buyer message per event, no event left unprocessed); no agent holds
more chats than their capacity, none is idle next to a queue; and the desk still works
without being restarted by the test: freeing an agent's capacity hands them the queued
buyers (so no queued item is stranded outside the queue index).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from csdesk.actions.shops import ensure_shop
from csdesk.actions.users import issue_token
from csdesk.storage import migrate
from csdesk.storage.engine import SessionFactory, create_session_factory
from csdesk.storage.enums import ConversationStatus, EventStatus, MessageSender, ServiceRole
from csdesk.storage.models import Conversation, Message, PlatformEvent
from tests.conftest import TEST_SHOP, _truncate_postgres
from tests.helpers import event_body, make_agent
from tests.processes import (
    PrivatePostgres,
    PrivateRedis,
    WebProcess,
    WorkerProcess,
    csdesk_env,
    post_signed,
)
from tests.services import REDIS_URL, require

AGENTS = 3
CAPACITY = 6
BUYERS = 30
MESSAGES_PER_BUYER = 2
SETTLE_TIMEOUT_S = 90.0
ACK_TIMEOUT_S = 60.0


@dataclass
class Stream:
    """The platform's side: events sent until acknowledged."""

    bodies: list[tuple[str, bytes]]
    acked: dict[str, int] = field(default_factory=dict)
    retries: int = 0


def make_stream(run: str) -> Stream:
    bodies = []
    for turn in range(MESSAGES_PER_BUYER):
        for n in range(BUYERS):
            event_id = f"{run}-{n}-{turn}"
            text = "在吗，这个杯子保温多久" if turn == 0 else "还有货吗"
            body = event_body(
                "message.received", {"buyer_nick": f"买家{run}{n}", "text": text}, event_id=event_id
            )
            bodies.append((event_id, body))
    return Stream(bodies)


async def send_until_acked(
    http: aiohttp.ClientSession, url: Callable[[], str], stream: Stream, event_id: str, body: bytes
) -> None:
    deadline = time.monotonic() + ACK_TIMEOUT_S
    while True:
        status = await post_signed(http, url(), body)
        if status in (200, 202):
            stream.acked[event_id] = status
            return
        assert status in (0, 500, 502, 503), f"{event_id}: answered {status}"
        if time.monotonic() > deadline:
            raise AssertionError(f"{event_id} never acknowledged (last {status})")
        stream.retries += 1
        await asyncio.sleep(0.1)


async def run_stream(
    http: aiohttp.ClientSession,
    url: Callable[[], str],
    stream: Stream,
    *,
    fault_at: int,
    fault: Callable[[], Awaitable[None]],
    concurrency: int = 4,
) -> None:
    """Send every event (``concurrency`` at a time); after ``fault_at`` acknowledgements,
    inject the fault while the rest keep coming."""
    pending = list(stream.bodies)
    fired = asyncio.Event()
    reached = asyncio.Event()

    async def sender() -> None:
        while pending:
            event_id, body = pending.pop(0)
            await send_until_acked(http, url, stream, event_id, body)
            if len(stream.acked) >= fault_at:
                reached.set()

    async def injector() -> None:
        await reached.wait()
        await fault()
        fired.set()

    await asyncio.gather(injector(), *(sender() for _ in range(concurrency)))
    assert fired.is_set()


async def settle(sessions: SessionFactory, stream: Stream) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    counts: dict[EventStatus, int] = {}
    while time.monotonic() < deadline:
        try:
            async with sessions() as session:
                counts = dict(
                    (
                        await session.execute(
                            select(PlatformEvent.status, func.count()).group_by(
                                PlatformEvent.status
                            )
                        )
                    ).all()
                )
        except OSError:
            counts = {}
        if counts.get(EventStatus.PROCESSED, 0) >= len(stream.acked) and set(counts) <= {
            EventStatus.PROCESSED
        }:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"events not all processed after {SETTLE_TIMEOUT_S} s: {counts}")


async def check_exactly_once(sessions: SessionFactory, stream: Stream) -> None:
    """Every acknowledged event stored once, processed, and its buyer message written once."""
    assert len(stream.acked) == len(stream.bodies)
    async with sessions() as session:
        events = dict(
            (await session.execute(select(PlatformEvent.event_id, PlatformEvent.id))).all()
        )
        per_event = dict(
            (
                await session.execute(
                    select(Message.source_event_id, func.count())
                    .where(Message.sender == MessageSender.BUYER)
                    .group_by(Message.source_event_id)
                )
            ).all()
        )
    assert set(events) == set(stream.acked), "acknowledged events and stored events differ"
    written = {event_id: per_event.get(row_id, 0) for event_id, row_id in events.items()}
    assert set(written.values()) == {1}, {k: v for k, v in written.items() if v != 1}


async def load(sessions: SessionFactory) -> tuple[dict[int, int], int]:
    """(open chats per agent, queued chats)."""
    async with sessions() as session:
        held = dict(
            (
                await session.execute(
                    select(Conversation.assigned_agent_id, func.count())
                    .where(Conversation.status == ConversationStatus.ASSIGNED)
                    .group_by(Conversation.assigned_agent_id)
                )
            ).all()
        )
        queued = await session.scalar(
            select(func.count()).where(Conversation.status == ConversationStatus.QUEUED)
        )
    return {int(k): int(v) for k, v in held.items() if k is not None}, int(queued or 0)


async def check_capacity_and_flow(
    http: aiohttp.ClientSession, url: str, sessions: SessionFactory, agents: dict[int, str]
) -> None:
    """No agent over capacity, none idle next to a queue; closing chats hands the freed
    agent queued buyers (the queue index holds every queued item)."""
    held, queued = await load(sessions)
    assert all(n <= CAPACITY for n in held.values()), held
    assert sum(held.values()) + queued == BUYERS
    assert queued == BUYERS - AGENTS * CAPACITY
    assert held == dict.fromkeys(agents, CAPACITY), "an agent idle next to a queue"
    agent_id, token = next(iter(agents.items()))
    async with sessions() as session:
        mine = list(
            await session.scalars(
                select(Conversation.id).where(
                    Conversation.assigned_agent_id == agent_id,
                    Conversation.status == ConversationStatus.ASSIGNED,
                )
            )
        )
    for conversation_id in mine[:3]:
        async with http.post(
            f"{url}/api/v1/conversations/{conversation_id}/close",
            json={"disposition": "answered"},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            assert response.status == 200, await response.text()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        held_after, queued_after = await load(sessions)
        if held_after.get(agent_id) == CAPACITY and queued_after == queued - 3:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"freed capacity not refilled from the queue: {held_after}")


@dataclass
class Desk:
    env: dict[str, str]
    sessions: SessionFactory
    agents: dict[int, str]
    folder: Path
    web: WebProcess | None = None
    worker: WorkerProcess | None = None

    def url(self) -> str:
        assert self.web is not None
        return self.web.url

    async def start(self, http: aiohttp.ClientSession, *, worker: bool) -> None:
        self.web = WebProcess(self.env, self.folder / "web.log")
        if worker:
            self.worker = WorkerProcess(self.env, self.folder / "worker.log")
        await self.web.wait_ready(http)

    def stop(self) -> None:
        for process in (self.web, self.worker):
            if process is not None:
                process.stop()


async def _seed(sessions: SessionFactory) -> dict[int, str]:
    await ensure_shop(sessions, TEST_SHOP, "测试店")
    agents = {}
    for n in range(AGENTS):
        name = f"fault-agent-{n}"
        agent_id = await make_agent(
            sessions, TEST_SHOP, name, [ServiceRole.PRESALES], chat_capacity=CAPACITY
        )
        agents[agent_id] = await issue_token(sessions, name)
    return agents


@pytest.fixture
async def embedded(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Desk]:
    shutil.copy(sqlite_template, tmp_path / "csdesk.sqlite3")
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'csdesk.sqlite3'}")
    sessions = create_session_factory(engine)
    desk = Desk(csdesk_env(tmp_path), sessions, await _seed(sessions), tmp_path)
    try:
        yield desk
    finally:
        desk.stop()
        await engine.dispose()


@pytest.fixture
async def server(postgres_url: str, redis_prefix: str, tmp_path: Path) -> AsyncIterator[Desk]:
    require("redis")
    await _truncate_postgres(postgres_url)
    engine = create_async_engine(postgres_url)
    sessions = create_session_factory(engine)
    env = csdesk_env(
        tmp_path,
        CSDESK_DATABASE_URL=postgres_url,
        CSDESK_REDIS_URL=REDIS_URL,
        CSDESK_REDIS_PREFIX=redis_prefix,
    )
    desk = Desk(env, sessions, await _seed(sessions), tmp_path)
    try:
        yield desk
    finally:
        desk.stop()
        await engine.dispose()


def _fault_point(seed: int) -> int:
    return random.Random(seed).randrange(5, BUYERS * MESSAGES_PER_BUYER - 10)


async def _kill_web_mid_stream(desk: Desk, *, worker: bool) -> None:
    seed = random.randrange(1 << 30)
    stream = make_stream(uuid.uuid4().hex[:6])
    async with aiohttp.ClientSession() as http:
        await desk.start(http, worker=worker)

        async def kill_and_restart() -> None:
            assert desk.web is not None
            desk.web.kill9()
            desk.web = desk.web.restart()
            await desk.web.wait_ready(http)

        fault_at = _fault_point(seed)
        await run_stream(http, desk.url, stream, fault_at=fault_at, fault=kill_and_restart)
        await settle(desk.sessions, stream)
        await check_exactly_once(desk.sessions, stream)
        await check_capacity_and_flow(http, desk.url(), desk.sessions, desk.agents)


async def test_kill_9_of_the_web_process_mid_stream_embedded(embedded: Desk) -> None:
    await _kill_web_mid_stream(embedded, worker=False)


@pytest.mark.postgres
@pytest.mark.redis
async def test_kill_9_of_the_web_process_mid_stream_server(server: Desk) -> None:
    await _kill_web_mid_stream(server, worker=True)


@pytest.mark.postgres
@pytest.mark.redis
async def test_kill_9_of_the_worker_mid_stream(server: Desk) -> None:
    seed = random.randrange(1 << 30)
    stream = make_stream(uuid.uuid4().hex[:6])
    async with aiohttp.ClientSession() as http:
        await server.start(http, worker=True)

        async def kill_worker() -> None:
            assert server.worker is not None
            server.worker.kill9()
            # Mid-stream the web process carries on alone for a moment; then a new worker.
            await asyncio.sleep(0.5)
            server.worker = server.worker.restart()

        fault_at = _fault_point(seed)
        await run_stream(http, server.url, stream, fault_at=fault_at, fault=kill_worker)
        await settle(server.sessions, stream)
        await check_exactly_once(server.sessions, stream)
        await check_capacity_and_flow(http, server.url(), server.sessions, server.agents)
        assert server.worker is not None
        assert server.worker.alive


@pytest.fixture
def private_folder() -> Iterator[Path]:
    """A folder the ``postgres`` user can reach (pytest's tmp dirs are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="csdesk-fault-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.postgres
async def test_postgres_restarted_under_load(private_folder: Path, tmp_path: Path) -> None:
    """A private cluster on its own port (never the shared one) goes down mid-stream and
    comes back; the web process recovers without being restarted."""
    pg = PrivatePostgres(private_folder)
    pg.start()
    engine = None
    desk: Desk | None = None
    try:
        await asyncio.to_thread(migrate.upgrade, pg.url)
        from sqlalchemy.pool import NullPool

        engine = create_async_engine(pg.url, poolclass=NullPool)
        sessions = create_session_factory(engine)
        env = csdesk_env(tmp_path, CSDESK_DATABASE_URL=pg.url)
        desk = Desk(env, sessions, await _seed(sessions), tmp_path)
        stream = make_stream(uuid.uuid4().hex[:6])
        async with aiohttp.ClientSession() as http:
            await desk.start(http, worker=False)
            web = desk.web
            assert web is not None

            async def restart_postgres() -> None:
                await asyncio.to_thread(pg.stop, "fast")
                await asyncio.sleep(1.0)
                await asyncio.to_thread(pg.start)

            fault_at = _fault_point(random.randrange(1 << 30))
            await run_stream(http, desk.url, stream, fault_at=fault_at, fault=restart_postgres)
            assert desk.web is web
            assert web.alive, "the web process died with the database"
            await settle(sessions, stream)
            await check_exactly_once(sessions, stream)
            await check_capacity_and_flow(http, desk.url(), sessions, desk.agents)
            async with http.get(f"{desk.url()}/healthz") as response:
                assert response.status == 200
    finally:
        if desk is not None:
            desk.stop()
        if engine is not None:
            await engine.dispose()
        pg.close()


@pytest.mark.postgres
async def test_redis_restarted_and_the_queues_rebuilt(
    postgres_url: str, redis_prefix: str, private_folder: Path, tmp_path: Path
) -> None:
    """A private redis-server loses every key mid-stream (queue index, job queue, live
    streams); the queue index is rebuilt from the database and queued buyers still reach
    agents whose capacity frees up, with no process restarted."""
    redis = PrivateRedis(private_folder)
    redis.start()
    await _truncate_postgres(postgres_url)
    engine = create_async_engine(postgres_url)
    sessions = create_session_factory(engine)
    env = csdesk_env(
        tmp_path,
        CSDESK_DATABASE_URL=postgres_url,
        CSDESK_REDIS_URL=redis.url,
        CSDESK_REDIS_PREFIX=redis_prefix,
    )
    desk = Desk(env, sessions, await _seed(sessions), tmp_path)
    try:
        stream = make_stream(uuid.uuid4().hex[:6])
        async with aiohttp.ClientSession() as http:
            await desk.start(http, worker=True)
            web, worker = desk.web, desk.worker
            assert web is not None
            assert worker is not None

            async def restart_redis() -> None:
                redis.kill()
                await asyncio.sleep(0.5)
                redis.start()

            fault_at = _fault_point(random.randrange(1 << 30))
            await run_stream(http, desk.url, stream, fault_at=fault_at, fault=restart_redis)
            await settle(sessions, stream)
            await check_exactly_once(sessions, stream)
            await check_capacity_and_flow(http, desk.url(), sessions, desk.agents)
            assert web.alive
            assert worker.alive
            assert desk.web is web
    finally:
        desk.stop()
        await engine.dispose()
        redis.close()
