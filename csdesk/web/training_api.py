"""The training and points JSON API (``/api/v1/training/...``): the course catalog, course
versions and images, finding → course rules, assignments and quizzes, "my courses" and
their notices, overdue per team, each course's measured effect (with an SVG chart), the
shop's training settings; the points ledger, awards and monthly rankings, with CSV/XLSX
exports.

Handlers parse, call one action or one read, render; refusals are ``csdesk.errors``
answered by the error middleware: 400 naming the field (nothing stored), 403 the role may
not (an agent asking for another agent's ledger or results), 404 not in the shop, 409 the
state does not allow it (already passed, archived course). Each route's OpenAPI operation
sits beside it.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.actions.training import assignments, courses, points, reminders, rules
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.errors import BadInputError
from csdesk.i18n import translate
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import points as points_reads
from csdesk.reads import training as reads
from csdesk.reads import training_effect
from csdesk.reads.qc_reports import export
from csdesk.reads.training_base import ASSET_TYPES, MANAGE
from csdesk.storage.enums import ServiceRole
from csdesk.storage.training_models import AssignmentStatus
from csdesk.training import courses as course_rules
from csdesk.training import points as points_rules
from csdesk.training import rules as rule_limits
from csdesk.training.settings import TRAINING_LIMITS
from csdesk.web.console.qc_views import LABELS as QC_LABELS
from csdesk.web.console.training_views import CHART_LEGEND
from csdesk.web.openapi import ID, NONBLANK, STR, WRITE, documented, error_answer, obj, op, query
from csdesk.web.request import deps_of, is_id, json_body, ok, path_id

routes = web.RouteTableDef()
BASE: Final = "/api/v1/training"

_INT = {"type": "integer"}
_IDS = {"type": "array", "items": _INT}
_LIST = ("401", "403")
_FILTERED = ("400", "401", "403")


def _whole(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


def _text(limit: int) -> dict[str, Any]:
    """A required text (trimmed by the server, then at most ``limit`` characters)."""
    return {**NONBLANK, "maxLength": limit}


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """An object whose unknown keys are refused (named in the 400)."""
    return {**schema, "additionalProperties": False}


_PAGE = obj(
    ["title", "body"],
    title=_text(course_rules.MAX_TITLE),
    body={**_text(course_rules.MAX_PAGE_CHARS), "description": "Markdown"},
)
_QUESTION = obj(
    ["text", "options", "answer"],
    key={
        "type": ["string", "null"],
        "pattern": "^(?:" + course_rules.QUESTION_KEY.pattern.strip("^$") + ")?$",
        "description": "absent, null or empty: q1, q2 ... by position",
    },
    text=_text(course_rules.MAX_QUESTION_CHARS),
    kind={"type": "string", "enum": [kind.value for kind in course_rules.QuestionKind]},
    options={
        "type": "array",
        "items": _text(course_rules.MAX_OPTION_CHARS),
        "minItems": 2,
        "maxItems": course_rules.MAX_OPTIONS,
    },
    answer={
        "description": "option index (or indexes, for a multiple-choice question)",
        "oneOf": [
            _whole(0, course_rules.MAX_OPTIONS - 1),
            {
                "type": "array",
                "items": _whole(0, course_rules.MAX_OPTIONS - 1),
                "minItems": 1,
                "maxItems": course_rules.MAX_OPTIONS,
            },
        ],
    },
    explanation={"type": ["string", "null"], "maxLength": course_rules.MAX_QUESTION_CHARS},
)
_CONTENT = obj(
    ["title", "pages", "questions"],
    title=_text(course_rules.MAX_TITLE),
    summary={"type": ["string", "null"], "maxLength": course_rules.MAX_SUMMARY},
    pages={"type": "array", "items": _PAGE, "minItems": 1, "maxItems": course_rules.MAX_PAGES},
    questions={
        "type": "array",
        "items": _QUESTION,
        "minItems": 1,
        "maxItems": course_rules.MAX_QUESTIONS,
    },
    pass_mark=_whole(0, 100),
)
_ROLES = {"type": "array", "items": {"type": "string", "enum": [r.value for r in ServiceRole]}}
_DUE_DAYS = _whole(1, rule_limits.MAX_DUE_DAYS)
_COURSE_BODY = obj(
    ["content"],
    content=_CONTENT,
    categories={"type": "array", "items": STR},
    roles=_ROLES,
    starter={"type": "boolean"},
    due_days=_DUE_DAYS,
    note={"type": "string", "maxLength": courses.MAX_NOTE},
)
_RULE_BODY = obj(
    ["category", "course_id"],
    category=STR,
    course_id=ID,
    threshold=_whole(1, rule_limits.MAX_THRESHOLD),
    window_days=_whole(1, rule_limits.MAX_WINDOW_DAYS),
    due_days=_DUE_DAYS,
    active={"type": "boolean"},
)
_RULE_POINTS = _whole(-points_rules.MAX_RULE_POINTS, points_rules.MAX_RULE_POINTS)
_SETTINGS_BODY = _closed(
    obj(
        [],
        **{key: _whole(low, high) for key, (low, high) in TRAINING_LIMITS.items()},
        boost_factor={"type": "number", "minimum": 1, "maximum": 10},
        points={
            "description": "null: the default points rules",
            "anyOf": [
                {"type": "null"},
                _closed(
                    obj(
                        [],
                        finding=_closed(
                            obj([], **dict.fromkeys(("minor", "major", "fatal"), _RULE_POINTS))
                        ),
                        praise_per_bonus=_RULE_POINTS,
                        rating=_closed(
                            obj([], **{str(score): _RULE_POINTS for score in range(1, 6)})
                        ),
                        recovered_chase=_RULE_POINTS,
                        course_passed=_RULE_POINTS,
                    )
                ),
            ],
        },
    )
)
_MONTH = {
    "type": "string",
    "pattern": "^(?:" + points_rules.MONTH.pattern.strip("^$") + ")?$",
    "description": "YYYY-MM; empty: this month",
}
_BY = {"type": "string", "enum": list(points_reads.GROUPINGS), "default": "role"}
_EXPORT_FORMAT = {"type": "string", "enum": ["csv", "xlsx"], "default": "csv"}
_DOWNLOADS = {
    "text/csv": {"type": "string"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "type": "string",
        "format": "binary",
    },
}
IMAGE_POLICY: Final = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
"""A course image opened on its own runs nothing (an SVG's scripts included)."""


def _path(name: str, schema: dict[str, Any] = _INT) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_id(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name, "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not is_id(int(raw)):
        raise BadInputError(name, "must be a positive whole number (an id)")
    return int(raw)


def _download(body: bytes, content_type: str, stem: str) -> web.Response:
    extension = "csv" if content_type.startswith("text/csv") else "xlsx"
    return web.Response(
        body=body,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{stem}.{extension}"',
        },
    )


# -- courses -----------------------------------------------------------------------------------


@routes.get(f"{BASE}/courses")
@documented(op("The course catalog with open, overdue and passed counts", errors=_LIST))
async def get_courses(request: web.Request) -> web.Response:
    return ok(await reads.catalog(request.app[SESSIONS_KEY], current_user(request), utcnow()))


@routes.post(f"{BASE}/courses")
@documented(
    op(
        "Create a course (version 1): pages in Markdown, a quiz with a pass mark",
        errors=WRITE,
        ok_status="201",
        body=_COURSE_BODY,
    )
)
async def post_course(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, MANAGE)
    body = await json_body(request)
    return ok(await courses.create_course(deps_of(request), user, body, utcnow()), 201)


@routes.get(f"{BASE}/courses/{{course_id}}")
@documented(
    op(
        "A course: a version (default current) with its pages rendered, versions, images, rules",
        errors=("400", "401", "403", "404"),
        params=[_path("course_id"), query("version", {"type": "integer", "minimum": 0})],
    )
)
async def get_course(request: web.Request) -> web.Response:
    raw = request.query.get("version", "")
    if raw and not (raw.isascii() and raw.isdigit()):
        raise BadInputError("version", "must be a version number")
    detail = await reads.course_detail(
        request.app[SESSIONS_KEY],
        current_user(request),
        path_id(request, "course_id"),
        int(raw) if raw else None,
    )
    return ok(detail)


@routes.put(f"{BASE}/courses/{{course_id}}")
@documented(
    op(
        "Edit a course: changed content becomes a new version (assignments keep theirs); "
        "categories, roles, starter, due_days, status (active/archived) change in place",
        errors=WRITE,
        body=obj(
            [],
            content=_CONTENT,
            categories={"type": "array", "items": STR},
            roles={"type": "array", "items": STR},
            starter={"type": "boolean"},
            due_days=_INT,
            status=STR,
            note=STR,
        ),
        params=[_path("course_id")],
    )
)
async def put_course(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, MANAGE)
    body = await json_body(request)
    course_id = path_id(request, "course_id")
    return ok(await courses.edit_course(deps_of(request), user, course_id, body, utcnow()))


@routes.post(f"{BASE}/courses/{{course_id}}/assets")
@documented(
    {
        **op(
            "Upload an image for the course's pages (multipart: name, file); "
            "PNG, JPEG, GIF, WebP or SVG up to 200 KiB; a name is never reused",
            errors=WRITE,
            ok_status="201",
            params=[_path("course_id")],
        ),
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": obj(
                        ["name", "file"],
                        name={"type": "string", "pattern": courses.ASSET_NAME.pattern},
                        file={
                            "type": "string",
                            "format": "binary",
                            "maxLength": courses.MAX_ASSET_BYTES,
                            "description": "the image (its part's Content-Type one of "
                            + ", ".join(ASSET_TYPES)
                            + ", and the bytes that type starts with)",
                        },
                    )
                }
            },
        },
        "responses": {
            **op("", errors=WRITE, ok_status="201")["responses"],
            "413": error_answer("the request is larger than the server reads (256 KiB)"),
        },
    }
)
async def post_asset(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, MANAGE)
    if not request.content_type.startswith("multipart/form-data"):
        raise BadInputError("file", "send multipart/form-data with name and file")
    try:
        form = await request.post()
    except ValueError as exc:  # e.g. no boundary in the Content-Type: bad input, not a 500
        raise BadInputError("file", f"unreadable multipart body ({exc})") from None
    name = form.get("name")
    upload = form.get("file")
    if not isinstance(name, str) or not name:
        raise BadInputError("name", "is required (e.g. flow.png)")
    if not isinstance(upload, web.FileField):
        raise BadInputError("file", "is required: the image file")
    data = upload.file.read()
    result = await courses.upload_asset(
        deps_of(request),
        user,
        path_id(request, "course_id"),
        name,
        upload.content_type,
        data,
        utcnow(),
    )
    return ok(result, 201)


