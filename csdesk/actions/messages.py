"""Adding a message to a conversation: the one way for every sender (buyer, agent, note,
auto, system).

:func:`add_message` writes the row in the caller's transaction and, when told who reads it,
queues its ``message.created`` event for after commit. A buyer's message also moves the
conversation's ``last_buyer_message_at``.

A buyer-visible message (agent, auto) also gets its outbound delivery row in the same
transaction when the shop has a channel (``actions/deliveries.py:stage_message``); buyer
messages, the only ones a :class:`MessageBatch` holds, never leave.

The fast path of 双十一: while the routing engine applies a run of buyer messages in one
batch, it passes a :class:`MessageBatch`. Buyer messages then wait in it and go in with
one INSERT (and one UPDATE of their conversations) when the batch calls :meth:`write`,
before anything else reads them and before commit; their events follow in order.

Reply rounds (``ResponseRound``, the dashboard's 3-minute response rate) are kept here, in
the message's own transaction, one statement each: a buyer message opens a round of its
conversation unless one is open (a batch: one INSERT for all its conversations), an
agent's reply closes the open one (answered then, by them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from csdesk.actions.batch import table_of
from csdesk.actions.conversations import MessageSpec, append_messages
from csdesk.actions.deliveries import BUYER_VISIBLE, stage_message
from csdesk.actions.outbox import Outbox
from csdesk.bus import events as ev
from csdesk.storage.direct import DirectInsert, DirectUpdateEach
from csdesk.storage.enums import MessageSender
from csdesk.storage.models import Conversation, Message, ResponseRound

# The batch's writes, straight to the driver (``storage.direct``). RETURNING order is not
# promised on SQLite: ids are matched back through ``source_event_id``.
_INSERT_MESSAGES: Final = DirectInsert(
    table_of(Message),
    ("shop_id", "conversation_id", "sender", "author_id", "text", "sent_at", "source_event_id"),
    returning=("source_event_id", "id"),
)
_SET_LAST_BUYER_MESSAGE: Final = DirectUpdateEach(
    table_of(Conversation), ("last_buyer_message_at",)
)


async def open_rounds(session: AsyncSession, message_ids: Sequence[int]) -> None:
    """Each of these buyer messages begins a reply round of its conversation unless one is
    open (pass one message a conversation, its earliest). One INSERT ... SELECT of the rows
    just written; the partial unique index on open rounds turns a second opener (another
    process, the same moment) into nothing."""
    if not message_ids:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = select(Message.id, Message.shop_id, Message.conversation_id, Message.sent_at).where(
        Message.id.in_(message_ids)
    )
    await session.execute(
        insert(ResponseRound)
        .from_select(["id", "shop_id", "conversation_id", "asked_at"], rows)
        .on_conflict_do_nothing()
    )


async def close_round(
    session: AsyncSession, conversation_id: int, answered_at: datetime, agent_id: int | None
) -> None:
    """An agent replied: the conversation's open round (if any) is answered."""
    await session.execute(
        update(ResponseRound)
        .where(
            ResponseRound.conversation_id == conversation_id, ResponseRound.answered_at.is_(None)
        )
        .values(answered_at=answered_at, agent_id=agent_id)
    )


@dataclass(frozen=True)
class _Pending:
    conversation: Conversation
    text: str
    sent_at: datetime
    source_event_id: int
    readers: tuple[str, ...]


