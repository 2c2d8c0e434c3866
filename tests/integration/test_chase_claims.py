"""One chaser per buyer (一客一催), without stranding a buyer's chases: a chaser going off
shift lets go of their buyers, and a chat chaser's claim does not hold the hotline's phone
chase of the same buyer (``routing.assignment.chase_claim_binds``). Signed platform events
in, people acting over HTTP with bearer tokens; SQLite and PostgreSQL, each with and
without Redis."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from csdesk.actions.sweeps import activate_due_items
from csdesk.actions.users import issue_token
from csdesk.clock import utcnow
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ConversationStatus, ServiceRole
from csdesk.storage.kinds import CHASE_CLAIM
from csdesk.storage.models import Buyer, BuyerClaim, Conversation
from tests.helpers import deps, make_agent, order_data, post_event, settle

P = ServiceRole
ASSIGNED = ConversationStatus.ASSIGNED
pytestmark = pytest.mark.usefixtures("shop_id")
Headers = dict[str, str]


async def agent(
    sessions: SessionFactory, shop_id: str, name: str, roles: list[ServiceRole]
) -> tuple[int, Headers]:
    user_id = await make_agent(sessions, shop_id, name, roles)
    return user_id, {"Authorization": f"Bearer {await issue_token(sessions, name)}"}


async def call(client: TestClient[Any, Any], path: str, headers: Headers, body: Any = None) -> Any:
    method = "GET" if body is None else "POST"
    response = await client.request(method, path, headers=headers, json=body)
    assert response.status == 200, f"{method} {path}: {await response.text()}"
    return await response.json()


async def chases(sessions: SessionFactory) -> dict[str, Conversation]:
    """The chases by kind (each test makes at most one of each)."""
    async with sessions() as session:
        rows = await session.scalars(select(Conversation).order_by(Conversation.id))
        return {c.kind: c for c in rows if c.kind in ("payment_chase", "phone_chase")}


async def holder(sessions: SessionFactory, nick: str) -> int | None:
    """Who holds the buyer's chase claim now."""
    async with sessions() as session:
        return await session.scalar(
            select(BuyerClaim.agent_id)
            .join(Buyer, Buyer.id == BuyerClaim.buyer_id)
            .where(
                Buyer.nick == nick,
                BuyerClaim.kind == CHASE_CLAIM,
                BuyerClaim.expires_at > utcnow(),
            )
        )


