"""QC reads for the console and the API: the inspector's queue and workspace, findings
(an agent's own only), the dispute queue, calibration sessions (blind while open), the
score's trail. Each checks the access table first; nothing here writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import can, only_own, require
from csdesk.auth.current import CurrentUser
from csdesk.clock import parse_date
from csdesk.errors import BadInputError, ForbiddenError, NotFoundError
from csdesk.reads.qc_base import (
    CALIBRATE,
    LEAD,
    PROPOSALS,
    QUEUE,
    RESULTS,
    SCORERS,
    checked_messages,
    conversation_in_shop,
    dispute_json,
    finding_json,
    iso,
    proposal_json,
    score_json,
    scorecard_of,
    session_json,
    starting_ratings,
)
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import MessageSender
from csdesk.storage.models import AuditLog, Buyer, Conversation, Message, User
from csdesk.storage.qc_models import (
    CalibrationStatus,
    FindingStatus,
    QcCalibrationScore,
    QcCalibrationSession,
    QcCheck,
    QcDispute,
    QcFinding,
    QcHit,
    QcProposal,
    QcSample,
    QcScore,
    QcScriptVersion,
    SampleStatus,
)

MAX_LIST: Final = 500


async def names(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {row[0]: row[1] for row in rows}


def _who(id_: int | None, known: dict[int, str]) -> dict[str, Any] | None:
    return None if id_ is None else {"id": id_, "display_name": known.get(id_, f"#{id_}")}


# -- the inspector's queue ----------------------------------------------------------------------


async def queue(
    sessions: SessionFactory,
    actor: CurrentUser,
    *,
    status: str | None = None,
    role: str | None = None,
    reason: str | None = None,
    agent_id: int | None = None,
    day: date | None = None,
    everyone: bool = False,
) -> dict[str, Any]:
    """The sampled conversations: the actor's own (inspectors), or all (``everyone``)."""
    require(actor, QUEUE)
    if status is not None and status not in {s.value for s in SampleStatus}:
        raise BadInputError("status", "must be pending or scored")
    query = (
        select(QcSample, QcCheck.score, QcCheck.hit_count, Buyer.nick)
        .join(QcCheck, QcCheck.conversation_id == QcSample.conversation_id)
        .join(Conversation, Conversation.id == QcSample.conversation_id)
        .outerjoin(Buyer, Buyer.id == Conversation.buyer_id)
        .where(QcSample.shop_id == actor.shop_id)
        .order_by(QcSample.status, QcSample.spotlight.desc(), QcSample.day.desc(), QcSample.id)
        .limit(MAX_LIST)
    )
    if not everyone:
        query = query.where(QcSample.inspector_id == actor.id)
    if status:
        query = query.where(QcSample.status == SampleStatus(status))
    if role:
        query = query.where(QcSample.role == role)
    if agent_id is not None:
        query = query.where(QcSample.agent_id == agent_id)
    if day is not None:
        query = query.where(QcSample.day == day)
    async with sessions() as session:
        rows = list(await session.execute(query))
        drafts = set(
            await session.scalars(
                select(QcScore.conversation_id).where(
                    QcScore.inspector_id == actor.id,
                    QcScore.conversation_id.in_([r[0].conversation_id for r in rows]),
                )
            )
        )
        known = await names(
            session, [r[0].agent_id for r in rows] + [r[0].inspector_id for r in rows]
        )
    items = []
    for sample, auto_score, hit_count, nick in rows:
        reasons = [w.get("reason") for w in sample.reasons]
        if reason and reason not in reasons:
            continue
        items.append(
            {
                "sample_id": sample.id,
                "conversation_id": sample.conversation_id,
                "day": sample.day.isoformat(),
                "role": sample.role,
                "buyer_nick": nick,
                "agent": _who(sample.agent_id, known),
                "inspector": _who(sample.inspector_id, known),
                "status": sample.status.value,
                "spotlight": sample.spotlight,
                "reasons": sample.reasons,
                "plan": sample.plan,
                "auto_score": auto_score,
                "hit_count": hit_count,
                "draft": sample.conversation_id in drafts and sample.status is SampleStatus.PENDING,
            }
        )
    return {"items": items}


# -- one conversation under inspection ---------------------------------------------------------


def _message_json(index: int, message: Message, known: dict[int, str]) -> dict[str, Any]:
    return {
        "index": index,
        "id": message.id,
        "sender": message.sender.value,
        "author": _who(message.author_id, known) if message.sender is MessageSender.AGENT else None,
        "text": message.text,
        "sent_at": message.sent_at.isoformat(),
    }


