"""The points ledger (积分台账): append-only lines, written inside the transaction of the
behaviour they reward or cost (a QC finding, a scorecard's bonus, a reversed dispute, a
recovered chase, a passed course, a rating) and a supervisor's award with a reason.

Nothing here updates or deletes a line: a finding reversed on dispute gets a second line
with the opposite points (``reverses_id``). An automatic line is written at most once per
(source, ref): the unique key decides between two writers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, Outbox, transaction
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.errors import BadInputError, NotFoundError
from csdesk.reads.training_base import AWARD, entry_json, training_settings
from csdesk.storage.enums import UserRole
from csdesk.storage.models import User
from csdesk.storage.qc_models import QcFinding, QcScore
from csdesk.storage.training_models import PointsEntry, PointsSource
from csdesk.training.courses import CourseError
from csdesk.training.points import check_award

SEVERITY_NAMES = {"fatal": "严重", "major": "重大", "minor": "一般"}


async def add_entry(
    session: AsyncSession,
    outbox: Outbox | None,
    *,
    shop_id: str,
    agent_id: int,
    points: int,
    source: PointsSource,
    reason: str,
    ref: str | None,
    now: datetime,
    by: int | None = None,
    reverses_id: int | None = None,
) -> PointsEntry | None:
    """One ledger line (in the caller's transaction); None when the (source, ref) line is
    already there (or the points are 0: nothing to record)."""
    if points == 0:
        return None
    if ref is not None:
        existing = await session.scalar(
            select(PointsEntry.id).where(
                PointsEntry.shop_id == shop_id,
                PointsEntry.source == source,
                PointsEntry.ref == ref,
            )
        )
        if existing is not None:
            return None
    row = PointsEntry(
        shop_id=shop_id,
        agent_id=agent_id,
        points=points,
        reason=reason[:500],
        source=source,
        ref=ref,
        reverses_id=reverses_id,
        created_by=by,
        at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return None  # another writer recorded the same line a moment ago
    if outbox is not None:
        outbox.publish(
            BusEvent(
                ev.POINTS_CHANGED, shop_id, (ev.to_user(agent_id),), {"entry": entry_json(row)}
            )
        )
    return row


async def for_findings(
    session: AsyncSession,
    outbox: Outbox | None,
    findings: list[QcFinding],
    now: datetime,
) -> None:
    """What each new finding costs its agent (the shop's ``training.points.finding``)."""
    if not findings:
        return
    rules = (await training_settings(session, findings[0].shop_id)).points
    for finding in findings:
        if finding.agent_id is None:
            continue
        await add_entry(
            session,
            outbox,
            shop_id=finding.shop_id,
            agent_id=finding.agent_id,
            points=rules.for_finding(finding.severity),
            source=PointsSource.FINDING,
            reason=f"质检发现（{SEVERITY_NAMES.get(finding.severity, finding.severity)}）："
            f"{finding.category}",
            ref=f"qc_finding:{finding.id}",
            now=now,
        )


async def for_praise(
    session: AsyncSession, outbox: Outbox | None, score: QcScore, now: datetime
) -> None:
    """An inspector's bonus points on a scorecard, for the conversation's agent."""
    if score.bonus <= 0 or score.agent_id is None:
        return
    rules = (await training_settings(session, score.shop_id)).points
    await add_entry(
        session,
        outbox,
        shop_id=score.shop_id,
        agent_id=score.agent_id,
        points=rules.praise_per_bonus * score.bonus,
        source=PointsSource.PRAISE,
        reason=f"质检加分 {score.bonus}：服务获表扬",
        ref=f"qc_score:{score.id}",
        now=now,
    )


async def reverse_finding(
    session: AsyncSession,
    outbox: Outbox | None,
    finding: QcFinding,
    now: datetime,
    *,
    by: int | None,
) -> PointsEntry | None:
    """A finding reversed on dispute: the opposite of what it cost, as a new line."""
    original = await session.scalar(
        select(PointsEntry).where(
            PointsEntry.shop_id == finding.shop_id,
            PointsEntry.source == PointsSource.FINDING,
            PointsEntry.ref == f"qc_finding:{finding.id}",
        )
    )
    if original is None:
        return None
    return await add_entry(
        session,
        outbox,
        shop_id=original.shop_id,
        agent_id=original.agent_id,
        points=-original.points,
        source=PointsSource.DISPUTE_REVERSAL,
        reason=f"申诉成立，撤销质检扣分（{finding.category}）",
        ref=f"qc_finding:{finding.id}",
        now=now,
        by=by,
        reverses_id=original.id,
    )


async def for_recovered_chase(
    session: AsyncSession,
    outbox: Outbox | None,
    *,
    shop_id: str,
    agent_id: int,
    conversation_id: int,
    recovered_fen: int,
    now: datetime,
) -> None:
    rules = (await training_settings(session, shop_id)).points
    await add_entry(
        session,
        outbox,
        shop_id=shop_id,
        agent_id=agent_id,
        points=rules.recovered_chase,
        source=PointsSource.RECOVERED_CHASE,
        reason=f"催付成功，买家付款 ¥{recovered_fen / 100:.2f}",
        ref=f"conversation:{conversation_id}",
        now=now,
    )


async def for_rating(
    session: AsyncSession,
    outbox: Outbox | None,
    *,
    shop_id: str,
    agent_id: int,
    rating_id: int,
    score: int,
    now: datetime,
    replaces_rating_id: int | None = None,
) -> None:
    """A buyer's satisfaction rating (1-5) of the agent's conversation (``rating.received``,
    the current rating). A rating it replaces (the buyer rated again) has its points taken
    back first, as an opposite line: the conversation counts once, at its latest rating."""
    if replaces_rating_id is not None:
        earlier = await session.scalar(
            select(PointsEntry).where(
                PointsEntry.shop_id == shop_id,
                PointsEntry.source == PointsSource.RATING,
                PointsEntry.ref == f"service_rating:{replaces_rating_id}",
            )
        )
        if earlier is not None:
            await add_entry(
                session,
                outbox,
                shop_id=shop_id,
                agent_id=earlier.agent_id,
                points=-earlier.points,
                source=PointsSource.RATING,
                reason="买家修改了评价，原评价积分撤回",
                ref=f"service_rating:{replaces_rating_id}:replaced",
                now=now,
                reverses_id=earlier.id,
            )
    rules = (await training_settings(session, shop_id)).points
    await add_entry(
        session,
        outbox,
        shop_id=shop_id,
        agent_id=agent_id,
        points=rules.for_rating(score),
        source=PointsSource.RATING,
        reason=f"买家满意度评价 {score} 分",
        ref=f"service_rating:{rating_id}",
        now=now,
    )


async def award(
    deps: Deps,
    actor: CurrentUser,
    agent_id: int,
    points: object,
    reason: object,
    now: datetime,
) -> dict[str, Any]:
    """A supervisor's award (or deduction) with a reason; audited."""
    require(actor, AWARD)
    try:
        amount, why = check_award(points, reason)
    except CourseError as exc:
        raise BadInputError(exc.field, exc.message) from None
    async with transaction(deps) as (session, outbox):
        user = await session.get(User, agent_id)
        if user is None or user.shop_id != actor.shop_id:
            raise NotFoundError(f"agent {agent_id}: not found", field="agent_id")
        if user.role is not UserRole.AGENT:
            raise BadInputError("agent_id", "points go to agents")
        row = await add_entry(
            session,
            outbox,
            shop_id=actor.shop_id,
            agent_id=agent_id,
            points=amount,
            source=PointsSource.AWARD,
            reason=why,
            ref=None,
            now=now,
            by=actor.id,
        )
        assert row is not None
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="points.award",
            target_type="user",
            target_id=agent_id,
            at=now,
            reason=why,
            detail={"points": amount, "entry_id": row.id},
        )
        return entry_json(row, user.display_name)
