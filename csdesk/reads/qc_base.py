"""What the QC writers and readers share, on the read side: the access-table names, the
lookups every QC view starts from, the stored script version as the checker and the
scorecard take it, and the JSON shape of each QC row. Nothing here writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.errors import NotFoundError
from csdesk.qc.scorecard import (
    HitFact,
    Scorecard,
    auto_ratings,
    default_scorecard,
    scorecard_from_json,
)
from csdesk.qc.scripts import Script, default_script, script_from_json
from csdesk.storage.enums import MessageSender, ServiceRole, UserRole
from csdesk.storage.models import Conversation, Message
from csdesk.storage.qc_models import (
    QcCalibrationSession,
    QcDispute,
    QcFinding,
    QcHit,
    QcProposal,
    QcScore,
    QcScriptVersion,
)

SCORERS: Final = (UserRole.QC_INSPECTOR, UserRole.SUPERVISOR, UserRole.OWNER, UserRole.ADMIN)
"""Who can score a calibration session: inspectors and QC leads."""

# Access-table actions (csdesk/auth/access.py).
QUEUE: Final = "qc.queue"
"""Inspectors: the sampled queue, transcripts with their hits, scoring."""
SCORE: Final = "qc.score"
LEAD: Final = "qc.lead"
"""The QC lead (the supervisor role, and owners and admins): scripts, disputes,
calibration sessions, sampling by hand, proposals to done."""
RESULTS: Final = "qc.results"
"""Findings and scores: agents their own only, trainers and inspectors all of the shop."""
RESPOND: Final = "qc.respond"
"""Acknowledge or dispute a finding: the agent it counts against."""
CALIBRATE: Final = "qc.calibrate"
PROPOSE: Final = "qc.propose"
PROPOSALS: Final = "qc.proposals"
REPORTS: Final = "qc.reports"


async def conversation_in_shop(
    session: AsyncSession, shop_id: str, conversation_id: int
) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.shop_id != shop_id:
        raise NotFoundError(f"conversation {conversation_id}: not found")
    return conversation


CHECKED_SENDERS: Final = (MessageSender.BUYER, MessageSender.AGENT)


async def checked_messages(session: AsyncSession, conversation_id: int) -> list[Message]:
    """The messages the auto-check reads, in order: the buyer's and the agents' (not the
    desk's own notices, system lines or private notes). Hit ``message_index`` counts these."""
    return list(
        await session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.sender.in_(CHECKED_SENDERS))
            .order_by(Message.sent_at, Message.id)
        )
    )


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def script_of(row: QcScriptVersion) -> Script:
    """The stored version as the checker takes it."""
    role = ServiceRole(row.role)
    base = default_script(role)
    return replace(script_from_json(row.script, base=base), version=row.version)


def scorecard_of(row: QcScriptVersion) -> Scorecard:
    return scorecard_from_json(row.scorecard) if row.scorecard else default_scorecard()


def starting_ratings(
    card: Scorecard, version: QcScriptVersion, hits: list[QcHit]
) -> dict[str, int | None]:
    return auto_ratings(card, script_of(version), [HitFact(h.category, h.severity) for h in hits])


def version_json(row: QcScriptVersion) -> dict[str, Any]:
    return {
        "id": row.id,
        "role": row.role,
        "version": row.version,
        "version_key": f"{row.role}.v{row.version}",
        "script": row.script,
        "scorecard": row.scorecard,
        "note": row.note,
        "author_id": row.author_id,
        "created_at": row.created_at.isoformat(),
    }


def score_json(score: QcScore) -> dict[str, Any]:
    return {
        "id": score.id,
        "conversation_id": score.conversation_id,
        "inspector_id": score.inspector_id,
        "agent_id": score.agent_id,
        "script_version_id": score.script_version_id,
        "status": score.status.value,
        "items": score.items,
        "bonus": score.bonus,
        "critical_failed": score.critical_failed,
        "total": score.total,
        "comment": score.comment,
        "history": score.history,
        "submitted_at": score.submitted_at.isoformat() if score.submitted_at else None,
    }


def finding_json(finding: QcFinding) -> dict[str, Any]:
    return {
        "id": finding.id,
        "score_id": finding.score_id,
        "conversation_id": finding.conversation_id,
        "agent_id": finding.agent_id,
        "item": finding.item,
        "category": finding.category,
        "severity": finding.severity,
        "points": finding.points,
        "message_id": finding.message_id,
        "evidence": finding.evidence,
        "comment": finding.comment,
        "status": finding.status.value,
        "created_at": finding.created_at.isoformat(),
        "respond_by": finding.respond_by.isoformat(),
        "seen_at": finding.seen_at.isoformat() if finding.seen_at else None,
    }


def dispute_json(row: QcDispute) -> dict[str, Any]:
    return {
        "id": row.id,
        "finding_id": row.finding_id,
        "agent_id": row.agent_id,
        "comment": row.comment,
        "opened_at": row.opened_at.isoformat(),
        "due_by": row.due_by.isoformat(),
        "resolution": row.resolution.value if row.resolution else None,
        "resolution_comment": row.resolution_comment,
        "amended_rating": row.amended_rating,
        "resolver_id": row.resolver_id,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
    }


def session_json(row: QcCalibrationSession) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "conversation_ids": row.conversation_ids,
        "inspector_ids": row.inspector_ids,
        "status": row.status.value,
        "result": row.result,
        "created_at": row.created_at.isoformat(),
        "closed_at": row.closed_at.isoformat() if row.closed_at else None,
    }


def proposal_json(row: QcProposal) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "body": row.body,
        "finding_ids": row.finding_ids,
        "status": row.status.value,
        "raised_by": row.raised_by,
        "created_at": row.created_at.isoformat(),
        "done_at": row.done_at.isoformat() if row.done_at else None,
    }
