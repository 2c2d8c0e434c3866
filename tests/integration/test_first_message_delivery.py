"""The agent a new chat goes to also receives the buyer's first message (bus order)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.keys import BUS_KEY
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole
from tests.helpers import make_agent, post_event, settle


async def test_first_message_reaches_the_assigned_agent(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent = await make_agent(sessions, shop_id, "a1", [ServiceRole.PRESALES])
    seen: list[BusEvent] = []
    probe_seen = asyncio.Event()
    bus = client.app[BUS_KEY]

    async def listen() -> None:
        async for event in bus.subscribe():
            if event.type == "test.probe":
                probe_seen.set()
                continue
            seen.append(event)
            if event.type == ev.MESSAGE_CREATED:
                return

    task = asyncio.create_task(listen())
    # The subscription is live once a probe published now comes back (no sleeping).
    async with asyncio.timeout(10):
        while not probe_seen.is_set():
            await bus.publish([BusEvent("test.probe", shop_id, ())])
            try:
                await asyncio.wait_for(probe_seen.wait(), 0.2)
            except TimeoutError:
                continue
    await post_event(client, "message.received", {"buyer_nick": "新客", "text": "有货吗"})
    await settle(client)
    async with asyncio.timeout(10):
        await task
    types = [e.type for e in seen if e.type in (ev.CONVERSATION_ASSIGNED, ev.MESSAGE_CREATED)]
    assert types == [ev.CONVERSATION_ASSIGNED, ev.MESSAGE_CREATED]
    message = next(e for e in seen if e.type == ev.MESSAGE_CREATED)
    assert ev.to_user(agent) in message.recipients
