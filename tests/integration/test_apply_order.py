"""Events are applied in the order they were accepted, whichever way they take: at once in
the writer's turn (nobody else waiting to be accepted) or queued for the processor (under
load). One buyer's messages, some sent one by one and some at once, land in acceptance
order; nothing is applied twice."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from csdesk.keys import PROCESSOR_KEY
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import EventStatus, MessageSender
from csdesk.storage.models import Message, PlatformEvent
from tests.helpers import post_event, settle


async def test_messages_land_in_acceptance_order_on_both_paths(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    processor = client.app[PROCESSOR_KEY]
    # One at a time: each is applied in the writer's own turn.
    for n in range(3):
        await post_event(client, "message.received", {"buyer_nick": "阿良", "text": f"单发{n}"})
    await settle(client)
    assert processor.paths == {"at_once": 3, "queued": 0}
    # Forty at once: acceptance batches them and the processor takes what queues up.
    await asyncio.gather(
        *(
            post_event(client, "message.received", {"buyer_nick": "阿良", "text": f"群发{n}"})
            for n in range(40)
        )
    )
    await settle(client)

    async with sessions() as session:
        by_event = list(
            await session.scalars(
                select(PlatformEvent.payload["text"].as_string())
                .where(PlatformEvent.shop_id == shop_id)
                .order_by(PlatformEvent.id)
            )
        )
        statuses = set(await session.scalars(select(PlatformEvent.status)))
        transcript = list(
            await session.scalars(
                select(Message.text)
                .where(Message.shop_id == shop_id, Message.sender == MessageSender.BUYER)
                .order_by(Message.id)
            )
        )
    assert statuses == {EventStatus.PROCESSED}
    assert len(by_event) == 43
    assert transcript == by_event  # each once, in the order accepted
    assert processor.totals["processed"] == 43
    assert processor.paths["at_once"] + processor.paths["queued"] == 43
    assert processor.paths["queued"] > 0  # the burst did take the queue
