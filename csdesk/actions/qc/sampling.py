"""The daily sample (服务抽查): each shop's closed conversations of a day, drawn by the
shop's plan (``csdesk.qc.sampling``), the risk spotlight always in, each pick with its
reasons, spread across the inspectors on duty. Once per shop and day (``qc_sample_day``);
a conversation is sampled at most once.

A spotlight reason that turns up after the day was drawn (a buyer's low rating arrives the
next morning) still puts the conversation in an inspector's queue: :func:`spotlight_late`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.outbox import Deps, Outbox, transaction
from csdesk.actions.qc.checks import BACK_OFFICE_KINDS, check_conversation
from csdesk.actions.qc.common import SAMPLE_ASSIGNED, qc_settings, shop_config, to_user_event
from csdesk.qc.sampling import (
    ClosedConversation,
    InspectorOnDuty,
    Why,
    draw_daily_sample,
    spread_across_inspectors,
)
from csdesk.reads.training_base import qc_boosts
from csdesk.routing import facts as loaded
from csdesk.storage.enums import ConversationStatus, MessageSender, UserRole
from csdesk.storage.models import Conversation, Message, Refund, RosterShift, Shop, User
from csdesk.storage.qc_models import QcCheck, QcSample, QcSampleDay, SampleStatus
from csdesk.storage.rating_models import ServiceRating

TRANSFER_MARK = "转接到"
"""How a transfer reads in the conversation's system lines (``actions.workbench.transfer``)."""


def day_window(day: date, tz: Any) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


async def _check_missing(
    deps: Deps, shop_id: str, start: datetime, end: datetime, now: datetime
) -> None:
    async with deps.sessions() as session:
        ids = list(
            await session.scalars(
                select(Conversation.id)
                .outerjoin(QcCheck, QcCheck.conversation_id == Conversation.id)
                .where(
                    Conversation.shop_id == shop_id,
                    Conversation.status == ConversationStatus.CLOSED,
                    Conversation.kind.not_in(BACK_OFFICE_KINDS),
                    Conversation.closed_at >= start,
                    Conversation.closed_at < end,
                    QcCheck.id.is_(None),
                )
            )
        )
    for conversation_id in ids:
        await check_conversation(deps, conversation_id, now)


async def _facts(
    session: AsyncSession, shop_id: str, start: datetime, end: datetime
) -> list[ClosedConversation]:
    transfers = (
        select(func.count(Message.id))
        .where(
            Message.conversation_id == Conversation.id,
            Message.sender == MessageSender.SYSTEM,
            Message.text.startswith(TRANSFER_MARK),
        )
        .scalar_subquery()
    )

    rows = await session.execute(
        select(
            QcCheck.conversation_id,
            QcCheck.agent_id,
            QcCheck.role,
            QcCheck.closed_at,
            QcCheck.fatal_hits,
            Conversation.intent,
            Conversation.risk,
            Refund.amount_fen,
            transfers,
            ServiceRating.score,
            ServiceRating.comment,
        )
        .join(Conversation, Conversation.id == QcCheck.conversation_id)
        .outerjoin(Refund, Refund.id == Conversation.refund_id)
        # At most one current rating per conversation (uq_service_rating_current).
        .outerjoin(
            ServiceRating,
            (ServiceRating.conversation_id == QcCheck.conversation_id)
            & ServiceRating.is_current.is_(True),
        )
        .outerjoin(QcSample, QcSample.conversation_id == QcCheck.conversation_id)
        .where(
            QcCheck.shop_id == shop_id,
            QcCheck.closed_at >= start,
            QcCheck.closed_at < end,
            QcSample.id.is_(None),
        )
    )
    return [
        ClosedConversation(
            conversation_id=row[0],
            agent_id=row[1],
            role=row[2],
            closed_at=row[3],
            fatal_hits=row[4],
            intent=row[5],
            risk=row[6],
            refund_fen=row[7] or 0,
            transfers=row[8] or 0,
            rating=row[9],
            rating_comment=row[10],
        )
        for row in rows
    ]


