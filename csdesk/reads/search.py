"""Finding a conversation (会话搜索): by buyer nick, order number, the buyer's full phone
number (matched whole, shown masked), message text, and the day it opened.

Who sees what follows ``conversations.read``: QC inspectors and supervisors the shop's
conversations; an agent their own and those of the buyers they have served (so a buyer's
earlier chats with colleagues are there when the buyer comes back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, or_, select

from csdesk.auth.access import only_own, require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import Buyer, Conversation, Message, Order, User

SEARCH_ACCESS: Final = "conversations.read"
MAX_RESULTS: Final = 100
MIN_TEXT_CHARS: Final = 2
PHONE: Final = re.compile(r"\+?\d[\d -]{6,}\d")
MASK: Final = "****"


def mask_phone(value: str | None) -> str | None:
    """``13800001234`` → ``138****1234`` (the buyer panel's masking)."""
    if not value:
        return None
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) >= 7:
        return f"{digits[:3]}{MASK}{digits[-4:]}"
    return f"{MASK}{digits[-2:]}" if len(digits) > 2 else MASK


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.text and len(self.text.strip()) < MIN_TEXT_CHARS:
            raise BadInputError("q", f"give at least {MIN_TEXT_CHARS} characters")
        if len(self.text) > 200:
            raise BadInputError("q", "must be at most 200 characters")
        if not self.text.strip() and self.since is None and self.until is None:
            raise BadInputError("q", "give a nick, order number, phone, text or a date")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matches(text: str) -> ColumnElement[bool]:
    """Nick, order number, full phone or message text."""
    text = text.strip()
    pattern = _like(text)
    conditions: list[ColumnElement[bool]] = [
        Buyer.nick.ilike(pattern, escape="\\"),
        Conversation.order_id.in_(select(Order.id).where(Order.external_id == text)),
        Conversation.buyer_id.in_(select(Order.buyer_id).where(Order.external_id == text)),
        Conversation.id.in_(
            select(Message.conversation_id).where(Message.text.ilike(pattern, escape="\\"))
        ),
    ]
    if PHONE.fullmatch(text):
        # The whole number only: a few digits must not find a buyer (nor guess a number).
        digits = "".join(ch for ch in text if ch.isdigit())
        conditions.append(Buyer.phone == digits)
        conditions.append(
            Conversation.buyer_id.in_(select(Order.buyer_id).where(Order.receiver_phone == digits))
        )
    return or_(*conditions)


async def search_conversations(
    sessions: SessionFactory, viewer: CurrentUser, query: SearchQuery
) -> list[dict[str, Any]]:
    """Newest first, at most ``MAX_RESULTS``."""
    require(viewer, SEARCH_ACCESS)
    statement = (
        select(Conversation, Buyer, User.display_name)
        .outerjoin(Buyer, Buyer.id == Conversation.buyer_id)
        .outerjoin(User, User.id == Conversation.assigned_agent_id)
        .where(Conversation.shop_id == viewer.shop_id)
        .order_by(Conversation.opened_at.desc(), Conversation.id.desc())
        .limit(MAX_RESULTS)
    )
    if query.text.strip():
        statement = statement.where(_matches(query.text))
    if query.since is not None:
        statement = statement.where(Conversation.opened_at >= query.since)
    if query.until is not None:
        statement = statement.where(Conversation.opened_at < query.until)
    if only_own(viewer, SEARCH_ACCESS):
        served = select(Conversation.buyer_id).where(
            Conversation.shop_id == viewer.shop_id,
            or_(
                Conversation.assigned_agent_id == viewer.id,
                Conversation.protection_owner_id == viewer.id,
            ),
            Conversation.buyer_id.is_not(None),
        )
        statement = statement.where(
            or_(Conversation.assigned_agent_id == viewer.id, Conversation.buyer_id.in_(served))
        )
    async with sessions() as session:
        rows = (await session.execute(statement)).all()
        order_ids = {c.order_id for c, _, _ in rows if c.order_id is not None}
        orders: dict[int, str] = {}
        if order_ids:
            found = await session.execute(
                select(Order.id, Order.external_id).where(Order.id.in_(order_ids))
            )
            orders = {row.id: row.external_id for row in found.all()}
    return [
        {
            "id": conversation.id,
            "kind": conversation.kind,
            "role": conversation.role,
            "status": conversation.status.value,
            "opened_at": conversation.opened_at.isoformat(),
            "closed_at": conversation.closed_at.isoformat() if conversation.closed_at else None,
            "buyer": None
            if buyer is None
            else {"id": buyer.id, "nick": buyer.nick, "phone": mask_phone(buyer.phone)},
            "order": orders.get(conversation.order_id) if conversation.order_id else None,
            "agent": agent_name,
            "intent": conversation.intent,
        }
        for conversation, buyer, agent_name in rows
    ]
