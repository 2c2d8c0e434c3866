"""Assignments (课程分配) and quizzes: a trainer gives a course to agents, a role, or
everyone on a shift; a rule gives it after QC findings stand; the agent submits the quiz
and gets the result at once.

- **One open assignment per course and agent**: giving a course to someone who has it open
  skips them (the partial unique index ``uq_training_assignment_open`` decides between two
  writers). An assignment keeps the course version current when it was made.
- **Rules** (``csdesk.training.rules``): evaluated for an agent when a finding against
  them comes to stand (acknowledged, upheld or amended: the QC dispute actions call
  :func:`evaluate_rules` in their transaction) and by the sweep :func:`assign_standing_findings`
  for findings whose answer window closed undisputed. Never while disputed.
- **Passing** raises the agent's QC sample rate until ``boost_until`` (the shop's
  ``training.boost_days``), earns the course's points, and clears the trainee flag once
  every starter course is passed. Failing keeps the assignment open: try again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, Outbox, transaction
from csdesk.actions.training import points
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.errors import BadInputError, ConflictError, NotFoundError
from csdesk.reads.training_base import (
    MANAGE,
    TAKE,
    assignment_json,
    attempt_json,
    content_of,
    training_settings,
)
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.storage.models import AgentProfile, RosterShift, User
from csdesk.storage.qc_models import QcCheck, QcFinding
from csdesk.storage.training_models import (
    AssignmentSource,
    AssignmentStatus,
    CourseStatus,
    PointsSource,
    TrainingAssignment,
    TrainingAttempt,
    TrainingCourse,
    TrainingCourseVersion,
    TrainingRule,
)
from csdesk.training.courses import CourseError, grade, parse_answers
from csdesk.training.rules import MAX_DUE_DAYS, AssignRule, FindingFact, FindingState, fire

MAX_TARGET_AGENTS = 500


def _event(row: TrainingAssignment, course: TrainingCourse, now: datetime) -> BusEvent:
    return BusEvent(
        ev.TRAINING_ASSIGNED,
        row.shop_id,
        (ev.to_user(row.agent_id),),
        {
            "assignment": assignment_json(
                row, now=now, course_title=course.title, version=course.current_version
            )
        },
    )


async def current_version_id(session: AsyncSession, course: TrainingCourse) -> int:
    version_id = await session.scalar(
        select(TrainingCourseVersion.id).where(
            TrainingCourseVersion.course_id == course.id,
            TrainingCourseVersion.version == course.current_version,
        )
    )
    assert version_id is not None
    return version_id


async def assign_step(
    session: AsyncSession,
    outbox: Outbox | None,
    *,
    course: TrainingCourse,
    agent_ids: Iterable[int],
    source: AssignmentSource,
    due_at: datetime,
    now: datetime,
    by: int | None = None,
    rule_id: int | None = None,
    finding_ids: Sequence[int] = (),
    reason: str = "",
) -> list[TrainingAssignment]:
    """Give ``course`` (its current version) to each agent who has it not open; the rows made."""
    wanted = list(dict.fromkeys(agent_ids))
    if not wanted:
        return []
    already = set(
        await session.scalars(
            select(TrainingAssignment.agent_id).where(
                TrainingAssignment.course_id == course.id,
                TrainingAssignment.agent_id.in_(wanted),
                TrainingAssignment.status == AssignmentStatus.ASSIGNED,
            )
        )
    )
    version_id = await current_version_id(session, course)
    made: list[TrainingAssignment] = []
    for agent_id in wanted:
        if agent_id in already:
            continue
        row = TrainingAssignment(
            shop_id=course.shop_id,
            course_id=course.id,
            version_id=version_id,
            agent_id=agent_id,
            source=source,
            rule_id=rule_id,
            finding_ids=list(finding_ids),
            reason=reason[:500],
            assigned_by=by,
            assigned_at=now,
            due_at=due_at,
            status=AssignmentStatus.ASSIGNED,
            attempts=0,
        )
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            continue  # another writer gave it a moment ago: still one open assignment
        made.append(row)
        if outbox is not None:
            outbox.publish(_event(row, course, now))
    return made


# -- manual assignment -------------------------------------------------------------------------


async def _shop_agents(session: AsyncSession, shop_id: str) -> dict[int, list[str]]:
    """Active agents of the shop → their service roles."""
    rows = await session.execute(
        select(User.id, AgentProfile.service_roles)
        .join(AgentProfile, AgentProfile.user_id == User.id)
        .where(User.shop_id == shop_id, User.role == UserRole.AGENT, User.is_active.is_(True))
    )
    return {user_id: list(roles or []) for user_id, roles in rows}


async def role_holders(session: AsyncSession, shop_id: str, role: str) -> list[int]:
    agents = await _shop_agents(session, shop_id)
    return sorted(a for a, roles in agents.items() if role in roles)


async def _target(session: AsyncSession, shop_id: str, body: Mapping[str, Any]) -> list[int]:
    """The agents a manual assignment names: ``agent_ids``, or ``role``, or everyone on
    the shift at ``shift_at`` (with ``role``: that role's people on that shift)."""
    agents = await _shop_agents(session, shop_id)
    raw_ids = body.get("agent_ids")
    role = body.get("role")
    shift_raw = body.get("shift_at")
    if raw_ids is None and role is None and shift_raw is None:
        raise BadInputError("agent_ids", "name agents (agent_ids), a role, or a shift (shift_at)")
    if raw_ids is not None:
        if role is not None or shift_raw is not None:
            raise BadInputError("agent_ids", "name agents, or a role and/or shift, not both")
        if not isinstance(raw_ids, list) or not raw_ids:
            raise BadInputError("agent_ids", "must be a list of agent ids")
        if len(raw_ids) > MAX_TARGET_AGENTS:
            raise BadInputError("agent_ids", f"at most {MAX_TARGET_AGENTS} agents at once")
        for agent_id in raw_ids:
            if (
                not isinstance(agent_id, int)
                or isinstance(agent_id, bool)
                or agent_id not in agents
            ):
                raise BadInputError("agent_ids", f"{agent_id!r} is not an active agent of the shop")
        return list(dict.fromkeys(raw_ids))
    chosen = set(agents)
    if role is not None:
        if role not in {r.value for r in ServiceRole}:
            raise BadInputError("role", "must be a service role")
        chosen = {a for a in chosen if role in agents[a]}
    if shift_raw is not None:
        try:
            shift_at = datetime.fromisoformat(shift_raw) if isinstance(shift_raw, str) else None
        except ValueError:
            shift_at = None
        if shift_at is None or shift_at.tzinfo is None:
            raise BadInputError("shift_at", "must be an ISO 8601 date-time with a timezone")
        on_shift = select(RosterShift.user_id).where(
            RosterShift.shop_id == shop_id,
            RosterShift.starts_at <= shift_at,
            RosterShift.ends_at > shift_at,
        )
        if role is not None:
            on_shift = on_shift.where(RosterShift.service_role == role)
        chosen &= set(await session.scalars(on_shift))
    return sorted(chosen)


def _due(body: Mapping[str, Any], course: TrainingCourse, now: datetime) -> datetime:
    if body.get("due_at") is not None:
        raw = body["due_at"]
        try:
            due = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            due = None
        if due is None or due.tzinfo is None:
            raise BadInputError("due_at", "must be an ISO 8601 date-time with a timezone")
        if due <= now:
            raise BadInputError("due_at", "must be in the future")
        return due
    days = body.get("due_days", course.due_days)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DUE_DAYS:
        raise BadInputError("due_days", f"must be a whole number from 1 to {MAX_DUE_DAYS}")
    return now + timedelta(days=days)


async def _course(session: AsyncSession, shop_id: str, course_id: int) -> TrainingCourse:
    course = await session.get(TrainingCourse, course_id)
    if course is None or course.shop_id != shop_id:
        raise NotFoundError(f"course {course_id}: not found", field="course_id")
    return course


async def assign(
    deps: Deps, actor: CurrentUser, course_id: int, body: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """A trainer gives a course: to the agents named, a role, or a shift (see ``_target``);
    those who have it open already are listed as skipped."""
    require(actor, MANAGE)
    async with transaction(deps) as (session, outbox):
        course = await _course(session, actor.shop_id, course_id)
        if course.status is not CourseStatus.ACTIVE:
            raise ConflictError(f"course {course_id} is archived: not offered for new assignments")
        due_at = _due(body, course, now)
        agents = await _target(session, actor.shop_id, body)
        made = await assign_step(
            session,
            outbox,
            course=course,
            agent_ids=agents,
            source=AssignmentSource.MANUAL,
            due_at=due_at,
            now=now,
            by=actor.id,
            reason="培训师分配",
        )
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="training.assign",
            target_type="training_course",
            target_id=course.id,
            at=now,
            detail={"agents": [r.agent_id for r in made], "due_at": due_at.isoformat()},
        )
        given = {r.agent_id for r in made}
        return {
            "assigned": [
                assignment_json(
                    r, now=now, course_title=course.title, version=course.current_version
                )
                for r in made
            ],
            "skipped": [a for a in agents if a not in given],
        }


async def cancel(
    deps: Deps, actor: CurrentUser, assignment_id: int, now: datetime
) -> dict[str, Any]:
    require(actor, MANAGE)
    async with transaction(deps) as (session, _outbox):
        row = await session.get(TrainingAssignment, assignment_id, with_for_update=True)
        if row is None or row.shop_id != actor.shop_id:
            raise NotFoundError(f"assignment {assignment_id}: not found")
        if row.status is not AssignmentStatus.ASSIGNED:
            raise ConflictError(f"assignment {assignment_id} is already {row.status.value}")
        row.status = AssignmentStatus.CANCELLED
        row.cancelled_at = now
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="training.assignment.cancel",
            target_type="training_assignment",
            target_id=row.id,
            at=now,
        )
        return assignment_json(row, now=now)


