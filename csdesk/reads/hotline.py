"""热线 (hotline) as read: the outbound call lists (phone chases of big unpaid orders,
proactive calls, notice calls, callbacks), a buyer's caller card, and the notice campaigns
with each call's outcome. Looking a caller up by phone number is audited, so that part is
an action (``actions.hotline_work``); the card it shows is read here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import only_own, require
from csdesk.auth.current import CurrentUser
from csdesk.errors import NotFoundError
from csdesk.reads.chases import chase_script
from csdesk.reads.conversations import conversation_json
from csdesk.reads.masking import mask_name, mask_phone
from csdesk.reads.orders import CALLER_CARD, SUMMARY, order_json
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus, RefundStatus
from csdesk.storage.kinds import OPEN
from csdesk.storage.models import AuditLog, Buyer, Conversation, Order, Refund, Shop

WORK_ACCESS: Final = "hotline.work"
CAMPAIGN_ACCESS: Final = "hotline.campaign"
OUTBOUND_KINDS: Final = ("phone_chase", "proactive_call", "notice_call", "callback")
CAMPAIGN_AUDIT: Final = "hotline.notice_campaign"
"""The audit action of a campaign run: its record is the campaign list."""
CAMPAIGN_TAG: Final = "notice:"
MAX_LIST: Final = 500
_OPEN_REFUND: Final = (RefundStatus.REQUESTED, RefundStatus.APPROVED, RefundStatus.RETURN_RECEIVED)


async def caller_card(session: AsyncSession, buyer: Buyer) -> dict[str, Any]:
    orders = list(
        await session.scalars(
            select(Order)
            .where(Order.shop_id == buyer.shop_id, Order.buyer_id == buyer.id)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(5)
        )
    )
    refunds = list(
        await session.scalars(
            select(Refund).where(
                Refund.shop_id == buyer.shop_id,
                Refund.buyer_id == buyer.id,
                Refund.status.in_(_OPEN_REFUND),
            )
        )
    )
    open_items = list(
        await session.scalars(
            select(Conversation).where(
                Conversation.shop_id == buyer.shop_id,
                Conversation.buyer_id == buyer.id,
                Conversation.status.in_(OPEN),
            )
        )
    )
    return {
        "id": buyer.id,
        "nick": buyer.nick,
        "tier": buyer.tier.value,
        "name": mask_name(buyer.name),
        "phone": mask_phone(buyer.phone),
        "orders": [order_json(o, CALLER_CARD) for o in orders],
        "open_refunds": [
            {
                "id": r.id,
                "external_id": r.external_id,
                "status": r.status.value,
                "amount_fen": r.amount_fen,
                "deadline_at": r.deadline_at.isoformat(),
            }
            for r in refunds
        ],
        "open_items": [
            {"id": c.id, "kind": c.kind, "role": c.role, "status": c.status.value}
            for c in open_items
        ],
    }


def campaign_of(conversation: Conversation) -> str | None:
    return next(
        (t[len(CAMPAIGN_TAG) :] for t in conversation.tags if t.startswith(CAMPAIGN_TAG)), None
    )


async def outbound_lists(
    sessions: SessionFactory,
    actor: CurrentUser,
    now: datetime,
    *,
    kinds: Sequence[str] = OUTBOUND_KINDS,
    campaign: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Open outbound calls by kind: agents see theirs and the unassigned ones (what they
    may get next), supervisors every one. Soonest due first."""
    require(actor, WORK_ACCESS)
    query = (
        select(Conversation)
        .where(
            Conversation.shop_id == actor.shop_id,
            Conversation.kind.in_(list(kinds)),
            Conversation.status.in_(OPEN),
        )
        .order_by(Conversation.due_at, Conversation.id)
        .limit(MAX_LIST)
    )
    if only_own(actor, WORK_ACCESS):
        query = query.where(
            or_(
                Conversation.assigned_agent_id == actor.id,
                Conversation.assigned_agent_id.is_(None),
            )
        )
    async with sessions() as session:
        rows = [
            c
            for c in await session.scalars(query)
            if campaign is None or campaign_of(c) == campaign
        ]
        shop_name = await session.scalar(select(Shop.name).where(Shop.id == actor.shop_id)) or ""
        buyers = await by_id(session, Buyer, {c.buyer_id for c in rows})
        orders = await by_id(session, Order, {c.order_id for c in rows})
        unreachable = {c.buyer_id for c in rows if c.order_id is None and c.buyer_id}
        fallback = await contact_orders(
            session, actor.shop_id, [i for i in unreachable if i in buyers and not buyers[i].phone]
        )
    lists: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for c in rows:
        buyer = buyers.get(c.buyer_id or 0)
        order = orders.get(c.order_id or 0)
        phone, phone_order_id = contact_phone(buyer, order or fallback.get(c.buyer_id or 0))
        lists[c.kind].append(
            {
                **conversation_json(c),
                "not_before": c.not_before.isoformat() if c.not_before else None,
                "attempts": c.attempts,
                "campaign": campaign_of(c),
                "buyer": (
                    {
                        "id": buyer.id,
                        "nick": buyer.nick,
                        "tier": buyer.tier.value,
                        "phone": mask_phone(phone),
                        "phone_order_id": phone_order_id,
                    }
                    if buyer
                    else None
                ),
                "order": order_json(order, SUMMARY) if order else None,
                "script": chase_script(shop_name, order) if c.kind == "phone_chase" else None,
            }
        )
    return lists


