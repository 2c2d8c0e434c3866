"""Buyer PII (phone, address, name): masked by default, revealed with a reason, audited.

seeds/001 §2.3: sensitive buyer data needs a reason and leaves a trace. An agent may
reveal the data of a buyer whose conversation is assigned to them now; supervisors and up
may reveal any buyer of their shop (``pii.reveal`` in the access table).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, NotFoundError
from csdesk.reads.masking import mask_address, mask_name, mask_phone
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus
from csdesk.storage.models import Buyer, Conversation, Order

MAX_REASON_CHARS: Final = 200


class PiiField(enum.StrEnum):
    PHONE = "phone"
    ADDRESS = "address"
    NAME = "name"


class PiiError(BadInputError):
    """The reveal cannot be done as asked; the message starts with the field it names."""

    def __init__(self, message: str) -> None:
        field, _, problem = message.partition(": ")
        super().__init__(field, problem)


class PiiNotFoundError(NotFoundError):
    """An unknown buyer or order, or no such value on record."""


MASKS: Final = {
    PiiField.PHONE: mask_phone,
    PiiField.ADDRESS: mask_address,
    PiiField.NAME: mask_name,
}


@dataclass(frozen=True)
class Revealed:
    field: PiiField
    value: str
    buyer_id: int
    order_id: int | None


def _value(buyer: Buyer, order: Order | None, field: PiiField) -> str | None:
    if order is not None:
        return {
            PiiField.PHONE: order.receiver_phone,
            PiiField.ADDRESS: order.address,
            PiiField.NAME: order.receiver_name,
        }[field]
    return {
        PiiField.PHONE: buyer.phone,
        PiiField.ADDRESS: buyer.address,
        PiiField.NAME: buyer.name,
    }[field]


async def _serving_conversation(
    session: AsyncSession, user: CurrentUser, buyer: Buyer
) -> Conversation | None:
    """An open conversation of this buyer assigned to ``user``: what lets an agent reveal."""
    conversation: Conversation | None = await session.scalar(
        select(Conversation)
        .where(
            Conversation.shop_id == buyer.shop_id,
            Conversation.buyer_id == buyer.id,
            Conversation.assigned_agent_id == user.id,
            Conversation.status == ConversationStatus.ASSIGNED,
        )
        .limit(1)
    )
    return conversation


async def reveal(
    sessions: SessionFactory,
    user: CurrentUser,
    buyer_id: int,
    field: PiiField,
    reason: str,
    now: datetime,
    *,
    order_id: int | None = None,
) -> Revealed:
    """The clear value of a buyer's (or one of their orders') phone, address or name.

    Writes ``pii.reveal`` to the audit log in the same transaction, with the reason and the
    field. Raises :class:`~csdesk.auth.access.AccessDeniedError` when ``user`` may not see
    this buyer's data, :class:`PiiNotFoundError` for an unknown buyer or order.
    """
    reason = reason.strip()
    if not reason:
        raise PiiError("reason: a reason is required to reveal buyer data (请填写查看原因)")
    async with sessions.begin() as session:
        buyer = await session.get(Buyer, buyer_id)
        if buyer is None or buyer.shop_id != user.shop_id:
            raise PiiNotFoundError(f"buyer {buyer_id}: not found")
        # Agents pass only through a conversation of theirs; for the rest the shop decides.
        require(user, "pii.reveal", await _serving_conversation(session, user, buyer) or buyer)
        order = None
        if order_id is not None:
            order = await session.get(Order, order_id)
            if order is None or order.shop_id != buyer.shop_id or order.buyer_id != buyer.id:
                raise PiiNotFoundError(f"order {order_id}: not found for buyer {buyer_id}")
        value = _value(buyer, order, field)
        if value is None:
            raise PiiNotFoundError(f"{field.value}: not on record (无此信息)")
        audit.record(
            session,
            shop_id=buyer.shop_id,
            actor_id=user.id,
            action="pii.reveal",
            target_type="buyer",
            target_id=buyer.id,
            at=now,
            reason=reason[:MAX_REASON_CHARS],
            detail={"field": field.value, "buyer_id": buyer.id, "order_id": order_id},
        )
    return Revealed(field=field, value=value, buyer_id=buyer.id, order_id=order_id)
