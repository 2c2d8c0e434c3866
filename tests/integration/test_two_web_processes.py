"""Two real ``csdesk serve`` processes on one PostgreSQL and one Redis: what one process
serializes by itself must also hold across processes.

- the same buyer's message reaching both processes at the same moment opens ONE chat;
- one agent with chat capacity 6 and 40 new buyers alternating between the processes ends
  with 6 chats, not more (and not fewer: nobody idle next to a queue).

Run over real HTTP with signed events, as a platform would send them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from csdesk.actions.buyers import BuyerSpec, ensure_buyers
from csdesk.actions.shops import ensure_shop
from csdesk.clock import utcnow
from csdesk.ingest.signature import sign
from csdesk.storage.engine import SessionFactory, create_session_factory
from csdesk.storage.enums import ConversationStatus, EventStatus, ServiceRole
from csdesk.storage.models import Conversation, PlatformEvent
from tests.conftest import TEST_SHOP, WEBHOOK_SECRET, _truncate_postgres
from tests.helpers import event_body, make_agent
from tests.services import REDIS_URL, require

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

OPEN = (ConversationStatus.SCHEDULED, ConversationStatus.QUEUED, ConversationStatus.ASSIGNED)
TWIN_BUYERS = 150
BURST_BUYERS = 40
CAPACITY = 6
START_TIMEOUT_S = 30.0
SETTLE_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class WebProcess:
    """``python -m csdesk serve`` on a free port of 127.0.0.1, stopped on exit."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "csdesk",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                f"{self.port}",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def server_env(postgres_url: str, redis_prefix: str, tmp_path: Path) -> dict[str, str]:
    require("postgres")
    require("redis")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CSDESK_") or key == "CSDESK_INSECURE_FAST_PASSWORD_HASH"
    }
    env.update(
        CSDESK_DATABASE_URL=postgres_url,
        CSDESK_REDIS_URL=REDIS_URL,
        CSDESK_REDIS_PREFIX=redis_prefix,
        CSDESK_WEBHOOK_SECRET=WEBHOOK_SECRET,
        CSDESK_SECRET_KEY="two-process-test-secret",
        CSDESK_DATA_DIR=str(tmp_path),
    )
    return env


@pytest.fixture
async def sessions(postgres_url: str) -> AsyncIterator[SessionFactory]:
    await _truncate_postgres(postgres_url)
    engine = create_async_engine(postgres_url)
    try:
        factory = create_session_factory(engine)
        await ensure_shop(factory, TEST_SHOP, "测试店")
        yield factory
    finally:
        await engine.dispose()


@pytest.fixture
def web_processes(
    sessions: SessionFactory, server_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[WebProcess, WebProcess]]:
    # After ``sessions``: the shop exists before the processes start.
    first = WebProcess(server_env, tmp_path / "web-1.log")
    second = WebProcess(server_env, tmp_path / "web-2.log")
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


async def _wait_ready(http: aiohttp.ClientSession, web: WebProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if web.process.poll() is not None:
            pytest.fail(f"csdesk serve exited with {web.process.returncode}")
        try:
            async with http.get(f"{web.url}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    pytest.fail(f"csdesk serve on {web.url} did not answer /healthz in {START_TIMEOUT_S} s")


async def _post(http: aiohttp.ClientSession, web: WebProcess, body: bytes) -> None:
    headers = {
        "Content-Type": "application/json",
        "X-Csdesk-Signature": sign(body, WEBHOOK_SECRET),
    }
    async with http.post(f"{web.url}/api/v1/events", data=body, headers=headers) as response:
        assert response.status == 202, await response.text()


async def _settle(sessions: SessionFactory, accepted: int) -> None:
    """Until every accepted event has been applied by one of the processes."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        async with sessions() as session:
            counts = dict(
                (
                    await session.execute(
                        select(PlatformEvent.status, func.count()).group_by(PlatformEvent.status)
                    )
                ).all()
            )
        if sum(counts.values()) >= accepted and set(counts) <= {EventStatus.PROCESSED}:
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"events not all processed after {SETTLE_TIMEOUT_S} s: {counts}")


async def _open_chats_by_buyer(sessions: SessionFactory) -> dict[int | None, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(Conversation.buyer_id, func.count())
            .where(Conversation.kind == "chat", Conversation.status.in_(OPEN))
            .group_by(Conversation.buyer_id)
        )
        return {buyer_id: int(count) for buyer_id, count in rows}


async def test_two_processes_open_one_chat_per_buyer_and_keep_capacity(
    sessions: SessionFactory, web_processes: tuple[WebProcess, WebProcess]
) -> None:
    first, second = web_processes
    run = uuid.uuid4().hex[:6]
    async with aiohttp.ClientSession() as http:
        await asyncio.gather(_wait_ready(http, first), _wait_ready(http, second))

        # The same buyer's message reaches both processes at the same moment: half of them
        # new to the shop, half known from before (no chat open).
        async with sessions.begin() as session:
            await ensure_buyers(
                session,
                TEST_SHOP,
                [
                    BuyerSpec(nick=f"双{run}{n}", created_at=utcnow())
                    for n in range(0, TWIN_BUYERS, 2)
                ],
            )
        twins = [
            (
                event_body("message.received", {"buyer_nick": f"双{run}{n}", "text": "在吗"}),
                event_body("message.received", {"buyer_nick": f"双{run}{n}", "text": "有货吗"}),
            )
            for n in range(TWIN_BUYERS)
        ]
        await asyncio.gather(
            *(
                coroutine
                for one, other in twins
                for coroutine in (_post(http, first, one), _post(http, second, other))
            )
        )
        await _settle(sessions, 2 * TWIN_BUYERS)
        chats = await _open_chats_by_buyer(sessions)
        assert len(chats) == TWIN_BUYERS
        doubled = {buyer: n for buyer, n in chats.items() if n != 1}
        assert doubled == {}, f"{len(doubled)} of {TWIN_BUYERS} buyers have several open chats"

        # One presales agent online with capacity 6; 40 new buyers at once, alternating.
        agent_id = await make_agent(
            sessions, TEST_SHOP, f"presales-{run}", [ServiceRole.PRESALES], chat_capacity=CAPACITY
        )
        burst = [
            _post(
                http,
                (first, second)[n % 2],
                event_body("message.received", {"buyer_nick": f"潮{run}{n}", "text": "有货吗"}),
            )
            for n in range(BURST_BUYERS)
        ]
        await asyncio.gather(*burst)
        await _settle(sessions, 2 * TWIN_BUYERS + BURST_BUYERS)

        async def held() -> int:
            async with sessions() as session:
                count = await session.scalar(
                    select(func.count()).where(
                        Conversation.assigned_agent_id == agent_id,
                        Conversation.status == ConversationStatus.ASSIGNED,
                    )
                )
                return int(count or 0)

        # Items queued while a placement elsewhere held the agent are offered to them right
        # after that transaction commits: the agent fills up, never beyond capacity.
        deadline = time.monotonic() + 10
        count = await held()
        while count < CAPACITY and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            count = await held()
        assert count == CAPACITY
