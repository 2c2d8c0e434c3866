"""The routing engine: load facts, ask the pure roles, save the decision.

One handler per platform event type. Each runs inside the processor's transaction (a
savepoint per event) and leaves queue-index updates and bus events in the outbox, which
the processor flushes after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, assert_never

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import routing as routing_actions
from csdesk.actions.buyers import BuyerSpec, ensure_buyer, refresh_tier
from csdesk.actions.closing import close_conversation
from csdesk.actions.conversations import MessageSpec
from csdesk.actions.events import note_event
from csdesk.actions.messages import add_message
from csdesk.actions.orders import OrderItem as OrderItemSpec
from csdesk.actions.orders import (
    OrderSpec,
    mark_paid,
    mark_shipped,
    record_orders,
    stamp_conversions,
)
from csdesk.actions.outbox import Outbox
from csdesk.actions.ratings import RatingSpec, record_rating
from csdesk.actions.refunds import (
    RefundDeadlines,
    RefundSpec,
    cancel_refund,
    receive_return,
    record_refunds,
)
from csdesk.bus import events as ev
from csdesk.ingest import message_runs
from csdesk.ingest.processor import ClaimedEvent, EventBatch, NotReadyError
from csdesk.platform_events import (
    CallInbound,
    MessageReceived,
    OrderCreated,
    OrderPaid,
    OrderShipped,
    RatingReceived,
    RefundCancelled,
    RefundRequested,
    ReturnReceived,
    record_of,
)
from csdesk.roles import aftersales_triage, hotline, order_review, payment_chasing, presales
from csdesk.roles import refund as refund_role
from csdesk.roles.base import (
    AFTERSALES_INTENTS,
    BuyerFacts,
    ContactFacts,
    Decision,
    Intent,
    RefundFacts,
    Risk,
    contact_decision,
)
from csdesk.roles.triage import TriageResult, classify
from csdesk.routing import facts as loaded
from csdesk.routing.assignment import required_skills
from csdesk.routing.queues.base import WorkQueue
from csdesk.storage.enums import (
    BuyerTier,
    Channel,
    ConversationStatus,
    MessageSender,
    OrderStatus,
    RefundKind,
    RefundStatus,
    ServiceRole,
)
from csdesk.storage.models import Buyer, Conversation, Order, Refund

OPEN = (ConversationStatus.SCHEDULED, ConversationStatus.QUEUED, ConversationStatus.ASSIGNED)
CHASE_KINDS = ("payment_chase", "phone_chase")
POST_PURCHASE = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.RECEIVED)

# -- decisions composed from the roles --------------------------------------------------------


def decide_contact(contact: ContactFacts, ctx: loaded.ShopContext, now: datetime) -> Decision:
    """Which role takes a buyer contact, scored: the shop's intent map, then the role."""
    config = ctx.routing
    role = config.role_for(contact.intent)
    post_purchase = contact.order is not None and contact.order.status in POST_PURCHASE
    if role is ServiceRole.AFTERSALES_TRIAGE or (
        post_purchase and contact.intent in AFTERSALES_INTENTS
    ):
        return aftersales_triage.intake(contact, config)
    if role is ServiceRole.PRESALES:
        return presales.intake(contact, config)
    if role is ServiceRole.REFUND:
        return refund_role.intake_chat(contact, config)
    if role is ServiceRole.HOTLINE:
        return hotline.intake_callback(contact, now, config)
    # Payment questions, address changes, invoices: the role's queue, scored plainly.
    return contact_decision(role, contact, config)


async def _buyer(
    session: AsyncSession, ctx: loaded.ShopContext, nick: str, tier: str | None, at: datetime
) -> tuple[Buyer, bool]:
    """The buyer by nick (created if new, then ``True``), with the platform's tier."""
    buyer, created = await ensure_buyer(
        session,
        ctx.shop_id,
        BuyerSpec(nick=nick, created_at=at, tier=BuyerTier(tier) if tier else BuyerTier.NORMAL),
    )
    refresh_tier(buyer, tier)  # the platform knows the tier best (88VIP changes)
    return buyer, created


async def _skills_for(
    session: AsyncSession, ctx: loaded.ShopContext, buyer: Buyer | None, order: Order | None
) -> frozenset[str]:
    categories: list[str] = []
    if order is not None:
        products = await loaded.products_by_sku(
            session, ctx.shop_id, [i["sku"] for i in order.items]
        )
        categories = [p.category for p in products.values()]
    return required_skills(
        ctx.assignment.skill_rules, buyer.tier.value if buyer else None, categories
    )


