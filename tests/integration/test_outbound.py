"""Outbound delivery to the shop's channel, against a local fake platform over real HTTP.

An agent's reply (and every buyer-visible message) is written to the outbox in the
message's transaction and POSTed, signed, to the channel; the receiver checks the
signature and its time, and dedupes by ``delivery_id``. Run on the four backends: in-process
jobs, or a real arq worker beside the web app when Redis is configured.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from sqlalchemy import func, select

from csdesk.actions.shops import ensure_shop, set_channel
from csdesk.actions.users import issue_token
from csdesk.app import create_app
from csdesk.clock import utcnow
from csdesk.keys import SESSIONS_KEY
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.storage.models import Delivery, Shop
from tests.conftest import TEST_SHOP
from tests.fake_platform import FakePlatform
from tests.helpers import make_agent, order_data, post_event, settle, token_for
from tests.outbound_support import FAST, Agent, running_worker, until


@pytest.fixture
def sessions(desk: TestClient[Any, Any]) -> SessionFactory:
    factory: SessionFactory = desk.app[SESSIONS_KEY]
    return factory


@pytest.fixture
async def channel(sessions: SessionFactory, platform: FakePlatform, worker: None) -> str:
    await ensure_shop(sessions, TEST_SHOP, "测试店")
    made = await set_channel(sessions, TEST_SHOP, platform.url, utcnow())
    platform.secret = made.outbound_secret
    return made.outbound_secret


async def open_chat(
    desk: TestClient[Any, Any], sessions: SessionFactory, nick: str = "买家小王"
) -> tuple[Agent, int]:
    await make_agent(sessions, TEST_SHOP, "xiaomei", [ServiceRole.PRESALES])
    agent = Agent(desk, await issue_token(sessions, "xiaomei"))
    await post_event(desk, "message.received", {"buyer_nick": nick, "text": "这个有货吗"})
    await settle(desk)
    mine = await agent.call("GET", "/api/v1/workbench")
    conversation_id: int = mine["conversations"][0]["id"]
    return agent, conversation_id


async def test_a_reply_reaches_the_platform_once_signed(
    desk: TestClient[Any, Any], sessions: SessionFactory, platform: FakePlatform, channel: str
) -> None:
    agent, conversation_id = await open_chat(desk, sessions)
    message = await agent.reply(conversation_id, "亲，有货的，今天下单今天发")
    assert message["delivery"]["state"] == "sending"  # in the outbox with the message
    await platform.wait_for(1)
    seen = next(iter(platform.accepted.values()))
    body = seen.body
    assert body["type"] == "message.outbound"
    assert body["shop_id"] == TEST_SHOP
    assert body["delivery_id"] == message["delivery"]["id"]
    assert body["data"]["buyer_nick"] == "买家小王"
    assert body["data"]["conversation_id"] == conversation_id
    assert body["data"]["message_id"] == message["id"]
    assert body["data"]["channel"] == "chat"
    assert body["data"]["text"] == "亲，有货的，今天下单今天发"
    assert body["data"]["attachments"] == []
    assert body["occurred_at"] == message["sent_at"]
    # Signed as the contract says, with the shop's outbound secret (the platform checked;
    # checked here once more from the raw bytes).
    t, digest = (part.split("=", 1)[1] for part in seen.signature.split(","))
    expected = hmac.new(channel.encode(), f"{t}.".encode() + seen.raw, hashlib.sha256)
    assert digest == expected.hexdigest()
    await until(
        lambda: _state_is(agent, conversation_id, message["id"], "delivered"),
    )
    assert platform.repeats == []
    assert platform.refused == []
    assert len(platform.accepted) == 1


async def _state_is(agent: Agent, conversation_id: int, message_id: int, state: str) -> bool:
    delivery = await agent.delivery_of(conversation_id, message_id)
    return delivery is not None and delivery["state"] == state


async def test_a_platform_down_for_a_while_gets_the_reply_once_it_is_back(
    desk: TestClient[Any, Any], sessions: SessionFactory, platform: FakePlatform, channel: str
) -> None:
    agent, conversation_id = await open_chat(desk, sessions)
    platform.mode = "down"
    message = await agent.reply(conversation_id, "稍等，我帮您查一下")

    async def retried() -> bool:
        return platform.answered_503 >= 3

    await until(retried)
    delivery = await agent.delivery_of(conversation_id, message["id"])
    assert delivery is not None
    assert delivery["state"] == "sending"
    assert delivery["attempts"] >= 3
    assert delivery["last_status"] == 503
    assert platform.accepted == {}
    platform.mode = "ok"
    await platform.wait_for(1)
    await until(lambda: _state_is(agent, conversation_id, message["id"], "delivered"))
    await asyncio.sleep(0.5)  # any stray retry would have come by now
    assert list(platform.accepted) == [message["delivery"]["id"]]
    assert platform.repeats == []


async def test_past_the_limit_the_reply_is_failed_and_a_retry_sends_it(
    fast_settings: Settings,
    aiohttp_client: AiohttpClient,
    platform: FakePlatform,
) -> None:
    short = dataclasses.replace(fast_settings, outbound=dataclasses.replace(FAST, max_age_s=0.6))
    desk = await aiohttp_client(create_app(short))
    sessions: SessionFactory = desk.app[SESSIONS_KEY]
    async with running_worker(short):
        await ensure_shop(sessions, TEST_SHOP, "测试店")
        platform.secret = (
            await set_channel(sessions, TEST_SHOP, platform.url, utcnow())
        ).outbound_secret
        agent, conversation_id = await open_chat(desk, sessions)
        platform.mode = "down"
        message = await agent.reply(conversation_id, "好的")
        await until(lambda: _state_is(agent, conversation_id, message["id"], "failed"))
        failed = await agent.delivery_of(conversation_id, message["id"])
        assert failed is not None
        assert failed["last_status"] == 503
        assert failed["failed_at"]
        # Nothing more is tried once it is a dead letter.
        tries = platform.answered_503
        await asyncio.sleep(0.5)
        assert platform.answered_503 == tries
        # The supervisor board counts it, /metrics exports it.
        boss = Agent(desk, await token_for(sessions, TEST_SHOP, "boss", UserRole.SUPERVISOR))
        board = await boss.call("GET", "/api/v1/supervisor/board")
        assert board["outbound"]["failed"] == 1
        assert board["outbound"]["channel_configured"] is True
        scraped = await desk.get("/metrics", headers=boss.headers)
        text = await scraped.text()
        assert 'csdesk_outbound_failed{kind="message"} 1.0' in text
        assert 'csdesk_outbound_sending{kind="message"} 0.0' in text
        assert "csdesk_outbound_channel_configured 1.0" in text
        platform.mode = "ok"
        delivery_id = message["delivery"]["id"]
        again = await agent.call("POST", f"/api/v1/deliveries/{delivery_id}/retry", None, 202)
        assert again["state"] == "sending"
        await platform.wait_for(1)
        await until(lambda: _state_is(agent, conversation_id, message["id"], "delivered"))
        # Only a failed one can be retried.
        await agent.call("POST", f"/api/v1/deliveries/{delivery_id}/retry", None, 409)
        await agent.call("POST", "/api/v1/deliveries/msg_nope/retry", None, 404)
        assert list(platform.accepted) == [delivery_id]
        board = await boss.call("GET", "/api/v1/supervisor/board")
        assert board["outbound"]["failed"] == 0


async def test_the_transfer_notice_is_delivered_and_notes_are_not(
    desk: TestClient[Any, Any], sessions: SessionFactory, platform: FakePlatform, channel: str
) -> None:
    agent, conversation_id = await open_chat(desk, sessions)
    await agent.call(
        "POST", f"/api/v1/conversations/{conversation_id}/notes", {"text": "内部备注"}, 201
    )
    await agent.call(
        "POST",
        f"/api/v1/conversations/{conversation_id}/transfer",
        {"to_role": "refund", "note": "买家要退款"},
    )
    await platform.wait_for(1)
    [body] = platform.bodies()
    assert body["data"]["sender"] == "auto"
    assert "退款" in body["data"]["text"]
    await asyncio.sleep(0.3)
    assert len(platform.accepted) == 1  # the note and the system line never leave


async def test_a_held_reply_leaves_nothing_and_no_channel_sends_nothing(
    desk: TestClient[Any, Any], sessions: SessionFactory, platform: FakePlatform, channel: str
) -> None:
    agent, conversation_id = await open_chat(desk, sessions)
    # Held for a forbidden phrase (a default one): rolled back, so no outbox row either.
    await agent.call(
        "POST", f"/api/v1/conversations/{conversation_id}/reply", {"text": "这个我不知道"}, 422
    )
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
    # Without a channel: stored and shown, sent nowhere, no outbox row.
    async with sessions.begin() as session:
        shop = await session.get(Shop, TEST_SHOP)
        assert shop is not None
        shop.channel_url = None
    message = await agent.reply(conversation_id, "您好")
    assert "delivery" not in message
    assert await agent.delivery_of(conversation_id, message["id"]) is None
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert platform.accepted == {}


async def test_a_card_leaves_with_its_fields(
    desk: TestClient[Any, Any], sessions: SessionFactory, platform: FakePlatform, channel: str
) -> None:
    await post_event(desk, "order.created", order_data("T-88", nick="买家小王"))
    agent, conversation_id = await open_chat(desk, sessions)
    order_id = (await agent.call("GET", f"/api/v1/conversations/{conversation_id}/buyer"))[
        "orders"
    ][0]["id"]
    sent = await agent.call(
        "POST",
        f"/api/v1/conversations/{conversation_id}/cards",
        {"card": "order_check", "order_id": order_id},
        201,
    )
    assert sent["message"]["delivery"]["state"] == "sending"
    await platform.wait_for(1)
    [body] = platform.bodies()
    assert body["data"]["kind"] == "card"
    [card] = body["data"]["attachments"]
    assert card["type"] == "card"
    assert card["card"] == "order_check"
    assert any("T-88" in str(field["value"]) for field in card["fields"])
