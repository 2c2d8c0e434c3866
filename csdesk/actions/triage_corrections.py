"""Corrections of triage: a transfer or a relabelled intent, kept as a labelled example.

Written inside the transfer's or relabel's own transaction (``actions.workbench.transfer``,
``actions.reassignment.transfer``, ``actions.triage_learning.relabel_intent``); the
shop's model learns from them in ``actions.triage_learning.retrain_shop``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.errors import BadInputError
from csdesk.roles.classifier.learning import transfer_label
from csdesk.roles.triage_rules import Intent
from csdesk.routing import facts as loaded
from csdesk.storage.enums import MessageSender, ServiceRole
from csdesk.storage.models import Conversation, Message
from csdesk.storage.triage_models import TriageCorrection

MAX_CORRECTION_CHARS: Final = 500


async def _first_buyer_text(session: AsyncSession, conversation_id: int) -> str | None:
    """The buyer's opening message: what triage read when it routed the conversation."""
    text = await session.scalar(
        select(Message.text)
        .where(
            Message.conversation_id == conversation_id,
            Message.sender == MessageSender.BUYER,
        )
        .order_by(Message.sent_at, Message.id)
        .limit(1)
    )
    return text[:MAX_CORRECTION_CHARS] if text and text.strip() else None


async def record_correction(
    session: AsyncSession,
    conversation: Conversation,
    intent: Intent,
    source: str,
    by_user_id: int | None,
    now: datetime,
) -> bool:
    """Keep ``intent`` as the label of the conversation's opening buyer message (in the
    caller's transaction). One per conversation: a later correction replaces it. False
    when there is no buyer text to learn from (a call, a chase)."""
    text = await _first_buyer_text(session, conversation.id)
    if text is None:
        return False
    row = await session.scalar(
        select(TriageCorrection).where(TriageCorrection.conversation_id == conversation.id)
    )
    if row is None:
        row = TriageCorrection(
            shop_id=conversation.shop_id,
            conversation_id=conversation.id,
            predicted_intent=conversation.intent,
        )
        session.add(row)
    row.text = text
    row.intent = intent.value
    row.source = source
    row.by_user_id = by_user_id
    row.corrected_at = now
    return True


async def learn_from_transfer(
    session: AsyncSession,
    ctx: loaded.ShopContext,
    conversation: Conversation,
    to_role: ServiceRole,
    by_user_id: int | None,
    now: datetime,
    explicit: Intent | None = None,
) -> Intent | None:
    """A transfer as a correction, when it says which intent the buyer had (see
    ``transfer_label``); sets the conversation's intent to it. Call before the role moves."""
    intent_roles = ctx.routing.triage.intent_roles
    if explicit is not None and intent_roles.get(explicit) is not to_role:
        raise BadInputError("intent", f"{explicit.value} is not handled by {to_role.value}")
    predicted = _intent_or_none(conversation.intent)
    label = transfer_label(intent_roles, to_role, predicted, explicit)
    if label is None:
        return None
    if await record_correction(session, conversation, label, "transfer", by_user_id, now):
        conversation.intent = label.value
        return label
    return None


def _intent_or_none(raw: str | None) -> Intent | None:
    try:
        return Intent(raw) if raw else None
    except ValueError:
        return None