async def test_a_chaser_going_off_shift_lets_the_next_chase_go_to_one_on_shift(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    first, first_auth = await agent(sessions, shop_id, "早班催付", [P.PAYMENT_CHASING])
    await post_event(client, "order.created", order_data("T-SHIFT", nick="犹豫买家"))
    await settle(client)
    chase = (await chases(sessions))["payment_chase"]
    assert chase.not_before is not None
    await activate_due_items(deps(client), chase.not_before + timedelta(seconds=1))
    chase = (await chases(sessions))["payment_chase"]
    assert (chase.status, chase.assigned_agent_id) == (ASSIGNED, first)
    attempt = await call(
        client, f"/api/v1/chases/{chase.id}/outcome", first_auth, {"outcome": "no_answer"}
    )
    assert attempt["conversation"]["status"] == "scheduled"
    assert await holder(sessions, "犹豫买家") == first  # the next attempt is still theirs

    # The early shift ends; the late chaser comes on.
    off = await call(client, "/api/v1/workbench/status", first_auth, {"status": "offline"})
    assert off["status"] == "offline"
    assert await holder(sessions, "犹豫买家") is None
    assert (await call(client, "/api/v1/chases/mine", first_auth))["chases"] == []
    second, second_auth = await agent(sessions, shop_id, "晚班催付", [P.PAYMENT_CHASING])

    chase = (await chases(sessions))["payment_chase"]
    assert chase.not_before is not None
    await activate_due_items(deps(client), chase.not_before + timedelta(seconds=1))
    chase = (await chases(sessions))["payment_chase"]
    # Before: the off-shift chaser's 24 h claim kept the chase queued for them.
    assert (chase.status, chase.assigned_agent_id) == (ASSIGNED, second)
    assert await holder(sessions, "犹豫买家") == second
    (row,) = (await call(client, "/api/v1/chases/mine", second_auth))["chases"]
    assert (row["id"], row["attempts"]) == (chase.id, 1)


async def test_going_offline_hands_a_queued_chase_to_the_chaser_on_shift(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """A chase that fell due while its chaser was full waits for them; when they go off
    shift it goes to the other chaser at once, without waiting for a sweep."""
    busy = await make_agent(sessions, shop_id, "满载催付", [P.PAYMENT_CHASING])
    busy_auth = {"Authorization": f"Bearer {await issue_token(sessions, '满载催付')}"}
    await post_event(client, "order.created", order_data("T-Q1", nick="买家甲"))
    await settle(client)
    chase = (await chases(sessions))["payment_chase"]
    assert chase.not_before is not None
    due = chase.not_before + timedelta(seconds=1)
    await activate_due_items(deps(client), due)
    await call(client, f"/api/v1/chases/{chase.id}/outcome", busy_auth, {"outcome": "busy"})
    # Their second chase of this buyer falls due while the chaser is away at lunch ...
    await call(client, "/api/v1/workbench/status", busy_auth, {"status": "away"})
    other = await make_agent(sessions, shop_id, "另一位催付", [P.PAYMENT_CHASING])
    chase = (await chases(sessions))["payment_chase"]
    assert chase.not_before is not None
    await activate_due_items(deps(client), chase.not_before + timedelta(seconds=1))
    chase = (await chases(sessions))["payment_chase"]
    assert chase.status is ConversationStatus.QUEUED  # away keeps the buyer: one chaser
    # ... and then they go home instead.
    await call(client, "/api/v1/workbench/status", busy_auth, {"status": "offline"})
    await settle(client)
    chase = (await chases(sessions))["payment_chase"]
    assert (chase.status, chase.assigned_agent_id) == (ASSIGNED, other)
    assert await holder(sessions, "买家甲") == other
    assert busy != other


async def test_a_chat_chasers_claim_does_not_hold_the_hotlines_phone_chase(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    chaser, chaser_auth = await agent(sessions, shop_id, "催付专员", [P.PAYMENT_CHASING])
    caller = await make_agent(sessions, shop_id, "热线外呼", [P.HOTLINE])
    await post_event(client, "order.created", order_data("T-SMALL", nick="大单买家"))
    await post_event(
        client, "order.created", order_data("T-BIG", nick="大单买家", amount="2999.00")
    )
    await settle(client)
    pending = await chases(sessions)
    due = max(c.not_before for c in pending.values() if c.not_before)
    await activate_due_items(deps(client), due + timedelta(seconds=1))
    pending = await chases(sessions)
    chat, phone = pending["payment_chase"], pending["phone_chase"]
    assert (chat.status, chat.assigned_agent_id) == (ASSIGNED, chaser)
    # Before: the chat chaser's claim kept the phone chase queued for 24 h (they cannot call).
    assert (phone.status, phone.assigned_agent_id) == (ASSIGNED, caller)
    assert await holder(sessions, "大单买家") == caller  # one chaser at a time

    # The chat chase's next attempt goes back to the chat chaser (the hotline cannot chat-chase).
    await call(client, f"/api/v1/chases/{chat.id}/outcome", chaser_auth, {"outcome": "no_answer"})
    chat = (await chases(sessions))["payment_chase"]
    assert chat.not_before is not None
    await activate_due_items(deps(client), chat.not_before + timedelta(seconds=1))
    chat = (await chases(sessions))["payment_chase"]
    assert (chat.status, chat.assigned_agent_id) == (ASSIGNED, chaser)
    assert await holder(sessions, "大单买家") == chaser


async def test_a_chaser_on_shift_keeps_the_buyer(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """The rule it keeps: while the chaser is on shift, another chaser does not take their
    buyer's next chase (no 抢单), even when the holder is full right now."""
    first, first_auth = await agent(sessions, shop_id, "专属催付", [P.PAYMENT_CHASING])
    await post_event(client, "order.created", order_data("T-KEEP", nick="老买家"))
    await settle(client)
    chase = (await chases(sessions))["payment_chase"]
    assert chase.not_before is not None
    await activate_due_items(deps(client), chase.not_before + timedelta(seconds=1))
    await call(client, f"/api/v1/chases/{chase.id}/outcome", first_auth, {"outcome": "busy"})
    await call(client, "/api/v1/workbench/status", first_auth, {"status": "busy"})
    await make_agent(sessions, shop_id, "旁边的催付", [P.PAYMENT_CHASING])
    chase = (await chases(sessions))["payment_chase"]
    assert chase.not_before is not None
    await activate_due_items(deps(client), chase.not_before + timedelta(seconds=1))
    chase = (await chases(sessions))["payment_chase"]
    assert chase.status is ConversationStatus.QUEUED
    assert await holder(sessions, "老买家") == first
    back = await call(client, "/api/v1/workbench/status", first_auth, {"status": "online"})
    assert back["assigned"] == [chase.id]
    assert AgentStatus(back["status"]) is AgentStatus.ONLINE
