"""What the training writers and readers share, on the read side: the access-table names,
the shop's training settings, the QC categories a rule may name, a stored course version as
content, pages rendered safely, and the JSON shape of each training row. Nothing here
writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.current import CurrentUser
from csdesk.errors import ForbiddenError, NotFoundError
from csdesk.qc.scripts import Category
from csdesk.storage.console_models import Team, TeamMember
from csdesk.storage.enums import UserRole
from csdesk.storage.models import AgentProfile, Shop, User
from csdesk.storage.qc_models import QcScriptVersion
from csdesk.storage.training_models import (
    PointsEntry,
    TrainingAssignment,
    TrainingAttempt,
    TrainingCourse,
    TrainingCourseVersion,
    TrainingRule,
)
from csdesk.training.courses import CourseContent, parse_content
from csdesk.training.markdown import render
from csdesk.training.points import team_of
from csdesk.training.settings import TrainingSettings, parse_training_settings

# Access-table actions (csdesk/auth/access.py).
MANAGE: Final = "training.manage"
"""Trainers (and owners, admins): courses, versions, rules, assignments, settings."""
CATALOG: Final = "training.catalog"
"""The catalog and each course's measured effect: trainers, supervisors, owners, admins."""
RESULTS: Final = "training.results"
"""Assignments and quiz results: agents their own only; supervisors, trainers all."""
TAKE: Final = "training.take"
"""Read a course and submit its quiz: the agent it is assigned to."""
POINTS_READ: Final = "points.read"
"""The points ledger: agents their own only."""
RANKINGS: Final = "points.rankings"
"""Monthly rankings: everyone (积分 rankings are public in seeds/003)."""
AWARD: Final = "points.award"
"""A supervisor's award or deduction with a reason."""

ASSET_TYPES: Final = {
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "image/gif": b"GIF8",
    "image/webp": b"RIFF",
    "image/svg+xml": b"",
}
"""What a course may ship as pictures (a raster one is checked by its first bytes)."""


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


async def training_settings(session: AsyncSession, shop_id: str) -> TrainingSettings:
    config = await session.scalar(select(Shop.config).where(Shop.id == shop_id))
    if config is None:
        raise NotFoundError(f"shop {shop_id}: not found")
    return parse_training_settings(config)


async def known_categories(session: AsyncSession, shop_id: str) -> list[str]:
    """The QC categories a rule may name: the contract's and csdesk's, and any a shop's
    script versions added."""
    found = {c.value for c in Category}
    for script in await session.scalars(
        select(QcScriptVersion.script).where(QcScriptVersion.shop_id == shop_id)
    ):
        for rule in (script or {}).get("rules", {}).values():
            if isinstance(rule, dict) and isinstance(rule.get("category"), str):
                found |= {rule["category"]}
    return sorted(found)


async def names(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {row[0]: row[1] for row in rows}


async def teams(session: AsyncSession, shop_id: str) -> dict[int, dict[str, Any]]:
    """Agent id → ``{"roles", "team", "team_name"}`` for every agent profile of the shop.

    An agent's team is the shop's own team (班组, ``team:<id>``) they belong to (the first by
    name); an agent in none is grouped by the seeds/003 supervisor group of their first
    role (``presales_team`` …, ``team_name`` None: the page names it)."""
    rows = await session.execute(
        select(AgentProfile.user_id, AgentProfile.service_roles).where(
            AgentProfile.shop_id == shop_id
        )
    )
    stored: dict[int, tuple[int, str]] = {}
    for user_id, team_id, name in await session.execute(
        select(TeamMember.user_id, Team.id, Team.name)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.shop_id == shop_id)
        .order_by(Team.name, Team.id)
    ):
        stored.setdefault(user_id, (team_id, name))
    out: dict[int, dict[str, Any]] = {}
    for user_id, roles in rows:
        if user_id in stored:
            team_id, name = stored[user_id]
            out[user_id] = {
                "roles": list(roles or []),
                "team": f"team:{team_id}",
                "team_name": name,
            }
            continue
        group = team_of(roles or [])
        out[user_id] = {
            "roles": list(roles or []),
            "team": group.value if group else None,
            "team_name": None,
        }
    return out


async def team_scope(session: AsyncSession, actor: CurrentUser) -> set[int] | None:
    """Whose training and points a supervisor reads: the members of the teams (班组) they
    lead; None (the whole shop) for owners, admins, trainers, and a supervisor who leads
    no team (a shop without teams)."""
    if actor.role is not UserRole.SUPERVISOR:
        return None
    led = list(
        await session.scalars(
            select(TeamMember.team_id).where(
                TeamMember.user_id == actor.id,
                TeamMember.shop_id == actor.shop_id,
                TeamMember.lead.is_(True),
            )
        )
    )
    if not led:
        return None
    return set(await session.scalars(select(TeamMember.user_id).where(TeamMember.team_id.in_(led))))


def check_in_scope(scope: set[int] | None, agent_id: int) -> None:
    """A supervisor asking for someone outside the teams they lead: 403."""
    if scope is not None and agent_id not in scope:
        raise ForbiddenError("this agent is not in a team you lead (不在你带领的班组)")