async def _open_and_place(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    decision: Decision,
    channel: Channel,
    now: datetime,
    outbox: Outbox,
    **fields: Any,
) -> Conversation:
    conversation = await routing_actions.open_item(
        session, shop_id=ctx.shop_id, decision=decision, channel=channel, now=now, **fields
    )
    if conversation.status is ConversationStatus.QUEUED:
        await routing_actions.place(session, ctx, conversation, now, outbox)
    return conversation


async def _open_followups(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    decision: Decision,
    contact: ContactFacts,
    buyer: Buyer,
    now: datetime,
    outbox: Outbox,
) -> None:
    """Proactive calls and the like that a decision asks for (seed 003: call before the
    complaint happens) — at most one open per buyer and kind."""
    for followup in decision.followups:
        if followup.role is not ServiceRole.HOTLINE:
            continue
        existing = await session.scalar(
            select(Conversation.id)
            .where(
                Conversation.shop_id == ctx.shop_id,
                Conversation.buyer_id == buyer.id,
                Conversation.kind == "proactive_call",
                Conversation.status.in_(OPEN),
            )
            .limit(1)
        )
        if existing is not None:
            continue
        task = hotline.proactive_call_task(contact, followup, ctx.routing)
        await _open_and_place(
            session,
            ctx,
            task,
            Channel.HOTLINE,
            now,
            outbox,
            buyer_id=buyer.id,
            intent=contact.intent.value,
            risk=contact.risk.value,
            not_before=followup.due_at,
            note=followup.reason,
        )


# -- handlers ------------------------------------------------------------------------------------


async def on_message(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    event: MessageReceived,
    at: datetime,
    now: datetime,
    outbox: Outbox,
    *,
    source: ClaimedEvent,
    batch: message_runs.RunBatch | None = None,
) -> None:
    run = await message_runs.run_for(session, batch, source, now) if batch else None
    history = run.history(event.buyer_nick) if run is not None else None
    if history is not None:
        buyer, new_buyer = history.buyer, False
        refresh_tier(buyer, event.buyer_tier)
    else:
        buyer, new_buyer = await _buyer(session, ctx, event.buyer_nick, event.buyer_tier, at)
        if run is not None and new_buyer:
            run.remember_new_buyer(buyer)
            history = run.history(event.buyer_nick)
    triage: TriageResult = classify(event.text, ctx.routing.triage)
    conversation: Conversation | None = None
    order: Order | None = None
    prior_contacts = 0
    day_ago = loaded.day_ago(at)
    if history is not None:
        conversation = _open_chat(history.recent)
        prior_contacts = message_runs.contacts_since(history, day_ago)
        order = history.latest_order
    elif not new_buyer:  # a buyer first seen now has no history to look up
        recent = list(
            await session.scalars(
                select(Conversation)
                .where(
                    Conversation.shop_id == ctx.shop_id,
                    Conversation.buyer_id == buyer.id,
                    Conversation.kind.in_(("chat", "call")),
                    or_(Conversation.opened_at >= day_ago, Conversation.status.in_(OPEN)),
                )
                .order_by(Conversation.id.desc())
                .limit(message_runs.RECENT_LIMIT)
            )
        )
        conversation = _open_chat(recent)
        prior_contacts = sum(1 for c in recent if c.opened_at >= day_ago)
        order = await loaded.latest_order(session, ctx.shop_id, buyer.id)
    contact = ContactFacts(
        channel=Channel.CHAT,
        intent=Intent(triage.intent),
        risk=Risk(triage.risk),
        at=at,
        buyer=loaded.buyer_facts(buyer),
        order=loaded.order_facts(order) if order else None,
        prior_contacts_24h=prior_contacts,
        # A buyer first seen with this message who has ordered nothing: a conversion
        # opportunity for presales.
        first_contact=new_buyer,
        promotion=ctx.promotion,
    )
    decision = decide_contact(contact, ctx, now)
    message = MessageSpec(MessageSender.BUYER, event.text, at, source_event_id=source.id)
    messages = batch.messages if batch else None
    opened = False
    if conversation is None:
        # Another process may be opening this buyer's chat at the same moment: one wins.
        conversation, opened = await routing_actions.open_buyer_chat(
            session,
            shop_id=ctx.shop_id,
            buyer_id=buyer.id,
            decision=decision,
            now=now,
            order_id=order.id if order else None,
            intent=triage.intent,
            risk=triage.risk,
            required_skills=await _skills_for(session, ctx, buyer, order),
            last_buyer_message_at=at,
            sort_key_config=ctx.routing,
        )
        if run is not None:
            run.remember_opened(event.buyer_nick, conversation)
    if opened:
        # Placed first, so the buyer's first message also reaches the agent it went to.
        await routing_actions.place(session, ctx, conversation, now, outbox)
        await add_message(
            session,
            conversation,
            message,
            outbox,
            readers=ev.conversation_readers(conversation.assigned_agent_id),
            batch=messages,
        )
    else:
        await add_message(
            session,
            conversation,
            message,
            outbox,
            readers=ev.conversation_readers(conversation.assigned_agent_id),
            batch=messages,
        )
        await routing_actions.rescore(
            session, ctx, conversation, decision, triage.intent, triage.risk, now, outbox
        )
    await _open_followups(session, ctx, decision, contact, buyer, now, outbox)


