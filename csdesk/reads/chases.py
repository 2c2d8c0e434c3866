"""订单催付 (payment chasing) as read: a chaser's list (in hand first, then those waiting
for their next attempt on buyers this chaser holds the claim on), when each buyer may be
contacted (quiet hours, 免打扰), the scripts, and the chasers' recovered amounts (the
seed's KPI: chased orders paid, recovered amount)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import only_own
from csdesk.auth.current import CurrentUser
from csdesk.reads.conversations import conversation_json
from csdesk.reads.orders import CHASE, order_json
from csdesk.roles import hotline, payment_chasing
from csdesk.roles.config import RoutingConfig
from csdesk.routing import facts as loaded
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus, ServiceRole
from csdesk.storage.kinds import CHASE_CLAIM, CHASE_KINDS
from csdesk.storage.models import AgentProfile, Buyer, BuyerClaim, Conversation, Order, Shop, User

ACCESS: Final = "chase.work"
KPI_ACCESS: Final = "chase.kpi"
CHASER_ROLES: Final = frozenset({ServiceRole.PAYMENT_CHASING.value, ServiceRole.HOTLINE.value})
"""Who may hold chases: chat chasers, and the hotline for phone chases of big orders."""


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
                "order": order_json(order, CHASE) if order else None,
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


async def chasers(sessions: SessionFactory, shop_id: str) -> list[dict[str, Any]]:
    """Agents of the shop who may hold chases, for a supervisor's picker."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(User.id, User.display_name, AgentProfile.service_roles)
                .join(AgentProfile, AgentProfile.user_id == User.id)
                .where(User.shop_id == shop_id, User.is_active.is_(True))
                .order_by(User.display_name, User.id)
            )
        ).all()
    return [
        {"id": user_id, "display_name": name}
        for user_id, name, roles in rows
        if CHASER_ROLES & set(roles or ())
    ]


async def list_owner(
    sessions: SessionFactory, user: CurrentUser, agent_id: int | None, item_id: int | None
) -> tuple[int, str]:
    """Whose list the page shows (and their name): an agent's is always their own; a
    supervisor's is the one asked for, else the chaser of the item asked for, else theirs."""
    owner = user.id
    async with sessions() as session:
        if not only_own(user, ACCESS):
            if agent_id is not None:
                owner = agent_id
            elif item_id is not None:
                item = await session.get(Conversation, item_id)
                if item is not None and item.shop_id == user.shop_id and item.kind in CHASE_KINDS:
                    owner = item.assigned_agent_id or item.protection_owner_id or owner
        person = await session.get(User, owner)
        if person is None or person.shop_id != user.shop_id:
            owner, name = user.id, user.display_name
        else:
            name = person.display_name
    return owner, name


__all__ = [
    "ACCESS",
    "CHASER_ROLES",
    "KPI_ACCESS",
    "chase_script",
    "chasers",
    "chat_script",
    "list_owner",
    "my_chases",
    "quiet_hours",
    "recovered_by_chaser",
]
