"""Reminders (提醒) before and after a course's due date: each open assignment gets one
``due_soon`` notice within the shop's lead time and one ``overdue`` notice after, each
exactly once (the unique (assignment, kind) key decides between two runs), as a console
notice that waits until seen and a ``training.reminder`` event on the live channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from csdesk.actions.outbox import Deps, transaction
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.reads.training_base import iso, training_settings
from csdesk.storage.training_models import (
    AssignmentStatus,
    TrainingAssignment,
    TrainingCourse,
    TrainingReminder,
)
from csdesk.training.reminders import notices_due
from csdesk.training.settings import TrainingSettings


async def send_reminders(deps: Deps, now: datetime) -> int:
    """Every shop's owed reminders; the number sent."""
    async with deps.sessions() as session:
        shops = list(
            await session.scalars(
                select(TrainingAssignment.shop_id)
                .where(TrainingAssignment.status == AssignmentStatus.ASSIGNED)
                .distinct()
            )
        )
    sent = 0
    for shop_id in shops:
        sent += await _shop_reminders(deps, shop_id, now)
    return sent


async def _shop_reminders(deps: Deps, shop_id: str, now: datetime) -> int:
    sent = 0
    async with transaction(deps) as (session, outbox):
        settings: TrainingSettings = await training_settings(session, shop_id)
        rows = list(
            await session.execute(
                select(TrainingAssignment, TrainingCourse.title)
                .join(TrainingCourse, TrainingCourse.id == TrainingAssignment.course_id)
                .where(
                    TrainingAssignment.shop_id == shop_id,
                    TrainingAssignment.status == AssignmentStatus.ASSIGNED,
                    TrainingAssignment.due_at <= now + settings.remind_lead,
                )
                .order_by(TrainingAssignment.id)
            )
        )
        if not rows:
            return 0
        ids = [row.id for row, _title in rows]
        already: dict[int, set[str]] = {}
        for assignment_id, kind in await session.execute(
            select(TrainingReminder.assignment_id, TrainingReminder.kind).where(
                TrainingReminder.assignment_id.in_(ids)
            )
        ):
            already.setdefault(assignment_id, set()).add(kind)
        for row, title in rows:
            for notice in notices_due(
                row.due_at,
                now,
                open_=True,
                sent=already.get(row.id, set()),
                lead=settings.remind_lead,
            ):
                reminder = TrainingReminder(
                    shop_id=shop_id,
                    assignment_id=row.id,
                    agent_id=row.agent_id,
                    kind=notice.value,
                    sent_at=now,
                )
                try:
                    async with session.begin_nested():
                        session.add(reminder)
                        await session.flush()
                except IntegrityError:
                    continue  # another run sent it a moment ago
                sent += 1
                outbox.publish(
                    BusEvent(
                        ev.TRAINING_REMINDER,
                        shop_id,
                        (ev.to_user(row.agent_id),),
                        {
                            "assignment_id": row.id,
                            "kind": notice.value,
                            "course_title": title,
                            "due_at": iso(row.due_at),
                            "reminder_id": reminder.id,
                        },
                    )
                )
    return sent


async def mark_notices_seen(deps: Deps, actor: CurrentUser, now: datetime) -> dict[str, Any]:
    """The agent saw their course notices (not audited)."""
    async with deps.sessions.begin() as session:
        result = await session.execute(
            update(TrainingReminder)
            .where(
                TrainingReminder.shop_id == actor.shop_id,
                TrainingReminder.agent_id == actor.id,
                TrainingReminder.seen_at.is_(None),
            )
            .values(seen_at=now)
        )
        return {"seen": int(getattr(result, "rowcount", 0) or 0)}
