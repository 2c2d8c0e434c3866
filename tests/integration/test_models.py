"""Model round trips on SQLite and PostgreSQL: types, UTC, JSON, enums, constraints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import (
    AgentStatus,
    BuyerTier,
    Channel,
    ConversationStatus,
    EventStatus,
    MessageSender,
    OrderStatus,
    RefundKind,
    RefundStatus,
    UserRole,
)
from csdesk.storage.models import (
    AgentProfile,
    AuditLog,
    Buyer,
    Conversation,
    Message,
    Order,
    PlatformEvent,
    Product,
    Refund,
    RosterShift,
    User,
)

# A non-UTC offset on the way in proves values are normalised, not just passed through.
BEIJING = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 11, 0, 5, 30, 123000, tzinfo=BEIJING)


async def test_full_chain_round_trip(sessions: SessionFactory, shop_id: str) -> None:
    async with sessions.begin() as session:
        agent = User(
            shop_id=shop_id,
            username="xiaomei",
            display_name="小美",
            role=UserRole.AGENT,
            password_hash=None,
            created_at=T0,
        )
        buyer = Buyer(
            shop_id=shop_id,
            nick="tb_快乐星球",
            tier=BuyerTier.VIP88,
            name="张三",
            phone="13800001234",
            address="浙江省杭州市余杭区文一西路969号",
            created_at=T0,
        )
        product = Product(
            shop_id=shop_id,
            sku="TV-55",
            title="55英寸4K电视",
            category="家电",
            price_fen=299900,
            gifts=["HDMI高清线"],
        )
        session.add_all([agent, buyer, product])
        await session.flush()
        session.add(
            AgentProfile(
                user_id=agent.id,
                shop_id=shop_id,
                service_roles=["presales", "refund"],
                skills=["vip"],
                chat_capacity=6,
                hotline_capacity=1,
                status=AgentStatus.ONLINE,
                status_changed_at=T0,
            )
        )
        session.add(
            RosterShift(
                shop_id=shop_id,
                user_id=agent.id,
                service_role="refund",
                starts_at=T0,
                ends_at=T0 + timedelta(hours=8),
                duty="review",
            )
        )
        order = Order(
            shop_id=shop_id,
            external_id="T2026111100001",
            buyer_id=buyer.id,
            status=OrderStatus.PAID,
            amount_fen=299900,
            items=[{"sku": "TV-55", "title": "55英寸4K电视", "qty": 1, "price_fen": 299900}],
            gifts=["旅游券"],
            campaign="double11",
            invoice_title="某某科技有限公司",
            receiver_name="张三",
            receiver_phone="13800001234",
            address="浙江省杭州市余杭区文一西路969号",
            created_at=T0,
            paid_at=T0,
        )
        session.add(order)
        await session.flush()
        refund = Refund(
            shop_id=shop_id,
            external_id="R1",
            order_id=order.id,
            buyer_id=buyer.id,
            kind=RefundKind.RETURN_AND_REFUND,
            status=RefundStatus.REQUESTED,
            amount_fen=299900,
            reason="屏幕有坏点",
            requested_at=T0,
            deadline_at=T0 + timedelta(days=5),
        )
        session.add(refund)
        await session.flush()
        conversation = Conversation(
            shop_id=shop_id,
            buyer_id=buyer.id,
            channel=Channel.CHAT,
            kind="chat",
            role="refund",
            status=ConversationStatus.ASSIGNED,
            intent="refund",
            risk="high",
            priority_score=87.5,
            score_breakdown=[{"factor": "risk", "points": 20, "reason": "差评威胁"}],
            order_id=order.id,
            refund_id=refund.id,
            assigned_agent_id=agent.id,
            protection_owner_id=agent.id,
            protection_until=T0 + timedelta(hours=72),
            opened_at=T0,
            enqueued_at=T0,
            tags=["qc:greeting_missing"],
        )
        session.add(conversation)
        await session.flush()
        session.add(
            Message(
                shop_id=shop_id,
                conversation_id=conversation.id,
                sender=MessageSender.BUYER,
                text="屏幕坏了😡 <script>x</script>",
                sent_at=T0,
            )
        )
        session.add(
            PlatformEvent(
                shop_id=shop_id,
                event_id="evt-1",
                type="refund.requested",
                occurred_at=T0,
                payload={"refund_id": "R1", "金额": 2999.0},
                status=EventStatus.RECEIVED,
                received_at=T0,
            )
        )
        session.add(
            AuditLog(
                shop_id=shop_id,
                actor_id=agent.id,
                action="pii.reveal",
                target_type="buyer",
                target_id=str(buyer.id),
                reason="核对地址",
                detail={"field": "phone"},
                at=T0,
            )
        )

    async with sessions() as session:
        got = await session.scalar(select(Conversation).where(Conversation.shop_id == shop_id))
        assert got is not None
        assert got.opened_at == T0
        assert got.opened_at.tzinfo is not None
        assert got.opened_at.utcoffset() == timedelta(0)
        assert got.protection_until == T0 + timedelta(hours=72)
        assert got.score_breakdown == [{"factor": "risk", "points": 20, "reason": "差评威胁"}]
        assert got.status is ConversationStatus.ASSIGNED
        assert got.channel is Channel.CHAT
        got_order = await session.get(Order, got.order_id)
        assert got_order is not None
        assert got_order.items[0]["title"] == "55英寸4K电视"
        assert got_order.gifts == ["旅游券"]
        assert got_order.status is OrderStatus.PAID
        got_buyer = await session.get(Buyer, got.buyer_id)
        assert got_buyer is not None
        assert got_buyer.tier is BuyerTier.VIP88
        message = await session.scalar(select(Message))
        assert message is not None
        assert message.text == "屏幕坏了😡 <script>x</script>"
        event = await session.scalar(select(PlatformEvent))
        assert event is not None
        assert event.payload == {"refund_id": "R1", "金额": 2999.0}
        profile = await session.scalar(select(AgentProfile))
        assert profile is not None
        assert profile.service_roles == ["presales", "refund"]
        refund_row = await session.scalar(select(Refund))
        assert refund_row is not None
        assert refund_row.deadline_at - refund_row.requested_at == timedelta(days=5)


async def test_naive_datetime_is_rejected(sessions: SessionFactory, shop_id: str) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with sessions.begin() as session:
            session.add(Buyer(shop_id=shop_id, nick="naive", created_at=datetime(2026, 1, 1)))


async def test_event_id_is_unique_per_shop(sessions: SessionFactory, shop_id: str) -> None:
    now = datetime.now(UTC)

    def event() -> PlatformEvent:
        return PlatformEvent(
            shop_id=shop_id,
            event_id="same",
            type="order.paid",
            occurred_at=now,
            payload={},
            status=EventStatus.RECEIVED,
            received_at=now,
        )

    async with sessions.begin() as session:
        session.add(event())
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(event())


async def test_unknown_enum_value_is_rejected(sessions: SessionFactory, shop_id: str) -> None:
    with pytest.raises(StatementError):
        async with sessions.begin() as session:
            session.add(
                User(
                    shop_id=shop_id,
                    username="x",
                    display_name="x",
                    role="janitor",
                    created_at=datetime.now(UTC),
                )
            )