def _hit_json(hit: QcHit, why: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": hit.id,
        "category": hit.category,
        "rule": hit.rule,
        "severity": hit.severity,
        "points": hit.points,
        "message_index": hit.message_index,
        "message_id": hit.message_id,
        "span": [hit.span_start, hit.span_end],
        "detail": hit.detail,
        "why": why.get(hit.rule, {}).get("why", ""),
        "author_id": hit.author_id,
    }


async def _transcript(
    session: AsyncSession, conversation_id: int
) -> tuple[list[Message], dict[int, str]]:
    messages = await checked_messages(session, conversation_id)
    known = await names(session, [m.author_id for m in messages])
    return messages, known


async def workspace(
    sessions: SessionFactory, actor: CurrentUser, conversation_id: int
) -> dict[str, Any]:
    """Transcript (with hits), scorecard, auto ratings, the actor's draft or score."""
    require(actor, QUEUE)
    async with sessions() as session:
        conversation = await conversation_in_shop(session, actor.shop_id, conversation_id)
        check_row = await session.scalar(
            select(QcCheck).where(QcCheck.conversation_id == conversation_id)
        )
        if check_row is None:
            raise NotFoundError(
                f"conversation {conversation_id}: not auto-checked (not closed yet?)"
            )
        version = await session.get(QcScriptVersion, check_row.script_version_id)
        assert version is not None
        hits = list(
            await session.scalars(
                select(QcHit).where(QcHit.check_id == check_row.id).order_by(QcHit.id)
            )
        )
        messages, known = await _transcript(session, conversation_id)
        sample = await session.scalar(
            select(QcSample).where(QcSample.conversation_id == conversation_id)
        )
        score = await session.scalar(
            select(QcScore).where(
                QcScore.conversation_id == conversation_id, QcScore.inspector_id == actor.id
            )
        )
        nick = (
            await session.scalar(select(Buyer.nick).where(Buyer.id == conversation.buyer_id))
            if conversation.buyer_id
            else None
        )
        known.update(await names(session, [check_row.agent_id]))
    card = scorecard_of(version)
    rules = version.script.get("rules", {})
    return {
        "conversation": {
            "id": conversation.id,
            "role": conversation.role,
            "channel": conversation.channel.value,
            "buyer_nick": nick,
            "agent": _who(check_row.agent_id, known),
            "closed_at": iso(conversation.closed_at),
            "disposition": conversation.disposition,
        },
        "script_version": {"id": version.id, "key": f"{version.role}.v{version.version}"},
        "auto_score": check_row.score,
        "messages": [_message_json(i, m, known) for i, m in enumerate(messages)],
        "hits": [_hit_json(h, rules) for h in hits],
        "scorecard": card.to_json(),
        "auto_ratings": starting_ratings(card, version, hits),
        "sample": (
            {
                "id": sample.id,
                "day": sample.day.isoformat(),
                "reasons": sample.reasons,
                "plan": sample.plan,
            }
            if sample
            else None
        ),
        "score": score_json(score) if score else None,
    }


# -- findings -----------------------------------------------------------------------------------


