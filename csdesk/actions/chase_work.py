"""订单催付 (payment chasing) at the desk: my chase list, a chase's outcome, and the
chasers' recovered amounts (the seed's KPI: chased orders paid, recovered amount).

A chase is ``payment_chase`` (chat) or ``phone_chase`` (hotline, big orders). Between
attempts it waits ``scheduled`` with nobody assigned; the buyer's chase claim (one chaser
per buyer, no 抢单) is what keeps it "mine", so the list reads the claim.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from csdesk.actions import workbench
from csdesk.actions.closing import close_conversation
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.work_items import (
    InputError,
    ItemConflictError,
    access_item_by_id,
)
from csdesk.auth.current import CurrentUser
from csdesk.reads.chases import ACCESS
from csdesk.reads.conversations import conversation_json
from csdesk.storage.enums import ConversationStatus
from csdesk.storage.kinds import CHASE_KINDS
from csdesk.storage.models import Conversation

KEEP_CHASING: Final = ("paid_promised", "no_answer", "busy")
"""The buyer may still pay: the next attempt is scheduled (quiet hours, at most N a day)."""
STOP_CHASING: Final = ("declined", "wrong_number")
"""Chasing again would only annoy (or reach a stranger): the chase ends here."""
OUTCOMES: Final = (*KEEP_CHASING, *STOP_CHASING)


async def record_outcome(
    deps: Deps, actor: CurrentUser, conversation_id: int, outcome: str, now: datetime
) -> dict[str, Any]:
    """One chase made: count it (``workbench.record_chase_attempt`` schedules the next one
    or ends the chase); a refusal or a wrong number ends it at once. A supervisor may
    record for the chaser; the attempt stays the chaser's (their KPI)."""
    if outcome not in OUTCOMES:
        raise InputError("outcome", f"must be one of {', '.join(OUTCOMES)}")
    async with deps.sessions() as session:
        conversation = await access_item_by_id(
            session, actor, conversation_id, ACCESS, CHASE_KINDS, lock=False
        )
        if conversation.status is not ConversationStatus.ASSIGNED:
            raise ItemConflictError(
                f"conversation {conversation_id}: is {conversation.status.value}; "
                "record an outcome while the chase is in hand"
            )
        chaser = conversation.assigned_agent_id
    assert chaser is not None
    # The write is record_chase_attempt's own transaction; it re-checks the row, so a
    # change in between surfaces as its WorkError (409), never as a double count.
    next_at = await workbench.record_chase_attempt(
        deps, actor.shop_id, chaser, conversation_id, outcome, now
    )
    if outcome in STOP_CHASING and next_at is not None:
        async with transaction(deps) as (session, outbox):
            waiting = await session.get(Conversation, conversation_id, with_for_update=True)
            if waiting is not None and waiting.status is ConversationStatus.SCHEDULED:
                await close_conversation(
                    session, deps.queue, waiting, f"chase_{outcome}", now, outbox, by=actor.id
                )
        next_at = None
    async with deps.sessions() as session:
        final = await session.get(Conversation, conversation_id)
        assert final is not None
        return {
            "conversation": conversation_json(final),
            "outcome": outcome,
            "next_chase_at": next_at.isoformat() if next_at else None,
        }


__all__ = [
    "OUTCOMES",
    "record_outcome",
]
