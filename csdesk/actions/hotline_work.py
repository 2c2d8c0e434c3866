"""热线 (hotline) at the desk: the inbound caller card, the outbound call lists, a call's
outcome, and notice campaigns (通知外呼).

Outbound work, in the seed's order: phone chases of big unpaid orders, proactive calls to
buyers showing complaint risk, bulk notices (a 双十一 presale that cannot ship within 7
days). A supervisor creates a notice campaign from a filter over orders; each matching
buyer gets one ``notice_call`` (``roles.hotline.notice_calls``: at an allowed hour, bigger
orders first), tagged ``notice:<name>`` so the campaign's progress is one query, and the
outcome of every call is kept on its item (``disposition``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.closing import close_conversation
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.routing import open_item, place
from csdesk.actions.work_items import (
    OPEN,
    InputError,
    access_item_by_id,
    add_tags,
    mark_acted,
    note,
    optional_text,
    publish_queue_depths,
    required_text,
)
from csdesk.auth.access import AccessDeniedError, require
from csdesk.auth.current import CurrentUser
from csdesk.reads.conversations import conversation_json
from csdesk.reads.hotline import (
    CAMPAIGN_ACCESS,
    CAMPAIGN_AUDIT,
    CAMPAIGN_TAG,
    WORK_ACCESS,
    by_id,
    caller_card,
    campaign_of,
    contact_orders,
    contact_phone,
)
from csdesk.reads.masking import mask_phone
from csdesk.reads.orders import CALLER_CARD, order_json
from csdesk.roles import hotline
from csdesk.routing import facts as loaded
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import (
    Channel,
    ConversationStatus,
    MessageSender,
    OrderStatus,
    ServiceRole,
    UserRole,
)
from csdesk.storage.models import (
    AgentProfile,
    Buyer,
    Conversation,
    Message,
    Order,
    PlatformEvent,
)

LOOKUP_ACCESS: Final = "hotline.lookup"
CALL_KINDS: Final = ("proactive_call", "notice_call", "callback")
"""Outbound calls whose outcome is recorded here (a phone chase is a chase: chase_work)."""
CALL_OUTCOMES: Final = ("reached", "no_answer", "busy", "wrong_number", "refused")
CALL_ITEM_KINDS: Final = ("call", *CALL_KINDS)
"""What the call page opens: an inbound call, and the outbound calls logged here."""
MAX_CAMPAIGN_NAME: Final = 40
MAX_CAMPAIGN_ORDERS: Final = 5000
"""More matches than this is a filter mistake, not a campaign; the supervisor narrows it."""


# -- inbound: who is calling ------------------------------------------------------------


def normalize_phone(raw: str) -> str:
    """Digits only, without a +86 / 86 prefix; 400 (``phone``) when it cannot be a number."""
    digits = re.sub(r"\D", "", raw or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not 5 <= len(digits) <= 15:
        raise InputError("phone", "must be a phone number (5 to 15 digits)")
    return digits


async def _holds_hotline(session: AsyncSession, actor: CurrentUser) -> bool:
    if actor.role is not UserRole.AGENT:
        return True
    profile = await session.get(AgentProfile, actor.id)
    return profile is not None and ServiceRole.HOTLINE.value in profile.service_roles


async def lookup_caller(
    sessions: SessionFactory, actor: CurrentUser, phone: str, now: datetime
) -> dict[str, Any]:
    """The inbound call card: buyers with this phone (their own or an order's receiver),
    masked, with recent orders, open refunds and open items. Agents must hold the hotline
    role; every lookup leaves an audit row (a phone number is buyer data)."""
    require(actor, LOOKUP_ACCESS)
    digits = normalize_phone(phone)
    async with sessions.begin() as session:
        if not await _holds_hotline(session, actor):
            raise AccessDeniedError(actor, LOOKUP_ACCESS)
        return await _phone_card(session, actor, phone, digits, now)


async def _phone_card(
    session: AsyncSession, actor: CurrentUser, phone: str, digits: str, now: datetime
) -> dict[str, Any]:
    """Buyers with this number, as caller cards; the lookup leaves an audit row."""
    candidates = sorted({digits, phone.strip(), f"+86{digits}"})
    by_order = select(Order.buyer_id).where(
        Order.shop_id == actor.shop_id, Order.receiver_phone.in_(candidates)
    )
    buyers = list(
        await session.scalars(
            select(Buyer)
            .where(
                Buyer.shop_id == actor.shop_id,
                or_(Buyer.phone.in_(candidates), Buyer.id.in_(by_order)),
            )
            .order_by(Buyer.id)
            .limit(10)
        )
    )
    cards = [await caller_card(session, buyer) for buyer in buyers]
    audit.record(
        session,
        shop_id=actor.shop_id,
        actor_id=actor.id,
        action="hotline.lookup",
        target_type="phone",
        target_id=mask_phone(digits) or "",
        at=now,
        detail={"buyer_ids": [b.id for b in buyers]},
    )
    return {"phone": mask_phone(digits), "buyers": cards}


async def _inbound_phone(session: AsyncSession, conversation: Conversation) -> str | None:
    """The number an inbound call came from: the ``call.inbound`` event its opening note
    names (``message.source_event_id``), read by primary key."""
    phone: str | None = await session.scalar(
        select(PlatformEvent.payload["caller_phone"].as_string())
        .join(Message, Message.source_event_id == PlatformEvent.id)
        .where(
            Message.conversation_id == conversation.id,
            Message.sender == MessageSender.SYSTEM,
            PlatformEvent.shop_id == conversation.shop_id,
            PlatformEvent.type == "call.inbound",
        )
        .order_by(Message.id)
        .limit(1)
    )
    return phone


async def call_item_view(
    sessions: SessionFactory, actor: CurrentUser, conversation_id: int, now: datetime
) -> dict[str, Any]:
    """One call item for the call page: the item, why it was opened (its system notes),
    its order, and the caller card. An inbound call's card is the buyers its number finds
    (a lookup, audited; holding the call is what allows it); an outbound call's card is
    the buyer called. Which outcomes it takes: ``outcomes`` (``record_call_outcome``), or
    none for an inbound call, which closes like a chat (with a disposition)."""
    async with sessions.begin() as session:
        conversation = await access_item_by_id(
            session,
            actor,
            conversation_id,
            WORK_ACCESS,
            CALL_ITEM_KINDS,
            allow_closed=True,
            lock=False,
        )
        notes = list(
            await session.scalars(
                select(Message.text)
                .where(
                    Message.conversation_id == conversation.id,
                    Message.sender == MessageSender.SYSTEM,
                )
                .order_by(Message.id)
                .limit(20)
            )
        )
        buyer = await session.get(Buyer, conversation.buyer_id) if conversation.buyer_id else None
        order = await session.get(Order, conversation.order_id) if conversation.order_id else None
        caller: dict[str, Any] = {"phone": None, "phone_order_id": None, "buyers": []}
        raw_phone = (
            await _inbound_phone(session, conversation) if conversation.kind == "call" else None
        )
        if raw_phone is not None:
            try:
                digits = normalize_phone(raw_phone)
            except InputError:
                digits = None  # a withheld or garbled number: nobody to look up
            if digits is not None:
                caller.update(await _phone_card(session, actor, raw_phone, digits, now))
        elif buyer is not None:
            contact = order
            if contact is None and not buyer.phone:
                fallback = await contact_orders(session, actor.shop_id, [buyer.id])
                contact = fallback.get(buyer.id)
            phone, caller["phone_order_id"] = contact_phone(buyer, contact)
            caller["phone"] = mask_phone(phone)
        if buyer is not None and buyer.id not in {card["id"] for card in caller["buyers"]}:
            caller["buyers"].insert(0, await caller_card(session, buyer))
        return {
            "conversation": {
                **conversation_json(conversation),
                "disposition": conversation.disposition,
                "closed_at": conversation.closed_at.isoformat() if conversation.closed_at else None,
                "not_before": (
                    conversation.not_before.isoformat() if conversation.not_before else None
                ),
                "attempts": conversation.attempts,
            },
            "campaign": campaign_of(conversation),
            "notes": notes,
            "order": order_json(order, CALLER_CARD) if order is not None else None,
            "caller": caller,
            "outcomes": list(CALL_OUTCOMES) if conversation.kind in CALL_KINDS else [],
        }


# -- outbound: lists and outcomes --------------------------------------------------------


async def record_call_outcome(
    deps: Deps,
    actor: CurrentUser,
    conversation_id: int,
    outcome: str,
    now: datetime,
    *,
    note_text: str = "",
) -> dict[str, Any]:
    """One outbound call made: the outcome closes the item as its disposition
    (``call_reached``, ``call_no_answer`` ...), which is the campaign's per-buyer result."""
    if outcome not in CALL_OUTCOMES:
        raise InputError("outcome", f"must be one of {', '.join(CALL_OUTCOMES)}")
    comment = optional_text(note_text, "note")
    async with transaction(deps) as (session, outbox):
        conversation = await access_item_by_id(
            session, actor, conversation_id, WORK_ACCESS, CALL_KINDS
        )
        conversation.attempts += 1
        conversation.last_attempt_at = now
        mark_acted(conversation, now)
        note(
            session,
            conversation,
            f"呼出结果: {outcome}" + (f" ({comment})" if comment else ""),
            now,
        )
        await close_conversation(
            session,
            deps.queue,
            conversation,
            f"call_{outcome}",
            now,
            outbox,
            by=actor.id,
            tags=(f"outcome:{outcome}",),
        )
        return {"conversation": conversation_json(conversation), "outcome": outcome}


# -- notice campaigns -------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignFilter:
    """Which orders' buyers get the notice. ``campaign`` or ``skus`` is required: a notice
    to every buyer of the shop is not a campaign."""

    campaign: str | None = None
    """The order's marketing campaign (e.g. the presale's name)."""
    skus: tuple[str, ...] = ()
    statuses: tuple[OrderStatus, ...] = (OrderStatus.PAID,)
    """Default: paid and not shipped yet (the ones a late shipment affects)."""
    created_from: datetime | None = None
    created_to: datetime | None = None
    min_amount_fen: int | None = None

    def __post_init__(self) -> None:
        if not self.campaign and not self.skus:
            raise InputError(
                "filter", "give campaign or skus (a notice to everyone is not a campaign)"
            )
        if not self.statuses:
            raise InputError("filter.statuses", "must name at least one order status")
        if self.created_from and self.created_to and self.created_to <= self.created_from:
            raise InputError("filter.created_to", "must be after created_from")

    def as_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "skus": list(self.skus),
            "statuses": [s.value for s in self.statuses],
            "created_from": self.created_from.isoformat() if self.created_from else None,
            "created_to": self.created_to.isoformat() if self.created_to else None,
            "min_amount_fen": self.min_amount_fen,
        }


