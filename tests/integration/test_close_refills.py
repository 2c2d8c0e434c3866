"""Closing frees the holder and pulls their next queued item, whoever closes: a platform
event (``refund.cancelled``, ``order.paid``) as much as the agent or a supervisor.

Through signed HTTP on every backend, watched on the agent's live socket: the freed agent
gets the queued item, and is told so. Issue 10's bug: an agent with chat capacity 1 held
refund A, refund B waited in the queue, ``refund.cancelled`` for A closed A and left B
queued next to the idle agent.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from csdesk.actions import workbench
from csdesk.actions.sweeps import activate_due_items
from csdesk.actions.users import as_current_user, create_user, issue_token
from csdesk.bus.memory import MemoryBus
from csdesk.clock import utcnow
from csdesk.errors import ConflictError, ForbiddenError
from csdesk.ingest.engine import RoutingEngine
from csdesk.ingest.message_runs import start_batch
from csdesk.ingest.processor import process_events
from csdesk.ingest.schema import parse_event
from csdesk.routing.queues import QUEUE_KEY
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus, ServiceRole, UserRole
from csdesk.storage.models import Conversation
from tests.helpers import (
    accept,
    actor,
    deps,
    event_body,
    make_agent,
    order_data,
    post_event,
    settle,
)

pytestmark = [pytest.mark.usefixtures("shop_id"), pytest.mark.fast_path_both]
RECEIVE_GUARD_S = 30.0
"""Only so a broken build fails instead of hanging."""


async def items(sessions: SessionFactory, kind: str) -> list[Conversation]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Conversation).where(Conversation.kind == kind).order_by(Conversation.id)
            )
        )


async def live_events(client: TestClient[Any, Any], username: str, sessions: SessionFactory) -> Any:
    ws = await client.ws_connect(
        "/api/v1/live",
        headers={"Authorization": f"Bearer {await issue_token(sessions, username)}"},
    )
    await ws.send_json({"op": "hello", "queue_id": None, "last_event_id": -1})
    welcome = await _frame(ws)
    assert welcome["op"] == "welcome"
    return ws


async def _frame(ws: Any) -> dict[str, Any]:
    async with asyncio.timeout(RECEIVE_GUARD_S):
        message = await ws.receive()
    assert message.type is WSMsgType.TEXT, f"got {message.type.name}: {message.data!r}"
    frame: dict[str, Any] = json.loads(message.data)
    return frame


async def events_until_assigned(ws: Any) -> list[dict[str, Any]]:
    """Event frames up to and including the next ``conversation.assigned``."""
    frames: list[dict[str, Any]] = []
    while True:
        frame = await _frame(ws)
        assert frame["op"] == "event", frame
        frames.append(frame)
        if frame["type"] == "conversation.assigned":
            return frames


def refund_requested(refund_id: str, order_id: str) -> dict[str, Any]:
    return {
        "refund_id": refund_id,
        "order_id": order_id,
        "kind": "refund_only",
        "amount": "99.00",
        "reason": "不想要了",
    }


async def test_refund_cancelled_frees_the_agent_for_the_queued_refund(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent = await make_agent(sessions, shop_id, "refunder", [ServiceRole.REFUND], chat_capacity=1)
    for order_id, nick in (("T-A", "买家甲"), ("T-B", "买家乙")):
        await post_event(client, "order.created", order_data(order_id, nick=nick))
        await post_event(client, "order.paid", {"order_id": order_id})
    await post_event(client, "refund.requested", refund_requested("R-A", "T-A"))
    await post_event(client, "refund.requested", refund_requested("R-B", "T-B"))
    await settle(client)
    held, waiting = await items(sessions, "refund_review")
    assert held.assigned_agent_id == agent
    assert waiting.status is ConversationStatus.QUEUED

    ws = await live_events(client, "refunder", sessions)
    await post_event(client, "refund.cancelled", {"refund_id": "R-A"})
    await settle(client)

    held, waiting = await items(sessions, "refund_review")
    assert held.status is ConversationStatus.CLOSED
    assert waiting.status is ConversationStatus.ASSIGNED
    assert waiting.assigned_agent_id == agent
    frames = await events_until_assigned(ws)
    closed = [f for f in frames if f["type"] == "conversation.closed"]
    assert [f["payload"]["conversation_id"] for f in closed] == [held.id]
    assert closed[0]["payload"]["disposition"] == "refund_cancelled"
    assigned = frames[-1]["payload"]["conversation"]
    assert (assigned["id"], assigned["assigned_agent_id"]) == (waiting.id, agent)
    await ws.close()


async def test_a_batch_redone_after_a_failure_still_refills(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """The refill claims the queued item from the index inside the batch's transaction. An
    event after it that fails rolls the batch back and redoes it event by event: the claim
    must be undone too, or the redone close finds the index empty and the agent idles."""
    agent = await make_agent(sessions, shop_id, "refunder", [ServiceRole.REFUND], chat_capacity=1)
    for order_id, nick in (("T-A", "买家甲"), ("T-B", "买家乙")):
        await post_event(client, "order.created", order_data(order_id, nick=nick))
        await post_event(client, "order.paid", {"order_id": order_id})
    await post_event(client, "refund.requested", refund_requested("R-A", "T-A"))
    await post_event(client, "refund.requested", refund_requested("R-B", "T-B"))
    await settle(client)
    held, waiting = await items(sessions, "refund_review")
    assert (held.assigned_agent_id, waiting.status) == (agent, ConversationStatus.QUEUED)

    events = [
        parse_event(event_body("refund.cancelled", {"refund_id": "R-A"})),
        # Refers to an order nobody announced: raises in the batch, so it is redone.
        parse_event(event_body("order.paid", {"order_id": "T-NOWHERE"})),
    ]
    now = utcnow()
    row_ids = [a.row_id for a in await accept(sessions, events, now) if a.row_id is not None]
    queue = client.app[QUEUE_KEY]
    counts = await process_events(
        sessions, MemoryBus(), queue, RoutingEngine(queue).handle_event, row_ids, now, start_batch
    )
    assert (counts["processed"], counts["not_ready"]) == (1, 1)
    held, waiting = await items(sessions, "refund_review")
    assert held.status is ConversationStatus.CLOSED
    assert waiting.assigned_agent_id == agent


async def test_order_paid_frees_the_chaser_for_the_queued_chase(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    chaser = await make_agent(
        sessions, shop_id, "chaser", [ServiceRole.PAYMENT_CHASING], chat_capacity=1
    )
    await post_event(client, "order.created", order_data("T-1", nick="买家甲", amount="299.00"))
    await post_event(client, "order.created", order_data("T-2", nick="买家乙", amount="299.00"))
    await settle(client)
    chases = await items(sessions, "payment_chase")
    due = max(c.not_before for c in chases if c.not_before is not None)
    await activate_due_items(deps(client), due + timedelta(seconds=1))
    first, second = await items(sessions, "payment_chase")
    held, waiting = (first, second) if first.assigned_agent_id == chaser else (second, first)
    assert held.assigned_agent_id == chaser
    assert waiting.status is ConversationStatus.QUEUED

    ws = await live_events(client, "chaser", sessions)
    paid_order = "T-1" if held.id == first.id else "T-2"
    await post_event(client, "order.paid", {"order_id": paid_order})
    await settle(client)

    by_id = {c.id: c for c in await items(sessions, "payment_chase")}
    assert by_id[held.id].status is ConversationStatus.CLOSED
    assert by_id[held.id].recovered_fen == 29900
    assert by_id[waiting.id].assigned_agent_id == chaser
    frames = await events_until_assigned(ws)
    closed = [f for f in frames if f["type"] == "conversation.closed"]
    assert [f["payload"]["conversation_id"] for f in closed] == [held.id]
    assert closed[0]["payload"]["disposition"] == "paid"
    assigned = frames[-1]["payload"]["conversation"]
    assert (assigned["id"], assigned["assigned_agent_id"]) == (waiting.id, chaser)
    await ws.close()


async def test_closing_from_the_workbench_is_for_whom_it_serves(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """The action checks its actor itself (403 before anything is read), then the item
    (409: not the actor's)."""
    agent = await make_agent(sessions, shop_id, "refunder", [ServiceRole.REFUND])
    other = await make_agent(sessions, shop_id, "other", [ServiceRole.PRESALES])
    await post_event(client, "order.created", order_data("T-A", nick="买家甲"))
    await post_event(client, "order.paid", {"order_id": "T-A"})
    await post_event(client, "refund.requested", refund_requested("R-A", "T-A"))
    await settle(client)
    (held,) = await items(sessions, "refund_review")
    assert held.assigned_agent_id == agent
    inspector = await create_user(
        sessions,
        shop_id=shop_id,
        username="qc1",
        role=UserRole.QC_INSPECTOR,
        password="password-123",
    )
    with pytest.raises(ForbiddenError):
        await workbench.close(
            deps(client), as_current_user(inspector), held.id, utcnow(), disposition="x"
        )
    with pytest.raises(ConflictError, match="someone else"):
        await workbench.close(
            deps(client), await actor(sessions, other), held.id, utcnow(), disposition="x"
        )
    await workbench.close(
        deps(client), await actor(sessions, agent), held.id, utcnow(), disposition="done"
    )
    (held,) = await items(sessions, "refund_review")
    assert (held.status, held.disposition) == (ConversationStatus.CLOSED, "done")