def _open_chat(recent: Sequence[Conversation]) -> Conversation | None:
    """The buyer's chat still open, newest first (a buyer has one thread at a time)."""
    return next((c for c in recent if c.kind == "chat" and c.status in OPEN), None)


async def on_order_created(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    event: OrderCreated,
    at: datetime,
    now: datetime,
    outbox: Outbox,
) -> None:
    existing = await session.scalar(
        select(Order.id).where(Order.shop_id == ctx.shop_id, Order.external_id == event.order_id)
    )
    if existing is not None:
        return  # the same order announced twice under two event ids: nothing new
    buyer, _ = await _buyer(session, ctx, event.buyer_nick, event.buyer_tier, at)
    (order_id,) = await record_orders(
        session,
        ctx.shop_id,
        [
            OrderSpec(
                external_id=event.order_id,
                buyer_id=buyer.id,
                status=OrderStatus.CREATED,
                items=tuple(OrderItemSpec(i.sku, i.title, i.qty, i.price_fen) for i in event.items),
                created_at=at,
                amount_fen=event.amount_fen,
                gifts=event.gifts,
                campaign=event.campaign,
                invoice_title=event.invoice_title,
                receiver_name=event.receiver_name,
                receiver_phone=event.receiver_phone,
                address=event.address,
            )
        ],
    )
    order = await session.get(Order, order_id)
    assert order is not None
    decision = payment_chasing.plan_chase(
        loaded.order_facts(order),
        loaded.buyer_facts(buyer),
        0,
        None,
        now,
        ctx.routing,
        ctx.promotion,
    )
    if decision is None:
        return
    await _open_and_place(
        session,
        ctx,
        decision,
        Channel.HOTLINE if decision.role is ServiceRole.HOTLINE else Channel.CHAT,
        now,
        outbox,
        buyer_id=buyer.id,
        order_id=order.id,
        not_before=decision.due_at,
        required_skills=await _skills_for(session, ctx, buyer, order),
    )


ExternalT = TypeVar("ExternalT", Order, Refund)


async def _by_external_id(
    session: AsyncSession, ctx: loaded.ShopContext, model: type[ExternalT], external_id: str
) -> ExternalT:
    row = await session.scalar(
        select(model).where(model.shop_id == ctx.shop_id, model.external_id == external_id)
    )
    if row is None:
        # Events can overtake each other (two web processes, platform retries): wait for
        # the one that records it instead of failing.
        raise NotReadyError(f"{model.__tablename__} {external_id} not recorded yet")
    return row


async def _order(session: AsyncSession, ctx: loaded.ShopContext, external_id: str) -> Order:
    return await _by_external_id(session, ctx, Order, external_id)


async def _close_open(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    queue: WorkQueue,
    where: Any,
    disposition: str,
    now: datetime,
    outbox: Outbox,
    *,
    recovered_fen: int | None = None,
) -> None:
    """Close the shop's open items matching ``where`` through the one close action (their
    holders take their next queued items)."""
    rows = list(
        await session.scalars(
            select(Conversation).where(
                Conversation.shop_id == ctx.shop_id, Conversation.status.in_(OPEN), where
            )
        )
    )
    for conversation in rows:
        await close_conversation(
            session,
            queue,
            conversation,
            disposition,
            now,
            outbox,
            recovered_fen=recovered_fen,
            ctx=ctx,
        )