# -- rules: findings → courses -----------------------------------------------------------------


async def _rules(session: AsyncSession, shop_id: str) -> list[AssignRule]:
    rows = await session.scalars(
        select(TrainingRule)
        .join(TrainingCourse, TrainingCourse.id == TrainingRule.course_id)
        .where(
            TrainingRule.shop_id == shop_id,
            TrainingRule.active.is_(True),
            TrainingCourse.status == CourseStatus.ACTIVE,
        )
        .order_by(TrainingRule.id)
    )
    return [
        AssignRule(r.id, r.category, r.course_id, r.threshold, r.window_days, r.due_days, r.active)
        for r in rows
    ]


async def _findings(
    session: AsyncSession, shop_id: str, agent_ids: set[int], categories: set[str], since: datetime
) -> list[FindingFact]:
    rows = await session.execute(
        select(
            QcFinding.id,
            QcFinding.agent_id,
            QcFinding.category,
            QcFinding.status,
            QcCheck.closed_at,
            QcFinding.created_at,
            QcFinding.respond_by,
            QcFinding.points,
        )
        .outerjoin(QcCheck, QcCheck.conversation_id == QcFinding.conversation_id)
        .where(
            QcFinding.shop_id == shop_id,
            QcFinding.agent_id.in_(agent_ids),
            QcFinding.category.in_(categories),
            QcFinding.created_at >= since,
        )
    )
    return [
        FindingFact(
            finding_id=fid,
            agent_id=agent,
            category=category,
            status=FindingState(status.value),
            chat_at=closed_at or created_at,
            respond_by=respond_by,
            points=pts,
        )
        for fid, agent, category, status, closed_at, created_at, respond_by, pts in rows
        if agent is not None
    ]


