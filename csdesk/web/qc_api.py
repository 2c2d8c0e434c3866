"""The QC JSON API (``/api/v1/qc/...``): the inspector's queue and scorecards, findings and
disputes, script versions, the daily sample, calibration sessions, proposals, reports.

Handlers check access first, parse, call one action or one read, render; refusals are
``csdesk.errors`` answered by the error middleware: 400 bad input naming the field
(nothing stored), 403 the role may not (an agent asking for another agent's results), 404
not in the shop, 409 the state does not allow it (already submitted, answer window
closed, not disputed). Each route's OpenAPI operation sits beside it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from aiohttp import web

from csdesk.actions.qc import calibration, disputes, proposals, sampling, scoring, scripts
from csdesk.actions.qc.common import MAX_COMMENT
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.errors import BadInputError
from csdesk.i18n import translate
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import qc as reads
from csdesk.reads import qc_reports
from csdesk.reads.qc_base import CALIBRATE, LEAD, PROPOSE, QUEUE, REPORTS, RESPOND, RESULTS
from csdesk.storage.enums import ServiceRole
from csdesk.storage.qc_models import FindingStatus, ProposalStatus, SampleStatus
from csdesk.web.console.labels import N_
from csdesk.web.console.qc_views import slice_name
from csdesk.web.openapi import (
    DATE,
    ID,
    MAX_ID,
    NONBLANK,
    STR,
    WRITE,
    documented,
    int_range,
    nonblank,
    obj,
    op,
    or_empty,
    query,
)
from csdesk.web.request import deps_of, is_id, json_body, ok, path_id, text

routes = web.RouteTableDef()
BASE: Final = "/api/v1/qc"

_INT = {"type": "integer"}
_IDS = {"type": "array", "items": ID}
_ITEMS = {
    "type": "object",
    "description": "item key → {rating (null: N/A), override_reason?, comment?, message_id?}",
}
_SCORE_BODY = obj([], items=_ITEMS, bonus=_INT, comment=STR)
_LIST = ("401", "403")
_FILTERED = ("400", "401", "403")
_REPORT_PARAMS = [
    query("by", or_empty({"enum": list(qc_reports.DIMENSIONS)})),
    query("start", or_empty(DATE)),
    query("end", or_empty(DATE)),
]
_ROLE = {"enum": [role.value for role in ServiceRole]}


def _path(name: str, schema: dict[str, Any] = _INT) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_id(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name, "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not is_id(int(raw)):
        raise BadInputError(name, "must be a positive whole number (an id)")
    return int(raw)


# -- queue and scoring -------------------------------------------------------------------------


@routes.get(f"{BASE}/queue")
@documented(
    op(
        "Sampled conversations (mine, or all with all=1) and why each was picked",
        errors=_FILTERED,
        params=[
            query("status", or_empty({"enum": [s.value for s in SampleStatus]})),
            query("role", STR),
            query("reason", STR),
            query("agent_id", or_empty(int_range(1, MAX_ID))),
            query("day", or_empty(DATE)),
            query("all", STR),
        ],
    )
)
async def get_queue(request: web.Request) -> web.Response:
    user = current_user(request)
    q = request.query
    result = await reads.queue(
        request.app[SESSIONS_KEY],
        user,
        status=q.get("status") or None,
        role=q.get("role") or None,
        reason=q.get("reason") or None,
        agent_id=_query_id(request, "agent_id"),
        day=reads.parse_day(q.get("day")),
        everyone=q.get("all") in {"1", "true"},
    )
    return ok(result)


@routes.get(f"{BASE}/conversations/{{conversation_id}}")
@documented(
    op(
        "Transcript with auto-check hits, scorecard, auto ratings and my draft or score",
        params=[_path("conversation_id")],
    )
)
async def get_workspace(request: web.Request) -> web.Response:
    user = current_user(request)
    return ok(await reads.workspace(request.app[SESSIONS_KEY], user, path_id(request)))


@routes.put(f"{BASE}/conversations/{{conversation_id}}/score")
@documented(
    op(
        "Save my draft scorecard (auto-scored items change only with override_reason)",
        errors=WRITE,
        body=_SCORE_BODY,
        params=[_path("conversation_id")],
    )
)
async def put_score(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, QUEUE)
    body = await json_body(request)
    result = await scoring.save_score(
        deps_of(request), user, path_id(request), body, utcnow(), submit=False
    )
    return ok(result)


@routes.post(f"{BASE}/conversations/{{conversation_id}}/score/submit")
@documented(
    op(
        "Submit my scorecard; items that lost points become findings against the author "
        "of the message they are about",
        errors=WRITE,
        ok_status="201",
        body=_SCORE_BODY,
        params=[_path("conversation_id")],
    )
)
async def post_submit(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, QUEUE)
    body = await json_body(request)
    result = await scoring.save_score(
        deps_of(request), user, path_id(request), body, utcnow(), submit=True
    )
    return ok(result, 201)


@routes.get(f"{BASE}/scores/{{score_id}}")
@documented(
    op("A score, its findings and the audited trail of every step", params=[_path("score_id")])
)
async def get_score(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, RESULTS)
    trail = await reads.score_trail(request.app[SESSIONS_KEY], user, path_id(request, "score_id"))
    return ok(trail)


# -- findings and disputes ---------------------------------------------------------------------


@routes.get(f"{BASE}/findings")
@documented(
    op(
        "Findings (agents: their own only; another agent's 403)",
        errors=_FILTERED,
        params=[
            query("agent_id", or_empty(int_range(1, MAX_ID))),
            query("status", or_empty({"enum": [s.value for s in FindingStatus]})),
        ],
    )
)
async def get_findings(request: web.Request) -> web.Response:
    user = current_user(request)
    result = await reads.findings(
        request.app[SESSIONS_KEY],
        user,
        agent_id=_query_id(request, "agent_id"),
        status=request.query.get("status") or None,
    )
    return ok(result)


@routes.get(f"{BASE}/findings/unseen")
@documented(op("How many findings against me are new (the top bar's badge)", errors=_LIST))
async def get_unseen(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, RESULTS)
    return ok({"unseen": await reads.unseen_findings(request.app[SESSIONS_KEY], user)})


@routes.post(f"{BASE}/findings/seen")
@documented(
    op("Mark my findings seen (clears the badge)", errors=("400", "401", "403"), body=obj([]))
)
async def post_seen(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, RESULTS)
    await json_body(request, empty={})
    return ok({"seen": await disputes.mark_seen(deps_of(request), user, utcnow())})


@routes.get(f"{BASE}/findings/{{finding_id:[0-9]+}}")
@documented(op("One finding with its transcript and dispute", params=[_path("finding_id")]))
async def get_finding(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, RESULTS)
    detail = await reads.finding_detail(
        request.app[SESSIONS_KEY], user, path_id(request, "finding_id")
    )
    return ok(detail)


@routes.post(f"{BASE}/findings/{{finding_id:[0-9]+}}/acknowledge")
@documented(
    op(
        "The agent acknowledges a finding against them",
        errors=WRITE,
        body=obj([]),
        params=[_path("finding_id")],
    )
)
async def post_acknowledge(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, RESPOND)
    await json_body(request, empty={})
    finding_id = path_id(request, "finding_id")
    return ok(await disputes.acknowledge(deps_of(request), user, finding_id, utcnow()))


@routes.post(f"{BASE}/findings/{{finding_id:[0-9]+}}/dispute")
@documented(
    op(
        "The agent disputes a finding within the shop's qc.dispute_days (comment required)",
        errors=WRITE,
        ok_status="201",
        body=obj(["comment"], comment=nonblank(MAX_COMMENT)),
        params=[_path("finding_id")],
    )
)
async def post_dispute(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, RESPOND)
    data = await json_body(request)
    result = await disputes.dispute(
        deps_of(request), user, path_id(request, "finding_id"), text(data, "comment"), utcnow()
    )
    return ok(result, 201)


@routes.post(f"{BASE}/findings/{{finding_id:[0-9]+}}/resolve")
@documented(
    op(
        "The QC lead resolves a dispute: uphold, reverse (points back) or amend (rating)",
        errors=WRITE,
        body=obj(
            ["resolution", "comment"],
            resolution={"enum": ["uphold", "reverse", "amend"]},
            comment=nonblank(MAX_COMMENT),
            rating=_INT,
        ),
        params=[_path("finding_id")],
    )
)
async def post_resolve(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, LEAD)
    data = await json_body(request)
    rating = data.get("rating")
    if rating is not None and (not isinstance(rating, int) or isinstance(rating, bool)):
        raise BadInputError("rating", "must be a whole number")
    result = await disputes.resolve(
        deps_of(request),
        user,
        path_id(request, "finding_id"),
        text(data, "resolution"),
        text(data, "comment"),
        utcnow(),
        rating=rating,
    )
    return ok(result)


@routes.get(f"{BASE}/disputes")
@documented(
    op("Disputes waiting for the QC lead (all=1: resolved too)", params=[query("all", STR)])
)
async def get_disputes(request: web.Request) -> web.Response:
    user = current_user(request)
    everything = request.query.get("all") in {"1", "true"}
    return ok(await reads.disputes(request.app[SESSIONS_KEY], user, open_only=not everything))


# -- scripts and sampling ----------------------------------------------------------------------


@routes.get(f"{BASE}/scripts")
@documented(op("Every role's current script version and scorecard", errors=_LIST))
async def get_scripts(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, QUEUE)
    versions = await scripts.ensure_versions(request.app[SESSIONS_KEY], user.shop_id, utcnow())
    return ok({"items": versions})


@routes.post(f"{BASE}/scripts/{{role}}")
@documented(
    op(
        "Publish a new version of a role's script (QC lead); a changed forbidden list "
        "becomes the shop's, read by the pre-send check too",
        errors=WRITE,
        ok_status="201",
        body=obj(["changes"], changes={"type": "object"}, note={"type": ["string", "null"]}),
        params=[_path("role", _ROLE)],
    )
)
async def post_script(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, LEAD)
    data = await json_body(request)
    changes = data.get("changes")
    if not isinstance(changes, dict):
        raise BadInputError("changes", "is required: an object of script keys to change")
    result = await scripts.publish_script(
        request.app[SESSIONS_KEY],
        user,
        request.match_info["role"],
        changes,
        utcnow(),
        note=text(data, "note"),
    )
    return ok(result, 201)


@routes.post(f"{BASE}/samples/run")
@documented(
    op(
        "Draw a day's sample now (QC lead; once per day, like the daily job)",
        errors=WRITE,
        body=obj(["day"], day=DATE),
    )
)
async def post_sample_run(request: web.Request) -> web.Response:
    """The QC lead draws a day by hand (the daily job does it for yesterday anyway)."""
    user = current_user(request)
    require(user, LEAD)
    data = await json_body(request)
    raw = data.get("day")
    if not isinstance(raw, str):
        raise BadInputError("day", "is required: YYYY-MM-DD")
    day = reads.parse_day(raw)
    if day is None:
        raise BadInputError("day", "is required: YYYY-MM-DD")
    if day > (utcnow() + timedelta(days=1)).date():
        raise BadInputError("day", "must not be in the future")
    picked = await sampling.sample_day(deps_of(request), user.shop_id, day, utcnow())
    return ok({"day": day.isoformat(), "picked": picked})


@routes.get(f"{BASE}/inspectors")
@documented(op("Who can score a calibration session (QC lead)", errors=_LIST))
async def get_inspectors(request: web.Request) -> web.Response:
    user = current_user(request)
    return ok(await reads.inspectors(request.app[SESSIONS_KEY], user))


# -- calibration -------------------------------------------------------------------------------


@routes.get(f"{BASE}/calibrations")
@documented(op("Calibration sessions (inspectors: their own)", errors=_LIST))
async def get_calibrations(request: web.Request) -> web.Response:
    user = current_user(request)
    return ok(await reads.calibrations(request.app[SESSIONS_KEY], user))


@routes.post(f"{BASE}/calibrations")
@documented(
    op(
        "Create a calibration session (QC lead)",
        errors=WRITE,
        ok_status="201",
        body=obj(
            ["title", "conversation_ids", "inspector_ids"],
            title=NONBLANK,
            conversation_ids={**_IDS, "minItems": 1, "maxItems": calibration.MAX_UNITS},
            inspector_ids={**_IDS, "minItems": 2, "maxItems": calibration.MAX_UNITS},
        ),
    )
)
async def post_calibration(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, LEAD)
    data = await json_body(request)
    result = await calibration.create_session(
        deps_of(request),
        user,
        text(data, "title"),
        data.get("conversation_ids"),
        data.get("inspector_ids"),
        utcnow(),
    )
    return ok(result, 201)


@routes.get(f"{BASE}/calibrations/{{session_id}}")
@documented(
    op("A session: blind while open, α and drift once closed", params=[_path("session_id")])
)
async def get_calibration(request: web.Request) -> web.Response:
    user = current_user(request)
    detail = await reads.calibration_detail(
        request.app[SESSIONS_KEY], user, path_id(request, "session_id")
    )
    return ok(detail)


@routes.get(f"{BASE}/calibrations/{{session_id}}/conversations/{{conversation_id}}")
@documented(
    op(
        "A session conversation's transcript (no hits, no other scores)",
        params=[_path("session_id"), _path("conversation_id")],
    )
)
async def get_calibration_transcript(request: web.Request) -> web.Response:
    user = current_user(request)
    result = await reads.calibration_transcript(
        request.app[SESSIONS_KEY], user, path_id(request, "session_id"), path_id(request)
    )
    return ok(result)


@routes.post(f"{BASE}/calibrations/{{session_id}}/scores")
@documented(
    op(
        "My blind score of one conversation of the session",
        errors=WRITE,
        ok_status="201",
        body=obj(["conversation_id", "items"], conversation_id=ID, items=_ITEMS, bonus=_INT),
        params=[_path("session_id")],
    )
)
async def post_calibration_score(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, CALIBRATE)
    data = await json_body(request)
    conversation_id = data.get("conversation_id")
    if not is_id(conversation_id):
        raise BadInputError("conversation_id", "is required: a conversation id")
    result = await calibration.submit_blind_score(
        deps_of(request), user, path_id(request, "session_id"), conversation_id, data, utcnow()
    )
    return ok(result, 201)


@routes.post(f"{BASE}/calibrations/{{session_id}}/close")
@documented(
    op(
        "Close the session: Krippendorff's α per item and overall, drift per inspector",
        errors=WRITE,
        body=obj([]),
        params=[_path("session_id")],
    )
)
async def post_calibration_close(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, LEAD)
    await json_body(request, empty={})
    closed = await calibration.close_session(
        deps_of(request), user, path_id(request, "session_id"), utcnow()
    )
    return ok(closed)


@routes.get(f"{BASE}/drift")
@documented(op("Each inspector's drift over the closed calibration sessions", errors=_LIST))
async def get_drift(request: web.Request) -> web.Response:
    user = current_user(request)
    return ok(await reads.drift_history(request.app[SESSIONS_KEY], user))


# -- proposals ---------------------------------------------------------------------------------


@routes.get(f"{BASE}/proposals")
@documented(op("Improvement proposals (流程优化)", errors=_LIST))
async def get_proposals(request: web.Request) -> web.Response:
    user = current_user(request)
    return ok(await reads.proposals(request.app[SESSIONS_KEY], user))


@routes.post(f"{BASE}/proposals")
@documented(
    op(
        "Raise an improvement proposal from findings",
        errors=WRITE,
        ok_status="201",
        body=obj(
            ["title", "finding_ids"],
            title=NONBLANK,
            body=STR,
            finding_ids={**_IDS, "minItems": 1, "maxItems": proposals.MAX_FINDINGS},
        ),
    )
)
async def post_proposal(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, PROPOSE)
    data = await json_body(request)
    result = await proposals.raise_proposal(
        deps_of(request),
        user,
        text(data, "title"),
        text(data, "body"),
        data.get("finding_ids"),
        utcnow(),
    )
    return ok(result, 201)


@routes.post(f"{BASE}/proposals/{{proposal_id}}/status")
@documented(
    op(
        "Move a proposal (QC lead): open, in_progress, done",
        errors=WRITE,
        body=obj(["status"], status={"enum": [s.value for s in ProposalStatus]}),
        params=[_path("proposal_id")],
    )
)
async def post_proposal_status(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, LEAD)
    data = await json_body(request)
    result = await proposals.move_proposal(
        deps_of(request), user, path_id(request, "proposal_id"), text(data, "status"), utcnow()
    )
    return ok(result)


# -- reports -----------------------------------------------------------------------------------


async def _report(request: web.Request) -> tuple[dict[str, Any], dict[str, qc_reports.Table]]:
    q = request.query
    return await qc_reports.report(
        request.app[SESSIONS_KEY],
        current_user(request),
        by=q.get("by") or "agent",
        start=q.get("start") or None,
        end=q.get("end") or None,
        now=utcnow(),
    )


@routes.get(f"{BASE}/reports")
@documented(
    op(
        "Finding rate per agent, role, category or script version per day; top rules, "
        "inspector throughput, dispute rate and outcomes",
        errors=_FILTERED,
        params=_REPORT_PARAMS,
    )
)
async def get_report(request: web.Request) -> web.Response:
    data, _tables = await _report(request)
    return ok(data)


@routes.get(f"{BASE}/reports/chart.svg")
@documented(
    op(
        "The finding-rate chart as SVG (drawn on the server)",
        errors=_FILTERED,
        params=_REPORT_PARAMS,
        ok_content={"image/svg+xml": {"type": "string"}},
    )
)
async def get_report_chart(request: web.Request) -> web.Response:
    data, _tables = await _report(request)
    svg = qc_reports.chart_svg(
        data["series"],
        translate(request, N_("Finding rate per day")),
        names={key: slice_name(request, data["by"], key) for key in data["series"]},
    )
    return web.Response(text=svg, content_type="image/svg+xml")


@routes.get(f"{BASE}/reports/export")
@documented(
    op(
        "One report table as CSV or XLSX (table: rates, top_rules, throughput, disputes)",
        errors=_FILTERED,
        params=[
            {
                "name": "table",
                "in": "query",
                "required": True,
                "schema": {"enum": list(qc_reports.TABLES)},
            },
            query("format", {"enum": ["csv", "xlsx"]}),
            *_REPORT_PARAMS,
        ],
        ok_content={
            "text/csv": {"type": "string"},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "type": "string",
                "format": "binary",
            },
        },
    )
)
async def get_report_export(request: web.Request) -> web.Response:
    require(current_user(request), REPORTS)
    name = request.query.get("table", "")
    if name not in qc_reports.TABLES:
        raise BadInputError("table", f"must be one of {', '.join(qc_reports.TABLES)}")
    data, tables = await _report(request)
    body, content_type = qc_reports.export(tables[name], request.query.get("format", "csv"))
    extension = "csv" if content_type.startswith("text/csv") else "xlsx"
    filename = f"qc-{name}-{data['by']}-{data['start']}-{data['end']}.{extension}"
    return web.Response(
        body=body,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )
