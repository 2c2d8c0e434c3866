"""Kill -9 of a real ``csdesk serve`` between a reply's commit and its delivery: the reply
is delivered once after the restart.

The fake platform holds the first POST without answering, so the reply is committed (the
API answered 201) and its attempt is in flight when the process is killed. Nothing of that
attempt was recorded; the restarted process's sweep (every 5 s) takes the
delivery once its lease runs out and sends it again, with the same ``delivery_id``; the
platform, now answering, accepts it once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from csdesk.actions.shops import ensure_shop, set_channel
from csdesk.actions.users import issue_token
from csdesk.clock import utcnow
from csdesk.ingest.signature import sign
from csdesk.settings import sqlite_url
from csdesk.storage import migrate
from csdesk.storage.engine import SessionFactory, create_session_factory
from csdesk.storage.enums import ServiceRole
from csdesk.storage.models import Delivery
from tests.conftest import TEST_SHOP, WEBHOOK_SECRET
from tests.fake_platform import FakePlatform
from tests.helpers import event_body, make_agent

START_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Serve:
    """``python -m csdesk serve`` on a free port of 127.0.0.1."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "csdesk", "serve", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    async def ready(self, http: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"csdesk serve exited: {self.process.returncode}"
            try:
                async with http.get(f"{self.url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
        pytest.fail(f"csdesk serve did not answer /healthz in {START_TIMEOUT_S} s")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    migrate.upgrade(sqlite_url(tmp_path))
    return tmp_path


@pytest.fixture
async def sessions(data_dir: Path) -> AsyncIterator[SessionFactory]:
    engine = create_async_engine(sqlite_url(data_dir))
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSDESK_")}
    env.update(
        CSDESK_DATA_DIR=str(data_dir),
        CSDESK_WEBHOOK_SECRET=WEBHOOK_SECRET,
        CSDESK_SECRET_KEY="crash-test-secret",
        CSDESK_INSECURE_FAST_PASSWORD_HASH="1",
        # An attempt gives up after 2 s; a claimed delivery is due again 7 s after its
        # claim if its sender died (the lease is the timeout plus 5 s).
        CSDESK_OUTBOUND_TIMEOUT_S="2",
        CSDESK_OUTBOUND_LEASE_S="1",
        CSDESK_OUTBOUND_BACKOFF_S="0.2",
    )
    return env


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def processes() -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for process in started:
        process.stop()


async def _delivery(sessions: SessionFactory) -> Delivery:
    async with sessions() as session:
        row: Delivery | None = await session.scalar(select(Delivery))
        assert row is not None
        return row


async def test_kill_9_between_commit_and_delivery_then_delivered_once(
    sessions: SessionFactory,
    env: dict[str, str],
    platform: FakePlatform,
    processes: list[Serve],
    tmp_path: Path,
) -> None:
    await ensure_shop(sessions, TEST_SHOP, "测试店")
    platform.secret = (
        await set_channel(sessions, TEST_SHOP, platform.url, utcnow())
    ).outbound_secret
    await make_agent(sessions, TEST_SHOP, "xiaomei", [ServiceRole.PRESALES])
    auth = {"Authorization": f"Bearer {await issue_token(sessions, 'xiaomei')}"}
    platform.mode = "hang"
    web = Serve(env, tmp_path / "serve.log")
    processes.append(web)
    async with aiohttp.ClientSession() as http:
        await web.ready(http)
        body = event_body("message.received", {"buyer_nick": "买家小王", "text": "在吗"})
        async with http.post(
            f"{web.url}/api/v1/events",
            data=body,
            headers={"X-Csdesk-Signature": sign(body, WEBHOOK_SECRET)},
        ) as response:
            assert response.status == 202
        conversation_id = None
        deadline = time.monotonic() + 15
        while conversation_id is None:
            assert time.monotonic() < deadline, "the buyer's chat never reached the agent"
            async with http.get(f"{web.url}/api/v1/workbench", headers=auth) as response:
                mine = (await response.json())["conversations"]
            conversation_id = mine[0]["id"] if mine else None
            await asyncio.sleep(0.05)
        async with http.post(
            f"{web.url}/api/v1/conversations/{conversation_id}/reply",
            json={"text": "亲，在的"},
            headers=auth,
        ) as response:
            assert response.status == 201  # committed, with its delivery
            delivery_id = (await response.json())["message"]["delivery"]["id"]
        # The attempt is in flight (the platform holds it) when the process dies.
        deadline = time.monotonic() + 15
        while platform.hanging < 1:
            assert time.monotonic() < deadline, "no attempt reached the platform"
            await asyncio.sleep(0.02)
        web.kill9()
        row = await _delivery(sessions)
        assert row.delivery_id == delivery_id
        assert row.state == "sending"
        assert platform.accepted == {}

        # The platform answers again; a new process starts on the same database.
        platform.mode = "ok"
        restarted = Serve(env, tmp_path / "serve.log")
        processes.append(restarted)
        await restarted.ready(http)
        await platform.wait_for(1, timeout_s=30)
        deadline = time.monotonic() + 15
        while (await _delivery(sessions)).state != "delivered":
            assert time.monotonic() < deadline, "the delivery was not recorded as delivered"
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # any second attempt would have come by now
    assert list(platform.accepted) == [delivery_id]
    assert platform.repeats == []
    seen = platform.accepted[delivery_id].body
    assert seen["data"]["text"] == "亲，在的"
    assert seen["data"]["conversation_id"] == conversation_id
