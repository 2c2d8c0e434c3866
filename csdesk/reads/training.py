"""Training reads (培训): the catalog, one course with its versions, pages, images and
rules, assignments (agents: their own), "my courses", one assignment as the agent takes it,
course notices, overdue courses per team, the shop's rules and training settings."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from csdesk.auth.access import can, only_own, require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, ForbiddenError, NotFoundError
from csdesk.reads.training_base import (
    CATALOG,
    MANAGE,
    RESULTS,
    assignment_json,
    attempt_json,
    check_in_scope,
    content_of,
    course_json,
    known_categories,
    names,
    rendered_pages,
    rule_row_json,
    team_scope,
    teams,
    training_settings,
    version_json,
)
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from csdesk.storage.models import AgentProfile, User
from csdesk.storage.training_models import (
    AssignmentStatus,
    TrainingAsset,
    TrainingAssignment,
    TrainingAttempt,
    TrainingCourse,
    TrainingCourseVersion,
    TrainingReminder,
    TrainingRule,
)


@dataclass(frozen=True)
class AgentRef:
    """What the access table's own-only check needs to ask "may I read agent N's …"."""

    shop_id: str
    assigned_agent_id: int


async def catalog(sessions: SessionFactory, actor: CurrentUser, now: datetime) -> dict[str, Any]:
    """Every course with its assignment counts (open, overdue, passed) and rules."""
    require(actor, CATALOG)
    async with sessions() as session:
        courses = list(
            await session.scalars(
                select(TrainingCourse)
                .where(TrainingCourse.shop_id == actor.shop_id)
                .order_by(TrainingCourse.status, TrainingCourse.id)
            )
        )
        counts: Counter[tuple[int, str]] = Counter()
        for course_id, status, due_at in await session.execute(
            select(
                TrainingAssignment.course_id, TrainingAssignment.status, TrainingAssignment.due_at
            ).where(TrainingAssignment.shop_id == actor.shop_id)
        ):
            counts[(course_id, status.value)] += 1
            if status is AssignmentStatus.ASSIGNED and now >= due_at:
                counts[(course_id, "overdue")] += 1
        rules = Counter(
            await session.scalars(
                select(TrainingRule.course_id).where(TrainingRule.shop_id == actor.shop_id)
            )
        )
        items = [
            {
                **course_json(c),
                "open": counts[(c.id, "assigned")],
                "overdue": counts[(c.id, "overdue")],
                "passed": counts[(c.id, "passed")],
                "rules": rules[c.id],
            }
            for c in courses
        ]
        return {"items": items, "can_manage": can(actor, MANAGE)}


async def _course(session: Any, actor: CurrentUser, course_id: int) -> TrainingCourse:
    course: TrainingCourse | None = await session.get(TrainingCourse, course_id)
    if course is None or course.shop_id != actor.shop_id:
        raise NotFoundError(f"course {course_id}: not found")
    return course


async def course_detail(
    sessions: SessionFactory, actor: CurrentUser, course_id: int, version: int | None = None
) -> dict[str, Any]:
    """A course as the trainer edits it: a version (default current) with the answers, its
    pages rendered, the list of versions, images and rules."""
    require(actor, CATALOG)
    async with sessions() as session:
        course = await _course(session, actor, course_id)
        versions = list(
            await session.scalars(
                select(TrainingCourseVersion)
                .where(TrainingCourseVersion.course_id == course.id)
                .order_by(TrainingCourseVersion.version.desc())
            )
        )
        wanted = course.current_version if version is None else version
        shown = next((v for v in versions if v.version == wanted), None)
        if shown is None:
            raise NotFoundError(f"course {course_id} version {wanted}: not found")
        assets = list(
            await session.execute(
                select(TrainingAsset.name, TrainingAsset.content_type).where(
                    TrainingAsset.course_id == course.id
                )
            )
        )
        rules = list(
            await session.scalars(
                select(TrainingRule)
                .where(TrainingRule.course_id == course.id)
                .order_by(TrainingRule.id)
            )
        )
        authors = await names(session, [v.author_id for v in versions])
        content = content_of(shown)
        return {
            **course_json(course),
            "shown": version_json(shown, with_answers=can(actor, MANAGE)),
            "pages": rendered_pages(content, course.id, [a[0] for a in assets]),
            "versions": [
                {
                    "version": v.version,
                    "note": v.note,
                    "author": authors.get(v.author_id or 0),
                    "created_at": v.created_at.isoformat(),
                }
                for v in versions
            ],
            "assets": [{"name": n, "content_type": t} for n, t in assets],
            "rules": [rule_row_json(r, course.title) for r in rules],
            "can_manage": can(actor, MANAGE),
        }


