"""Refund duties from the roster (seed 003: review and processing are separate people):
a review goes to whoever is on the review duty now, the processing item an approval opens
goes to the processing duty, and with nobody on a duty anyone in the refund role takes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from csdesk.actions.agents import ShiftSpec, set_roster
from csdesk.clock import utcnow
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole
from csdesk.storage.models import Conversation, Refund
from tests.helpers import make_agent, order_data, post_event, settle


async def _on_duty(sessions: SessionFactory, shop_id: str, duties: dict[int, str]) -> None:
    now = utcnow()
    async with sessions.begin() as session:
        await set_roster(
            session,
            shop_id,
            [
                ShiftSpec(
                    user_id=user_id,
                    service_role=ServiceRole.REFUND,
                    starts_at=now - timedelta(hours=1),
                    ends_at=now + timedelta(hours=7),
                    duty=duty,
                )
                for user_id, duty in duties.items()
            ],
            window_start=now - timedelta(hours=2),
            window_end=now + timedelta(hours=1),
        )


async def _refund(client: TestClient[Any, Any], n: int) -> None:
    await post_event(client, "order.created", order_data(f"T-70{n}", nick=f"买家{n}"))
    await post_event(client, "order.paid", {"order_id": f"T-70{n}"})
    await post_event(
        client,
        "refund.requested",
        {
            "refund_id": f"R-70{n}",
            "order_id": f"T-70{n}",
            "kind": "refund_only",
            "amount": "199.00",
            "reason": "拍错了",
        },
    )
    await settle(client)


async def _items(sessions: SessionFactory, refund_id: str) -> dict[str, int | None]:
    async with sessions() as session:
        rows = await session.execute(
            select(Conversation.kind, Conversation.assigned_agent_id)
            .join(Refund, Refund.id == Conversation.refund_id)
            .where(Refund.external_id == refund_id)
        )
        return dict(rows.all())


async def test_reviews_go_to_the_review_duty_even_when_the_processor_is_idler(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    reviewer = await make_agent(sessions, shop_id, "shenhe", [ServiceRole.REFUND])
    processor = await make_agent(sessions, shop_id, "chuli", [ServiceRole.REFUND])
    await _on_duty(sessions, shop_id, {reviewer: "review", processor: "processing"})

    for n in range(3):
        await _refund(client, n)
    # Least-loaded alone would have alternated; the duty keeps every review with the reviewer.
    for n in range(3):
        assert (await _items(sessions, f"R-70{n}"))["refund_review"] == reviewer


async def test_with_nobody_on_the_duty_anyone_in_the_refund_role_takes_it(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    first = await make_agent(sessions, shop_id, "xiaoli", [ServiceRole.REFUND])
    second = await make_agent(sessions, shop_id, "xiaoqi", [ServiceRole.REFUND])
    # Both on processing: nobody holds review, so reviews spread by load.
    await _on_duty(sessions, shop_id, {first: "processing", second: "processing"})
    for n in range(2):
        await _refund(client, n)
    takers = {(await _items(sessions, f"R-70{n}"))["refund_review"] for n in range(2)}
    assert takers == {first, second}