def content_of(version: TrainingCourseVersion) -> CourseContent:
    return parse_content(version.content)


def asset_path(course_id: int, name: str) -> str:
    return f"/api/v1/training/courses/{course_id}/assets/{name}"


def rendered_pages(
    content: CourseContent, course_id: int, assets: Iterable[str]
) -> list[dict[str, str]]:
    """Each page's title and its sanitized HTML (``csdesk.training.markdown``)."""
    known = set(assets)
    return [
        {
            "title": page.title,
            "html": render(page.body, lambda name: asset_path(course_id, name), known),
        }
        for page in content.pages
    ]


def course_json(course: TrainingCourse) -> dict[str, Any]:
    return {
        "id": course.id,
        "title": course.title,
        "version": course.current_version,
        "categories": list(course.categories),
        "roles": list(course.roles),
        "starter": course.starter,
        "due_days": course.due_days,
        "status": course.status.value,
        "origin": course.origin.value,
        "script_role": course.script_role,
        "script_version": course.script_version,
        "created_at": iso(course.created_at),
        "updated_at": iso(course.updated_at),
    }


def version_json(version: TrainingCourseVersion, *, with_answers: bool) -> dict[str, Any]:
    content = content_of(version)
    data = content.to_json()
    if not with_answers:
        data["questions"] = [q.public_json() for q in content.questions]
    return {
        "id": version.id,
        "version": version.version,
        "note": version.note,
        "author_id": version.author_id,
        "created_at": iso(version.created_at),
        "content": data,
    }


def rule_row_json(rule: TrainingRule, course_title: str | None = None) -> dict[str, Any]:
    return {
        "id": rule.id,
        "category": rule.category,
        "course_id": rule.course_id,
        "course_title": course_title,
        "threshold": rule.threshold,
        "window_days": rule.window_days,
        "due_days": rule.due_days,
        "active": rule.active,
        "updated_at": iso(rule.updated_at),
    }


def assignment_json(
    row: TrainingAssignment,
    *,
    now: datetime,
    course_title: str | None = None,
    version: int | None = None,
    agent_name: str | None = None,
) -> dict[str, Any]:
    open_ = row.status.value == "assigned"
    return {
        "id": row.id,
        "course_id": row.course_id,
        "course_title": course_title,
        "version_id": row.version_id,
        "version": version,
        "agent": {"id": row.agent_id, "display_name": agent_name or f"#{row.agent_id}"},
        "source": row.source.value,
        "rule_id": row.rule_id,
        "finding_ids": list(row.finding_ids),
        "reason": row.reason,
        "assigned_at": iso(row.assigned_at),
        "due_at": iso(row.due_at),
        "status": row.status.value,
        "overdue": open_ and now >= row.due_at,
        "attempts": row.attempts,
        "best_score": row.best_score,
        "passed_at": iso(row.passed_at),
        "boost_until": iso(row.boost_until),
        "cancelled_at": iso(row.cancelled_at),
    }


def attempt_json(row: TrainingAttempt) -> dict[str, Any]:
    return {
        "id": row.id,
        "assignment_id": row.assignment_id,
        "score": row.score,
        "passed": row.passed,
        "submitted_at": iso(row.submitted_at),
        "result": row.result,
    }


def entry_json(row: PointsEntry, agent_name: str | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "agent": {"id": row.agent_id, "display_name": agent_name or f"#{row.agent_id}"},
        "points": row.points,
        "reason": row.reason,
        "source": row.source.value,
        "ref": row.ref,
        "link": link_of(row.ref),
        "reverses_id": row.reverses_id,
        "created_by": row.created_by,
        "at": iso(row.at),
    }


def link_of(ref: str | None) -> str | None:
    """Where a ledger line's reason can be seen in the console."""
    if not ref:
        return None
    kind, _, ident = ref.partition(":")
    match kind:
        case "qc_finding":
            return f"/console/qc/results?finding={ident}"
        case "qc_score":
            return f"/console/qc/results?score={ident}"
        case "training_assignment":
            return f"/console/training/my/{ident}"
        case "conversation":
            return f"/console/conversations/{ident}"
        case _:
            return None


async def qc_boosts(
    session: AsyncSession, shop_id: str, start: datetime, end: datetime
) -> dict[int, float]:
    """Agent id → QC sample-rate factor for a day [start, end): agents whose passed course's
    boost overlaps the day, and trainees (新人), at the shop's ``training.boost_factor``."""
    settings = await training_settings(session, shop_id)
    boosted = set(
        await session.scalars(
            select(TrainingAssignment.agent_id).where(
                TrainingAssignment.shop_id == shop_id,
                TrainingAssignment.passed_at < end,
                TrainingAssignment.boost_until > start,
            )
        )
    )
    boosted |= set(
        await session.scalars(
            select(AgentProfile.user_id).where(
                AgentProfile.shop_id == shop_id, AgentProfile.trainee.is_(True)
            )
        )
    )
    return dict.fromkeys(boosted, settings.boost_factor)
