"""The course catalog (课程): create a course, edit it (a changed content is a new version;
assignments keep the version they were given), change its settings (QC categories it
addresses, roles, starter course for new agents, default due days, archived), ship an image
with it. Trainers (and owners, admins); every change audited."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, transaction
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, ConflictError, NotFoundError
from csdesk.reads.training_base import (
    ASSET_TYPES,
    MANAGE,
    course_json,
    known_categories,
    version_json,
)
from csdesk.storage.enums import ServiceRole
from csdesk.storage.training_models import (
    CourseOrigin,
    CourseStatus,
    TrainingAsset,
    TrainingCourse,
    TrainingCourseVersion,
)
from csdesk.training.courses import CourseContent, CourseError, parse_content
from csdesk.training.rules import MAX_DUE_DAYS

ASSET_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MAX_ASSET_BYTES: Final = 200 * 1024
MAX_NOTE: Final = 500


def parse_body_content(raw: object, field: str = "content") -> CourseContent:
    """The course content of a request; a bad part is named under ``field``
    (``content.questions[0].answer``)."""
    try:
        return parse_content(raw)
    except CourseError as exc:
        name = field if exc.field == "course" else f"{field}.{exc.field}"
        raise BadInputError(name, exc.message) from None


def _note(body: Mapping[str, Any]) -> str:
    note = body.get("note", "")
    if not isinstance(note, str):
        raise BadInputError("note", "must be text")
    if len(note.strip()) > MAX_NOTE:
        raise BadInputError("note", f"must be at most {MAX_NOTE} characters")
    return note.strip()


async def _settings(
    session: AsyncSession, shop_id: str, body: Mapping[str, Any], course: TrainingCourse | None
) -> dict[str, Any]:
    """The course-level settings in ``body`` (checked), defaults for a new course."""
    out: dict[str, Any] = {}
    if "categories" in body or course is None:
        raw = body.get("categories", [])
        known = set(await known_categories(session, shop_id))
        if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
            raise BadInputError("categories", "must be a list of QC categories")
        for category in raw:
            if category not in known:
                raise BadInputError("categories", f"unknown QC category {category!r}")
        out["categories"] = list(dict.fromkeys(raw))
    if "roles" in body or course is None:
        raw = body.get("roles", [])
        roles = {r.value for r in ServiceRole}
        if not isinstance(raw, list) or not all(isinstance(r, str) and r in roles for r in raw):
            raise BadInputError("roles", f"must be a list of service roles ({', '.join(roles)})")
        out["roles"] = list(dict.fromkeys(raw))
    if "starter" in body or course is None:
        starter = body.get("starter", False)
        if not isinstance(starter, bool):
            raise BadInputError("starter", "must be true or false")
        out["starter"] = starter
    if "due_days" in body or course is None:
        due = body.get("due_days", 7)
        if not isinstance(due, int) or isinstance(due, bool) or not 1 <= due <= MAX_DUE_DAYS:
            raise BadInputError("due_days", f"must be a whole number from 1 to {MAX_DUE_DAYS}")
        out["due_days"] = due
    if "status" in body:
        try:
            out["status"] = CourseStatus(body["status"])
        except ValueError:
            raise BadInputError("status", "must be active or archived") from None
    if out.get("starter") and not out.get("roles", course.roles if course else []):
        raise BadInputError("roles", "a starter course names the roles whose new agents take it")
    return out


async def add_course(
    session: AsyncSession,
    *,
    shop_id: str,
    content: CourseContent,
    settings: Mapping[str, Any],
    now: datetime,
    by: int | None,
    origin: CourseOrigin = CourseOrigin.TRAINER,
    note: str = "",
    script_role: str | None = None,
    script_version: int | None = None,
) -> tuple[TrainingCourse, TrainingCourseVersion]:
    """A course and its version 1, in the caller's transaction."""
    course = TrainingCourse(
        shop_id=shop_id,
        title=content.title,
        current_version=1,
        categories=list(settings.get("categories", [])),
        roles=list(settings.get("roles", [])),
        starter=bool(settings.get("starter", False)),
        due_days=int(settings.get("due_days", 7)),
        status=settings.get("status", CourseStatus.ACTIVE),
        origin=origin,
        script_role=script_role,
        script_version=script_version,
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    session.add(course)
    await session.flush()
    version = TrainingCourseVersion(
        shop_id=shop_id,
        course_id=course.id,
        version=1,
        content=content.to_json(),
        note=note or None,
        author_id=by,
        created_at=now,
    )
    session.add(version)
    await session.flush()
    return course, version


async def create_course(
    deps: Deps, actor: CurrentUser, body: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    require(actor, MANAGE)
    content = parse_body_content(body.get("content"))
    note = _note(body)
    async with transaction(deps) as (session, _outbox):
        settings = await _settings(session, actor.shop_id, body, None)
        course, version = await add_course(
            session,
            shop_id=actor.shop_id,
            content=content,
            settings=settings,
            now=now,
            by=actor.id,
            note=note,
        )
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="training.course.create",
            target_type="training_course",
            target_id=course.id,
            at=now,
            detail={"title": course.title},
        )
        return {**course_json(course), "current": version_json(version, with_answers=True)}


async def course_for_update(
    session: AsyncSession, actor: CurrentUser, course_id: int
) -> TrainingCourse:
    course = await session.get(TrainingCourse, course_id, with_for_update=True)
    if course is None or course.shop_id != actor.shop_id:
        raise NotFoundError(f"course {course_id}: not found")
    return course


async def edit_course(
    deps: Deps, actor: CurrentUser, course_id: int, body: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """Change a course: new content becomes version N+1 (open assignments keep theirs);
    settings change in place."""
    require(actor, MANAGE)
    content = parse_body_content(body["content"]) if "content" in body else None
    note = _note(body)
    async with transaction(deps) as (session, _outbox):
        course = await course_for_update(session, actor, course_id)
        settings = await _settings(session, actor.shop_id, body, course)
        current = await session.scalar(
            select(TrainingCourseVersion).where(
                TrainingCourseVersion.course_id == course.id,
                TrainingCourseVersion.version == course.current_version,
            )
        )
        assert current is not None
        changed: dict[str, Any] = {}
        for key, value in settings.items():
            if getattr(course, key) != value:
                changed[key] = [str(getattr(course, key)), str(value)]
                setattr(course, key, value)
        if content is not None and content.to_json() != current.content:
            current = TrainingCourseVersion(
                shop_id=course.shop_id,
                course_id=course.id,
                version=course.current_version + 1,
                content=content.to_json(),
                note=note or None,
                author_id=actor.id,
                created_at=now,
            )
            session.add(current)
            course.current_version += 1
            course.title = content.title
            changed["version"] = [course.current_version - 1, course.current_version]
        if changed:
            course.updated_at = now
            await session.flush()
            audit.record(
                session,
                shop_id=actor.shop_id,
                actor_id=actor.id,
                action="training.course.edit",
                target_type="training_course",
                target_id=course.id,
                at=now,
                reason=note or None,
                detail=changed,
            )
        return {**course_json(course), "current": version_json(current, with_answers=True)}


def check_asset(name: str, content_type: str, data: bytes) -> None:
    if not ASSET_NAME.match(name):
        raise BadInputError("name", "must be 1-64 of a-z, 0-9, _ . - (e.g. flow.png)")
    if content_type not in ASSET_TYPES:
        raise BadInputError("content_type", f"must be one of {', '.join(ASSET_TYPES)}")
    if not data:
        raise BadInputError("file", "is empty")
    if len(data) > MAX_ASSET_BYTES:
        raise BadInputError("file", f"must be at most {MAX_ASSET_BYTES // 1024} KiB")
    magic = ASSET_TYPES[content_type]
    if content_type == "image/svg+xml":
        head = data[:300].lstrip().lower()
        if not head.startswith((b"<svg", b"<?xml")):
            raise BadInputError("file", "is not an SVG image")
    elif not data.startswith(magic):
        raise BadInputError("file", f"is not a {content_type} image")


async def add_asset(
    session: AsyncSession,
    *,
    course: TrainingCourse,
    name: str,
    content_type: str,
    data: bytes,
    now: datetime,
    by: int | None,
) -> TrainingAsset:
    check_asset(name, content_type, data)
    exists = await session.scalar(
        select(func.count())
        .select_from(TrainingAsset)
        .where(TrainingAsset.course_id == course.id, TrainingAsset.name == name)
    )
    if exists:
        raise ConflictError(f"course {course.id} already has an image {name!r}", field="name")
    row = TrainingAsset(
        shop_id=course.shop_id,
        course_id=course.id,
        name=name,
        content_type=content_type,
        data=data,
        created_by=by,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise ConflictError(
            f"course {course.id} already has an image {name!r}", field="name"
        ) from None
    return row


async def upload_asset(
    deps: Deps,
    actor: CurrentUser,
    course_id: int,
    name: str,
    content_type: str,
    data: bytes,
    now: datetime,
) -> dict[str, Any]:
    """An image for the course's pages (``![…](asset:NAME)``); names are never reused."""
    require(actor, MANAGE)
    async with transaction(deps) as (session, _outbox):
        course = await course_for_update(session, actor, course_id)
        row = await add_asset(
            session,
            course=course,
            name=name,
            content_type=content_type,
            data=data,
            now=now,
            by=actor.id,
        )
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="training.asset.upload",
            target_type="training_course",
            target_id=course.id,
            at=now,
            detail={"name": name, "bytes": len(data)},
        )
        return {"name": row.name, "content_type": row.content_type, "bytes": len(data)}