async def findings(
    sessions: SessionFactory,
    actor: CurrentUser,
    *,
    agent_id: int | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """Findings of the shop; an agent's own only (asking for another agent's: 403)."""
    require(actor, RESULTS)
    if only_own(actor, RESULTS):
        if agent_id is not None and agent_id != actor.id:
            raise ForbiddenError("agents see only their own QC results (只能查看自己的质检结果)")
        agent_id = actor.id
    if status is not None and status not in {s.value for s in FindingStatus}:
        raise BadInputError("status", "unknown finding status")
    query = (
        select(QcFinding)
        .where(QcFinding.shop_id == actor.shop_id)
        .order_by(QcFinding.id.desc())
        .limit(MAX_LIST)
    )
    if agent_id is not None:
        query = query.where(QcFinding.agent_id == agent_id)
    if status:
        query = query.where(QcFinding.status == FindingStatus(status))
    async with sessions() as session:
        rows = list(await session.scalars(query))
        known = await names(session, [f.agent_id for f in rows])
    return {
        "items": [{**finding_json(f), "agent": _who(f.agent_id, known)} for f in rows],
        "unseen": sum(1 for f in rows if f.seen_at is None and f.agent_id == actor.id),
    }


async def unseen_findings(sessions: SessionFactory, actor: CurrentUser) -> int:
    """The workbench badge: findings against the actor not opened yet."""
    async with sessions() as session:
        count = await session.scalar(
            select(func.count(QcFinding.id)).where(
                QcFinding.shop_id == actor.shop_id,
                QcFinding.agent_id == actor.id,
                QcFinding.seen_at.is_(None),
            )
        )
    return int(count or 0)


async def finding_detail(
    sessions: SessionFactory, actor: CurrentUser, finding_id: int
) -> dict[str, Any]:
    """One finding with the transcript it points into and its dispute."""
    async with sessions() as session:
        finding = await session.get(QcFinding, finding_id)
        if finding is None or finding.shop_id != actor.shop_id:
            raise NotFoundError(f"finding {finding_id}: not found")
        require(actor, RESULTS, finding)
        messages, known = await _transcript(session, finding.conversation_id)
        row = await session.scalar(select(QcDispute).where(QcDispute.finding_id == finding.id))
        score = await session.get(QcScore, finding.score_id)
        known.update(
            await names(session, [finding.agent_id, score.inspector_id if score else None])
        )
    return {
        **finding_json(finding),
        "agent": _who(finding.agent_id, known),
        "messages": [_message_json(i, m, known) for i, m in enumerate(messages)],
        "dispute": dispute_json(row) if row else None,
        "score": {
            "id": score.id,
            "total": score.total,
            "inspector": _who(score.inspector_id, known),
        }
        if score
        else None,
        "can_respond": can(actor, "qc.respond", finding) and finding.status is FindingStatus.OPEN,
    }


async def disputes(
    sessions: SessionFactory, actor: CurrentUser, *, open_only: bool = True
) -> dict[str, Any]:
    """The QC lead's queue: disputes waiting for an answer, the oldest due first."""
    require(actor, LEAD)
    query = (
        select(QcDispute, QcFinding)
        .join(QcFinding, QcFinding.id == QcDispute.finding_id)
        .where(QcDispute.shop_id == actor.shop_id)
        .order_by(QcDispute.due_by)
        .limit(MAX_LIST)
    )
    if open_only:
        query = query.where(QcDispute.resolved_at.is_(None))
    async with sessions() as session:
        rows = list(await session.execute(query))
        known = await names(session, [f.agent_id for _, f in rows])
    return {
        "items": [
            {**dispute_json(d), "finding": {**finding_json(f), "agent": _who(f.agent_id, known)}}
            for d, f in rows
        ]
    }


async def score_trail(
    sessions: SessionFactory, actor: CurrentUser, score_id: int
) -> dict[str, Any]:
    """A score, its findings and every audited step on them (submit, answers, resolutions)."""
    async with sessions() as session:
        score = await session.get(QcScore, score_id)
        if score is None or score.shop_id != actor.shop_id:
            raise NotFoundError(f"score {score_id}: not found")
        if only_own(actor, RESULTS) and score.agent_id != actor.id:
            raise ForbiddenError("agents see only their own QC results (只能查看自己的质检结果)")
        require(actor, RESULTS)
        rows = list(await session.scalars(select(QcFinding).where(QcFinding.score_id == score.id)))
        targets = [("qc_score", str(score.id))] + [("qc_finding", str(f.id)) for f in rows]
        audit_rows = list(
            await session.scalars(
                select(AuditLog)
                .where(
                    AuditLog.shop_id == actor.shop_id,
                    AuditLog.target_type.in_(["qc_score", "qc_finding"]),
                    AuditLog.target_id.in_([t for _, t in targets]),
                )
                .order_by(AuditLog.id)
            )
        )
    wanted = set(targets)
    return {
        **score_json(score),
        "findings": [finding_json(f) for f in rows],
        "trail": [
            {
                "at": a.at.isoformat(),
                "actor_id": a.actor_id,
                "action": a.action,
                "target": f"{a.target_type}:{a.target_id}",
                "reason": a.reason,
                "detail": a.detail,
            }
            for a in audit_rows
            if (a.target_type, a.target_id) in wanted
        ],
    }


# -- calibration --------------------------------------------------------------------------------


async def calibrations(sessions: SessionFactory, actor: CurrentUser) -> dict[str, Any]:
    require(actor, CALIBRATE)
    async with sessions() as session:
        rows = list(
            await session.scalars(
                select(QcCalibrationSession)
                .where(QcCalibrationSession.shop_id == actor.shop_id)
                .order_by(QcCalibrationSession.id.desc())
                .limit(100)
            )
        )
    lead = can(actor, LEAD)
    return {"items": [session_json(r) for r in rows if lead or actor.id in r.inspector_ids]}


async def calibration_detail(
    sessions: SessionFactory, actor: CurrentUser, session_id: int
) -> dict[str, Any]:
    """Blind while open: an inspector sees only their own scores, the lead who has scored."""
    require(actor, CALIBRATE)
    async with sessions() as session:
        row = await session.get(QcCalibrationSession, session_id)
        if row is None or row.shop_id != actor.shop_id:
            raise NotFoundError(f"calibration session {session_id}: not found")
        lead = can(actor, LEAD)
        if not lead and actor.id not in row.inspector_ids:
            raise ForbiddenError("not one of this session's inspectors")
        scores = list(
            await session.scalars(
                select(QcCalibrationScore).where(QcCalibrationScore.session_id == row.id)
            )
        )
        version = await session.get(QcScriptVersion, row.script_version_id)
        assert version is not None
        known = await names(session, row.inspector_ids)
        nicks = dict(
            (
                await session.execute(
                    select(Conversation.id, Buyer.nick)
                    .outerjoin(Buyer, Buyer.id == Conversation.buyer_id)
                    .where(Conversation.id.in_(row.conversation_ids))
                )
            ).all()
        )
    closed = row.status is CalibrationStatus.CLOSED
    visible = [s for s in scores if closed or s.inspector_id == actor.id]
    return {
        **session_json(row),
        "inspectors": [_who(i, known) for i in row.inspector_ids],
        "conversations": [{"id": c, "buyer_nick": nicks.get(c)} for c in row.conversation_ids],
        "scorecard": scorecard_of(version).to_json(),
        "progress": {
            str(i): sum(1 for s in scores if s.inspector_id == i) for i in row.inspector_ids
        },
        "scores": [
            {
                "inspector_id": s.inspector_id,
                "conversation_id": s.conversation_id,
                "items": s.items,
                "bonus": s.bonus,
                "total": s.total,
            }
            for s in visible
        ],
        "is_lead": lead,
    }


async def calibration_transcript(
    sessions: SessionFactory, actor: CurrentUser, session_id: int, conversation_id: int
) -> dict[str, Any]:
    require(actor, CALIBRATE)
    async with sessions() as session:
        row = await session.get(QcCalibrationSession, session_id)
        if (
            row is None
            or row.shop_id != actor.shop_id
            or conversation_id not in row.conversation_ids
        ):
            raise NotFoundError(f"calibration session {session_id}: no such conversation")
        messages, known = await _transcript(session, conversation_id)
    return {"messages": [_message_json(i, m, known) for i, m in enumerate(messages)]}


async def drift_history(sessions: SessionFactory, actor: CurrentUser) -> dict[str, Any]:
    """Each inspector's drift over the closed sessions, oldest first (too strict / lenient)."""
    require(actor, LEAD)
    async with sessions() as session:
        rows = list(
            await session.scalars(
                select(QcCalibrationSession)
                .where(
                    QcCalibrationSession.shop_id == actor.shop_id,
                    QcCalibrationSession.status == CalibrationStatus.CLOSED,
                )
                .order_by(QcCalibrationSession.closed_at)
            )
        )
        known = await names(session, [i for r in rows for i in r.inspector_ids])
    history: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        for d in r.result.get("drift", []):
            history.setdefault(d["rater"], []).append(
                {"session_id": r.id, "at": iso(r.closed_at), **d}
            )
    return {
        "inspectors": [
            {"inspector": _who(int(rater), known), "sessions": points}
            for rater, points in history.items()
        ]
    }


async def proposals(sessions: SessionFactory, actor: CurrentUser) -> dict[str, Any]:
    require(actor, PROPOSALS)
    async with sessions() as session:
        rows = list(
            await session.scalars(
                select(QcProposal)
                .where(QcProposal.shop_id == actor.shop_id)
                .order_by(QcProposal.id.desc())
                .limit(MAX_LIST)
            )
        )
    return {"items": [proposal_json(r) for r in rows]}


def parse_day(raw: str | None, field: str = "day") -> date | None:
    """None when absent or empty; else exactly ``YYYY-MM-DD``."""
    if not raw:
        return None
    try:
        return parse_date(raw)
    except ValueError:
        raise BadInputError(field, "must be a date, YYYY-MM-DD") from None


async def inspectors(sessions: SessionFactory, actor: CurrentUser) -> dict[str, Any]:
    """Who can score a calibration session: the shop's active inspectors and QC leads."""
    require(actor, LEAD)
    async with sessions() as session:
        rows = await session.execute(
            select(User.id, User.display_name, User.role)
            .where(User.shop_id == actor.shop_id, User.role.in_(SCORERS), User.is_active.is_(True))
            .order_by(User.role, User.id)
        )
        return {"items": [{"id": r[0], "display_name": r[1], "role": r[2].value} for r in rows]}