async def evaluate_rules(
    session: AsyncSession, outbox: Outbox | None, shop_id: str, agent_ids: set[int], now: datetime
) -> list[TrainingAssignment]:
    """Assign what the shop's rules say the agents' standing findings call for (in the
    caller's transaction). The findings answered by an earlier pass (or a trainer's cancel)
    of the same course do not count again."""
    rules = await _rules(session, shop_id)
    if not rules or not agent_ids:
        return []
    longest = max(r.window_days for r in rules)
    facts = await _findings(
        session, shop_id, agent_ids, {r.category for r in rules}, now - timedelta(days=longest)
    )
    if not facts:
        return []
    closed: dict[tuple[int, int], datetime] = {}
    open_: set[tuple[int, int]] = set()
    rows = await session.execute(
        select(
            TrainingAssignment.course_id,
            TrainingAssignment.agent_id,
            TrainingAssignment.status,
            func.coalesce(TrainingAssignment.passed_at, TrainingAssignment.cancelled_at),
        ).where(
            TrainingAssignment.shop_id == shop_id,
            TrainingAssignment.agent_id.in_(agent_ids),
            TrainingAssignment.course_id.in_({r.course_id for r in rules}),
        )
    )
    for course_id, agent_id, status, ended_at in rows:
        key = (course_id, agent_id)
        if status is AssignmentStatus.ASSIGNED:
            open_.add(key)
        elif ended_at is not None and (key not in closed or ended_at > closed[key]):
            closed[key] = ended_at
    by_agent: dict[int, list[FindingFact]] = defaultdict(list)
    for fact in facts:
        by_agent[fact.agent_id].append(fact)
    made: list[TrainingAssignment] = []
    for agent_id in sorted(by_agent):
        for rule in rules:
            key = (rule.course_id, agent_id)
            if key in open_:
                continue
            firing = fire(rule, agent_id, by_agent[agent_id], now, last_passed_at=closed.get(key))
            if firing is None:
                continue
            course = await session.get(TrainingCourse, rule.course_id)
            assert course is not None
            rows_made = await assign_step(
                session,
                outbox,
                course=course,
                agent_ids=[agent_id],
                source=AssignmentSource.RULE,
                due_at=now + timedelta(days=rule.due_days),
                now=now,
                rule_id=rule.rule_id,
                finding_ids=firing.finding_ids,
                reason=firing.reason,
            )
            made.extend(rows_made)
            open_.add(key)
    return made