def contact_phone(buyer: Buyer | None, order: Order | None) -> tuple[str | None, int | None]:
    """The number to call a buyer on, and the order it comes from (None: the buyer's own;
    a reveal of it names that order)."""
    if buyer is not None and buyer.phone:
        return buyer.phone, None
    if order is not None and order.receiver_phone:
        return order.receiver_phone, order.id
    return None, None


async def contact_orders(
    session: AsyncSession, shop_id: str, buyer_ids: Sequence[int]
) -> dict[int, Order]:
    """Per buyer, the latest order with a receiver phone: how to reach a buyer whose call
    is about no order (a proactive call) and who left no phone of their own."""
    if not buyer_ids:
        return {}
    latest: dict[int, Order] = {}
    for order in await session.scalars(
        select(Order)
        .where(
            Order.shop_id == shop_id,
            Order.buyer_id.in_(list(buyer_ids)),
            Order.receiver_phone.is_not(None),
        )
        .order_by(Order.created_at.desc(), Order.id.desc())
    ):
        latest.setdefault(order.buyer_id, order)
    return latest


async def by_id(session: AsyncSession, model: type[Any], ids: set[int | None]) -> dict[int, Any]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {row.id: row for row in await session.scalars(select(model).where(model.id.in_(wanted)))}


async def campaigns(sessions: SessionFactory, actor: CurrentUser) -> list[dict[str, Any]]:
    """Campaign runs, newest first (a name created twice shows twice: two runs)."""
    require(actor, CAMPAIGN_ACCESS)
    async with sessions() as session:
        rows = await session.scalars(
            select(AuditLog)
            .where(AuditLog.shop_id == actor.shop_id, AuditLog.action == CAMPAIGN_AUDIT)
            .order_by(AuditLog.id.desc())
            .limit(100)
        )
        return [
            {
                "name": row.target_id,
                "reason": row.reason,
                "created_by": row.actor_id,
                "at": row.at.isoformat(),
                **row.detail,
            }
            for row in rows
        ]


async def campaign_progress(
    sessions: SessionFactory, actor: CurrentUser, name: str
) -> dict[str, Any]:
    """Every call of the campaign with its outcome per buyer, and the counts."""
    require(actor, CAMPAIGN_ACCESS)
    tag = f"{CAMPAIGN_TAG}{name}"
    async with sessions() as session:
        first_run = await session.scalar(
            select(AuditLog.at)
            .where(
                AuditLog.shop_id == actor.shop_id,
                AuditLog.action == CAMPAIGN_AUDIT,
                AuditLog.target_id == name,
            )
            .order_by(AuditLog.id)
            .limit(1)
        )
        if first_run is None:
            raise NotFoundError(f"campaign {name!r}: not found")
        candidates = await session.scalars(
            select(Conversation)
            .where(
                Conversation.shop_id == actor.shop_id,
                Conversation.kind == "notice_call",
                Conversation.opened_at >= first_run,
            )
            .order_by(Conversation.id)
        )
        calls = [c for c in candidates if tag in c.tags]
        buyers = await by_id(session, Buyer, {c.buyer_id for c in calls})
        orders = await by_id(session, Order, {c.order_id for c in calls})
    by_outcome: dict[str, int] = {}
    for c in calls:
        key = c.disposition if c.status is ConversationStatus.CLOSED else c.status.value
        by_outcome[key or "closed"] = by_outcome.get(key or "closed", 0) + 1
    return {
        "name": name,
        "total": len(calls),
        "open": sum(c.status is not ConversationStatus.CLOSED for c in calls),
        "by_outcome": by_outcome,
        "calls": [
            {
                "conversation_id": c.id,
                "buyer_id": c.buyer_id,
                "buyer_nick": buyers[c.buyer_id].nick if c.buyer_id in buyers else None,
                "order_external_id": (
                    orders[c.order_id].external_id if c.order_id in orders else None
                ),
                "status": c.status.value,
                "outcome": c.disposition if c.status is ConversationStatus.CLOSED else None,
                "assigned_agent_id": c.assigned_agent_id,
                "attempts": c.attempts,
                "closed_at": c.closed_at.isoformat() if c.closed_at else None,
            }
            for c in calls
        ],
    }


__all__ = [
    "CAMPAIGN_ACCESS",
    "CAMPAIGN_AUDIT",
    "CAMPAIGN_TAG",
    "MAX_LIST",
    "OUTBOUND_KINDS",
    "WORK_ACCESS",
    "by_id",
    "caller_card",
    "campaign_of",
    "campaign_progress",
    "campaigns",
    "contact_orders",
    "contact_phone",
    "outbound_lists",
]
