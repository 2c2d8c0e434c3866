"""An agent's answer to a finding (acknowledge, or dispute with a required comment, within
the shop's ``qc.dispute_days``) and the QC lead's resolution: uphold, reverse or amend.
The score follows the outcome (a reversed item gets its points back, an amended one the
lead's rating), with the change in the score's history; every step is audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.qc.common import (
    FINDING_CHANGED,
    qc_settings,
    shop_config,
    text_field,
    to_user_event,
)
from csdesk.actions.qc.scoring import rescore
from csdesk.actions.training import points
from csdesk.actions.training.assignments import evaluate_rules
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, ConflictError, NotFoundError
from csdesk.qc.scorecard import total
from csdesk.reads.qc_base import LEAD, RESPOND, dispute_json, finding_json, scorecard_of
from csdesk.storage.qc_models import (
    DisputeResolution,
    FindingStatus,
    QcDispute,
    QcFinding,
    QcScore,
    QcScriptVersion,
)


async def _finding(session: AsyncSession, actor: CurrentUser, finding_id: int) -> QcFinding:
    finding = await session.get(QcFinding, finding_id, with_for_update=True)
    if finding is None or finding.shop_id != actor.shop_id:
        raise NotFoundError(f"finding {finding_id}: not found")
    return finding


def _open_for_answer(finding: QcFinding, now: datetime) -> None:
    if finding.status is not FindingStatus.OPEN:
        raise ConflictError(f"finding {finding.id}: already {finding.status.value}")
    if now > finding.respond_by:
        raise ConflictError(
            f"finding {finding.id}: the answer window closed {finding.respond_by.isoformat()}"
        )


async def acknowledge(
    deps: Deps, actor: CurrentUser, finding_id: int, now: datetime
) -> dict[str, Any]:
    async with transaction(deps) as (session, outbox):
        finding = await _finding(session, actor, finding_id)
        require(actor, RESPOND, finding)
        _open_for_answer(finding, now)
        finding.status = FindingStatus.ACKNOWLEDGED
        finding.responded_at = now
        finding.seen_at = finding.seen_at or now
        await session.flush()
        if finding.agent_id is not None:
            # The finding stands now: the shop's training rules may call for a course.
            await evaluate_rules(session, outbox, finding.shop_id, {finding.agent_id}, now)
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="qc.finding.acknowledge",
            target_type="qc_finding",
            target_id=finding.id,
            at=now,
        )
        outbox.publish(
            to_user_event(
                FINDING_CHANGED,
                actor.shop_id,
                None,
                {"finding_id": finding.id, "status": "acknowledged"},
            )
        )
        return finding_json(finding)


async def dispute(
    deps: Deps, actor: CurrentUser, finding_id: int, comment: str, now: datetime
) -> dict[str, Any]:
    comment = text_field(comment, "comment", required=True)
    async with transaction(deps) as (session, outbox):
        finding = await _finding(session, actor, finding_id)
        require(actor, RESPOND, finding)
        _open_for_answer(finding, now)
        settings = qc_settings(await shop_config(session, actor.shop_id))
        finding.status = FindingStatus.DISPUTED
        finding.responded_at = now
        finding.seen_at = finding.seen_at or now
        row = QcDispute(
            shop_id=actor.shop_id,
            finding_id=finding.id,
            agent_id=actor.id,
            comment=comment,
            opened_at=now,
            due_by=now + timedelta(days=settings.dispute_days),
        )
        session.add(row)
        await session.flush()
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="qc.finding.dispute",
            target_type="qc_finding",
            target_id=finding.id,
            at=now,
            reason=comment,
            detail={"dispute_id": row.id},
        )
        outbox.publish(
            to_user_event(
                FINDING_CHANGED,
                actor.shop_id,
                None,
                {"finding_id": finding.id, "status": "disputed"},
            )
        )
        return {**finding_json(finding), "dispute": dispute_json(row)}


_OUTCOME = {
    DisputeResolution.UPHOLD: FindingStatus.UPHELD,
    DisputeResolution.REVERSE: FindingStatus.REVERSED,
    DisputeResolution.AMEND: FindingStatus.AMENDED,
}


async def resolve(
    deps: Deps,
    actor: CurrentUser,
    finding_id: int,
    resolution: str,
    comment: str,
    now: datetime,
    *,
    rating: int | None = None,
) -> dict[str, Any]:
    """The QC lead's answer to a dispute; the score follows (see the module docstring)."""
    require(actor, LEAD)
    try:
        outcome = DisputeResolution(resolution)
    except ValueError:
        raise BadInputError("resolution", "must be uphold, reverse or amend") from None
    comment = text_field(comment, "comment", required=True)
    async with transaction(deps) as (session, outbox):
        finding = await _finding(session, actor, finding_id)
        if finding.status is not FindingStatus.DISPUTED:
            raise ConflictError(f"finding {finding.id}: is {finding.status.value}, not disputed")
        row = await session.scalar(select(QcDispute).where(QcDispute.finding_id == finding.id))
        score = await session.get(QcScore, finding.score_id, with_for_update=True)
        version = await session.get(QcScriptVersion, finding.script_version_id)
        assert row is not None
        assert score is not None
        assert version is not None
        card = scorecard_of(version)
        item = card.by_key.get(finding.item)
        if item is None:
            raise ConflictError(
                f"finding {finding.id}: item {finding.item} is not on its scorecard"
            )
        before = after = score.total
        if outcome is DisputeResolution.AMEND:
            if rating is None:
                raise BadInputError("rating", "is required to amend: the item's new rating")
            if not 0 <= rating <= item.max_rating:
                raise BadInputError("rating", f"must be 0-{item.max_rating}")
            before, after = rescore(score, card, item.key, rating)
            finding.points = (
                100.0
                if item.critical and rating == 0
                else total(card, _ratings(score), score.bonus).cost.get(item.key, 0.0)
            )
        elif outcome is DisputeResolution.REVERSE:
            before, after = rescore(score, card, item.key, item.max_rating)
            finding.points = 0.0
        finding.status = _OUTCOME[outcome]
        row.resolution = outcome
        row.resolution_comment = comment
        row.amended_rating = rating if outcome is DisputeResolution.AMEND else None
        row.resolver_id = actor.id
        row.resolved_at = now
        score.history = [
            *score.history,
            {
                "at": now.isoformat(),
                "by": actor.id,
                "what": f"dispute {outcome.value}: finding {finding.id} ({finding.item})",
                "total_before": before,
                "total": after,
            },
        ]
        score.updated_at = now
        await session.flush()
        if finding.status is FindingStatus.REVERSED or (
            finding.status is FindingStatus.AMENDED and finding.points <= 0
        ):
            # A reversed finding gives its points back (a new ledger line, 积分).
            await points.reverse_finding(session, outbox, finding, now, by=actor.id)
        elif finding.agent_id is not None:
            # Upheld (or amended and still costing): it stands, the training rules apply.
            await evaluate_rules(session, outbox, finding.shop_id, {finding.agent_id}, now)
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action=f"qc.dispute.{outcome.value}",
            target_type="qc_finding",
            target_id=finding.id,
            at=now,
            reason=comment,
            detail={"score_id": score.id, "total_before": before, "total": after, "rating": rating},
        )
        outbox.publish(
            to_user_event(
                FINDING_CHANGED,
                actor.shop_id,
                finding.agent_id,
                {"finding_id": finding.id, "status": finding.status.value},
            )
        )
        return {
            **finding_json(finding),
            "dispute": dispute_json(row),
            "score": {"id": score.id, "total": score.total, "history": score.history},
        }


def _ratings(score: QcScore) -> dict[str, int | None]:
    return {key: spec.get("rating") for key, spec in score.items.items()}


async def mark_seen(deps: Deps, actor: CurrentUser, now: datetime) -> int:
    """The agent opened their results: the new-findings badge clears (not audited)."""
    from sqlalchemy import update

    async with deps.sessions.begin() as session:
        result = await session.execute(
            update(QcFinding)
            .where(
                QcFinding.shop_id == actor.shop_id,
                QcFinding.agent_id == actor.id,
                QcFinding.seen_at.is_(None),
            )
            .values(seen_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)
