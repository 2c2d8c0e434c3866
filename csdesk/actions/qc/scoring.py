"""An inspector's scorecard of one conversation: drafts, submit, and the findings it makes.

Auto-scored items start from the auto-check's hits; changing one needs a reason (the
inspector overrides, never silently edits). Submitting turns every item that lost points
into a finding against the author of the message it is about (the message the inspector
had selected, else the message of the auto-check hit, else the conversation's agent), for
that agent to acknowledge or dispute within the shop's ``qc.dispute_days``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.qc.common import (
    FINDING_CREATED,
    is_id,
    qc_settings,
    shop_config,
    text_field,
    to_user_event,
)
from csdesk.actions.training import points
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, ConflictError
from csdesk.qc.scorecard import (
    Scorecard,
    ScorecardError,
    check_rating,
    total,
)
from csdesk.reads.qc_base import (
    SCORE,
    conversation_in_shop,
    score_json,
    scorecard_of,
    starting_ratings,
)
from csdesk.storage.enums import MessageSender
from csdesk.storage.models import Message
from csdesk.storage.qc_models import (
    FindingStatus,
    QcCheck,
    QcFinding,
    QcHit,
    QcSample,
    QcScore,
    QcScriptVersion,
    SampleStatus,
    ScoreStatus,
)

MAX_OVERRIDE_REASON: Final = 300
MAX_EVIDENCE: Final = 500


async def checked(
    session: AsyncSession, shop_id: str, conversation_id: int
) -> tuple[QcCheck, QcScriptVersion, list[QcHit]]:
    await conversation_in_shop(session, shop_id, conversation_id)
    row = await session.scalar(select(QcCheck).where(QcCheck.conversation_id == conversation_id))
    if row is None:
        raise ConflictError(
            f"conversation {conversation_id}: not auto-checked yet "
            "(only closed conversations are scored)"
        )
    version = await session.get(QcScriptVersion, row.script_version_id)
    assert version is not None
    hits = list(
        await session.scalars(select(QcHit).where(QcHit.check_id == row.id).order_by(QcHit.id))
    )
    return row, version, hits


def _parse_items(
    card: Scorecard, raw: object, auto: dict[str, int | None], *, submit: bool
) -> dict[str, dict[str, Any]]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadInputError("items", "must be an object: item key → {rating, ...}")
    items: dict[str, dict[str, Any]] = {}
    for key, spec in raw.items():
        if not isinstance(spec, dict):
            raise BadInputError(f"items.{key}", "must be an object with rating (null: N/A)")
        if "rating" not in spec:
            raise BadInputError(f"items.{key}.rating", "is required (null for N/A)")
        try:
            rating = check_rating(card, key, spec["rating"])
        except ScorecardError as exc:
            raise BadInputError(exc.field, exc.message) from None
        reason = spec.get("override_reason") or ""
        comment = spec.get("comment") or ""
        if not isinstance(reason, str):
            raise BadInputError(f"items.{key}.override_reason", "must be a string")
        if not isinstance(comment, str):
            raise BadInputError(f"items.{key}.comment", "must be a string")
        message_id = spec.get("message_id")
        if message_id is not None and not is_id(message_id):
            raise BadInputError(f"items.{key}.message_id", "must be a message id")
        reason = text_field(
            reason, f"items.{key}.override_reason", required=False, limit=MAX_OVERRIDE_REASON
        )
        if key in auto and rating != auto[key] and not reason:
            raise BadInputError(
                f"items.{key}.override_reason",
                "the item is auto-scored: say why you change it (覆盖自动评分须填写原因)",
            )
        items[key] = {
            "rating": rating,
            "auto_rating": auto.get(key),
            "override_reason": reason if key in auto and rating != auto[key] else "",
            "comment": text_field(comment, f"items.{key}.comment", required=False),
            "message_id": message_id,
        }
    for item in card.items:
        if item.key in items:
            continue
        if item.key in auto:
            items[item.key] = {
                "rating": auto[item.key],
                "auto_rating": auto[item.key],
                "override_reason": "",
                "comment": "",
                "message_id": None,
            }
        elif submit:
            raise BadInputError(f"items.{item.key}.rating", "is required to submit (null for N/A)")
    return items


def _bonus(card: Scorecard, raw: object) -> int:
    if raw is None:
        return 0
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= card.bonus_max:
        raise BadInputError("bonus", f"must be a whole number 0-{card.bonus_max}")
    return raw


def ratings_of(items: dict[str, dict[str, Any]]) -> dict[str, int | None]:
    return {key: spec.get("rating") for key, spec in items.items()}


async def save_score(
    deps: Deps,
    actor: CurrentUser,
    conversation_id: int,
    body: dict[str, Any],
    now: datetime,
    *,
    submit: bool,
) -> dict[str, Any]:
    """Save the actor's draft of the conversation's scorecard, or submit it (then findings)."""
    require(actor, SCORE)
    comment_raw = body.get("comment", "")
    if not isinstance(comment_raw, str):
        raise BadInputError("comment", "must be a string")
    async with transaction(deps) as (session, outbox):
        check_row, version, hits = await checked(session, actor.shop_id, conversation_id)
        card = scorecard_of(version)
        auto = starting_ratings(card, version, hits)
        items = _parse_items(card, body.get("items"), auto, submit=submit)
        bonus = _bonus(card, body.get("bonus"))
        comment = text_field(comment_raw, "comment", required=False)
        result = total(card, ratings_of(items), bonus)
        score = await session.scalar(
            select(QcScore).where(
                QcScore.conversation_id == conversation_id, QcScore.inspector_id == actor.id
            )
        )
        if score is not None and score.status is ScoreStatus.SUBMITTED:
            raise ConflictError(f"conversation {conversation_id}: your score is already submitted")
        sample = await session.scalar(
            select(QcSample).where(QcSample.conversation_id == conversation_id)
        )
        if score is None:
            score = QcScore(
                shop_id=actor.shop_id,
                conversation_id=conversation_id,
                sample_id=sample.id if sample else None,
                inspector_id=actor.id,
                agent_id=check_row.agent_id,
                script_version_id=version.id,
                status=ScoreStatus.DRAFT,
                history=[],
                created_at=now,
            )
            session.add(score)
        score.items = items
        score.bonus = bonus
        score.comment = comment
        score.total = result.total
        score.critical_failed = result.critical_failed
        score.updated_at = now
        if submit:
            score.status = ScoreStatus.SUBMITTED
            score.submitted_at = now
            score.history = [
                *score.history,
                {"at": now.isoformat(), "by": actor.id, "what": "submitted", "total": result.total},
            ]
            if sample is not None:
                sample.status = SampleStatus.SCORED
            await session.flush()
            settings = qc_settings(await shop_config(session, actor.shop_id))
            findings = await _findings(
                session, score, card, result.cost, hits, check_row, now, settings.dispute_days
            )
            # 积分: each finding costs its agent points; the scorecard's bonus earns praise.
            await points.for_findings(session, outbox, findings, now)
            await points.for_praise(session, outbox, score, now)
            audit.record(
                session,
                shop_id=actor.shop_id,
                actor_id=actor.id,
                action="qc.score.submit",
                target_type="qc_score",
                target_id=score.id,
                at=now,
                detail={
                    "conversation_id": conversation_id,
                    "total": result.total,
                    "critical_failed": result.critical_failed,
                    "findings": [f.id for f in findings],
                    "overrides": {
                        k: v["override_reason"] for k, v in items.items() if v["override_reason"]
                    },
                },
            )
            for finding in findings:
                outbox.publish(
                    to_user_event(
                        FINDING_CREATED,
                        actor.shop_id,
                        finding.agent_id,
                        {"finding_id": finding.id, "conversation_id": conversation_id},
                    )
                )
        await session.flush()
        return score_json(score)


async def _findings(
    session: AsyncSession,
    score: QcScore,
    card: Scorecard,
    cost: Mapping[str, float],
    hits: list[QcHit],
    check_row: QcCheck,
    now: datetime,
    dispute_days: int,
) -> list[QcFinding]:
    messages = {
        m.id: m
        for m in await session.scalars(
            select(Message).where(Message.conversation_id == score.conversation_id)
        )
    }
    made: list[QcFinding] = []
    for item in card.items:
        spec = score.items.get(item.key)
        if spec is None or spec["rating"] is None or spec["rating"] >= item.max_rating:
            continue
        hit = next(
            (
                h
                for h in hits
                if (h.severity == "fatal" if item.critical else h.category in item.categories)
            ),
            None,
        )
        message = messages.get(spec.get("message_id") or -1)
        if message is None or message.sender is not MessageSender.AGENT:
            message = messages.get(hit.message_id or -1) if hit else None
        agent_id = message.author_id if message and message.author_id else check_row.agent_id
        if (
            hit is not None
            and message is not None
            and hit.message_id == message.id
            and hit.span_end > hit.span_start
        ):
            evidence = message.text[hit.span_start : hit.span_end]
        else:
            evidence = message.text if message else ""
        finding = QcFinding(
            shop_id=score.shop_id,
            score_id=score.id,
            conversation_id=score.conversation_id,
            agent_id=agent_id,
            item=item.key,
            category=item.categories[0] if item.categories else item.key,
            severity="fatal" if item.critical else ("major" if spec["rating"] == 0 else "minor"),
            points=100.0 if item.critical else cost.get(item.key, 0.0),
            message_id=message.id if message else None,
            evidence=evidence[:MAX_EVIDENCE],
            comment=spec.get("comment")
            or spec.get("override_reason")
            or (hit.detail if hit else ""),
            script_version_id=score.script_version_id,
            status=FindingStatus.OPEN,
            created_at=now,
            respond_by=now + timedelta(days=dispute_days),
        )
        session.add(finding)
        made.append(finding)
    await session.flush()
    return made


def rescore(score: QcScore, card: Scorecard, key: str, rating: int | None) -> tuple[float, float]:
    """Set one item's rating and recompute; (total before, total after)."""
    before = score.total
    items = {k: dict(v) for k, v in score.items.items()}
    items[key] = {**items.get(key, {}), "rating": rating}
    result = total(card, ratings_of(items), score.bonus)
    score.items = items
    score.total = result.total
    score.critical_failed = result.critical_failed
    return before, result.total
