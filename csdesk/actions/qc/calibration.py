"""Calibration sessions (校准): the QC lead picks closed conversations and inspectors; each
inspector scores them blind (nobody sees another's scores while the session is open); on
close, Krippendorff's α per scorecard item (ordinal) and over the totals (interval), and
each inspector's drift from the consensus (``csdesk.qc.calibration``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.qc.common import is_id, text_field
from csdesk.actions.qc.scoring import _bonus, checked, ratings_of
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, ConflictError, ForbiddenError, NotFoundError
from csdesk.qc.calibration import Level, RatingSheet, SheetError, agreement, drift
from csdesk.qc.scorecard import ScorecardError, check_rating, total
from csdesk.reads.qc_base import CALIBRATE, LEAD, SCORERS, scorecard_of, session_json
from csdesk.storage.models import User
from csdesk.storage.qc_models import (
    CalibrationStatus,
    QcCalibrationScore,
    QcCalibrationSession,
    QcScriptVersion,
)

MAX_UNITS: Final = 50


def _ids(value: object, field: str, *, least: int) -> list[int]:
    if not isinstance(value, list) or not all(is_id(v) for v in value):
        raise BadInputError(field, "must be a list of ids")
    unique = sorted(set(value))
    if not least <= len(unique) <= MAX_UNITS:
        raise BadInputError(field, f"needs {least}-{MAX_UNITS} different ids")
    return unique


async def create_session(
    deps: Deps,
    actor: CurrentUser,
    title: str,
    conversation_ids: object,
    inspector_ids: object,
    now: datetime,
) -> dict[str, Any]:
    require(actor, LEAD)
    title = text_field(title, "title", required=True, limit=200)
    conversations = _ids(conversation_ids, "conversation_ids", least=1)
    inspectors = _ids(inspector_ids, "inspector_ids", least=2)
    async with transaction(deps) as (session, _outbox):
        version_id = 0
        for n, conversation_id in enumerate(conversations):
            try:
                check_row, _version, _hits = await checked(session, actor.shop_id, conversation_id)
            except (NotFoundError, ConflictError) as exc:
                raise BadInputError(f"conversation_ids[{n}]", exc.message) from None
            version_id = version_id or check_row.script_version_id
        found = set(
            await session.scalars(
                select(User.id).where(
                    User.shop_id == actor.shop_id,
                    User.id.in_(inspectors),
                    User.role.in_(SCORERS),
                    User.is_active.is_(True),
                )
            )
        )
        for n, inspector_id in enumerate(inspectors):
            if inspector_id not in found:
                raise BadInputError(
                    f"inspector_ids[{n}]",
                    f"user {inspector_id} is no active inspector of this shop",
                )
        row = QcCalibrationSession(
            shop_id=actor.shop_id,
            title=title,
            conversation_ids=conversations,
            inspector_ids=inspectors,
            script_version_id=version_id,
            status=CalibrationStatus.OPEN,
            result={},
            created_by=actor.id,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="qc.calibration.create",
            target_type="qc_calibration",
            target_id=row.id,
            at=now,
            detail={"conversation_ids": conversations, "inspector_ids": inspectors},
        )
        return session_json(row)


async def _session(
    session: AsyncSession, actor: CurrentUser, session_id: int
) -> QcCalibrationSession:
    row = await session.get(QcCalibrationSession, session_id)
    if row is None or row.shop_id != actor.shop_id:
        raise NotFoundError(f"calibration session {session_id}: not found")
    return row


async def submit_blind_score(
    deps: Deps,
    actor: CurrentUser,
    session_id: int,
    conversation_id: int,
    body: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """An inspector's score of one conversation of the session (again: replaced while open)."""
    require(actor, CALIBRATE)
    async with transaction(deps) as (session, _outbox):
        row = await _session(session, actor, session_id)
        if actor.id not in row.inspector_ids:
            raise ForbiddenError(
                f"calibration session {session_id}: you are not one of its inspectors"
            )
        if row.status is not CalibrationStatus.OPEN:
            raise ConflictError(f"calibration session {session_id}: closed")
        if conversation_id not in row.conversation_ids:
            raise BadInputError("conversation_id", "not in this session")
        version = await session.get(QcScriptVersion, row.script_version_id)
        assert version is not None
        card = scorecard_of(version)
        raw = body.get("items")
        if not isinstance(raw, dict):
            raise BadInputError("items", "must be an object: item key → {rating}")
        items: dict[str, dict[str, Any]] = {}
        for item in card.items:
            spec = raw.get(item.key)
            if not isinstance(spec, dict) or "rating" not in spec:
                raise BadInputError(f"items.{item.key}.rating", "is required (null for N/A)")
            try:
                items[item.key] = {"rating": check_rating(card, item.key, spec["rating"])}
            except ScorecardError as exc:
                raise BadInputError(exc.field, exc.message) from None
        for key in raw:
            if key not in card.by_key:
                raise BadInputError(f"items.{key}", "no such item on this scorecard")
        bonus = _bonus(card, body.get("bonus"))
        score_total = total(card, ratings_of(items), bonus).total
        existing = await session.scalar(
            select(QcCalibrationScore).where(
                QcCalibrationScore.session_id == row.id,
                QcCalibrationScore.conversation_id == conversation_id,
                QcCalibrationScore.inspector_id == actor.id,
            )
        )
        if existing is None:
            existing = QcCalibrationScore(
                shop_id=actor.shop_id,
                session_id=row.id,
                conversation_id=conversation_id,
                inspector_id=actor.id,
            )
            session.add(existing)
        existing.items = items
        existing.bonus = bonus
        existing.total = score_total
        existing.submitted_at = now
        await session.flush()
        return {"session_id": row.id, "conversation_id": conversation_id, "total": score_total}


