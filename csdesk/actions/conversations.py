"""Conversations (the routable items: chats, calls, tasks) and their messages.

Writers here take the caller's ``AsyncSession`` and never commit (see ``catalog``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.batch import insert_returning_ids_in_order, insert_rows
from csdesk.clock import require_aware
from csdesk.storage.enums import Channel, ConversationStatus, MessageSender, ServiceRole
from csdesk.storage.models import Conversation, Message


@dataclass(frozen=True)
class MessageSpec:
    sender: MessageSender
    text: str
    sent_at: datetime
    author_id: int | None = None
    """The agent who wrote it, or a private note's author (None for buyer, system and
    auto messages)."""
    source_event_id: int | None = None
    """The platform event a buyer message came in with."""
    kind: str = "text"
    """``text``, ``image`` or ``card`` (``Message.kind``)."""
    attachments: tuple[Mapping[str, Any], ...] = ()
    """Images and cards that go with the text (``Message.attachments``)."""

    def __post_init__(self) -> None:
        require_aware(self.sent_at, "message sent_at")
        authored = (MessageSender.AGENT, MessageSender.NOTE)
        if self.author_id is not None and self.sender not in authored:
            raise ValueError("only agent messages and notes have an author")


@dataclass(frozen=True)
class ConversationSpec:
    channel: Channel
    role: ServiceRole
    status: ConversationStatus
    opened_at: datetime
    buyer_id: int | None = None
    kind: str = "chat"
    """``chat``, ``call`` or a task kind (``payment_chase``, ``order_check``, ...)."""
    intent: str | None = None
    risk: str | None = None
    priority_score: float = 0.0
    score_breakdown: tuple[Mapping[str, Any], ...] = ()
    """``{"factor", "points", "reason"}`` entries: why the item stands where it stands."""
    order_id: int | None = None
    refund_id: int | None = None
    assigned_agent_id: int | None = None
    protection_owner_id: int | None = None
    protection_until: datetime | None = None
    """客户保护期: until then the owner gets this buyer back."""
    enqueued_at: datetime | None = None
    assigned_at: datetime | None = None
    first_response_at: datetime | None = None
    last_buyer_message_at: datetime | None = None
    due_at: datetime | None = None
    closed_at: datetime | None = None
    disposition: str | None = None
    tags: tuple[str, ...] = ()
    messages: tuple[MessageSpec, ...] = ()

    def __post_init__(self) -> None:
        require_aware(self.opened_at, "conversation opened_at")
        if self.status is ConversationStatus.CLOSED and self.closed_at is None:
            raise ValueError("a closed conversation needs closed_at")
        if self.status is ConversationStatus.ASSIGNED and self.assigned_agent_id is None:
            raise ValueError("an assigned conversation needs assigned_agent_id")
        times = [message.sent_at for message in self.messages]
        if times != sorted(times):
            raise ValueError("messages must be in the order they were sent")


def _message_row(shop_id: str, conversation_id: int, message: MessageSpec) -> dict[str, Any]:
    return {
        "shop_id": shop_id,
        "conversation_id": conversation_id,
        "sender": message.sender,
        "author_id": message.author_id,
        "text": message.text,
        "sent_at": message.sent_at,
        "source_event_id": message.source_event_id,
        "kind": message.kind,
        "attachments": [dict(item) for item in message.attachments],
    }


async def record_conversations(
    session: AsyncSession, shop_id: str, conversations: Sequence[ConversationSpec]
) -> list[int]:
    """Insert conversations with their messages; returns the conversation ids in input order."""
    rows = [
        {
            "shop_id": shop_id,
            "buyer_id": spec.buyer_id,
            "channel": spec.channel,
            "kind": spec.kind,
            "role": spec.role.value,
            "status": spec.status,
            "intent": spec.intent,
            "risk": spec.risk,
            "priority_score": spec.priority_score,
            "score_breakdown": [dict(entry) for entry in spec.score_breakdown],
            "order_id": spec.order_id,
            "refund_id": spec.refund_id,
            "assigned_agent_id": spec.assigned_agent_id,
            "protection_owner_id": spec.protection_owner_id,
            "protection_until": spec.protection_until,
            "opened_at": spec.opened_at,
            "enqueued_at": spec.enqueued_at,
            "assigned_at": spec.assigned_at,
            "first_response_at": spec.first_response_at,
            "last_buyer_message_at": spec.last_buyer_message_at,
            "due_at": spec.due_at,
            "closed_at": spec.closed_at,
            "disposition": spec.disposition,
            "tags": list(spec.tags),
        }
        for spec in conversations
    ]
    ids = await insert_returning_ids_in_order(session, Conversation, Conversation.id, rows)
    messages = [
        _message_row(shop_id, conversation_id, message)
        for conversation_id, spec in zip(ids, conversations, strict=True)
        for message in spec.messages
    ]
    await insert_rows(session, Message, messages)
    return ids


async def append_messages(
    session: AsyncSession, shop_id: str, conversation_id: int, messages: Sequence[MessageSpec]
) -> list[int]:
    """Add messages to one conversation (e.g. a ``message.received`` event); returns their ids."""
    rows = [_message_row(shop_id, conversation_id, message) for message in messages]
    return await insert_returning_ids_in_order(session, Message, Message.id, rows)
