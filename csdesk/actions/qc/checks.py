"""The auto-check of a closed conversation: its hits stored, once.

``enqueue_check`` is what the close action calls after its commit (a job, both modes);
``check_unchecked`` is the catch-up sweep that checks every closed conversation not yet
checked, so nothing is missed when a job is lost. Checking twice changes nothing: the
check row is unique per conversation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.qc.common import service_role, transcript_of
from csdesk.actions.qc.scripts import current_version
from csdesk.qc.check import check
from csdesk.qc.scripts import Severity
from csdesk.reads.qc_base import checked_messages, conversation_in_shop, script_of
from csdesk.storage.enums import ConversationStatus, MessageSender
from csdesk.storage.models import Conversation, Message
from csdesk.storage.qc_models import QcCheck, QcHit

CHECK_JOB: Final = "qc_check_conversation"
SWEEP_BATCH: Final = 200
BACK_OFFICE_KINDS: Final = ("order_check", "refund_review", "refund_processing")
"""Desk work without a buyer on the other end: not checked. Chats and every kind of call
(inbound, callbacks, phone chases, notices) are."""


class Enqueuer(Protocol):
    """What the job runners offer (``csdesk.jobs.base.JobRunner``), named here so actions do
    not import the jobs package (jobs import actions)."""

    async def enqueue(
        self, name: str, *args: Any, defer_s: float | None = None, job_id: str | None = None
    ) -> bool: ...


async def enqueue_check(jobs: Enqueuer, conversation_id: int) -> bool:
    """Queue the auto-check of a conversation that has just closed (after the commit)."""
    return await jobs.enqueue(CHECK_JOB, conversation_id, job_id=f"qc-check:{conversation_id}")


async def check_conversation(deps: Deps, conversation_id: int, now: datetime) -> int | None:
    """Check one closed conversation and store its hits; the number of hits, or None when
    there was nothing to do (already checked, not closed, not a buyer conversation)."""
    async with deps.sessions() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            return None
        shop_id = conversation.shop_id
    try:
        async with transaction(deps) as (session, _outbox):
            conversation = await conversation_in_shop(session, shop_id, conversation_id)
            if (
                conversation.status is not ConversationStatus.CLOSED
                or conversation.kind in BACK_OFFICE_KINDS
            ):
                return None
            if await session.scalar(
                select(QcCheck.id).where(QcCheck.conversation_id == conversation_id)
            ):
                return None
            role = service_role(conversation)
            version = await current_version(session, shop_id, role, now)
            messages = await checked_messages(session, conversation_id)
            result = check(transcript_of(role, messages), script_of(version))
            row = QcCheck(
                shop_id=shop_id,
                conversation_id=conversation_id,
                script_version_id=version.id,
                role=role.value,
                agent_id=conversation.assigned_agent_id or _last_agent(messages),
                score=result.score,
                fatal_hits=sum(1 for h in result.hits if h.severity is Severity.FATAL),
                hit_count=len(result.hits),
                closed_at=conversation.closed_at or now,
                checked_at=now,
            )
            session.add(row)
            await session.flush()
            for hit in result.hits:
                message = messages[hit.message_index] if hit.message_index < len(messages) else None
                session.add(
                    QcHit(
                        shop_id=shop_id,
                        check_id=row.id,
                        conversation_id=conversation_id,
                        category=hit.category.value,
                        rule=hit.rule,
                        severity=hit.severity.value,
                        points=hit.points,
                        message_index=hit.message_index,
                        message_id=message.id if message else None,
                        span_start=hit.span[0],
                        span_end=hit.span[1],
                        detail=hit.detail,
                        author_id=message.author_id if message else None,
                        checked_at=now,
                    )
                )
            return len(result.hits)
    except IntegrityError:
        return None  # checked by a concurrent job a moment ago


def _last_agent(messages: list[Message]) -> int | None:
    for message in reversed(messages):
        if message.sender is MessageSender.AGENT:
            return message.author_id
    return None


async def unchecked_ids(
    deps: Deps, *, closed_before: datetime, limit: int = SWEEP_BATCH
) -> list[int]:
    async with deps.sessions() as session:
        rows = await session.scalars(
            select(Conversation.id)
            .outerjoin(QcCheck, QcCheck.conversation_id == Conversation.id)
            .where(
                Conversation.status == ConversationStatus.CLOSED,
                Conversation.kind.not_in(BACK_OFFICE_KINDS),
                Conversation.closed_at <= closed_before,
                QcCheck.id.is_(None),
            )
            .order_by(Conversation.id)
            .limit(limit)
        )
        return list(rows)


CATCH_UP_AFTER: Final = timedelta(seconds=30)
"""The sweep leaves conversations closed in the last half minute to the job the close
action queued."""


async def check_unchecked(deps: Deps, now: datetime, *, grace: timedelta = CATCH_UP_AFTER) -> int:
    """The catch-up sweep: check closed conversations that have no check yet; the count."""
    done = 0
    while True:
        ids = await unchecked_ids(deps, closed_before=now - grace)
        for conversation_id in ids:
            await check_conversation(deps, conversation_id, now)
            done += 1
        if len(ids) < SWEEP_BATCH:
            return done
