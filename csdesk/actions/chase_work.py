"""订单催付 (payment chasing) at the desk: my chase list, a chase's outcome, and the
chasers' recovered amounts (the seed's KPI: chased orders paid, recovered amount).

A chase is ``payment_chase`` (chat) or ``phone_chase`` (hotline, big orders). Between
attempts it waits ``scheduled`` with nobody assigned; the buyer's chase claim (one chaser
per buyer, no 抢单) is what keeps it "mine", so the list reads the claim.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import workbench
from csdesk.actions.chasing import CHASE_CLAIM
from csdesk.actions.closing import close_conversation
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.pii import mask_phone
from csdesk.actions.routing import CHASE_KINDS, conversation_json
from csdesk.actions.work_items import (
    InputError,
    ItemConflictError,
    access_item_by_id,
)
from csdesk.auth.access import only_own
from csdesk.auth.current import CurrentUser
from csdesk.roles import hotline, payment_chasing
from csdesk.roles.config import RoutingConfig
from csdesk.routing import facts as loaded
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus
from csdesk.storage.models import Buyer, BuyerClaim, Conversation, Order, Shop, User

ACCESS: Final = "chase.work"
KPI_ACCESS: Final = "chase.kpi"
KEEP_CHASING: Final = ("paid_promised", "no_answer", "busy")
"""The buyer may still pay: the next attempt is scheduled (quiet hours, at most N a day)."""
STOP_CHASING: Final = ("declined", "wrong_number")
"""Chasing again would only annoy (or reach a stranger): the chase ends here."""
OUTCOMES: Final = (*KEEP_CHASING, *STOP_CHASING)


def chase_script(shop_name: str, order: Order | None) -> str:
    """The seed's polite opening (an offer to help, never pressure), for chat and phone."""
    item = order.items[0].get("title", "") if order is not None and order.items else "宝贝"
    return hotline.phone_chase_script(shop_name, item or "宝贝")


def chat_script(shop_name: str, buyer: Buyer | None, order: Order | None) -> str | None:
    """The 旺旺 message for a chat chase, filled with the buyer's nick, order and amount."""
    if order is None:
        return None
    item = order.items[0].get("title", "") if order.items else ""
    return payment_chasing.chat_chase_script(
        shop_name, buyer.nick if buyer else "", order.external_id, order.amount_fen, item
    )


def quiet_hours(config: RoutingConfig) -> dict[str, Any]:
    """The shop's no-contact hours (免打扰, shop time): chat chases, and phone chases (which
    also keep the hotline's outbound quiet hours)."""
    pc, hc = config.payment_chasing, config.hotline
    return {
        "timezone": config.timezone,
        "chat": {"start": str(pc.quiet_start), "end": str(pc.quiet_end)},
        "phone": {"start": str(hc.outbound_quiet_start), "end": str(hc.outbound_quiet_end)},
    }


async def _rows_json(
    session: AsyncSession, shop_id: str, rows: list[Conversation], now: datetime
) -> list[dict[str, Any]]:
    shop_name = await session.scalar(select(Shop.name).where(Shop.id == shop_id)) or ""
    config = (await loaded.load_shop_context(session, shop_id)).routing
    order_ids = {c.order_id for c in rows if c.order_id is not None}
    buyer_ids = {c.buyer_id for c in rows if c.buyer_id is not None}
    orders = {o.id: o for o in await session.scalars(select(Order).where(Order.id.in_(order_ids)))}
    buyers = {b.id: b for b in await session.scalars(select(Buyer).where(Buyer.id.in_(buyer_ids)))}
    items = []
    for conversation in rows:
        order = orders.get(conversation.order_id or 0)
        buyer = buyers.get(conversation.buyer_id or 0)
        # When the buyer may be contacted: the scheduled time, else now; either moved
        # past the quiet hours (免打扰) that apply to the chase's channel.
        phone = conversation.kind == "phone_chase"
        quiet_now = payment_chasing.contact_allowed_at(now, config, phone=phone) > now
        allowed_at = payment_chasing.contact_allowed_at(
            max(conversation.not_before or now, now), config, phone=phone
        )
        items.append(
            {
                **conversation_json(conversation),
                "attempts": conversation.attempts,
                "next_chase_at": (
                    conversation.not_before.isoformat() if conversation.not_before else None
                ),
                "buyer": (
                    {"id": buyer.id, "nick": buyer.nick, "tier": buyer.tier.value}
                    if buyer
                    else None
                ),
                "order": (
                    {
                        "id": order.id,
                        "external_id": order.external_id,
                        "status": order.status.value,
                        "amount_fen": order.amount_fen,
                        "items": order.items,
                        "created_at": order.created_at.isoformat(),
                        "receiver_phone": mask_phone(order.receiver_phone),
                    }
                    if order
                    else None
                ),
                "script": chase_script(shop_name, order),
                "chat_script": chat_script(shop_name, buyer, order),
                "allowed_at": allowed_at.isoformat(),
                "quiet_now": quiet_now,
            }
        )
    return items


