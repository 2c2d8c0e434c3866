"""Erasing a buyer's personal data on request (PIPL 个人信息删除权).

What goes: the buyer's name, phone and address (on the buyer and on every order they
placed, invoice titles too), their nick (replaced by a pseudonym naming the row), and the
same data inside every message of their conversations (the buyer's, the agents', notes),
refund reasons and the platform events that carried it. What stays: the buyer row, their
orders, refunds and conversations with every count, time, role and score, so reports, QC
and the dashboard still count them; the transcripts, with the personal data masked.
One transaction, audited (``pii.erase``, without the erased values); owners and admins only
(``pii.erase``), or the operator at the command line (``csdesk buyer erase``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, NotFoundError
from csdesk.reads.masking import ERASED_ADDRESS, ERASED_NAME, ERASED_PHONE, scrub_text
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import Buyer, Conversation, Message, Order, PlatformEvent, Refund

MAX_REASON_CHARS: Final = 200
PSEUDONYM_PREFIX: Final = "已删除买家-"
"""An erased buyer's nick: ``已删除买家-<id>`` (unique in the shop, names no one)."""
_PAYLOAD_PHONES: Final = ("receiver_phone", "caller_phone", "phone")
_PAYLOAD_ADDRESSES: Final = ("address",)
_PAYLOAD_NAMES: Final = ("receiver_name", "name", "invoice_title")


@dataclass(frozen=True)
class Erased:
    buyer_id: int
    pseudonym: str
    orders: int
    messages: int
    refunds: int
    events: int
    conversations: int
    """Kept, and still counted: only what they said was masked."""

    def to_json(self) -> dict[str, Any]:
        return {
            "buyer_id": self.buyer_id,
            "nick": self.pseudonym,
            "orders_cleared": self.orders,
            "messages_masked": self.messages,
            "refunds_masked": self.refunds,
            "events_masked": self.events,
            "conversations_kept": self.conversations,
        }


def _scrub_payload(
    payload: dict[str, Any], nick: str, pseudonym: str, known: list[str], names: list[str]
) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in payload.items():
        if key == "buyer_nick" and value == nick:
            cleaned[key] = pseudonym
        elif key in _PAYLOAD_PHONES and value:
            cleaned[key] = ERASED_PHONE
        elif key in _PAYLOAD_ADDRESSES and value:
            cleaned[key] = ERASED_ADDRESS
        elif key in _PAYLOAD_NAMES and value:
            cleaned[key] = ERASED_NAME
        elif isinstance(value, str):
            cleaned[key] = scrub_text(value, known=known, names=names).replace(nick, pseudonym)
        else:
            cleaned[key] = value
    return cleaned


async def _buyer(
    session: AsyncSession, shop_id: str, buyer_id: int | None, nick: str | None
) -> Buyer:
    query = select(Buyer).where(Buyer.shop_id == shop_id).with_for_update()
    if buyer_id is not None:
        query = query.where(Buyer.id == buyer_id)
    elif nick:
        query = query.where(Buyer.nick == nick)
    else:
        raise BadInputError("nick", "name the buyer (their nick) to erase")
    buyer = await session.scalar(query)
    if buyer is None:
        raise NotFoundError(f"buyer {nick if buyer_id is None else buyer_id}: not found in shop")
    return buyer


async def erase_buyer(
    sessions: SessionFactory,
    actor: CurrentUser | None,
    shop_id: str,
    now: datetime,
    *,
    reason: str,
    buyer_id: int | None = None,
    nick: str | None = None,
) -> Erased:
    """Erase one buyer's personal data (see the module). ``actor`` None is the operator at
    the command line; a user must hold ``pii.erase`` in ``shop_id``."""
    reason = reason.strip()
    if not reason:
        raise BadInputError("reason", "say why (the request's reference) (请填写删除原因)")
    if actor is not None:
        require(actor, "pii.erase")
        shop_id = actor.shop_id
    async with sessions.begin() as session:
        buyer = await _buyer(session, shop_id, buyer_id, nick)
        if buyer.nick.startswith(PSEUDONYM_PREFIX):
            raise NotFoundError(f"buyer {buyer.id}: already erased")
        orders = list(
            await session.scalars(
                select(Order).where(Order.shop_id == shop_id, Order.buyer_id == buyer.id)
            )
        )
        original_nick = buyer.nick
        pseudonym = f"{PSEUDONYM_PREFIX}{buyer.id}"
        phones = [p for p in (buyer.phone, *(o.receiver_phone for o in orders)) if p]
        known = [*phones, *(a for a in (buyer.address, *(o.address for o in orders)) if a)]
        names = [n for n in (buyer.name, *(o.receiver_name for o in orders)) if n]

        def scrub(text: str) -> str:
            return scrub_text(text, known=known, names=names).replace(original_nick, pseudonym)

        buyer.nick, buyer.name, buyer.phone, buyer.address = pseudonym, None, None, None
        for order in orders:
            order.receiver_name = order.receiver_phone = order.address = None
            order.invoice_title = None
        conversation_ids = list(
            await session.scalars(
                select(Conversation.id).where(
                    Conversation.shop_id == shop_id, Conversation.buyer_id == buyer.id
                )
            )
        )
        masked_messages = 0
        if conversation_ids:
            for message_id, text in await session.execute(
                select(Message.id, Message.text).where(
                    Message.conversation_id.in_(conversation_ids)
                )
            ):
                cleaned = scrub(text)
                if cleaned != text:
                    await session.execute(
                        update(Message).where(Message.id == message_id).values(text=cleaned)
                    )
                    masked_messages += 1
        refunds = list(
            await session.scalars(
                select(Refund).where(Refund.shop_id == shop_id, Refund.buyer_id == buyer.id)
            )
        )
        masked_refunds = 0
        for refund in refunds:
            cleaned = scrub(refund.reason)
            if cleaned != refund.reason:
                refund.reason = cleaned
                masked_refunds += 1
        masked_events = 0
        carried = [PlatformEvent.payload["buyer_nick"].as_string() == original_nick]
        if phones:
            carried.append(PlatformEvent.payload["caller_phone"].as_string().in_(phones))
        order_refs = [o.external_id for o in orders]
        if order_refs:
            carried.append(PlatformEvent.payload["order_id"].as_string().in_(order_refs))
        for event in await session.scalars(
            select(PlatformEvent).where(PlatformEvent.shop_id == shop_id, or_(*carried))
        ):
            event.payload = _scrub_payload(event.payload, original_nick, pseudonym, known, names)
            masked_events += 1
        audit.record(
            session,
            shop_id=shop_id,
            actor_id=actor.id if actor is not None else None,
            action="pii.erase",
            target_type="buyer",
            target_id=buyer.id,
            at=now,
            reason=reason[:MAX_REASON_CHARS],
            detail={
                "via": "api" if actor is not None else "cli",
                "orders": len(orders),
                "messages": masked_messages,
                "refunds": masked_refunds,
                "events": masked_events,
                "conversations": len(conversation_ids),
            },
        )
    return Erased(
        buyer_id=buyer.id,
        pseudonym=pseudonym,
        orders=len(orders),
        messages=masked_messages,
        refunds=masked_refunds,
        events=masked_events,
        conversations=len(conversation_ids),
    )