async def asset(
    sessions: SessionFactory, actor: CurrentUser, course_id: int, name: str
) -> tuple[bytes, str]:
    """A course image: for anyone of the shop who may read the course or has it assigned."""
    async with sessions() as session:
        course = await _course(session, actor, course_id)
        if not can(actor, CATALOG):
            mine = await session.scalar(
                select(TrainingAssignment.id).where(
                    TrainingAssignment.course_id == course.id,
                    TrainingAssignment.agent_id == actor.id,
                )
            )
            if mine is None:
                raise ForbiddenError("you may not read this course (无权限)")
        row = await session.scalar(
            select(TrainingAsset).where(
                TrainingAsset.course_id == course.id, TrainingAsset.name == name
            )
        )
        if row is None:
            raise NotFoundError(f"image {name}: not found")
        return row.data, row.content_type


async def assignments(
    sessions: SessionFactory,
    actor: CurrentUser,
    now: datetime,
    *,
    course_id: int | None = None,
    agent_id: int | None = None,
    status: str | None = None,
    overdue_only: bool = False,
) -> dict[str, Any]:
    """Assignments with their results; an agent sees only their own (another's: 403)."""
    require(actor, RESULTS)
    if only_own(actor, RESULTS):
        if agent_id is not None and agent_id != actor.id:
            require(actor, RESULTS, AgentRef(actor.shop_id, agent_id))
        agent_id = actor.id
    if status is not None and status not in {s.value for s in AssignmentStatus}:
        raise BadInputError("status", "must be assigned, passed or cancelled")
    async with sessions() as session:
        scope = await team_scope(session, actor)
        if scope is not None and agent_id is not None:
            check_in_scope(scope, agent_id)
        query = (
            select(TrainingAssignment, TrainingCourse.title, TrainingCourseVersion.version)
            .join(TrainingCourse, TrainingCourse.id == TrainingAssignment.course_id)
            .join(TrainingCourseVersion, TrainingCourseVersion.id == TrainingAssignment.version_id)
            .where(TrainingAssignment.shop_id == actor.shop_id)
        )
        if course_id is not None:
            query = query.where(TrainingAssignment.course_id == course_id)
        if agent_id is not None:
            query = query.where(TrainingAssignment.agent_id == agent_id)
        elif scope is not None:
            query = query.where(TrainingAssignment.agent_id.in_(scope))
        if status is not None:
            query = query.where(TrainingAssignment.status == AssignmentStatus(status))
        if overdue_only:
            query = query.where(
                TrainingAssignment.status == AssignmentStatus.ASSIGNED,
                TrainingAssignment.due_at <= now,
            )
        rows = list(
            await session.execute(
                query.order_by(TrainingAssignment.due_at, TrainingAssignment.id).limit(1000)
            )
        )
        who = await names(session, [r[0].agent_id for r in rows])
        return {
            "items": [
                assignment_json(
                    a, now=now, course_title=title, version=version, agent_name=who.get(a.agent_id)
                )
                for a, title, version in rows
            ]
        }


async def my_courses(sessions: SessionFactory, actor: CurrentUser, now: datetime) -> dict[str, Any]:
    """The agent's courses for the workbench: open ones by due date, then the passed, and
    the course notices not seen yet."""
    mine = await assignments(sessions, actor, now, agent_id=actor.id)
    items = [a for a in mine["items"] if a["status"] != AssignmentStatus.CANCELLED.value]
    items.sort(key=lambda a: (a["status"] != "assigned", a["due_at"] or ""))
    return {"items": items, "notices": await notices(sessions, actor)}


async def notices(sessions: SessionFactory, actor: CurrentUser) -> list[dict[str, Any]]:
    """My reminders not seen yet (the console notice), newest first."""
    async with sessions() as session:
        rows = await session.execute(
            select(TrainingReminder, TrainingCourse.title, TrainingAssignment.due_at)
            .join(TrainingAssignment, TrainingAssignment.id == TrainingReminder.assignment_id)
            .join(TrainingCourse, TrainingCourse.id == TrainingAssignment.course_id)
            .where(
                TrainingReminder.shop_id == actor.shop_id,
                TrainingReminder.agent_id == actor.id,
                TrainingReminder.seen_at.is_(None),
                TrainingAssignment.status == AssignmentStatus.ASSIGNED,
            )
            .order_by(TrainingReminder.sent_at.desc(), TrainingReminder.id.desc())
        )
        return [
            {
                "id": r.id,
                "assignment_id": r.assignment_id,
                "kind": r.kind,
                "course_title": title,
                "due_at": due_at.isoformat(),
                "sent_at": r.sent_at.isoformat(),
            }
            for r, title, due_at in rows
        ]