async def my_chases(
    sessions: SessionFactory, shop_id: str, agent_id: int, now: datetime
) -> list[dict[str, Any]]:
    """The chases in hand (assigned) first, then those waiting for their next attempt
    whose buyer this agent holds the chase claim on, soonest first."""
    async with sessions() as session:
        in_hand = list(
            await session.scalars(
                select(Conversation)
                .where(
                    Conversation.shop_id == shop_id,
                    Conversation.kind.in_(CHASE_KINDS),
                    Conversation.status == ConversationStatus.ASSIGNED,
                    Conversation.assigned_agent_id == agent_id,
                )
                .order_by(Conversation.assigned_at, Conversation.id)
            )
        )
        waiting = list(
            await session.scalars(
                select(Conversation)
                .join(
                    BuyerClaim,
                    and_(
                        BuyerClaim.shop_id == Conversation.shop_id,
                        BuyerClaim.buyer_id == Conversation.buyer_id,
                        BuyerClaim.kind == CHASE_CLAIM,
                    ),
                )
                .where(
                    Conversation.shop_id == shop_id,
                    Conversation.kind.in_(CHASE_KINDS),
                    Conversation.status == ConversationStatus.SCHEDULED,
                    BuyerClaim.agent_id == agent_id,
                    BuyerClaim.expires_at > now,
                )
                .order_by(Conversation.not_before, Conversation.id)
            )
        )
        return await _rows_json(session, shop_id, in_hand + waiting, now)


async def record_outcome(
    deps: Deps, actor: CurrentUser, conversation_id: int, outcome: str, now: datetime
) -> dict[str, Any]:
    """One chase made: count it (``workbench.record_chase_attempt`` schedules the next one
    or ends the chase); a refusal or a wrong number ends it at once. A supervisor may
    record for the chaser; the attempt stays the chaser's (their KPI)."""
    if outcome not in OUTCOMES:
        raise InputError("outcome", f"must be one of {', '.join(OUTCOMES)}")
    async with deps.sessions() as session:
        conversation = await access_item_by_id(
            session, actor, conversation_id, ACCESS, CHASE_KINDS, lock=False
        )
        if conversation.status is not ConversationStatus.ASSIGNED:
            raise ItemConflictError(
                f"conversation {conversation_id}: is {conversation.status.value}; "
                "record an outcome while the chase is in hand"
            )
        chaser = conversation.assigned_agent_id
    assert chaser is not None
    # The write is record_chase_attempt's own transaction; it re-checks the row, so a
    # change in between surfaces as its WorkError (409), never as a double count.
    next_at = await workbench.record_chase_attempt(
        deps, actor.shop_id, chaser, conversation_id, outcome, now
    )
    if outcome in STOP_CHASING and next_at is not None:
        async with transaction(deps) as (session, outbox):
            waiting = await session.get(Conversation, conversation_id, with_for_update=True)
            if waiting is not None and waiting.status is ConversationStatus.SCHEDULED:
                await close_conversation(
                    session, deps.queue, waiting, f"chase_{outcome}", now, outbox, by=actor.id
                )
        next_at = None
    async with deps.sessions() as session:
        final = await session.get(Conversation, conversation_id)
        assert final is not None
        return {
            "conversation": conversation_json(final),
            "outcome": outcome,
            "next_chase_at": next_at.isoformat() if next_at else None,
        }


async def recovered_by_chaser(
    sessions: SessionFactory, actor: CurrentUser, since: datetime
) -> dict[str, Any]:
    """Per chaser since ``since``: chases ended, how many paid, the amount recovered."""
    # Between attempts a chase has nobody assigned; the agent it was last given to stays
    # its protection owner (set on every assignment), so that is the chaser credited.
    chaser = func.coalesce(Conversation.assigned_agent_id, Conversation.protection_owner_id)
    paid = func.sum(func.coalesce(Conversation.recovered_fen, 0))
    query = (
        select(
            chaser.label("chaser"),
            func.count().label("ended"),
            func.count(Conversation.recovered_fen).label("paid"),
            paid.label("recovered_fen"),
            func.sum(Conversation.attempts).label("attempts"),
        )
        .where(
            Conversation.shop_id == actor.shop_id,
            Conversation.kind.in_(CHASE_KINDS),
            Conversation.status == ConversationStatus.CLOSED,
            Conversation.closed_at >= since,
            chaser.is_not(None),
        )
        .group_by(chaser)
    )
    if only_own(actor, KPI_ACCESS):
        query = query.where(chaser == actor.id)
    async with sessions() as session:
        rows = (await session.execute(query)).all()
        users = {
            u.id: u
            for u in await session.scalars(
                select(User).where(User.id.in_([row.chaser for row in rows]))
            )
        }
    chasers = [
        {
            "agent_id": row.chaser,
            "username": users[row.chaser].username if row.chaser in users else None,
            "display_name": users[row.chaser].display_name if row.chaser in users else None,
            "chases_ended": int(row.ended),
            "paid": int(row.paid),
            "recovered_fen": int(row.recovered_fen or 0),
            "attempts": int(row.attempts or 0),
        }
        for row in rows
    ]
    chasers.sort(key=lambda c: (-c["recovered_fen"], c["agent_id"]))
    return {
        "since": since.isoformat(),
        "chasers": chasers,
        "total_recovered_fen": sum(c["recovered_fen"] for c in chasers),
    }


__all__ = [
    "OUTCOMES",
    "chase_script",
    "chat_script",
    "my_chases",
    "quiet_hours",
    "record_outcome",
    "recovered_by_chaser",
]