def _sheet(scores: list[QcCalibrationScore], row: QcCalibrationSession, value: Any) -> RatingSheet:
    raters = tuple(str(i) for i in row.inspector_ids)
    units = tuple(str(c) for c in row.conversation_ids)
    cells = {(s.inspector_id, s.conversation_id): value(s) for s in scores}
    return RatingSheet(
        raters,
        units,
        tuple(tuple(cells.get((i, c)) for c in row.conversation_ids) for i in row.inspector_ids),
    )


def _alpha(sheet: RatingSheet, level: Level) -> dict[str, Any]:
    try:
        return agreement(sheet, level).to_json()
    except SheetError as exc:
        return {"alpha": None, "level": level.value, "why": str(exc)}


async def close_session(
    deps: Deps, actor: CurrentUser, session_id: int, now: datetime
) -> dict[str, Any]:
    """Close the session: α overall and per item, drift per inspector; scores become visible."""
    require(actor, LEAD)
    async with transaction(deps) as (session, _outbox):
        row = await _session(session, actor, session_id)
        if row.status is not CalibrationStatus.OPEN:
            raise ConflictError(f"calibration session {session_id}: already closed")
        scores = list(
            await session.scalars(
                select(QcCalibrationScore).where(QcCalibrationScore.session_id == row.id)
            )
        )
        if not scores:
            raise ConflictError(f"calibration session {session_id}: nobody has scored yet")
        version = await session.get(QcScriptVersion, row.script_version_id)
        assert version is not None
        card = scorecard_of(version)
        totals = _sheet(scores, row, lambda s: float(s.total))
        items = {}
        for item in card.items:

            def rating(s: QcCalibrationScore, key: str = item.key) -> float | None:
                value = s.items.get(key, {}).get("rating")
                return float(value) if value is not None else None

            items[item.key] = _alpha(_sheet(scores, row, rating), Level.ORDINAL)
        try:
            drifts = [d.to_json() for d in drift(totals)]
        except SheetError:
            drifts = []
        row.result = {"overall": _alpha(totals, Level.INTERVAL), "items": items, "drift": drifts}
        row.status = CalibrationStatus.CLOSED
        row.closed_at = now
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="qc.calibration.close",
            target_type="qc_calibration",
            target_id=row.id,
            at=now,
            detail={"alpha": row.result["overall"].get("alpha")},
        )
        return session_json(row)
