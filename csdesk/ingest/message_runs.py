"""Runs of buyer messages in one processing batch: facts loaded at once, writes made at once.

On 双十一 most events are ``message.received`` from buyers the shop already knows. Applying
one alone costs five round trips: the buyer, their open and recent conversations, their
latest order, the message INSERT and the conversation UPDATE. For a run of consecutive
messages in one batch the engine loads the facts for every buyer of the run with three
queries, and the run's messages go in with one INSERT and one UPDATE when it ends, so the
cost per batch stays flat as the batch grows.

The state lives in a :class:`RunBatch` the processor hands to each event of the batch, and
only as long as it is true: messages keep it current themselves (a new buyer, a newly
opened conversation); any other event type first writes what is pending and drops the
facts, since an order or refund event changes what a message would see. A buyer missing
from the loaded facts falls back to the per-event queries. Without a batch (the savepoint
path) nothing is deferred: each message is written by its own event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.messages import MessageBatch
from csdesk.actions.outbox import Outbox
from csdesk.ingest.processor import ClaimedEvent
from csdesk.platform_events import MESSAGE_RECEIVED as MESSAGE_EVENT
from csdesk.storage.enums import ConversationStatus
from csdesk.storage.models import Buyer, Conversation, Order

BUYER_FACING_KINDS: Final = ("chat", "call")
OPEN: Final = (ConversationStatus.SCHEDULED, ConversationStatus.QUEUED, ConversationStatus.ASSIGNED)
RECENT_LIMIT: Final = 50
"""Conversations per buyer worth looking at (the 24-hour contact count saturates long before)."""
HISTORY_WINDOW: Final = timedelta(days=1)
# Comfortably below SQLite's bound-parameter limit.
_CHUNK: Final = 500


@dataclass
class BuyerHistory:
    buyer: Buyer
    recent: list[Conversation]
    """Chats and calls opened since the earliest event of the run minus a day, or still open,
    newest first."""
    latest_order: Order | None


@dataclass
class MessageRun:
    """Facts for the message events ``covers`` (row ids), keyed by buyer nick."""

    shop_id: str
    covers: frozenset[int]
    by_nick: dict[str, BuyerHistory] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)
    """Nicks the shop did not know when the run was loaded: new buyers, no history."""

    def history(self, nick: str) -> BuyerHistory | None:
        return self.by_nick.get(nick)

    def remember_new_buyer(self, buyer: Buyer) -> None:
        self.absent.discard(buyer.nick)
        self.by_nick[buyer.nick] = BuyerHistory(buyer, [], None)

    def remember_opened(self, nick: str, conversation: Conversation) -> None:
        entry = self.by_nick.get(nick)
        if entry is not None:
            entry.recent.insert(0, conversation)


@dataclass
class RunBatch:
    """What the engine keeps for one processing batch: the events, the current run, and
    the buyer messages not written yet. The processor starts one per batch applied without
    savepoints (:func:`start_batch`) and hands it to every event of the batch."""

    events: Sequence[ClaimedEvent]
    run: MessageRun | None = None
    messages: MessageBatch = field(default_factory=MessageBatch)

    async def end_run(self, session: AsyncSession, outbox: Outbox) -> None:
        """A non-message event is about to be applied: write what the run deferred (it may
        read it) and drop what the run loaded (it may change it)."""
        await self.messages.write(session, outbox)
        self.run = None

    async def finish(self, session: AsyncSession, outbox: Outbox) -> None:
        """After the batch's last event, before commit."""
        await self.end_run(session, outbox)


def start_batch(events: Sequence[ClaimedEvent]) -> RunBatch:
    return RunBatch(events)


async def run_for(
    session: AsyncSession, state: RunBatch, event: ClaimedEvent, now: datetime
) -> MessageRun | None:
    """The loaded run covering this message event, loading it (this event and the messages
    of the same shop right after it) if needed."""
    if state.run is not None and event.id in state.run.covers:
        return state.run
    events = list(state.events)
    try:
        start = next(i for i, e in enumerate(events) if e.id == event.id)
    except StopIteration:
        return None
    run_events: list[ClaimedEvent] = []
    for candidate in events[start:]:
        if candidate.type != MESSAGE_EVENT or candidate.shop_id != event.shop_id:
            break
        run_events.append(candidate)
    state.run = await load_run(session, event.shop_id, run_events, now)
    return state.run


async def load_run(
    session: AsyncSession, shop_id: str, events: Sequence[ClaimedEvent], now: datetime
) -> MessageRun:
    run = MessageRun(shop_id, frozenset(e.id for e in events))
    nicks = sorted({str(e.payload["buyer_nick"]) for e in events})
    # The engine dates a message min(occurred_at, now): a day before the earliest of those.
    earliest = min(min(e.occurred_at for e in events), now)
    buyers: dict[int, Buyer] = {}
    for start in range(0, len(nicks), _CHUNK):
        nick_chunk = nicks[start : start + _CHUNK]
        for buyer in await session.scalars(_BUYERS, {"shop_id": shop_id, "nicks": nick_chunk}):
            buyers[buyer.id] = buyer
    run.absent = set(nicks) - {buyer.nick for buyer in buyers.values()}
    recent: dict[int, list[Conversation]] = {buyer_id: [] for buyer_id in buyers}
    latest: dict[int, Order] = {}
    ids = sorted(buyers)
    since = earliest - HISTORY_WINDOW
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        params = {"shop_id": shop_id, "buyer_ids": chunk}
        for conversation in await session.scalars(_RECENT, {**params, "since": since}):
            assert conversation.buyer_id is not None
            rows = recent[conversation.buyer_id]
            if len(rows) < RECENT_LIMIT:
                rows.append(conversation)
        for order in await session.scalars(_LATEST_ORDERS, params):
            latest[order.buyer_id] = order
    for buyer_id, buyer in buyers.items():
        run.by_nick[buyer.nick] = BuyerHistory(buyer, recent[buyer_id], latest.get(buyer_id))
    return run


# Built once: constructing these per run cost about as much as running them.
_BUYERS: Final = select(Buyer).where(
    Buyer.shop_id == bindparam("shop_id"), Buyer.nick.in_(bindparam("nicks", expanding=True))
)
_RECENT: Final = (
    select(Conversation)
    .where(
        Conversation.shop_id == bindparam("shop_id"),
        Conversation.buyer_id.in_(bindparam("buyer_ids", expanding=True)),
        Conversation.kind.in_(BUYER_FACING_KINDS),
        or_(Conversation.opened_at >= bindparam("since"), Conversation.status.in_(OPEN)),
    )
    .order_by(Conversation.id.desc())
)
_NEWEST_ORDER: Final = (
    select(
        Order.id,
        func.row_number()
        .over(partition_by=Order.buyer_id, order_by=(Order.created_at.desc(), Order.id.desc()))
        .label("rank"),
    )
    .where(
        Order.shop_id == bindparam("shop_id"),
        Order.buyer_id.in_(bindparam("buyer_ids", expanding=True)),
    )
    .subquery()
)
_LATEST_ORDERS: Final = (
    select(Order)
    .join(_NEWEST_ORDER, _NEWEST_ORDER.c.id == Order.id)
    .where(_NEWEST_ORDER.c.rank == 1)
)


def contacts_since(history: BuyerHistory, since: datetime) -> int:
    return sum(1 for c in history.recent if c.opened_at >= since)
