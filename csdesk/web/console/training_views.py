"""The training pages (培训) and points pages (积分): the trainer's catalog with rules,
assignments and settings; the course editor (pages in Markdown, quiz, rules, images,
assigning) with the current version shown as agents will read it; each course's measured
effect with a chart drawn on the server; the agent's course (read the pages, take the
quiz, see the result); "my courses"; the points ledger; the monthly rankings.

HTML shells: course pages are rendered on the server (Markdown made safe by
``csdesk.training.markdown``); the data and every change go through
``csdesk/web/training_api.py``.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web
from markupsafe import Markup

from csdesk.auth.access import can, require
from csdesk.auth.current import CurrentUser, current_user
from csdesk.clock import utcnow
from csdesk.i18n import translate
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import training as reads
from csdesk.reads.training_base import (
    AWARD,
    CATALOG,
    MANAGE,
    POINTS_READ,
    RANKINGS,
    RESULTS,
    known_categories,
)
from csdesk.web.console.labels import N_
from csdesk.web.console.pages import render_console_page
from csdesk.web.console.qc_views import LABELS as QC_LABELS
from csdesk.web.request import path_id

routes = web.RouteTableDef()

CATALOG_PATH: Final = "/console/training"
MY_PATH: Final = "/console/training/my"
POINTS_PATH: Final = "/console/training/points"
RANKINGS_PATH: Final = "/console/training/rankings"

LABELS: Final[dict[str, dict[str, str]]] = {
    "source": {
        "manual": N_("Given by a trainer"),
        "rule": N_("QC findings rule"),
        "script_update": N_("Script update"),
        "onboarding": N_("New starter"),
    },
    "status": {
        "assigned": N_("To do"),
        "passed": N_("Passed"),
        "cancelled": N_("Cancelled"),
    },
    "course_status": {"active": N_("In use"), "archived": N_("Archived")},
    "origin": {
        "trainer": N_("Written by a trainer"),
        "script_update": N_("Made from a script change"),
    },
    "team": {
        "presales_team": N_("Pre-sales team"),
        "aftersales_team": N_("After-sales team"),
        "hotline_team": N_("Hotline team"),
        "none": N_("No team"),
        "all": N_("Everyone"),
    },
    "points_source": {
        "finding": N_("QC finding"),
        "dispute_reversal": N_("Dispute upheld, points back"),
        "praise": N_("QC praise"),
        "rating": N_("Buyer rating"),
        "recovered_chase": N_("Chased order paid"),
        "course_passed": N_("Course passed"),
        "award": N_("Supervisor's award"),
    },
    "notice": {"due_soon": N_("Due soon"), "overdue": N_("Overdue")},
    "kind": {"single": N_("Single choice"), "multiple": N_("Multiple choice")},
    "verdict": {
        "fewer": N_("Fewer after the course"),
        "more": N_("More after the course"),
        "no_clear_change": N_("No clear change"),
        "not_enough_data": N_("Not enough scored chats yet"),
    },
}


CHART_LEGEND: Final = (N_("Before the course"), N_("After the course"))
"""The effect chart's legend (``csdesk.reads.training_effect.chart_svg``)."""


def _nav(user: CurrentUser) -> dict[str, bool]:
    return {
        "catalog": can(user, CATALOG),
        "my": can(user, "training.take"),
        "points": can(user, POINTS_READ),
        "rankings": can(user, RANKINGS),
    }


def label_tables(request: web.Request) -> dict[str, dict[str, str]]:
    """The training label tables in the request's locale (the workbench's boot data too)."""
    tables = {**LABELS, "category": QC_LABELS["category"]}
    return {
        table: {str(key): translate(request, msgid) for key, msgid in values.items()}
        for table, values in tables.items()
    }


def _page(
    request: web.Request,
    template: str,
    current: str,
    boot: dict[str, Any],
    **context: Any,
) -> web.Response:
    user = current_user(request)
    labels = label_tables(request)
    return render_console_page(
        request,
        user,
        template,
        {
            **boot,
            "training_labels": labels,
            "can_manage": can(user, MANAGE),
            "can_award": can(user, AWARD),
            "can_read_others": can(user, CATALOG),
        },
        training_nav=_nav(user),
        training_paths={
            "catalog": CATALOG_PATH,
            "my": MY_PATH,
            "points": POINTS_PATH,
            "rankings": RANKINGS_PATH,
        },
        training_labels=labels,
        current=current,
        **context,
    )


def _safe_pages(pages: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Page HTML made safe by ``csdesk.training.markdown`` (markdown-it without raw HTML,
    then nh3): marked safe for the template only here."""
    return [{"title": p["title"], "html": Markup(p["html"])} for p in pages]


@routes.get(CATALOG_PATH)
async def catalog_page(request: web.Request) -> web.Response:
    require(current_user(request), CATALOG)
    return _page(request, "console/training.html", "training", {})


@routes.get(f"{CATALOG_PATH}/courses/new")
async def new_course_page(request: web.Request) -> web.Response:
    require(current_user(request), MANAGE)
    async with request.app[SESSIONS_KEY]() as session:
        categories = await known_categories(session, current_user(request).shop_id)
    return _page(
        request,
        "console/training_course.html",
        "training",
        {"course": None, "categories": categories},
        course=None,
        pages=[],
    )


@routes.get(f"{CATALOG_PATH}/courses/{{course_id}}")
async def course_page(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, CATALOG)
    raw = request.query.get("version", "")
    version = int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 10**6 else None
    detail = await reads.course_detail(
        request.app[SESSIONS_KEY], user, path_id(request, "course_id"), version
    )
    async with request.app[SESSIONS_KEY]() as session:
        categories = await known_categories(session, user.shop_id)
    boot = {"course": {k: v for k, v in detail.items() if k != "pages"}, "categories": categories}
    return _page(
        request,
        "console/training_course.html",
        "training",
        boot,
        course=detail,
        pages=_safe_pages(detail["pages"]),
    )


@routes.get(f"{CATALOG_PATH}/courses/{{course_id}}/effect")
async def effect_page(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, CATALOG)
    detail = await reads.course_detail(
        request.app[SESSIONS_KEY], user, path_id(request, "course_id")
    )
    return _page(
        request,
        "console/training_effect.html",
        "training",
        {"course_id": detail["id"]},
        course=detail,
    )


@routes.get(MY_PATH)
async def my_page(request: web.Request) -> web.Response:
    require(current_user(request), RESULTS)
    return _page(request, "console/training_my.html", "training_my", {})


@routes.get(f"{MY_PATH}/{{assignment_id}}")
async def take_page(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "training.results")
    detail = await reads.assignment_detail(
        request.app[SESSIONS_KEY], user, path_id(request, "assignment_id"), utcnow()
    )
    boot = {k: v for k, v in detail.items() if k != "pages"}
    return _page(
        request,
        "console/training_take.html",
        "training_my",
        boot,
        detail=detail,
        pages=_safe_pages(detail["pages"]),
    )


@routes.get(POINTS_PATH)
async def points_page(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, POINTS_READ)
    agents = (
        (await reads.agents(request.app[SESSIONS_KEY], user))["items"] if can(user, CATALOG) else []
    )
    return _page(request, "console/training_points.html", "training_points", {"agents": agents})


@routes.get(RANKINGS_PATH)
async def rankings_page(request: web.Request) -> web.Response:
    require(current_user(request), RANKINGS)
    return _page(request, "console/training_rankings.html", "training_rankings", {})