async def assignment_detail(
    sessions: SessionFactory, actor: CurrentUser, assignment_id: int, now: datetime
) -> dict[str, Any]:
    """One assignment as its agent takes it: the pages of the version given (rendered
    safely), the questions without answers, and every attempt's result (the right answers
    only once passed). Supervisors and trainers read it too; another agent gets 403."""
    async with sessions() as session:
        row = await session.get(TrainingAssignment, assignment_id)
        if row is None or row.shop_id != actor.shop_id:
            raise NotFoundError(f"assignment {assignment_id}: not found")
        require(actor, RESULTS, row)
        check_in_scope(await team_scope(session, actor), row.agent_id)
        version = await session.get(TrainingCourseVersion, row.version_id)
        course = await session.get(TrainingCourse, row.course_id)
        assert version is not None
        assert course is not None
        content = content_of(version)
        asset_names = list(
            await session.scalars(
                select(TrainingAsset.name).where(TrainingAsset.course_id == course.id)
            )
        )
        attempts = list(
            await session.scalars(
                select(TrainingAttempt)
                .where(TrainingAttempt.assignment_id == row.id)
                .order_by(TrainingAttempt.id.desc())
            )
        )
        who = await names(session, [row.agent_id])
        passed = row.status is AssignmentStatus.PASSED
        shown_attempts = []
        for attempt in attempts:
            data = attempt_json(attempt)
            if not passed:
                result = dict(data["result"])
                result["questions"] = [
                    {**q, "expected": None, "explanation": ""} for q in result.get("questions", [])
                ]
                data["result"] = result
            shown_attempts.append(data)
        return {
            "assignment": assignment_json(
                row,
                now=now,
                course_title=course.title,
                version=version.version,
                agent_name=who.get(row.agent_id),
            ),
            "course": {
                "id": course.id,
                "title": content.title,
                "summary": content.summary,
                "pass_mark": content.pass_mark,
                "version": version.version,
                "current_version": course.current_version,
            },
            "pages": rendered_pages(content, course.id, asset_names),
            "questions": [q.public_json() for q in content.questions],
            "attempts": shown_attempts,
            "can_take": row.status is AssignmentStatus.ASSIGNED and row.agent_id == actor.id,
        }


async def overdue_by_team(
    sessions: SessionFactory, actor: CurrentUser, now: datetime
) -> dict[str, Any]:
    """Open courses past their due date, per team (supervisors: the shop's teams)."""
    listed = await assignments(sessions, actor, now, overdue_only=True)
    async with sessions() as session:
        team_of = await teams(session, actor.shop_id)
    grouped: dict[str, list[dict[str, Any]]] = {}
    named: dict[str, str | None] = {}
    for item in listed["items"]:
        info = team_of.get(item["agent"]["id"]) or {}
        team = info.get("team") or "none"
        named[team] = info.get("team_name")
        grouped.setdefault(team, []).append(item)
    return {
        "teams": [
            {"team": k, "name": named.get(k), "items": v} for k, v in sorted(grouped.items())
        ],
        "total": len(listed["items"]),
    }


async def rules(sessions: SessionFactory, actor: CurrentUser) -> dict[str, Any]:
    require(actor, CATALOG)
    async with sessions() as session:
        rows = await session.execute(
            select(TrainingRule, TrainingCourse.title)
            .join(TrainingCourse, TrainingCourse.id == TrainingRule.course_id)
            .where(TrainingRule.shop_id == actor.shop_id)
            .order_by(TrainingRule.id)
        )
        return {
            "items": [rule_row_json(rule, title) for rule, title in rows],
            "categories": await known_categories(session, actor.shop_id),
        }


async def settings(sessions: SessionFactory, actor: CurrentUser) -> dict[str, Any]:
    require(actor, CATALOG)
    async with sessions() as session:
        return (await training_settings(session, actor.shop_id)).to_json()


async def agents(sessions: SessionFactory, actor: CurrentUser) -> dict[str, Any]:
    """Who a course can be given to: active agents with their roles, team and trainee flag."""
    require(actor, CATALOG)
    async with sessions() as session:
        rows = await session.execute(
            select(User.id, User.display_name, AgentProfile.service_roles, AgentProfile.trainee)
            .join(AgentProfile, AgentProfile.user_id == User.id)
            .where(
                User.shop_id == actor.shop_id,
                User.role == UserRole.AGENT,
                User.is_active.is_(True),
            )
            .order_by(User.display_name, User.id)
        )
        team_of = await teams(session, actor.shop_id)
        return {
            "items": [
                {
                    "id": user_id,
                    "display_name": name,
                    "roles": list(roles or []),
                    "team": (team_of.get(user_id) or {}).get("team"),
                    "team_name": (team_of.get(user_id) or {}).get("team_name"),
                    "trainee": trainee,
                }
                for user_id, name, roles, trainee in rows
            ]
        }
