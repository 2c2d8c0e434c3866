"""The README's server-mode steps end with a desk where a new agent receives work: an agent
made with ``csdesk user add NAME --role agent --service-roles refund`` on a fresh database
goes online and is handed a buyer's refund chat (every backend, through real HTTP)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from csdesk.actions.shops import DEFAULT_SHOP_ID
from csdesk.app import create_app
from csdesk.settings import Settings
from tests.helpers import post_event, settle

ROOT = Path(__file__).resolve().parents[2]


def csdesk(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CSDESK_DATA_DIR": str(settings.data_dir),
        "CSDESK_DATABASE_URL": settings.database.url,
        "CSDESK_INSECURE_FAST_PASSWORD_HASH": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "csdesk", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


async def run_cli(settings: Settings, *args: str, stdin: str = "") -> str:
    result = await asyncio.to_thread(csdesk, settings, *args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


async def test_an_agent_added_by_the_cli_receives_a_refund_chat(
    settings: Settings, aiohttp_client: AiohttpClient
) -> None:
    said = await run_cli(
        settings, "user", "add", "xiaomei", "--role", "agent", "--service-roles", "refund"
    )
    assert "service roles refund" in said
    assert "chat capacity 5" in said
    # No --password-stdin: said so, not silently a token-only login.
    assert "no password" in said
    token = (await run_cli(settings, "token", "issue", "xiaomei")).strip().splitlines()[0]
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    bearer = {"Authorization": f"Bearer {token}"}

    response = await client.post(
        "/api/v1/workbench/status", json={"status": "online"}, headers=bearer
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["service_roles"] == ["refund"]

    await post_event(
        client,
        "message.received",
        {"buyer_nick": "小鱼", "text": "东西坏了 我要退款"},
        shop_id=DEFAULT_SHOP_ID,
    )
    await settle(client)
    state = await (await client.get("/api/v1/workbench", headers=bearer)).json()
    (row,) = state["conversations"]
    assert row["role"] == "refund"
    assert row["buyer"]["nick"] == "小鱼"


async def test_the_default_agent_is_a_presales_agent_with_five_chats(
    settings: Settings, aiohttp_client: AiohttpClient
) -> None:
    await run_cli(
        settings,
        "user",
        "add",
        "xiaoli",
        "--role",
        "agent",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    token = (await run_cli(settings, "token", "issue", "xiaoli")).strip().splitlines()[0]
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    bearer = {"Authorization": f"Bearer {token}"}
    response = await client.post(
        "/api/v1/workbench/status", json={"status": "online"}, headers=bearer
    )
    assert (await response.json())["service_roles"] == ["presales"]
    me = (await (await client.get("/api/v1/workbench", headers=bearer)).json())["me"]
    assert me["chat_capacity"] == 5
