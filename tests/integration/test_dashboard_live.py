"""The owner dashboard's websocket (``/api/v1/dashboard/live``) over real HTTP: the latest
snapshot at once, new ones as signed events change the shop; who may connect; and two web
processes on one Redis share one aggregation (the lease: at most one snapshot a second
for the shop, whichever process computed it, delivered to the watchers of both)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from csdesk.app import create_app
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.web.dashboard_live import FEED_KEY
from tests.helpers import post_event, settle
from tests.integration.test_role_workbench_api import agent, login_as, paid_order

pytestmark = pytest.mark.usefixtures("shop_id")
PATH = "/api/v1/dashboard/live"
WAIT_S = 20.0
"""How long a condition may take before the test fails (it normally takes about 1 s)."""


async def frames_until(
    ws: ClientWebSocketResponse, done: Any, seen: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Read snapshot frames until ``done(frame)``; returns that frame."""
    async with asyncio.timeout(WAIT_S):
        while True:
            frame: dict[str, Any] = json.loads((await ws.receive()).data)
            assert frame["op"] == "snapshot"
            if seen is not None:
                seen.append(frame)
            if done(frame):
                return frame


async def refund_burst(client: TestClient[Any, Any], count: int) -> None:
    for i in range(count):
        await paid_order(client, f"T-{i}")
        await post_event(
            client,
            "refund.requested",
            {
                "refund_id": f"R-{i}",
                "order_id": f"T-{i}",
                "kind": "refund_only",
                "amount": "10.00",
                "reason": "不想要了",
            },
        )
    await settle(client)


async def test_snapshots_follow_the_shop(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    ws = await client.ws_connect(PATH, headers=boss)
    first = await frames_until(ws, lambda f: True)
    assert first["dashboard"]["refunds"]["pending"] == 0
    assert set(first["charts"]) == {"refunds", "contacts", "orders"}
    assert first["charts"]["refunds"].startswith("<svg")
    # The API's keys, the same document as GET /api/v1/dashboard.
    assert set(first["dashboard"]) >= {"generated_at", "refunds", "roles", "chasing", "kpis"}

    await refund_burst(client, 3)
    last = await frames_until(ws, lambda f: f["dashboard"]["refunds"]["pending"] == 3)
    assert last["dashboard"]["refunds"]["pending_amount"] == 30.0
    await ws.close()


async def test_who_may_watch(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, mine = await agent(sessions, shop_id, "a1", [ServiceRole.PRESALES])
    assert (await client.get(PATH, headers=mine)).status == 403
    assert (await client.get(PATH)).status == 401
    boss = await login_as(sessions, shop_id, "boss", UserRole.SUPERVISOR)
    foreign = {**boss, "Origin": "https://evil.example"}
    response = await client.get(
        PATH, headers={**foreign, "Upgrade": "websocket", "Connection": "Upgrade"}
    )
    assert response.status == 403
    assert (await client.get(PATH, headers=boss)).status == 400  # not an upgrade


@pytest.mark.parametrize("backend", ["postgres+redis"], indirect=True)
async def test_two_web_processes_share_one_aggregation(
    client: TestClient[Any, Any],
    sessions: SessionFactory,
    shop_id: str,
    settings: Settings,
    aiohttp_client: AiohttpClient,
) -> None:
    other = await aiohttp_client(create_app(settings))
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    here = await client.ws_connect(PATH, headers=boss)
    there = await other.ws_connect(PATH, headers=boss)
    await frames_until(here, lambda f: True)
    await frames_until(there, lambda f: True)
    seen_here: list[dict[str, Any]] = []
    seen_there: list[dict[str, Any]] = []

    await refund_burst(client, 4)  # all to the first process
    done = lambda f: f["dashboard"]["refunds"]["pending"] == 4  # noqa: E731
    final_here = await frames_until(here, done, seen_here)
    final_there = await frames_until(there, done, seen_there)
    # The process that got no event shows the same snapshot: one aggregation served both.
    assert final_here["dashboard"]["generated_at"] == final_there["dashboard"]["generated_at"]
    moments = sorted(
        {datetime.fromisoformat(f["dashboard"]["generated_at"]) for f in seen_here + seen_there}
    )
    gaps = [(b - a).total_seconds() for a, b in pairwise(moments)]
    assert all(gap >= 0.9 for gap in gaps), gaps  # at most one a second for the shop
    computed = client.app[FEED_KEY].computed + other.app[FEED_KEY].computed
    assert computed >= len(moments)
    await here.close()
    await there.close()