@dataclass(frozen=True)
class CampaignResult:
    name: str
    orders_matched: int
    buyers: int
    created: int
    already_open: int
    """Buyers who already have an open call of this campaign (creating twice is harmless)."""
    conversation_ids: list[int] = field(default_factory=list)
    dry_run: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "orders_matched": self.orders_matched,
            "buyers": self.buyers,
            "created": self.created,
            "already_open": self.already_open,
            "conversation_ids": self.conversation_ids,
            "dry_run": self.dry_run,
        }


def campaign_name(raw: str | None) -> str:
    name = required_text(raw, "name", max_chars=MAX_CAMPAIGN_NAME)
    if any(ch.isspace() and ch != " " for ch in name):
        raise InputError("name", "must be one line")
    return name


async def _matching_orders(
    session: AsyncSession, shop_id: str, spec: CampaignFilter
) -> list[Order]:
    query = select(Order).where(Order.shop_id == shop_id, Order.status.in_(spec.statuses))
    if spec.campaign:
        query = query.where(Order.campaign == spec.campaign)
    if spec.created_from:
        query = query.where(Order.created_at >= spec.created_from)
    if spec.created_to:
        query = query.where(Order.created_at < spec.created_to)
    if spec.min_amount_fen is not None:
        query = query.where(Order.amount_fen >= spec.min_amount_fen)
    # SKUs live in the items JSON, read portably here; the cap bounds the scan.
    scan_cap = MAX_CAMPAIGN_ORDERS * (4 if spec.skus else 1)
    rows = list(await session.scalars(query.order_by(Order.id).limit(scan_cap + 1)))
    if len(rows) > scan_cap:
        raise InputError("filter", f"matches more than {scan_cap} orders; narrow it")
    if spec.skus:
        wanted = set(spec.skus)
        rows = [o for o in rows if any(i.get("sku") in wanted for i in o.items)]
    if len(rows) > MAX_CAMPAIGN_ORDERS:
        raise InputError("filter", f"matches more than {MAX_CAMPAIGN_ORDERS} orders; narrow it")
    return rows


