"""Integrator webhooks over real HTTP: owners subscribe a URL to event types, the desk's
events reach it signed with the subscription's secret (once each, whichever process saw
the event), "send a test" works, the delivery log shows what happened."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from csdesk.actions.shops import ensure_shop
from csdesk.actions.users import issue_token
from csdesk.keys import SESSIONS_KEY
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from tests.conftest import TEST_SHOP
from tests.fake_platform import FakePlatform
from tests.helpers import make_agent, post_event, settle, token_for
from tests.outbound_support import Agent, until

WEBHOOKS = "/api/v1/admin/webhooks"


@pytest.fixture
async def receiver() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    await fake.start("/erp/csdesk")
    yield fake
    await fake.stop()


@pytest.fixture
def sessions(desk: TestClient[Any, Any]) -> SessionFactory:
    factory: SessionFactory = desk.app[SESSIONS_KEY]
    return factory


@pytest.fixture
async def owner(desk: TestClient[Any, Any], sessions: SessionFactory, worker: None) -> Agent:
    await ensure_shop(sessions, TEST_SHOP, "测试店")
    return Agent(desk, await token_for(sessions, TEST_SHOP, "laoban", UserRole.OWNER))


async def test_desk_events_reach_a_subscription_signed_once(
    desk: TestClient[Any, Any], sessions: SessionFactory, owner: Agent, receiver: FakePlatform
) -> None:
    made = await owner.call(
        "POST",
        WEBHOOKS,
        {
            "url": receiver.url,
            "event_types": ["conversation.opened", "conversation.assigned", "conversation.closed"],
            "description": "ERP",
        },
        201,
    )
    receiver.secret = made["secret"]
    sub_id = made["subscription"]["id"]
    assert "secret" not in made["subscription"]
    await make_agent(sessions, TEST_SHOP, "xiaomei", [ServiceRole.PRESALES])
    agent = Agent(desk, await issue_token(sessions, "xiaomei"))
    await post_event(desk, "message.received", {"buyer_nick": "买家甲", "text": "在吗"})
    await settle(desk)
    await receiver.wait_for(2)
    types = sorted(body["type"] for body in receiver.bodies())
    assert types == ["conversation.assigned", "conversation.opened"]
    opened = receiver.bodies("conversation.opened")[0]
    assert opened["shop_id"] == TEST_SHOP
    assert opened["data"]["kind"] == "chat"
    assert opened["data"]["role"] == "presales"
    conversation_id = opened["data"]["conversation_id"]
    # A second buyer message in the same chat opens nothing new.
    await post_event(desk, "message.received", {"buyer_nick": "买家甲", "text": "有货吗"})
    await settle(desk)
    # The agent closes it: conversation.closed.
    await agent.call(
        "POST", f"/api/v1/conversations/{conversation_id}/close", {"disposition": "resolved"}
    )
    await receiver.wait_for(3)
    closed = receiver.bodies("conversation.closed")[0]
    assert closed["data"]["conversation_id"] == conversation_id
    assert closed["data"]["disposition"] == "resolved"
    # "Send a test" and the delivery log.
    test = await owner.call("POST", f"{WEBHOOKS}/{sub_id}/test", None, 202)
    await receiver.wait_for(4)
    assert receiver.bodies("webhook.test")[0]["delivery_id"] == test["delivery_id"]
    await asyncio.sleep(0.3)
    log = await owner.call("GET", f"{WEBHOOKS}/{sub_id}/deliveries")
    assert {item["event_type"] for item in log["items"]} == {
        "conversation.opened",
        "conversation.assigned",
        "conversation.closed",
        "webhook.test",
    }
    await until(lambda: _all_delivered(owner, sub_id))
    page = await owner.call("GET", WEBHOOKS)
    assert page["subscriptions"][0]["deliveries"]["delivered"] == 4
    assert receiver.repeats == []
    assert receiver.refused == []


async def _all_delivered(owner: Agent, sub_id: int) -> bool:
    log = await owner.call("GET", f"{WEBHOOKS}/{sub_id}/deliveries")
    return all(item["state"] == "delivered" for item in log["items"])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_subscriptions_are_for_owners_and_checked(
    desk: TestClient[Any, Any], sessions: SessionFactory, owner: Agent, receiver: FakePlatform
) -> None:
    boss = Agent(desk, await token_for(sessions, TEST_SHOP, "boss", UserRole.SUPERVISOR))
    await boss.call("GET", WEBHOOKS, None, 403)
    await boss.call("POST", WEBHOOKS, {"url": receiver.url, "event_types": ["qc.finding"]}, 403)
    bad = await owner.call("POST", WEBHOOKS, {"url": receiver.url, "event_types": ["x"]}, 400)
    assert bad["field"] == "event_types"
    bad = await owner.call("POST", WEBHOOKS, {"url": "ftp://x", "event_types": ["qc.finding"]}, 400)
    assert bad["field"] == "url"
    made = await owner.call(
        "POST", WEBHOOKS, {"url": receiver.url, "event_types": ["refund.decided"]}, 201
    )
    sub_id = made["subscription"]["id"]
    paused = await owner.call("PATCH", f"{WEBHOOKS}/{sub_id}", {"active": False})
    assert paused["active"] is False
    await owner.call("GET", f"{WEBHOOKS}/999999/deliveries", None, 404)
    await owner.call("DELETE", f"{WEBHOOKS}/{sub_id}")
    assert (await owner.call("GET", WEBHOOKS))["subscriptions"] == []
    page = await desk.get("/console/admin/webhooks", headers=owner.headers)
    assert page.status == 200
    assert "回调推送" in await page.text()
