"""Service ratings (服务评价): store what a buyer said of the service, linked to what it rates.

``rating.received`` rates the buyer's most recent conversation with the shop (contract).
:func:`record_rating` is a step in the platform event's transaction:

- **What it rates.** The buyer's latest buyer-facing conversation opened at or before the
  rating (chats and calls, chases and proactive calls included; back-office work such as
  order checks and refund duties never, nor a task that has not started), open or closed.
  The agent who served it is the conversation's agent, else the last agent who wrote in it.
- **Nothing to rate.** A buyer unknown to the shop, or one with no such conversation: the
  rating is stored unlinked (it still counts in the shop's satisfaction, against no agent)
  and the result says why, which the engine notes on the event (``processed``, with the
  note). A rating is never dropped.
- **Rated again.** Every rating is kept; the latest by ``rated_at`` is the conversation's
  current one, the one that counts (the marketplace lets a buyer revise a rating, typically
  a bad one into a good one once the problem is solved). An earlier rating arriving late
  is stored as not current.
- **QC spotlight.** A current rating at or below the shop's spotlight threshold (default
  2 of 5) on a closed conversation whose day was already drawn puts it in an inspector's
  queue now (``actions.qc.sampling.spotlight_late``); before the draw, the daily job reads
  the rating itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.outbox import Outbox
from csdesk.actions.qc.checks import BACK_OFFICE_KINDS
from csdesk.actions.qc.common import qc_settings, shop_config
from csdesk.actions.qc.sampling import spotlight_late
from csdesk.actions.training import points
from csdesk.errors import BadInputError
from csdesk.qc.sampling import ClosedConversation, PickReason, Why, spotlight_reasons
from csdesk.storage.enums import ConversationStatus, MessageSender
from csdesk.storage.models import Buyer, Conversation, Message
from csdesk.storage.rating_models import ServiceRating


@dataclass(frozen=True, slots=True)
class RatingSpec:
    buyer_nick: str
    score: int
    comment: str | None
    rated_at: datetime
    source_event_id: int | None = None


@dataclass(frozen=True, slots=True)
class RecordedRating:
    rating_id: int
    conversation_id: int | None
    agent_id: int | None
    current: bool
    """Counts in the KPIs (False: a later rating of the same conversation came first)."""
    note: str | None
    """Why it is unlinked, or not current; None when it simply rated its conversation."""
    spotlighted: bool
    """Put in an inspector's queue now (its day had been drawn already)."""


async def _rated_conversation(
    session: AsyncSession, shop_id: str, buyer_id: int, rated_at: datetime
) -> Conversation | None:
    conversation: Conversation | None = await session.scalar(
        select(Conversation)
        .where(
            Conversation.shop_id == shop_id,
            Conversation.buyer_id == buyer_id,
            Conversation.kind.not_in(BACK_OFFICE_KINDS),
            Conversation.status != ConversationStatus.SCHEDULED,
            Conversation.opened_at <= rated_at,
        )
        .order_by(Conversation.opened_at.desc(), Conversation.id.desc())
        .limit(1)
        # One rating of a conversation at a time (two web processes): the current one is
        # decided under this lock.
        .with_for_update()
    )
    return conversation


async def _served_by(session: AsyncSession, conversation: Conversation) -> int | None:
    if conversation.assigned_agent_id is not None:
        return conversation.assigned_agent_id
    author: int | None = await session.scalar(
        select(Message.author_id)
        .where(
            Message.conversation_id == conversation.id,
            Message.sender == MessageSender.AGENT,
            Message.author_id.is_not(None),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    return author


def _low_rating_why(
    conversation: Conversation, score: int, comment: str | None, config: dict[str, Any]
) -> list[Why]:
    """The spotlight reason a rating gives, by the shop's rules (the daily draw's)."""
    try:
        rules = qc_settings(config).sampling.spotlight
    except BadInputError:
        return []  # a shop whose QC settings do not read: the daily draw reports it
    facts = ClosedConversation(
        conversation.id,
        conversation.assigned_agent_id,
        conversation.role,
        conversation.closed_at or conversation.opened_at,
        rating=score,
        rating_comment=comment,
    )
    return [w for w in spotlight_reasons(facts, rules) if w.reason is PickReason.LOW_RATING]


async def record_rating(
    session: AsyncSession,
    outbox: Outbox,
    shop_id: str,
    spec: RatingSpec,
    now: datetime,
    *,
    tz: Any,
) -> RecordedRating:
    """Store one rating, linked to what it rates (see the module docstring); a step in the
    caller's transaction. ``tz`` is the shop's routing zone (the QC draw's days)."""
    buyer = await session.scalar(
        select(Buyer).where(Buyer.shop_id == shop_id, Buyer.nick == spec.buyer_nick)
    )
    conversation = (
        await _rated_conversation(session, shop_id, buyer.id, spec.rated_at) if buyer else None
    )
    replaced: int | None = None
    row = ServiceRating(
        shop_id=shop_id,
        source_event_id=spec.source_event_id,
        buyer_nick=spec.buyer_nick,
        buyer_id=buyer.id if buyer else None,
        score=spec.score,
        comment=spec.comment,
        rated_at=spec.rated_at,
        received_at=now,
        is_current=True,
    )
    if buyer is None:
        row.note = f"buyer {spec.buyer_nick!r} is unknown to the shop: stored unlinked"
    elif conversation is None:
        row.note = (
            f"buyer {spec.buyer_nick!r} had no conversation before the rating: stored unlinked"
        )
    else:
        row.conversation_id = conversation.id
        row.role = conversation.role
        row.agent_id = await _served_by(session, conversation)
        current = await session.scalar(
            select(ServiceRating).where(
                ServiceRating.conversation_id == conversation.id,
                ServiceRating.is_current.is_(True),
            )
        )
        if current is not None and current.rated_at > spec.rated_at:
            row.is_current = False
            row.note = f"rating {current.id}, given later, is the conversation's current one"
        elif current is not None:
            replaced = current.id
            current.is_current = False
            current.note = "replaced by a later rating of the same conversation"
            await session.flush()  # before the insert: one current rating per conversation
    session.add(row)
    await session.flush()
    if row.is_current and row.agent_id is not None:
        # 积分: the rating's points for the agent who served (a replaced rating's taken back).
        await points.for_rating(
            session,
            outbox,
            shop_id=shop_id,
            agent_id=row.agent_id,
            rating_id=row.id,
            score=spec.score,
            now=now,
            replaces_rating_id=replaced,
        )
    spotlighted = False
    if (
        conversation is not None
        and row.is_current
        and conversation.status is ConversationStatus.CLOSED
    ):
        why = _low_rating_why(
            conversation, spec.score, spec.comment, await shop_config(session, shop_id)
        )
        spotlighted = await spotlight_late(
            session, outbox, shop_id, conversation.id, why, now, tz=tz
        )
    return RecordedRating(
        rating_id=row.id,
        conversation_id=row.conversation_id,
        agent_id=row.agent_id,
        current=row.is_current,
        note=row.note if row.conversation_id is None or not row.is_current else None,
        spotlighted=spotlighted,
    )


__all__ = ["RatingSpec", "RecordedRating", "record_rating"]