@routes.get(f"{BASE}/courses/{{course_id}}/assets/{{name}}")
@documented(
    op(
        "A course image (readers of the catalog, and agents the course is assigned to)",
        params=[_path("course_id"), _path("name", STR)],
    )
)
async def get_asset(request: web.Request) -> web.Response:
    require(current_user(request), "training.results")
    data, content_type = await reads.asset(
        request.app[SESSIONS_KEY],
        current_user(request),
        path_id(request, "course_id"),
        request.match_info["name"],
    )
    return web.Response(
        body=data,
        headers={
            "Content-Type": content_type,
            "Content-Security-Policy": IMAGE_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
    )


@routes.post(f"{BASE}/courses/{{course_id}}/assign")
@documented(
    op(
        "Give the course to agents (agent_ids), a role, or everyone on the shift at "
        "shift_at (with role: that role on that shift); due_days or due_at; agents who "
        "have it open are skipped",
        errors=WRITE,
        ok_status="201",
        body=obj(
            [],
            agent_ids=_IDS,
            role=STR,
            shift_at={"type": "string", "format": "date-time"},
            due_days=_INT,
            due_at={"type": "string", "format": "date-time"},
        ),
        params=[_path("course_id")],
    )
)
async def post_assign(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, MANAGE)
    body = await json_body(request)
    course_id = path_id(request, "course_id")
    return ok(await assignments.assign(deps_of(request), user, course_id, body, utcnow()), 201)


def _effect_labels(request: web.Request) -> dict[str, str]:
    return {str(k): translate(request, v) for k, v in QC_LABELS["category"].items()}


@routes.get(f"{BASE}/courses/{{course_id}}/effect")
@documented(
    op(
        "The course's effect: finding rate per category before and after passing, per "
        "agent and pooled, sample sizes, Newcombe's 95 % interval and a verdict",
        params=[_path("course_id")],
    )
)
async def get_effect(request: web.Request) -> web.Response:
    result = await training_effect.effect(
        request.app[SESSIONS_KEY], current_user(request), path_id(request, "course_id"), utcnow()
    )
    return ok(result)


@routes.get(f"{BASE}/courses/{{course_id}}/effect.svg")
@documented(
    op("The course's effect as an SVG chart (drawn on the server)", params=[_path("course_id")])
)
async def get_effect_chart(request: web.Request) -> web.Response:
    svg = await training_effect.effect_chart(
        request.app[SESSIONS_KEY],
        current_user(request),
        path_id(request, "course_id"),
        utcnow(),
        labels=_effect_labels(request),
        legend=(translate(request, CHART_LEGEND[0]), translate(request, CHART_LEGEND[1])),
    )
    return web.Response(text=svg, content_type="image/svg+xml")


# -- rules and settings ------------------------------------------------------------------------


@routes.get(f"{BASE}/rules")
@documented(
    op("The shop's finding → course rules and the QC categories they may name", errors=_LIST)
)
async def get_rules(request: web.Request) -> web.Response:
    return ok(await reads.rules(request.app[SESSIONS_KEY], current_user(request)))


@routes.post(f"{BASE}/rules")
@documented(
    op(
        "Add a rule: threshold standing findings of category within window_days assign "
        "the course, due in due_days",
        errors=WRITE,
        ok_status="201",
        body=_RULE_BODY,
    )
)
async def post_rule(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, MANAGE)
    body = await json_body(request)
    return ok(await rules.save_rule(deps_of(request), user, body, utcnow()), 201)


@routes.put(f"{BASE}/rules/{{rule_id}}")
@documented(op("Change a rule", errors=WRITE, body=_RULE_BODY, params=[_path("rule_id")]))
async def put_rule(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, MANAGE)
    body = await json_body(request)
    rule_id = path_id(request, "rule_id")
    return ok(await rules.save_rule(deps_of(request), user, body, utcnow(), rule_id=rule_id))


@routes.get(f"{BASE}/settings")
@documented(
    op("The shop's training settings (boost, reminders, effect, points rules)", errors=_LIST)
)
async def get_settings(request: web.Request) -> web.Response:
    return ok(await reads.settings(request.app[SESSIONS_KEY], current_user(request)))


@routes.put(f"{BASE}/settings")
@documented(
    op(
        "Replace the shop's training settings; a bad key is named (training.boost_days)",
        errors=WRITE,
        body=_SETTINGS_BODY,
    )
)
async def put_settings(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, MANAGE)
    body = await json_body(request)
    return ok(await rules.save_settings(deps_of(request), user, body, utcnow()))


@routes.get(f"{BASE}/agents")
@documented(op("Agents a course can be given to, with roles, team and trainee flag", errors=_LIST))
async def get_agents(request: web.Request) -> web.Response:
    return ok(await reads.agents(request.app[SESSIONS_KEY], current_user(request)))


# -- assignments -------------------------------------------------------------------------------


@routes.get(f"{BASE}/assignments")
@documented(
    op(
        "Assignments with results (agents: their own only; another agent's 403)",
        errors=_FILTERED,
        params=[
            query("course_id", ID),
            query("agent_id", ID),
            query("status", {"type": "string", "enum": [s.value for s in AssignmentStatus]}),
            query("overdue", {"type": "string", "description": "1 or true: overdue only"}),
        ],
    )
)
async def get_assignments(request: web.Request) -> web.Response:
    q = request.query
    result = await reads.assignments(
        request.app[SESSIONS_KEY],
        current_user(request),
        utcnow(),
        course_id=_query_id(request, "course_id"),
        agent_id=_query_id(request, "agent_id"),
        status=q.get("status") or None,
        overdue_only=q.get("overdue") in {"1", "true"},
    )
    return ok(result)


@routes.get(f"{BASE}/overdue")
@documented(op("Overdue courses per team (supervisors; agents: their own)", errors=_LIST))
async def get_overdue(request: web.Request) -> web.Response:
    return ok(
        await reads.overdue_by_team(request.app[SESSIONS_KEY], current_user(request), utcnow())
    )


@routes.get(f"{BASE}/my")
@documented(
    op("My courses (open by due date, then passed) and my unseen course notices", errors=_LIST)
)
async def get_my(request: web.Request) -> web.Response:
    return ok(await reads.my_courses(request.app[SESSIONS_KEY], current_user(request), utcnow()))


@routes.post(f"{BASE}/notices/seen")
@documented(op("Mark my course notices seen", errors=("400", "401", "403"), body=obj([])))
async def post_notices_seen(request: web.Request) -> web.Response:
    user = current_user(request)
    await json_body(request, empty={})
    return ok(await reminders.mark_notices_seen(deps_of(request), user, utcnow()))


@routes.get(f"{BASE}/assignments/{{assignment_id}}")
@documented(
    op(
        "One assignment as its agent takes it: the pages of the version given, the "
        "questions (no answers), the results so far",
        params=[_path("assignment_id")],
    )
)
async def get_assignment(request: web.Request) -> web.Response:
    require(current_user(request), "training.results")
    detail = await reads.assignment_detail(
        request.app[SESSIONS_KEY],
        current_user(request),
        path_id(request, "assignment_id"),
        utcnow(),
    )
    return ok(detail)


@routes.post(f"{BASE}/assignments/{{assignment_id}}/attempts")
@documented(
    op(
        "Submit the quiz (the assigned agent): graded at once; passing raises the QC "
        "sample rate for the shop's boost_days and earns points",
        errors=WRITE,
        ok_status="201",
        body=obj(
            ["answers"], answers={"type": "object", "description": "question key → [option index]"}
        ),
        params=[_path("assignment_id")],
    )
)
async def post_attempt(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "training.take")
    body = await json_body(request)
    if "answers" not in body:
        raise BadInputError("answers", "is required: question key → [option index]")
    result = await assignments.submit_quiz(
        deps_of(request), user, path_id(request, "assignment_id"), body["answers"], utcnow()
    )
    return ok(result, 201)


@routes.post(f"{BASE}/assignments/{{assignment_id}}/cancel")
@documented(
    op(
        "Cancel an open assignment (trainers)",
        errors=WRITE,
        body=obj([]),
        params=[_path("assignment_id")],
    )
)
async def post_cancel(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, MANAGE)
    await json_body(request, empty={})
    return ok(
        await assignments.cancel(
            deps_of(request), user, path_id(request, "assignment_id"), utcnow()
        )
    )


# -- points ------------------------------------------------------------------------------------


def _agent_or_me(request: web.Request) -> int:
    return _query_id(request, "agent_id") or current_user(request).id


@routes.get(f"{BASE}/points/ledger")
@documented(
    op(
        "An agent's points ledger for a month (default: mine, this month); another "
        "agent's is 403 for agents",
        errors=("400", "401", "403", "404"),
        params=[query("agent_id", ID), query("month", _MONTH)],
    )
)
async def get_ledger(request: web.Request) -> web.Response:
    result = await points_reads.ledger(
        request.app[SESSIONS_KEY],
        current_user(request),
        _agent_or_me(request),
        utcnow(),
        month=request.query.get("month") or None,
    )
    return ok(result)


@routes.get(f"{BASE}/points/ledger/export")
@documented(
    op(
        "The ledger as CSV or XLSX",
        errors=("400", "401", "403", "404"),
        params=[query("agent_id", ID), query("month", _MONTH), query("format", _EXPORT_FORMAT)],
        ok_content=_DOWNLOADS,
    )
)
async def get_ledger_export(request: web.Request) -> web.Response:
    data = await points_reads.ledger(
        request.app[SESSIONS_KEY],
        current_user(request),
        _agent_or_me(request),
        utcnow(),
        month=request.query.get("month") or None,
    )
    body, content_type = export(points_reads.ledger_table(data), request.query.get("format", "csv"))
    return _download(body, content_type, f"points-{data['agent']['id']}-{data['month']}")


@routes.get(f"{BASE}/points/rankings")
@documented(
    op(
        "The month's rankings per role, team or all (everyone may read them)",
        errors=_FILTERED,
        params=[query("month", _MONTH), query("by", _BY)],
    )
)
async def get_rankings(request: web.Request) -> web.Response:
    result = await points_reads.rankings(
        request.app[SESSIONS_KEY],
        current_user(request),
        utcnow(),
        month=request.query.get("month") or None,
        by=request.query.get("by") or "role",
    )
    return ok(result)


@routes.get(f"{BASE}/points/rankings/export")
@documented(
    op(
        "The rankings as CSV or XLSX",
        errors=_FILTERED,
        params=[query("month", _MONTH), query("by", _BY), query("format", _EXPORT_FORMAT)],
        ok_content=_DOWNLOADS,
    )
)
async def get_rankings_export(request: web.Request) -> web.Response:
    data = await points_reads.rankings(
        request.app[SESSIONS_KEY],
        current_user(request),
        utcnow(),
        month=request.query.get("month") or None,
        by=request.query.get("by") or "role",
    )
    body, content_type = export(
        points_reads.rankings_table(data), request.query.get("format", "csv")
    )
    return _download(body, content_type, f"rankings-{data['by']}-{data['month']}")


@routes.post(f"{BASE}/points/awards")
@documented(
    op(
        "A supervisor's award or deduction (±1-100) with a reason",
        errors=WRITE,
        ok_status="201",
        body=obj(
            ["agent_id", "points", "reason"],
            agent_id=ID,
            points={**_whole(-points_rules.MAX_AWARD, points_rules.MAX_AWARD), "not": {"const": 0}},
            reason=_text(points_rules.MAX_REASON),
        ),
    )
)
async def post_award(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "points.award")
    body = await json_body(request)
    agent_id = body.get("agent_id")
    if not is_id(agent_id):
        raise BadInputError("agent_id", "is required: an agent id")
    result = await points.award(
        deps_of(request), user, agent_id, body.get("points"), body.get("reason"), utcnow()
    )
    return ok(result, 201)