async def assign_standing_findings(deps: Deps, now: datetime) -> int:
    """The sweep (cron): findings that came to stand without anyone acting (the answer
    window closed undisputed), and whatever a listener missed. The assignments made."""
    async with deps.sessions() as session:
        shops = list(
            await session.scalars(
                select(TrainingRule.shop_id).where(TrainingRule.active.is_(True)).distinct()
            )
        )
    made = 0
    for shop_id in shops:
        async with transaction(deps) as (session, outbox):
            rules = await _rules(session, shop_id)
            if not rules:
                continue
            since = now - timedelta(days=max(r.window_days for r in rules))
            agents = {
                agent
                for agent in await session.scalars(
                    select(QcFinding.agent_id)
                    .where(
                        QcFinding.shop_id == shop_id,
                        QcFinding.created_at >= since,
                        QcFinding.category.in_({r.category for r in rules}),
                        QcFinding.agent_id.is_not(None),
                    )
                    .distinct()
                )
                if agent is not None
            }
            made += len(await evaluate_rules(session, outbox, shop_id, agents, now))
    return made


# -- taking the quiz ---------------------------------------------------------------------------


async def own_assignment(
    session: AsyncSession, actor: CurrentUser, assignment_id: int, *, lock: bool = False
) -> TrainingAssignment:
    row = await session.get(TrainingAssignment, assignment_id, with_for_update=lock)
    if row is None or row.shop_id != actor.shop_id:
        raise NotFoundError(f"assignment {assignment_id}: not found")
    require(actor, TAKE, row)
    return row


