"""Collision over the live websocket (console UX bar, point 10): who views and who writes in
a conversation reaches the others at once, across web processes sharing Redis; a watch of
a conversation one may not open is refused; a deactivated account's sockets close (4001) on
every process.

Frames that are not under test (events) are skipped while waiting for the one that is.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from sqlalchemy import select

from csdesk.actions.users import issue_token
from csdesk.realtime.hub import CLOSE_SIGNED_OUT
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.storage.models import Buyer, Conversation
from tests.helpers import make_agent, post_event, settle, token_for
from tests.integration.test_live import bearer, live_app

P = ServiceRole
WS = Any
GUARD_S = 30.0
BACKENDS = ["sqlite", "sqlite+redis", "postgres+redis"]


async def frame_until(ws: WS, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    async with asyncio.timeout(GUARD_S):
        while True:
            message = await ws.receive()
            assert message.type is WSMsgType.TEXT, f"got {message.type.name}: {message.data!r}"
            frame: dict[str, Any] = json.loads(message.data)
            if wanted(frame):
                return frame


def presence(user_id: int, state: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f["op"] == "presence" and f["user"]["id"] == user_id and f["state"] == state


async def console(client: TestClient[Any, Any], token: str) -> WS:
    ws = await client.ws_connect("/api/v1/live", headers=bearer(token))
    await ws.send_json({"op": "hello", "queue_id": None, "last_event_id": -1})
    welcome = await frame_until(ws, lambda f: f["op"] == "welcome")
    assert welcome["resumed"] is False
    return ws


async def chat_id(sessions: SessionFactory, nick: str) -> int:
    async with sessions() as session:
        found = await session.scalar(
            select(Conversation.id)
            .join(Buyer, Buyer.id == Conversation.buyer_id)
            .where(Buyer.nick == nick)
        )
        assert found is not None
        return found


@pytest.fixture
async def client(settings: Settings, aiohttp_client: AiohttpClient) -> TestClient[Any, Any]:
    return await aiohttp_client(live_app(settings))


async def second_process(
    backend: str, client: TestClient[Any, Any], settings: Settings, aiohttp_client: AiohttpClient
) -> TestClient[Any, Any]:
    """Another web process on the same database and Redis (embedded mode has only one)."""
    if backend.endswith("+redis"):
        return await aiohttp_client(live_app(settings))
    return client


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_viewing_and_typing_reach_the_others_across_processes(
    backend: str,
    client: TestClient[Any, Any],
    settings: Settings,
    aiohttp_client: AiohttpClient,
    sessions: SessionFactory,
    shop_id: str,
) -> None:
    other = await second_process(backend, client, settings, aiohttp_client)
    agent_id = await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    outsider_id = await make_agent(sessions, shop_id, "xiaoli", [P.REFUND])
    lead_token = await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await post_event(client, "message.received", {"buyer_nick": "小鱼", "text": "在吗"})
    await settle(client)
    conversation = await chat_id(sessions, "小鱼")

    agent = await console(client, await issue_token(sessions, "xiaomei"))
    lead = await console(other, lead_token)
    outsider = await console(client, await issue_token(sessions, "xiaoli"))

    await agent.send_json({"op": "watch", "conversation_id": conversation})
    # The supervisor opens the same chat: the agent sees them come in, and the roll call
    # tells the supervisor the agent is already there.
    await lead.send_json({"op": "watch", "conversation_id": conversation})
    seen_by_agent = await frame_until(agent, lambda f: f["op"] == "presence")
    assert seen_by_agent["state"] == "viewing"
    assert seen_by_agent["user"]["role"] == "supervisor"
    assert seen_by_agent["conversation_id"] == conversation
    lead_id = seen_by_agent["user"]["id"]
    answered = await frame_until(lead, lambda f: f["op"] == "presence")
    assert answered["user"]["id"] == agent_id
    assert answered["state"] == "viewing"

    # Writing: the agent a reply, the supervisor a note; each sees the other's pen.
    await agent.send_json(
        {"op": "typing", "conversation_id": conversation, "typing": True, "mode": "reply"}
    )
    typing = await frame_until(lead, presence(agent_id, "typing"))
    assert typing["mode"] == "reply"
    await lead.send_json(
        {"op": "typing", "conversation_id": conversation, "typing": True, "mode": "note"}
    )
    note = await frame_until(agent, presence(lead_id, "typing"))
    assert note["mode"] == "note"
    await lead.send_json({"op": "watch", "conversation_id": None})
    await frame_until(agent, presence(lead_id, "left"))

    # Someone who may not open the chat cannot watch it, nor type in it.
    await outsider.send_json({"op": "watch", "conversation_id": conversation})
    refused = await frame_until(outsider, lambda f: f["op"] == "error")
    assert refused["error"].startswith("watch:")
    await outsider.send_json(
        {"op": "typing", "conversation_id": conversation, "typing": True, "mode": "reply"}
    )
    refused = await frame_until(outsider, lambda f: f["op"] == "error")
    assert refused["error"].startswith("typing:")
    assert outsider_id != agent_id

    # A socket that closes leaves: the agent's going away reaches the supervisor.
    await lead.send_json({"op": "watch", "conversation_id": conversation})
    await frame_until(lead, presence(agent_id, "typing"))
    await agent.close()
    await frame_until(lead, presence(agent_id, "left"))
    for ws in (lead, outsider):
        await ws.close()


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_a_deactivated_agents_sockets_close_on_every_process(
    backend: str,
    client: TestClient[Any, Any],
    settings: Settings,
    aiohttp_client: AiohttpClient,
    sessions: SessionFactory,
    shop_id: str,
) -> None:
    other = await second_process(backend, client, settings, aiohttp_client)
    agent_id = await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    owner_token = await token_for(sessions, shop_id, "boss", UserRole.OWNER)
    token = await issue_token(sessions, "xiaomei")
    here = await console(client, token)
    there = await console(other, token)
    response = await client.post(
        f"/api/v1/admin/users/{agent_id}/deactivate", headers=bearer(owner_token)
    )
    assert response.status == 200, await response.text()
    for ws in (here, there):
        async with asyncio.timeout(GUARD_S):
            while True:
                message = await ws.receive()
                if message.type is WSMsgType.CLOSE:
                    break
        assert ws.close_code == CLOSE_SIGNED_OUT
    # And it cannot come back: the token was revoked with the account.
    again = await client.get("/api/v1/live", headers=bearer(token))
    assert again.status == 401