@dataclass
class MessageBatch:
    """Buyer messages added during one processing batch, not written yet."""

    pending: list[_Pending] = field(default_factory=list)

    async def write(self, session: AsyncSession, outbox: Outbox) -> None:
        """Write what is pending (one INSERT, one UPDATE) and queue its events in order."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        connection = await session.connection()
        inserted = await _INSERT_MESSAGES.execute(
            connection,
            [
                (
                    p.conversation.shop_id,
                    p.conversation.id,
                    MessageSender.BUYER,
                    None,
                    p.text,
                    p.sent_at,
                    p.source_event_id,
                )
                for p in pending
            ],
        )
        id_by_source: dict[int, int] = dict(inserted)
        latest: dict[int, datetime] = {}
        for p in pending:
            latest[p.conversation.id] = max(p.sent_at, latest.get(p.conversation.id, p.sent_at))
        await _SET_LAST_BUYER_MESSAGE.execute(connection, [(at, cid) for cid, at in latest.items()])
        earliest: dict[int, _Pending] = {}
        for p in pending:
            first = earliest.get(p.conversation.id)
            if first is None or p.sent_at < first.sent_at:
                earliest[p.conversation.id] = p
        await open_rounds(session, [id_by_source[p.source_event_id] for p in earliest.values()])
        for p in pending:
            outbox.publish(
                ev.message_created(
                    p.conversation.shop_id,
                    p.conversation.id,
                    p.readers,
                    message_id=id_by_source[p.source_event_id],
                    sender=MessageSender.BUYER.value,
                    text=p.text,
                    sent_at=p.sent_at,
                )
            )


def record_line(session: AsyncSession, conversation: Conversation, message: MessageSpec) -> None:
    """:func:`add_message` for a line nobody is told about (a system note): no round trip of
    its own, the transaction's flush writes it. Synchronous, for callers that are."""
    if message.sender is MessageSender.BUYER:
        conversation.last_buyer_message_at = message.sent_at
    session.add(
        Message(
            shop_id=conversation.shop_id,
            conversation_id=conversation.id,
            sender=message.sender,
            author_id=message.author_id,
            text=message.text,
            sent_at=message.sent_at,
            source_event_id=message.source_event_id,
            kind=message.kind,
            attachments=[dict(item) for item in message.attachments],
        )
    )


async def add_message(
    session: AsyncSession,
    conversation: Conversation,
    message: MessageSpec,
    outbox: Outbox,
    *,
    readers: Sequence[str] | None = None,
    batch: MessageBatch | None = None,
    extra: Mapping[str, Any] | None = None,
) -> int | None:
    """Add ``message`` to ``conversation``; announce it to ``readers`` after commit (None:
    a line for the record, not announced). Returns the new message's id, or None when it
    waits in ``batch`` (a buyer message from a platform event) or is not announced (then
    the transaction's flush writes it, with no round trip of its own). ``extra`` goes into
    the announced message as the sender has it (a note's author name and mentions)."""
    if message.sender is MessageSender.BUYER:
        if batch is not None and message.source_event_id is not None:
            batch.pending.append(
                _Pending(
                    conversation,
                    message.text,
                    message.sent_at,
                    message.source_event_id,
                    tuple(readers or ()),
                )
            )
            # Committed in memory, not dirty: the ORM must not write it a row at a time.
            set_committed_value(conversation, "last_buyer_message_at", message.sent_at)
            return None
        conversation.last_buyer_message_at = message.sent_at
    buyer_visible = message.sender in BUYER_VISIBLE
    buyer = message.sender is MessageSender.BUYER
    if readers is None and not buyer_visible and not buyer:
        record_line(session, conversation, message)
        return None
    (message_id,) = await append_messages(session, conversation.shop_id, conversation.id, [message])
    if buyer:
        await open_rounds(session, [message_id])
    elif message.sender is MessageSender.AGENT:
        await close_round(session, conversation.id, message.sent_at, message.author_id)
    # Leaving the desk: its delivery is written in this same transaction (the outbox of
    # signed POSTs), so what commits is sent, at least once, and what rolls back is not.
    delivery = (
        await stage_message(session, conversation, message_id, message) if buyer_visible else None
    )
    if readers is None:
        return message_id
    outbox.publish(
        ev.message_created(
            conversation.shop_id,
            conversation.id,
            tuple(readers),
            message_id=message_id,
            sender=message.sender.value,
            text=message.text,
            sent_at=message.sent_at,
            **({} if message.author_id is None else {"author_id": message.author_id}),
            **(
                {}
                if message.kind == "text" and not message.attachments
                else {
                    "kind": message.kind,
                    "attachments": [dict(item) for item in message.attachments],
                }
            ),
            **({} if delivery is None else {"delivery": delivery}),
            **(extra or {}),
        )
    )
    return message_id


__all__ = ["MessageBatch", "add_message", "close_round", "open_rounds", "record_line"]