async def on_order_paid(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    event: OrderPaid,
    at: datetime,
    now: datetime,
    outbox: Outbox,
    *,
    queue: WorkQueue,
) -> None:
    order = await _order(session, ctx, event.order_id)
    if not mark_paid(order, at):
        return
    await stamp_conversions(session, ctx.shop_id, [order.buyer_id])
    # Payment ends the chase; whoever chased gets the recovered amount (催付 KPI).
    await _close_open(
        session,
        ctx,
        queue,
        (Conversation.order_id == order.id) & Conversation.kind.in_(CHASE_KINDS),
        "paid",
        now,
        outbox,
        recovered_fen=order.amount_fen,
    )
    buyer = await session.get(Buyer, order.buyer_id)
    assert buyer is not None
    promised, recent = await loaded.order_check_inputs(session, ctx, order)
    decision = order_review.intake(
        loaded.order_facts(order),
        loaded.buyer_facts(buyer),
        now,
        ctx.routing,
        promised_gifts=promised,
        recent_orders=recent,
        promotion=ctx.promotion,
    )
    if decision is not None:
        await _open_and_place(
            session, ctx, decision, Channel.CHAT, now, outbox, buyer_id=buyer.id, order_id=order.id
        )


async def on_order_shipped(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    event: OrderShipped,
    at: datetime,
    now: datetime,
    outbox: Outbox,
    *,
    queue: WorkQueue,
) -> None:
    order = await _order(session, ctx, event.order_id)
    unpaid = order.paid_at is None
    if not mark_shipped(order, at):
        return
    if unpaid:  # shipped unannounced: paid now
        await stamp_conversions(session, ctx.shop_id, [order.buyer_id])
    # Shipped orders need no pre-shipment review any more.
    await _close_open(
        session,
        ctx,
        queue,
        (Conversation.order_id == order.id) & (Conversation.kind == "order_check"),
        "shipped",
        now,
        outbox,
    )


def _refund_facts(refund: Refund, order_status: OrderStatus, buyer: Buyer) -> RefundFacts:
    return RefundFacts(
        refund_id=refund.id,
        order_id=refund.order_id,
        kind=refund.kind,
        order_status=order_status,
        amount_fen=refund.amount_fen,
        requested_at=refund.requested_at,
        buyer=loaded.buyer_facts(buyer),
        reason=refund.reason,
    )


async def on_refund_requested(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    event: RefundRequested,
    at: datetime,
    now: datetime,
    outbox: Outbox,
) -> None:
    existing = await session.scalar(
        select(Refund.id).where(
            Refund.shop_id == ctx.shop_id, Refund.external_id == event.refund_id
        )
    )
    if existing is not None:
        return
    order = await _order(session, ctx, event.order_id)
    buyer = await session.get(Buyer, order.buyer_id)
    assert buyer is not None
    kind = RefundKind(event.kind)
    shipped = order.status in (OrderStatus.SHIPPED, OrderStatus.RECEIVED)
    if kind is RefundKind.RETURN_AND_REFUND and not shipped:
        kind = RefundKind.REFUND_ONLY  # nothing to send back before shipping
    deadline = refund_role.refund_deadline(kind, order.status, at, ctx.routing)
    cfg = ctx.routing.refund
    (refund_id,) = await record_refunds(
        session,
        ctx.shop_id,
        [
            RefundSpec(
                external_id=event.refund_id,
                order_id=order.id,
                buyer_id=buyer.id,
                kind=kind,
                status=RefundStatus.REQUESTED,
                amount_fen=max(1, event.amount_fen),
                reason=event.reason,
                requested_at=at,
                goods_shipped=shipped,
                deadline_at=deadline,
            )
        ],
        deadlines=RefundDeadlines(
            timedelta(seconds=cfg.unshipped_deadline_s), timedelta(seconds=cfg.shipped_deadline_s)
        ),
    )
    refund = await session.get(Refund, refund_id)
    assert refund is not None
    decision = refund_role.intake(
        _refund_facts(refund, order.status, buyer), ctx.routing, promotion=ctx.promotion
    )
    await _open_and_place(
        session,
        ctx,
        decision,
        Channel.CHAT,
        now,
        outbox,
        buyer_id=buyer.id,
        order_id=order.id,
        refund_id=refund.id,
        intent="refund",
        required_skills=await _skills_for(session, ctx, buyer, order),
    )


async def _refund(session: AsyncSession, ctx: loaded.ShopContext, external_id: str) -> Refund:
    return await _by_external_id(session, ctx, Refund, external_id)


async def on_refund_cancelled(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    event: RefundCancelled,
    at: datetime,
    now: datetime,
    outbox: Outbox,
    *,
    queue: WorkQueue,
) -> None:
    refund = await _refund(session, ctx, event.refund_id)
    if not cancel_refund(refund, at):
        return
    await _close_open(
        session, ctx, queue, Conversation.refund_id == refund.id, "refund_cancelled", now, outbox
    )


