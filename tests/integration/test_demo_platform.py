"""``csdesk demo`` plays the marketplace's side of the channel: the demo shop's replies go to
a receiver in the demo process that checks their signature, drops repeats, and has the
buyer answer through a signed ``POST /api/v1/events``."""

from __future__ import annotations

import random
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer
from sqlalchemy import select

from csdesk.actions.shops import DEFAULT_SHOP_ID, ensure_shop
from csdesk.actions.users import issue_token
from csdesk.app import create_app
from csdesk.demo import DemoPlatform
from csdesk.ingest.signature import sign
from csdesk.keys import PROCESSOR_KEY, SESSIONS_KEY
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import MessageSender, ServiceRole
from csdesk.storage.models import Message, Shop
from tests.conftest import WEBHOOK_SECRET
from tests.helpers import event_body, make_agent
from tests.outbound_support import until

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def test_the_demo_platform_receives_replies_and_the_buyer_answers(
    settings: Settings, aiohttp_server: AiohttpServer
) -> None:
    server: TestServer = await aiohttp_server(create_app(settings), host="127.0.0.1")
    sessions: SessionFactory = server.app[SESSIONS_KEY]
    await ensure_shop(sessions, DEFAULT_SHOP_ID, "演示旗舰店")
    await make_agent(sessions, DEFAULT_SHOP_ID, "xiaomei", [ServiceRole.PRESALES])
    platform = DemoPlatform(
        server.app,
        random.Random(1),
        desk_url=str(server.make_url("")).rstrip("/"),
        answer_delay_s=(0.0, 0.05),
        answer_share=1.0,
    )
    await platform.start()
    try:
        async with sessions() as session:
            shop = await session.get(Shop, DEFAULT_SHOP_ID)
            assert shop is not None
            assert shop.channel_url == platform.url
        # A buyer writes (signed with the deployment's secret: the demo shop has none).
        body = event_body(
            "message.received", {"buyer_nick": "tb_小鱼", "text": "在吗"}, shop_id=DEFAULT_SHOP_ID
        )
        client = platform._client
        assert client is not None
        posted = await client.post(
            server.make_url("/api/v1/events"),
            data=body,
            headers={"X-Csdesk-Signature": sign(body, WEBHOOK_SECRET)},
        )
        assert posted.status == 202
        await server.app[PROCESSOR_KEY].wait_idle()
        token = await issue_token(sessions, "xiaomei")
        auth = {"Authorization": f"Bearer {token}"}
        mine: dict[str, Any] = await (
            await client.get(server.make_url("/api/v1/workbench"), headers=auth)
        ).json()
        conversation_id = mine["conversations"][0]["id"]
        reply = await client.post(
            server.make_url(f"/api/v1/conversations/{conversation_id}/reply"),
            json={"text": "亲，在的"},
            headers=auth,
        )
        assert reply.status == 201

        async def buyer_answered() -> bool:
            async with sessions() as session:
                texts = list(
                    await session.scalars(
                        select(Message.text).where(
                            Message.conversation_id == conversation_id,
                            Message.sender == MessageSender.BUYER,
                        )
                    )
                )
            return len(texts) == 2

        await until(buyer_answered)
        assert platform.received == 1
        assert platform.refused == 0
        assert platform.repeats == 0
    finally:
        await platform.stop()
    async with sessions() as session:
        shop = await session.get(Shop, DEFAULT_SHOP_ID)
        assert shop is not None
        assert shop.channel_url is None  # nothing left pointing at a dead port