async def submit_quiz(
    deps: Deps, actor: CurrentUser, assignment_id: int, answers: object, now: datetime
) -> dict[str, Any]:
    """Grade the agent's answers against the assignment's version, at once. The right
    answers and explanations are shown once passed; before, only which were wrong."""
    async with transaction(deps) as (session, outbox):
        row = await own_assignment(session, actor, assignment_id, lock=True)
        if row.status is not AssignmentStatus.ASSIGNED:
            raise ConflictError(
                f"assignment {assignment_id} is {row.status.value}: nothing to take"
            )
        version = await session.get(TrainingCourseVersion, row.version_id)
        course = await session.get(TrainingCourse, row.course_id)
        assert version is not None
        assert course is not None
        content = content_of(version)
        try:
            sheet = parse_answers(answers, content.questions)
        except CourseError as exc:
            raise BadInputError(exc.field, exc.message) from None
        result = grade(content, sheet)
        attempt = TrainingAttempt(
            shop_id=row.shop_id,
            assignment_id=row.id,
            agent_id=row.agent_id,
            version_id=row.version_id,
            answers={k: sorted(v) for k, v in sheet.items()},
            result=result.to_json(),
            score=result.score,
            passed=result.passed,
            submitted_at=now,
        )
        session.add(attempt)
        row.attempts += 1
        row.best_score = max(row.best_score or 0, result.score)
        if result.passed:
            settings = await training_settings(session, row.shop_id)
            row.status = AssignmentStatus.PASSED
            row.passed_at = now
            if settings.boost_days > 0:
                row.boost_until = now + timedelta(days=settings.boost_days)
            await points.add_entry(
                session,
                outbox,
                shop_id=row.shop_id,
                agent_id=row.agent_id,
                points=settings.points.course_passed,
                source=PointsSource.COURSE_PASSED,
                reason=f"通过培训课程《{course.title}》",
                ref=f"training_assignment:{row.id}",
                now=now,
            )
            if row.source is AssignmentSource.ONBOARDING:
                await _maybe_end_traineeship(session, row, now)
            outbox.publish(
                BusEvent(
                    ev.TRAINING_PASSED,
                    row.shop_id,
                    (ev.to_user(row.agent_id), ev.SUPERVISORS),
                    {
                        "assignment_id": row.id,
                        "agent_id": row.agent_id,
                        "course_id": row.course_id,
                        "score": result.score,
                    },
                )
            )
        await session.flush()
        shown = result.to_json()
        if not result.passed:
            for question in shown["questions"]:
                question["expected"] = None
                question["explanation"] = ""
        return {
            "attempt": {**attempt_json(attempt), "result": shown},
            "assignment": assignment_json(
                row, now=now, course_title=course.title, version=version.version
            ),
        }


async def _maybe_end_traineeship(
    session: AsyncSession, row: TrainingAssignment, now: datetime
) -> None:
    """Every starter course passed: the agent is no longer a trainee (新人)."""
    still_open = await session.scalar(
        select(func.count())
        .select_from(TrainingAssignment)
        .where(
            TrainingAssignment.agent_id == row.agent_id,
            TrainingAssignment.source == AssignmentSource.ONBOARDING,
            TrainingAssignment.status == AssignmentStatus.ASSIGNED,
            TrainingAssignment.id != row.id,
        )
    )
    if still_open:
        return
    profile = await session.get(AgentProfile, row.agent_id)
    if profile is not None and profile.trainee:
        profile.trainee = False
        cap = (await training_settings(session, row.shop_id)).trainee_chat_capacity
        if cap and profile.auto_suspend_at == cap:
            profile.auto_suspend_at = None  # back to the shop's default
        audit.record(
            session,
            shop_id=row.shop_id,
            actor_id=None,
            action="agent.trainee_ended",
            target_type="user",
            target_id=row.agent_id,
            at=now,
            detail={"last_course": row.course_id},
        )