async def create_notice_campaign(
    deps: Deps,
    actor: CurrentUser,
    name: str,
    reason: str,
    spec: CampaignFilter,
    now: datetime,
    *,
    dry_run: bool = False,
) -> CampaignResult:
    """One notice call per matching buyer (their biggest matching order is the one the
    call is about). ``dry_run`` counts without creating anything."""
    require(actor, CAMPAIGN_ACCESS)
    name = campaign_name(name)
    why = required_text(reason, "reason")
    tag = f"{CAMPAIGN_TAG}{name}"
    async with transaction(deps) as (session, outbox):
        ctx = await loaded.load_shop_context(session, actor.shop_id)
        orders = await _matching_orders(session, actor.shop_id, spec)
        biggest: dict[int, Order] = {}
        for order in orders:
            held = biggest.get(order.buyer_id)
            if held is None or (order.amount_fen, -order.id) > (held.amount_fen, -held.id):
                biggest[order.buyer_id] = order
        open_calls = await session.scalars(
            select(Conversation).where(
                Conversation.shop_id == actor.shop_id,
                Conversation.kind == "notice_call",
                Conversation.status.in_(OPEN),
                Conversation.buyer_id.in_(list(biggest)),
            )
        )
        already = {c.buyer_id for c in open_calls if tag in c.tags}
        todo = [o for buyer_id, o in sorted(biggest.items()) if buyer_id not in already]
        if dry_run:
            return CampaignResult(name, len(orders), len(biggest), 0, len(already), dry_run=True)
        buyers = await by_id(session, Buyer, {o.buyer_id for o in todo})
        decisions = hotline.notice_calls(
            [(loaded.order_facts(o), loaded.buyer_facts(buyers[o.buyer_id])) for o in todo],
            why,
            now,
            ctx.routing,
        )
        ids: list[int] = []
        for order, decision in zip(todo, decisions, strict=True):
            item = await open_item(
                session,
                shop_id=actor.shop_id,
                decision=decision,
                channel=Channel.HOTLINE,
                now=now,
                buyer_id=order.buyer_id,
                order_id=order.id,
                not_before=decision.due_at,
                sort_key_config=ctx.routing,
            )
            add_tags(item, tag)
            if item.status is ConversationStatus.QUEUED:
                await place(session, ctx, item, now, outbox)
            ids.append(item.id)
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action=CAMPAIGN_AUDIT,
            target_type="campaign",
            target_id=name,
            at=now,
            reason=why,
            detail={
                "filter": spec.as_json(),
                "orders_matched": len(orders),
                "buyers": len(biggest),
                "created": len(ids),
                "already_open": len(already),
            },
        )
        await publish_queue_depths(session, actor.shop_id, [ServiceRole.HOTLINE.value], outbox)
    return CampaignResult(name, len(orders), len(biggest), len(ids), len(already), ids)


__all__ = [
    "CALL_ITEM_KINDS",
    "CALL_OUTCOMES",
    "CampaignFilter",
    "CampaignResult",
    "call_item_view",
    "create_notice_campaign",
    "lookup_caller",
    "normalize_phone",
    "record_call_outcome",
]