async def inspectors_on_duty(
    session: AsyncSession, shop_id: str, start: datetime, end: datetime
) -> list[InspectorOnDuty]:
    """Active QC inspectors; when any has a roster shift in the window, only those on it."""
    inspectors = list(
        await session.scalars(
            select(User.id)
            .where(
                User.shop_id == shop_id,
                User.role == UserRole.QC_INSPECTOR,
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )
    rostered = set(
        await session.scalars(
            select(RosterShift.user_id).where(
                RosterShift.shop_id == shop_id,
                RosterShift.user_id.in_(inspectors),
                RosterShift.starts_at < end,
                RosterShift.ends_at > start,
            )
        )
    )
    on_duty = [i for i in inspectors if i in rostered] if rostered else inspectors
    return [InspectorOnDuty(i) for i in on_duty]


def _training_boost(config: Mapping[str, Any]) -> dict[int, float]:
    raw = (config.get("qc") or {}).get("training_boost") or {}
    boost: dict[int, float] = {}
    for agent, factor in raw.items() if isinstance(raw, Mapping) else ():
        if str(agent).isdigit() and isinstance(factor, int | float) and factor > 0:
            boost[int(agent)] = float(factor)
    return boost


async def sample_day(deps: Deps, shop_id: str, day: date, now: datetime) -> int:
    """Draw ``day``'s sample for one shop (its local day); the number picked, 0 when the
    day was drawn before."""
    async with deps.sessions() as session:
        if await session.scalar(
            select(QcSampleDay.id).where(QcSampleDay.shop_id == shop_id, QcSampleDay.day == day)
        ):
            return 0
        ctx = await loaded.load_shop_context(session, shop_id)
    start, end = day_window(day, ctx.routing.tz)
    await _check_missing(deps, shop_id, start, end, now)
    try:
        async with transaction(deps) as (session, outbox):
            config = await shop_config(session, shop_id)
            settings = qc_settings(config)
            facts = await _facts(session, shop_id, start, end)
            boost = _training_boost(config)
            # Training follow-up (培训): agents in a passed course's boost window, trainees.
            for agent_id, factor in (await qc_boosts(session, shop_id, start, end)).items():
                boost[agent_id] = max(boost.get(agent_id, 0.0), factor)
            sample = draw_daily_sample(
                facts,
                settings.sampling,
                day=day,
                seed=settings.seed,
                training_boost=boost,
            )
            work_start = end
            inspectors = await inspectors_on_duty(
                session, shop_id, work_start, work_start + timedelta(days=1)
            )
            spread = spread_across_inspectors(sample.picks, inspectors)
            inspector_of = {p.conversation_id: who for who, picks in spread.items() for p in picks}
            lot_of = {}
            lots = {lot.key: lot for lot in sample.lots}
            for fact in facts:
                key = (
                    f"role:{fact.role}"
                    if settings.sampling.lot_by.value == "role_day"
                    else (f"agent:{fact.agent_id if fact.agent_id is not None else 'none'}")
                )
                lot_of[fact.conversation_id] = lots.get(key)
            for pick in sample.picks:
                lot = lot_of.get(pick.conversation_id)
                session.add(
                    QcSample(
                        shop_id=shop_id,
                        conversation_id=pick.conversation_id,
                        day=day,
                        reasons=[w.to_json() for w in pick.why],
                        spotlight=pick.spotlight,
                        plan=lot.rule if lot else "",
                        lot=lot.key if lot else "",
                        role=pick.role,
                        agent_id=pick.agent_id,
                        inspector_id=inspector_of.get(pick.conversation_id),
                        status=SampleStatus.PENDING,
                        created_at=now,
                    )
                )
            session.add(
                QcSampleDay(
                    shop_id=shop_id,
                    day=day,
                    lots=[
                        {
                            "key": lot.key,
                            "size": lot.size,
                            "sample_size": lot.sample_size,
                            "rule": lot.rule,
                        }
                        for lot in sample.lots
                    ],
                    picked=len(sample.picks),
                    created_at=now,
                )
            )
            for inspector_id, picks in spread.items():
                if picks:
                    outbox.publish(
                        to_user_event(
                            SAMPLE_ASSIGNED,
                            shop_id,
                            inspector_id,
                            {"day": day.isoformat(), "count": len(picks)},
                        )
                    )
            return len(sample.picks)
    except IntegrityError:
        return 0  # another run drew the day a moment ago


async def _least_loaded(session: AsyncSession, shop_id: str, now: datetime) -> int | None:
    """The inspector on duty from now with the fewest conversations waiting in their queue
    (ties: the lowest id); None when the shop has no inspector."""
    on_duty = [
        i.inspector_id
        for i in await inspectors_on_duty(session, shop_id, now, now + timedelta(days=1))
    ]
    if not on_duty:
        return None
    waiting = dict.fromkeys(on_duty, 0)
    for inspector_id, count in await session.execute(
        select(QcSample.inspector_id, func.count())
        .where(
            QcSample.shop_id == shop_id,
            QcSample.inspector_id.in_(on_duty),
            QcSample.status == SampleStatus.PENDING,
        )
        .group_by(QcSample.inspector_id)
    ):
        if inspector_id is not None:
            waiting[inspector_id] = int(count)
    return min(on_duty, key=lambda i: (waiting[i], i))


async def spotlight_late(
    session: AsyncSession,
    outbox: Outbox,
    shop_id: str,
    conversation_id: int,
    why: list[Why],
    now: datetime,
    *,
    tz: Any,
) -> bool:
    """Put a conversation in the inspectors' queue for spotlight reasons found after its
    day was drawn (a step in the caller's transaction; ``tz`` is the shop's routing zone,
    whose days the draw uses). ``True`` when it was added to a queue now.

    Already sampled: its reasons gain those of ``why`` it lacks and it is marked spotlight
    (an inspection already done is not redone). Its day not drawn yet, or not auto-checked
    yet: nothing to do, the daily draw reads the same facts. Else a new pick of that day,
    given to the inspector on duty with the shortest queue."""
    if not why:
        return False
    sample = await session.scalar(
        select(QcSample).where(QcSample.conversation_id == conversation_id).with_for_update()
    )
    reasons = [w.to_json() for w in why]
    if sample is not None:
        known = {r.get("reason") for r in sample.reasons}
        added = [r for r in reasons if r["reason"] not in known]
        if added:
            sample.reasons = [*sample.reasons, *added]
        sample.spotlight = True
        return False
    check = await session.scalar(select(QcCheck).where(QcCheck.conversation_id == conversation_id))
    if check is None:
        return False
    day = check.closed_at.astimezone(tz).date()
    drawn = await session.scalar(
        select(QcSampleDay.id).where(QcSampleDay.shop_id == shop_id, QcSampleDay.day == day)
    )
    if drawn is None:
        return False
    inspector_id = await _least_loaded(session, shop_id, now)
    session.add(
        QcSample(
            shop_id=shop_id,
            conversation_id=conversation_id,
            day=day,
            reasons=reasons,
            spotlight=True,
            plan="",
            lot="",
            role=check.role,
            agent_id=check.agent_id,
            inspector_id=inspector_id,
            status=SampleStatus.PENDING,
            created_at=now,
        )
    )
    if inspector_id is not None:
        outbox.publish(
            to_user_event(
                SAMPLE_ASSIGNED, shop_id, inspector_id, {"day": day.isoformat(), "count": 1}
            )
        )
    return True


async def sample_yesterday(deps: Deps, now: datetime, day: date | None = None) -> int:
    """The daily job: every shop's previous local day (or ``day``); the number picked."""
    async with deps.sessions() as session:
        shops = list(await session.scalars(select(Shop.id).order_by(Shop.id)))
    picked = 0
    for shop_id in shops:
        target = day
        if target is None:
            async with deps.sessions() as session:
                ctx = await loaded.load_shop_context(session, shop_id)
            target = now.astimezone(ctx.routing.tz).date() - timedelta(days=1)
        picked += await sample_day(deps, shop_id, target, now)
    return picked