async def on_return_received(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    event: ReturnReceived,
    at: datetime,
    now: datetime,
    outbox: Outbox,
) -> None:
    refund = await _refund(session, ctx, event.refund_id)
    if not receive_return(refund):
        return
    order = await session.get(Order, refund.order_id)
    buyer = await session.get(Buyer, refund.buyer_id)
    assert order is not None
    assert buyer is not None
    decision = refund_role.intake_return_received(
        _refund_facts(refund, order.status, buyer), at, ctx.routing, promotion=ctx.promotion
    )
    await _open_and_place(
        session,
        ctx,
        decision,
        Channel.CHAT,
        now,
        outbox,
        buyer_id=buyer.id,
        order_id=order.id,
        refund_id=refund.id,
    )


async def on_call(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    event: CallInbound,
    at: datetime,
    now: datetime,
    outbox: Outbox,
    *,
    source: ClaimedEvent,
) -> None:
    buyer: Buyer | None = None
    if event.buyer_nick:
        buyer, _ = await _buyer(session, ctx, event.buyer_nick, None, at)
    else:
        buyer = await session.scalar(
            select(Buyer)
            .where(Buyer.shop_id == ctx.shop_id, Buyer.phone == event.caller_phone)
            .limit(1)
        )
    order = await loaded.latest_order(session, ctx.shop_id, buyer.id) if buyer else None
    contact = ContactFacts(
        channel=Channel.HOTLINE,
        intent=Intent.OTHER,
        risk=Risk.LOW,
        at=at,
        buyer=loaded.buyer_facts(buyer) if buyer else BuyerFacts(buyer_id=0),
        order=loaded.order_facts(order) if order else None,
        promotion=ctx.promotion,
    )
    decision = hotline.intake_call(contact, ctx.routing)
    await _open_and_place(
        session,
        ctx,
        decision,
        Channel.HOTLINE,
        now,
        outbox,
        buyer_id=buyer.id if buyer else None,
        order_id=order.id if order else None,
        note=f"来电 {event.call_id}",
        # The call card finds the caller's number through the event named on this note.
        source_event_id=source.id,
    )


async def on_rating(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    event: RatingReceived,
    at: datetime,
    now: datetime,
    outbox: Outbox,
    *,
    source: ClaimedEvent,
) -> None:
    """Store the rating against the buyer's most recent conversation; with none to rate,
    unlinked, and the event says why (``processed``, never lost)."""
    recorded = await record_rating(
        session,
        outbox,
        ctx.shop_id,
        RatingSpec(event.buyer_nick, event.score, event.comment, at, source_event_id=source.id),
        now,
        tz=ctx.routing.tz,
    )
    if recorded.note is not None:
        await note_event(session, source.id, recorded.note)


class RoutingEngine:
    """The processor's event handler, with a short-lived cache of shop configuration
    (one query per event saved; a changed setting applies within ``config_ttl_s``).
    ``queue`` is the queue index agents freed by a closing event pull their next item from.
    """

    def __init__(self, queue: WorkQueue, config_ttl_s: float = 2.0) -> None:
        self._queue = queue
        self._contexts = loaded.ShopContextCache(config_ttl_s)

    async def handle_event(
        self,
        session: AsyncSession,
        source: ClaimedEvent,
        now: datetime,
        outbox: Outbox,
        batch: EventBatch | None = None,
    ) -> None:
        """Apply one accepted platform event: its typed record, dispatched by type."""
        run_batch = batch if isinstance(batch, message_runs.RunBatch) else None
        ctx = await self._contexts.get(session, source.shop_id, now)
        # A platform clock running ahead must not make items younger than they are.
        at = min(source.occurred_at, now)
        event = record_of(source.type, source.payload)
        if run_batch is not None and not isinstance(event, MessageReceived):
            await run_batch.end_run(session, outbox)
        queue = self._queue
        match event:
            case MessageReceived():
                await on_message(
                    session, ctx, event, at, now, outbox, source=source, batch=run_batch
                )
            case OrderCreated():
                await on_order_created(session, ctx, event, at, now, outbox)
            case OrderPaid():
                await on_order_paid(session, ctx, event, at, now, outbox, queue=queue)
            case OrderShipped():
                await on_order_shipped(session, ctx, event, at, now, outbox, queue=queue)
            case RefundRequested():
                await on_refund_requested(session, ctx, event, at, now, outbox)
            case RefundCancelled():
                await on_refund_cancelled(session, ctx, event, at, now, outbox, queue=queue)
            case ReturnReceived():
                await on_return_received(session, ctx, event, at, now, outbox)
            case CallInbound():
                await on_call(session, ctx, event, at, now, outbox, source=source)
            case RatingReceived():
                await on_rating(session, ctx, event, at, now, outbox, source=source)
            case _:
                assert_never(event)


__all__ = ["RoutingEngine", "decide_contact"]
