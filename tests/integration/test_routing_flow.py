"""Routing end to end: signed events in over HTTP, decisions read back from the database
and the queue API. Runs on SQLite and PostgreSQL, each with and without Redis."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from csdesk.actions import workbench
from csdesk.actions.chasing import claim_buyer
from csdesk.actions.sweeps import activate_due_items, reassign_unanswered
from csdesk.clock import SHOP_TZ, utcnow
from csdesk.roles import payment_chasing
from csdesk.roles.config import RoutingConfig
from csdesk.routing.queues import QUEUE_KEY
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ConversationStatus, ServiceRole, UserRole
from csdesk.storage.models import Buyer, Conversation, Message, Order, Refund
from tests.helpers import actor, deps, make_agent, order_data, post_event, settle, token_for

pytestmark = [pytest.mark.usefixtures("shop_id"), pytest.mark.fast_path_both]
P = ServiceRole


async def conversations(sessions: SessionFactory, **where: Any) -> list[Conversation]:
    async with sessions() as session:
        query = select(Conversation).order_by(Conversation.id)
        for key, value in where.items():
            query = query.where(getattr(Conversation, key) == value)
        return list(await session.scalars(query))


async def message(client: TestClient[Any, Any], nick: str, text: str, **kw: Any) -> None:
    await post_event(client, "message.received", {"buyer_nick": nick, "text": text, **kw})
    await settle(client)


@pytest.mark.parametrize(
    ("text", "role", "intent"),
    [
        ("这个保温杯有货吗", "presales", "presale"),
        ("东西坏了 直接给我退款吧", "refund", "refund"),
        ("我要开发票", "order_review", "invoice"),
        ("快递到哪了 怎么还没到", "aftersales_triage", "logistics"),
        ("麻烦给我回个电话", "hotline", "callback"),
    ],
)
async def test_message_routes_to_role_with_breakdown(
    client: TestClient[Any, Any],
    sessions: SessionFactory,
    shop_id: str,
    text: str,
    role: str,
    intent: str,
) -> None:
    await message(client, "tb_小鱼", text)
    (item,) = await conversations(sessions, kind="chat")
    assert item.role == role
    assert item.intent == intent
    assert item.status is ConversationStatus.QUEUED
    assert {r["factor"] for r in item.score_breakdown} >= {"role", "intent"}
    assert item.priority_score == pytest.approx(sum(r["points"] for r in item.score_breakdown))
    assert await client.app[QUEUE_KEY].depth(shop_id, role) == 1

    token = await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    response = await client.get("/api/v1/queues", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    queue = (await response.json())["roles"][role]
    assert queue["depth"] == 1
    (top,) = queue["items"]
    assert top["id"] == item.id
    factors = [entry["factor"] for entry in top["breakdown"]]
    assert "aging" in factors
    assert top["score"] == pytest.approx(sum(e["points"] for e in top["breakdown"]), abs=0.05)


async def test_refund_outranks_howto_and_complaint_gets_proactive_call(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    await post_event(client, "order.created", order_data("T-100", nick="老王"))
    await post_event(client, "order.paid", {"order_id": "T-100"})
    await message(client, "老王", "这个怎么安装啊")
    await message(client, "小李", "再不处理我就给差评 投诉你们")
    howto, complaint = await conversations(sessions, kind="chat")
    assert complaint.risk == "high"
    assert complaint.priority_score > howto.priority_score
    calls = await conversations(sessions, kind="proactive_call")
    assert len(calls) == 1
    assert calls[0].role == "hotline"
    assert calls[0].buyer_id == complaint.buyer_id
    # A second angry message does not stack a second call.
    await message(client, "小李", "我要打12315")
    assert len(await conversations(sessions, kind="proactive_call")) == 1


async def test_arrival_goes_to_least_loaded_eligible_agent(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    busy = await make_agent(sessions, shop_id, "busy", [P.PRESALES])
    free = await make_agent(sessions, shop_id, "free", [P.PRESALES])
    await make_agent(sessions, shop_id, "refunder", [P.REFUND])
    await make_agent(sessions, shop_id, "away", [P.PRESALES], status=AgentStatus.AWAY)
    await message(client, "b1", "有货吗")
    (first,) = await conversations(sessions, kind="chat")
    assert first.assigned_agent_id in (busy, free)
    await message(client, "b2", "这个有优惠吗")
    owners = {c.assigned_agent_id for c in await conversations(sessions, kind="chat")}
    assert owners == {busy, free}


async def test_capacity_frees_then_best_item_is_pulled(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent = await make_agent(sessions, shop_id, "solo", [P.PRESALES, P.REFUND], chat_capacity=1)
    await message(client, "b1", "在吗")
    await message(client, "b2", "有货吗")
    await message(client, "b3", "我要退款 东西坏了")
    first, low, high = await conversations(sessions, kind="chat")
    assert first.assigned_agent_id == agent
    assert low.status is high.status is ConversationStatus.QUEUED
    now = utcnow()
    await workbench.reply(deps(client), await actor(sessions, agent), first.id, "您好,在的", now)
    await workbench.close(
        deps(client), await actor(sessions, agent), first.id, now, disposition="answered"
    )
    refreshed = {c.id: c for c in await conversations(sessions, kind="chat")}
    assert refreshed[high.id].assigned_agent_id == agent  # the refund, across roles
    assert refreshed[low.id].status is ConversationStatus.QUEUED


async def test_going_away_requeues_unanswered_keeping_age(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent = await make_agent(sessions, shop_id, "a1", [P.PRESALES])
    await message(client, "b1", "有货吗")
    (item,) = await conversations(sessions, kind="chat")
    assert item.assigned_agent_id == agent
    enqueued = item.enqueued_at
    await workbench.set_agent_status(deps(client), shop_id, agent, AgentStatus.AWAY, utcnow())
    (item,) = await conversations(sessions, kind="chat")
    assert item.status is ConversationStatus.QUEUED
    assert item.assigned_agent_id is None
    assert item.enqueued_at == enqueued
    assert await client.app[QUEUE_KEY].depth(shop_id, "presales") == 1
    # Back online: the agent pulls it again.
    await workbench.set_agent_status(deps(client), shop_id, agent, AgentStatus.ONLINE, utcnow())
    (item,) = await conversations(sessions, kind="chat")
    assert item.assigned_agent_id == agent
    assert await client.app[QUEUE_KEY].depth(shop_id, "presales") == 0


async def test_unanswered_item_is_reassigned(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    slow = await make_agent(sessions, shop_id, "slow", [P.PRESALES])
    await message(client, "b1", "有货吗")
    other = await make_agent(sessions, shop_id, "other", [P.PRESALES])
    (item,) = await conversations(sessions, kind="chat")
    assert item.assigned_agent_id == slow
    assert await reassign_unanswered(deps(client), utcnow() + timedelta(seconds=30)) == 0
    assert await reassign_unanswered(deps(client), utcnow() + timedelta(minutes=4)) == 1
    (item,) = await conversations(sessions, kind="chat")
    assert item.assigned_agent_id == other


async def test_returning_buyer_goes_back_to_protection_owner(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    owner = await make_agent(sessions, shop_id, "owner", [P.PRESALES])
    await message(client, "熟客", "有货吗")
    (first,) = await conversations(sessions, kind="chat")
    assert first.assigned_agent_id == owner
    await workbench.reply(deps(client), await actor(sessions, owner), first.id, "有的亲", utcnow())
    await workbench.close(
        deps(client), await actor(sessions, owner), first.id, utcnow(), disposition="sold"
    )
    # Someone idle comes online; the owner is busier but still gets the buyer back.
    idle = await make_agent(sessions, shop_id, "idle", [P.PRESALES])
    await message(client, "路人", "在吗")
    await message(client, "熟客", "再买一个")
    by_buyer = {
        c.buyer_id: c
        for c in await conversations(sessions, kind="chat", status=ConversationStatus.ASSIGNED)
    }
    async with sessions() as session:
        regular = await session.scalar(select(Buyer.id).where(Buyer.nick == "熟客"))
    assert by_buyer[regular].assigned_agent_id == owner
    assert idle in {c.assigned_agent_id for c in by_buyer.values()}


async def test_transfer_keeps_history_and_age(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    presales = await make_agent(sessions, shop_id, "pre", [P.PRESALES])
    await message(client, "b1", "有货吗")
    (item,) = await conversations(sessions, kind="chat")
    enqueued = item.enqueued_at
    with pytest.raises(workbench.WorkError, match="note"):
        await workbench.transfer(
            deps(client), await actor(sessions, presales), item.id, "refund", " ", utcnow()
        )
    await workbench.transfer(
        deps(client), await actor(sessions, presales), item.id, "refund", "买家要退款", utcnow()
    )
    (item,) = await conversations(sessions, kind="chat")
    assert item.role == "refund"
    assert item.enqueued_at == enqueued
    async with sessions() as session:
        texts = list(
            await session.scalars(
                select(Message.text).where(Message.conversation_id == item.id).order_by(Message.id)
            )
        )
    assert texts[0] == "有货吗"
    assert any("买家要退款" in t for t in texts)


async def test_skill_rule_sends_vip_to_qualified_agent(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "plain", [P.PRESALES])
    vip_agent = await make_agent(
        sessions, shop_id, "vipdesk", [P.PRESALES], skills=["vip"], chat_capacity=8
    )
    for n in range(3):
        await message(client, f"vip{n}", "有货吗", buyer_tier="88vip")
    assert {c.assigned_agent_id for c in await conversations(sessions, kind="chat")} == {vip_agent}


# -- payment chasing -------------------------------------------------------------------------


async def test_chase_is_scheduled_outside_quiet_hours_and_payment_cancels_it(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    chaser = await make_agent(sessions, shop_id, "chaser", [P.PAYMENT_CHASING])
    await post_event(client, "order.created", order_data("T-1", amount="299.00"))
    await settle(client)
    (chase,) = await conversations(sessions, kind="payment_chase")
    assert chase.status is ConversationStatus.SCHEDULED
    assert chase.not_before is not None
    assert chase.not_before >= chase.opened_at + timedelta(minutes=15) - timedelta(seconds=5)
    assert not payment_chasing.is_quiet(chase.not_before, RoutingConfig())

    assert await activate_due_items(deps(client), chase.not_before + timedelta(seconds=1)) == 1
    (chase,) = await conversations(sessions, kind="payment_chase")
    assert chase.assigned_agent_id == chaser
    await post_event(client, "order.paid", {"order_id": "T-1"})
    await settle(client)
    (chase,) = await conversations(sessions, kind="payment_chase")
    assert chase.status is ConversationStatus.CLOSED
    assert chase.disposition == "paid"
    assert chase.recovered_fen == 29900


async def test_chase_due_in_quiet_hours_waits_for_morning(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    await post_event(client, "order.created", order_data("T-2"))
    await settle(client)
    (chase,) = await conversations(sessions, kind="payment_chase")
    night = datetime(2030, 1, 1, 23, 30, tzinfo=SHOP_TZ).astimezone(UTC)
    assert await activate_due_items(deps(client), night) == 0
    (chase,) = await conversations(sessions, kind="payment_chase")
    assert chase.status is ConversationStatus.SCHEDULED
    assert chase.not_before == datetime(2030, 1, 2, 8, 0, tzinfo=SHOP_TZ).astimezone(UTC)


async def test_paid_before_due_closes_chase_without_credit(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    await post_event(client, "order.created", order_data("T-3"))
    await post_event(client, "order.paid", {"order_id": "T-3"})
    await settle(client)
    (chase,) = await conversations(sessions, kind="payment_chase")
    assert chase.status is ConversationStatus.CLOSED
    assert chase.recovered_fen is None  # nobody chased: nobody gets the credit


async def test_big_order_goes_to_hotline_phone_chase(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    await post_event(client, "order.created", order_data("T-BIG", amount="2999.00"))
    await settle(client)
    (chase,) = await conversations(sessions, kind="phone_chase")
    assert chase.role == "hotline"
    assert chase.channel.value == "hotline"


async def test_one_chaser_per_buyer_with_eight_agents_racing(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agents = [
        await make_agent(sessions, shop_id, f"chaser{n}", [P.PAYMENT_CHASING]) for n in range(8)
    ]
    for n in range(3):
        await post_event(client, "order.created", order_data(f"T-R{n}", nick="犹豫的买家"))
    await settle(client)
    async with sessions() as session:
        buyer_id = await session.scalar(select(Buyer.id).where(Buyer.nick == "犹豫的买家"))
    assert buyer_id is not None
    chases = await conversations(sessions, kind="payment_chase")
    due = max(c.not_before for c in chases if c.not_before)

    async def race(agent_id: int) -> int:
        async with sessions.begin() as session:
            return await claim_buyer(session, shop_id, buyer_id, agent_id, due, timedelta(hours=1))

    holders = await asyncio.gather(*(race(agent) for agent in agents))
    assert len(set(holders)) == 1
    winner = holders[0]
    await activate_due_items(deps(client), due + timedelta(seconds=1))
    chases = await conversations(sessions, kind="payment_chase")
    assert {c.assigned_agent_id for c in chases} == {winner}


async def test_chase_attempts_are_capped(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    chaser = await make_agent(sessions, shop_id, "c1", [P.PAYMENT_CHASING])
    await post_event(client, "order.created", order_data("T-4"))
    await settle(client)
    next_at: datetime | None = None
    chases_made = 0
    for _ in range(5):  # bounded: the cap must end it before this does
        (chase,) = await conversations(sessions, kind="payment_chase")
        if chase.status is ConversationStatus.CLOSED:
            break
        assert chase.not_before is not None
        await activate_due_items(deps(client), chase.not_before + timedelta(seconds=1))
        (chase,) = await conversations(sessions, kind="payment_chase")
        assert chase.assigned_agent_id == chaser
        next_at = await workbench.record_chase_attempt(
            deps(client),
            shop_id,
            chaser,
            chase.id,
            "no_answer",
            chase.not_before or chase.enqueued_at or utcnow(),
        )
        chases_made += 1
    (chase,) = await conversations(sessions, kind="payment_chase")
    assert chase.status is ConversationStatus.CLOSED
    assert chase.attempts == 3
    assert chases_made == 3
    assert next_at is None


# -- orders and refunds ---------------------------------------------------------------------


async def test_order_check_only_when_a_check_flags(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    await post_event(client, "order.created", order_data("T-OK"))
    await post_event(client, "order.paid", {"order_id": "T-OK"})
    await post_event(client, "order.created", order_data("T-BAD", nick="b2", address="待定"))
    await post_event(client, "order.paid", {"order_id": "T-BAD"})
    await settle(client)
    checks = await conversations(sessions, kind="order_check")
    assert len(checks) == 1
    async with sessions() as session:
        order = await session.get(Order, checks[0].order_id)
        assert order is not None
        assert order.external_id == "T-BAD"
        notes = list(
            await session.scalars(
                select(Message.text).where(Message.conversation_id == checks[0].id)
            )
        )
    assert any("地址" in note for note in notes)


async def test_refund_review_deadline_cancel_and_return(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    await post_event(client, "order.created", order_data("T-R1"))
    await post_event(client, "order.paid", {"order_id": "T-R1"})
    await post_event(
        client,
        "refund.requested",
        {
            "refund_id": "R-1",
            "order_id": "T-R1",
            "kind": "refund_only",
            "amount": "199.00",
            "reason": "不想要了",
        },
    )
    await settle(client)
    (review,) = await conversations(sessions, role="refund", kind="refund_review")
    async with sessions() as session:
        refund = await session.scalar(select(Refund).where(Refund.external_id == "R-1"))
        assert refund is not None
    assert refund.deadline_at - refund.requested_at == timedelta(hours=24)
    assert review.deadline_at == refund.deadline_at
    await post_event(client, "refund.cancelled", {"refund_id": "R-1"})
    await settle(client)
    (review,) = await conversations(sessions, kind="refund_review")
    assert review.status is ConversationStatus.CLOSED

    await post_event(client, "order.shipped", {"order_id": "T-R1"})
    await post_event(
        client,
        "refund.requested",
        {
            "refund_id": "R-2",
            "order_id": "T-R1",
            "kind": "return_and_refund",
            "amount": "199.00",
            "reason": "质量问题",
        },
    )
    await post_event(client, "return.received", {"refund_id": "R-2"})
    await settle(client)
    async with sessions() as session:
        second = await session.scalar(select(Refund).where(Refund.external_id == "R-2"))
        assert second is not None
    assert second.deadline_at - second.requested_at == timedelta(days=5)
    assert second.status.value == "return_received"
    kinds = {c.kind for c in await conversations(sessions, refund_id=second.id)}
    assert len(kinds) == 2  # review plus processing of the returned parcel


async def test_inbound_call_finds_buyer_by_phone(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    async with sessions.begin() as session:
        session.add(
            Buyer(shop_id=shop_id, nick="电话买家", phone="13912345678", created_at=utcnow())
        )
    await post_event(client, "call.inbound", {"call_id": "C-1", "caller_phone": "13912345678"})
    await settle(client)
    (call,) = await conversations(sessions, channel="hotline")
    assert call.role == "hotline"
    assert call.buyer_id is not None
