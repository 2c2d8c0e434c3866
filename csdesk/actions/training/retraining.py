"""Retraining when a process changes, and onboarding (新老员工培训, seeds/003).

- **Script changes retrain.** When a role's QC script gets a new version, the update course
  made from the difference (``csdesk.training.script_diff``, editable by the trainer) is
  given once to every agent holding that role, due in its ``due_days``. One course per role
  and version (a unique key), so a version is never taught twice.
- **Onboarding.** A new agent created with service roles gets the starter courses of those
  roles and is marked a trainee (新人) until they pass them all: a boosted QC sample rate,
  and fewer chats at once (自动挂起 at the shop's ``training.trainee_chat_capacity``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.outbox import Outbox
from csdesk.actions.training.assignments import assign_step, role_holders
from csdesk.actions.training.courses import add_course
from csdesk.reads.training_base import training_settings
from csdesk.storage.models import AgentProfile
from csdesk.storage.training_models import (
    AssignmentSource,
    CourseOrigin,
    CourseStatus,
    TrainingAssignment,
    TrainingCourse,
)
from csdesk.training.script_diff import diff_scripts, update_course

UPDATE_DUE_DAYS = 7

_CATEGORY_OF_AREA = {
    "forbidden_phrases": "forbidden_phrase",
    "abusive_phrases": "forbidden_phrase",
    "require_greeting": "greeting_missing",
    "require_closing": "closing_missing",
    "require_rating_invite": "rating_invite_missing",
    "require_order_confirm": "order_confirm_missing",
    "check_extreme_words": "extreme_words",
    "first_response_s": "slow_first_response",
    "long_gap_s": "long_gap_no_apology",
    "followup_s": "followup_missed",
}


async def retrain_for_script(
    session: AsyncSession,
    outbox: Outbox | None,
    *,
    shop_id: str,
    role: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    now: datetime,
    by: int | None,
) -> list[TrainingAssignment]:
    """The update course of ``role``'s new script version ``after`` (the old one
    ``before``), given to every agent holding the role; nothing when it exists already."""
    version = int(after.get("version", 0))
    exists = await session.scalar(
        select(TrainingCourse.id).where(
            TrainingCourse.shop_id == shop_id,
            TrainingCourse.script_role == role,
            TrainingCourse.script_version == version,
        )
    )
    if exists is not None:
        return []
    changes = diff_scripts(before, after)
    categories: list[str] = []
    for change in changes:
        category = _CATEGORY_OF_AREA.get(change.area)
        if change.area == "rules" and isinstance(change.after or change.before, dict):
            category = str((change.after or change.before).get("category") or "") or None
        if category and category not in categories:
            categories.append(category)
    content = update_course(role, before, after)
    try:
        async with session.begin_nested():
            course, _version = await add_course(
                session,
                shop_id=shop_id,
                content=content,
                settings={
                    "categories": categories,
                    "roles": [role],
                    "starter": False,
                    "due_days": UPDATE_DUE_DAYS,
                    "status": CourseStatus.ACTIVE,
                },
                now=now,
                by=by,
                origin=CourseOrigin.SCRIPT_UPDATE,
                note=f"generated from {role} script v{before.get('version')} → v{version}",
                script_role=role,
                script_version=version,
            )
    except IntegrityError:
        return []  # made a moment ago by another writer
    holders = await role_holders(session, shop_id, role)
    made = await assign_step(
        session,
        outbox,
        course=course,
        agent_ids=holders,
        source=AssignmentSource.SCRIPT_UPDATE,
        due_at=now + timedelta(days=UPDATE_DUE_DAYS),
        now=now,
        by=by,
        reason=f"话术更新到第 {version} 版",
    )
    audit.record(
        session,
        shop_id=shop_id,
        actor_id=by,
        action="training.script_update",
        target_type="training_course",
        target_id=course.id,
        at=now,
        detail={"role": role, "version": version, "agents": [r.agent_id for r in made]},
    )
    return made


async def onboard(
    session: AsyncSession,
    outbox: Outbox | None,
    *,
    shop_id: str,
    agent_id: int,
    roles: Iterable[str],
    now: datetime,
    by: int | None,
) -> list[TrainingAssignment]:
    """A new agent's starter courses for their roles; trainee until passed (when any)."""
    wanted = set(roles)
    courses = [
        c
        for c in await session.scalars(
            select(TrainingCourse)
            .where(
                TrainingCourse.shop_id == shop_id,
                TrainingCourse.starter.is_(True),
                TrainingCourse.status == CourseStatus.ACTIVE,
            )
            .order_by(TrainingCourse.id)
        )
        if wanted & set(c.roles)
    ]
    made: list[TrainingAssignment] = []
    for course in courses:
        made.extend(
            await assign_step(
                session,
                outbox,
                course=course,
                agent_ids=[agent_id],
                source=AssignmentSource.ONBOARDING,
                due_at=now + timedelta(days=course.due_days),
                now=now,
                by=by,
                reason="新人入职课程",
            )
        )
    if made:
        profile = await session.get(AgentProfile, agent_id)
        if profile is not None:
            profile.trainee = True
            # Fewer chats at once while in training: 自动挂起 at the shop's trainee capacity
            # (lifted again when the last starter course is passed).
            cap = (await training_settings(session, shop_id)).trainee_chat_capacity
            if cap and profile.auto_suspend_at is None and cap < profile.chat_capacity:
                profile.auto_suspend_at = cap
    return made
