"""A batch of events applied together (facts for runs of buyer messages loaded at once)
leaves exactly what applying them one at a time leaves, with fewer lookups.

Two shops get the same history and the same events; shop A's are applied as one batch,
shop B's one batch per event, both with the same ``now``. Their conversations, messages,
scores and assignments must match.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import event, select, update
from sqlalchemy.engine import Connection

from csdesk.actions.shops import ensure_shop
from csdesk.bus.memory import MemoryBus
from csdesk.clock import utcnow
from csdesk.ingest.engine import RoutingEngine
from csdesk.ingest.message_runs import start_batch
from csdesk.ingest.processor import process_events
from csdesk.ingest.schema import parse_event
from csdesk.routing.queues.memory import MemoryWorkQueue
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import BuyerTier, ConversationStatus, MessageSender, ServiceRole
from csdesk.storage.models import Buyer, Conversation, Message, Order, PlatformEvent, User
from tests.helpers import accept, event_body, make_agent, order_data

SHOPS = ("batch-a", "batch-b")

HISTORY: list[tuple[str, dict[str, Any]]] = [
    ("message.received", {"buyer_nick": "老客户", "text": "在吗"}),
    ("order.created", order_data("ORD-1", nick="已下单")),
    ("order.paid", {"order_id": "ORD-1"}),
]

# Runs of messages broken by an order event; a buyer writing twice in one run; new buyers;
# a buyer with an earlier chat today; Traditional Chinese; a complaint threat.
EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("message.received", {"buyer_nick": "新客甲", "text": "在吗 有货吗"}),
    ("message.received", {"buyer_nick": "老客户", "text": "什么时候发货"}),
    ("message.received", {"buyer_nick": "新客甲", "text": "这个保温杯多大容量"}),
    ("message.received", {"buyer_nick": "已下单", "text": "東西壞了 直接給我退款吧"}),
    ("order.created", order_data("ORD-2", nick="新客乙")),
    ("message.received", {"buyer_nick": "新客乙", "text": "我刚下单了 能改地址吗"}),
    ("message.received", {"buyer_nick": "老客户", "text": "再不处理我就给差评"}),
    ("message.received", {"buyer_nick": "新客甲", "text": "？", "buyer_tier": "vip"}),
    ("message.received", {"buyer_nick": "新客丙", "text": "有优惠券吗"}),
]


async def _accept(shop: str, events: list[tuple[str, dict[str, Any]]], tag: str) -> list[Any]:
    return [
        parse_event(event_body(kind, data, shop_id=shop, event_id=f"{shop}-{tag}-{n}"))
        for n, (kind, data) in enumerate(events)
    ]


async def _ids(sessions: SessionFactory, shop: str, events: list[Any]) -> list[int]:
    accepted = await accept(sessions, events, utcnow())
    ids = [a.row_id for a in accepted if a.row_id is not None]
    assert len(ids) == len(events)
    return ids


async def _apply(sessions: SessionFactory, ids: list[int], *, together: bool, now: Any) -> None:
    """``together``: one batch with the message-run hooks; else one plain batch per event
    (no hooks: every lookup and write made by the event itself, as on the savepoint path)."""
    queue = MemoryWorkQueue()
    engine = RoutingEngine(queue)
    batches = [ids] if together else [[row_id] for row_id in ids]
    for batch in batches:
        counts = await process_events(
            sessions,
            MemoryBus(),
            queue,
            engine.handle_event,
            batch,
            now,
            start_batch if together else None,
        )
        assert counts["processed"] == len(batch), counts


async def _snapshot(sessions: SessionFactory, shop: str) -> list[tuple[Any, ...]]:
    async with sessions() as session:
        nick: dict[int | None, str] = dict(
            (await session.execute(select(Buyer.id, Buyer.nick))).all()
        )
        tier: dict[str | None, BuyerTier] = dict(
            (await session.execute(select(Buyer.nick, Buyer.tier))).all()
        )
        users: dict[int | None, str] = dict(
            (await session.execute(select(User.id, User.username))).all()
        )
        orders: dict[int | None, str] = dict(
            (await session.execute(select(Order.id, Order.external_id))).all()
        )
        rows = list(
            await session.scalars(
                select(Conversation).where(Conversation.shop_id == shop).order_by(Conversation.id)
            )
        )
        snapshot = []
        for c in rows:
            texts = list(
                (
                    await session.execute(
                        select(Message.sender, Message.text)
                        .where(Message.conversation_id == c.id)
                        .order_by(Message.id)
                    )
                ).all()
            )
            snapshot.append(
                (
                    nick.get(c.buyer_id),
                    tier.get(nick.get(c.buyer_id)),
                    c.kind,
                    c.role,
                    c.status.value,
                    c.intent,
                    c.risk,
                    round(c.priority_score, 3),
                    [entry["factor"] for entry in c.score_breakdown],
                    users.get(c.assigned_agent_id, "")[2:] if c.assigned_agent_id else None,
                    orders.get(c.order_id),
                    c.sort_key,
                    [(sender.value, text) for sender, text in texts],
                )
            )
    return snapshot


@contextmanager
def counting_selects(sessions: SessionFactory) -> Iterator[list[str]]:
    seen: list[str] = []
    sync_engine = sessions.kw["bind"].sync_engine

    def before(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(sync_engine, "before_cursor_execute", before)


async def test_a_batch_leaves_what_one_event_at_a_time_leaves(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    now = utcnow()
    for shop in SHOPS:
        await ensure_shop(sessions, shop, f"店 {shop}")
        # One presales agent with room for two chats: some items are assigned, some queue.
        await make_agent(
            sessions, shop, f"{shop[-1]}-xiaoyu", [ServiceRole.PRESALES], chat_capacity=2
        )
        await make_agent(
            sessions,
            shop,
            f"{shop[-1]}-ajie",
            [ServiceRole.AFTERSALES_TRIAGE, ServiceRole.REFUND],
            chat_capacity=1,
        )
        history = await _ids(sessions, shop, await _accept(shop, HISTORY, "history"))
        await _apply(sessions, history, together=False, now=now - timedelta(hours=2))
        # The earlier chat is over: today's next message opens a new one, counted as a repeat.
        async with sessions.begin() as session:
            await session.execute(
                update(Conversation)
                .where(Conversation.shop_id == shop, Conversation.kind == "chat")
                .values(status=ConversationStatus.CLOSED, closed_at=now - timedelta(hours=1))
            )

    batched = await _ids(sessions, SHOPS[0], await _accept(SHOPS[0], EVENTS, "live"))
    single = await _ids(sessions, SHOPS[1], await _accept(SHOPS[1], EVENTS, "live"))
    with counting_selects(sessions) as batched_selects:
        await _apply(sessions, batched, together=True, now=now)
    with counting_selects(sessions) as single_selects:
        await _apply(sessions, single, together=False, now=now)

    a, b = await _snapshot(sessions, SHOPS[0]), await _snapshot(sessions, SHOPS[1])
    assert a == b
    # The scenario does what it is meant to: the second message joins the first's chat,
    # the refund goes to after-sales with the paid order, the new buyer's chat knows the
    # order placed just before, and the threat raises risk and asks for a call.
    chats = {(row[0], row[2]): row for row in a if row[2] == "chat" and row[4] != "closed"}
    assert [t for s, t in chats[("新客甲", "chat")][-1] if s == "buyer"] == [
        "在吗 有货吗",
        "这个保温杯多大容量",
        "？",
    ]
    assert chats[("新客甲", "chat")][1].value == "vip"
    assert chats[("已下单", "chat")][10] == "ORD-1"
    assert chats[("新客乙", "chat")][10] == "ORD-2"
    assert chats[("老客户", "chat")][6] == "high"
    assert any(row[0] == "老客户" and row[2] == "proactive_call" for row in a)
    # Its earlier chat today counts: a repeat contact, scored as such.
    assert "repeat_contact" in chats[("老客户", "chat")][8]
    # Fewer lookups: the messages of a run share one buyer, conversation and order query.
    assert len(batched_selects) < len(single_selects)
    # Every buyer message names the event it came in with, in both shops.
    for shop in SHOPS:
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(Message.text, PlatformEvent.type, PlatformEvent.payload)
                    .join(PlatformEvent, PlatformEvent.id == Message.source_event_id, isouter=True)
                    .where(Message.shop_id == shop, Message.sender == MessageSender.BUYER)
                )
            ).all()
        assert len(rows) == 1 + sum(kind == "message.received" for kind, _ in EVENTS)
        for text, event_type, payload in rows:
            assert event_type == "message.received"
            assert payload["text"] == text
