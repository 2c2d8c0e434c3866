"""The hotline's outbound list over real HTTP: a proactive call is about no order, yet the
agent must reach the buyer; the number shown (masked) is the one on the buyer's latest
order, and the holder of the call reveals it through that order (audited)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from csdesk.actions.sweeps import activate_due_items
from csdesk.actions.users import issue_token
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole
from csdesk.storage.models import Conversation, Order
from tests.helpers import deps, make_agent, order_data, post_event, settle


async def request(
    client: TestClient[Any, Any], method: str, path: str, token: str, body: Any = None
) -> Any:
    response = await client.request(
        method, path, headers={"Authorization": f"Bearer {token}"}, json=body
    )
    assert response.status == 200, f"{method} {path}: {await response.text()}"
    return await response.json()


async def test_a_proactive_call_shows_the_number_of_the_buyers_latest_order(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent = await make_agent(sessions, shop_id, "hotline", [ServiceRole.HOTLINE])
    token = await issue_token(sessions, "hotline")
    await post_event(
        client, "order.created", order_data("T-1", nick="小李", receiver_phone="13700000000")
    )
    await post_event(
        client, "order.created", order_data("T-2", nick="小李", receiver_phone="13900001111")
    )
    await post_event(
        client, "message.received", {"buyer_nick": "小李", "text": "再不处理我就给差评 投诉你们"}
    )
    await settle(client)
    async with sessions() as session:
        call = await session.scalar(
            select(Conversation).where(Conversation.kind == "proactive_call")
        )
        latest = await session.scalar(select(Order).where(Order.external_id == "T-2"))
    assert call is not None
    assert latest is not None
    assert call.order_id is None
    if call.not_before is not None:  # booked into the quiet hours: let the clock get there
        await activate_due_items(deps(client), call.not_before + timedelta(seconds=1))

    listed = await request(client, "GET", "/api/v1/hotline/outbound?kind=proactive_call", token)
    (row,) = listed["kinds"]["proactive_call"]
    assert (row["id"], row["assigned_agent_id"]) == (call.id, agent)
    assert row["buyer"]["phone"] == "139****1111"
    assert row["buyer"]["phone_order_id"] == latest.id

    revealed = await request(
        client,
        "POST",
        f"/api/v1/buyers/{row['buyer']['id']}/reveal",
        token,
        {"field": "phone", "reason": "回访", "order_id": row["buyer"]["phone_order_id"]},
    )
    assert revealed["value"] == "13900001111"
