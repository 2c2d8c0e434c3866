"""The QC pages (质检): the inspector's workspace (sampled queue, transcript with the
auto-check hits, scorecard), the agent's results (findings, acknowledge or dispute), the
QC lead's dispute queue and the calibration page (blind scoring, α).

HTML shells: the data and every change go through ``csdesk/web/qc_api.py``.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.auth.access import can, require
from csdesk.auth.current import CurrentUser, current_user
from csdesk.i18n import translate
from csdesk.keys import SESSIONS_KEY
from csdesk.qc.sampling import PickReason
from csdesk.qc.scripts import Category
from csdesk.reads import qc as reads
from csdesk.reads.qc_base import CALIBRATE, LEAD, PROPOSE, QUEUE, REPORTS, RESULTS
from csdesk.storage.qc_models import FindingStatus
from csdesk.web.console.labels import N_, TABLES
from csdesk.web.console.pages import render_console_page

routes = web.RouteTableDef()

WORKSPACE_PATH: Final = "/console/qc"
RESULTS_PATH: Final = "/console/qc/results"
DISPUTES_PATH: Final = "/console/qc/disputes"
CALIBRATION_PATH: Final = "/console/qc/calibration"
REPORTS_PATH: Final = "/console/qc/reports"
SCRIPTS_PATH: Final = "/console/qc/scripts"
PROPOSALS_PATH: Final = "/console/qc/proposals"

LABELS: Final[dict[str, dict[str, str]]] = {
    "category": {
        Category.GREETING_MISSING: N_("Greeting missing"),
        Category.CLOSING_MISSING: N_("Closing missing"),
        Category.RATING_INVITE_MISSING: N_("Rating invitation missing"),
        Category.FORBIDDEN_PHRASE: N_("Forbidden phrase"),
        Category.EXTREME_WORDS: N_("Extreme advertising words"),
        Category.SLOW_FIRST_RESPONSE: N_("Slow first response"),
        Category.LONG_GAP_NO_APOLOGY: N_("Long wait without apology"),
        Category.FOLLOWUP_MISSED: N_("Promised follow-up missed"),
        Category.ORDER_CONFIRM_MISSING: N_("Order not confirmed"),
    },
    "reason": {
        PickReason.RANDOM: N_("Random sample"),
        PickReason.TRAINING_FOLLOWUP: N_("Training follow-up"),
        PickReason.FATAL_HIT: N_("Fatal hit"),
        PickReason.COMPLAINT: N_("Complaint"),
        PickReason.HIGH_RISK: N_("High risk"),
        PickReason.LARGE_REFUND: N_("Large refund"),
        PickReason.LOW_RATING: N_("Low rating"),
        PickReason.TRANSFER_BOUNCED: N_("Transferred twice"),
    },
    "finding": {
        FindingStatus.OPEN: N_("New"),
        FindingStatus.ACKNOWLEDGED: N_("Acknowledged"),
        FindingStatus.DISPUTED: N_("Disputed"),
        FindingStatus.UPHELD: N_("Upheld"),
        FindingStatus.REVERSED: N_("Reversed"),
        FindingStatus.AMENDED: N_("Amended"),
    },
    "severity": {"fatal": N_("Critical"), "major": N_("Major"), "minor": N_("Minor")},
    "item": {
        "greeting": N_("Greeting"),
        "order_confirm": N_("Order confirmation"),
        "closing": N_("Closing"),
        "rating_invite": N_("Rating invitation"),
        "first_response": N_("First response"),
        "waiting": N_("Apology and follow-up"),
        "forbidden": N_("Forbidden phrases"),
        "extreme": N_("Extreme words"),
        "accuracy": N_("Accurate answers"),
        "solved": N_("Problem solved"),
        "abuse": N_("Abusing or talking back to the buyer"),
        "privacy": N_("Leaking buyer data"),
    },
    # The built-in rules of every script (csdesk.qc.scripts); a shop's own keep their ids.
    "rule": {
        "greeting": N_("Greeting in the first reply"),
        "hotline.chase_opening": N_("Phone-chase opening"),
        "order_confirm": N_("Confirm the order"),
        "closing": N_("Closing words"),
        "rating_invite": N_("Rating invitation"),
        "forbidden_phrase": N_("Forbidden phrase"),
        "forbidden_phrase.abusive": N_("Abusing the buyer (critical)"),
        "chase.pushy": N_("Pushy chasing"),
        "extreme_words": N_("Extreme advertising words"),
        "timing.first_response": N_("Slow first response"),
        "timing.long_gap_no_apology": N_("Long wait without apology"),
        "timing.followup_missed": N_("Promised follow-up missed"),
    },
    # QC reports: the dispute table's measures and a dispute's outcome.
    "measure": {
        "findings": N_("Findings"),
        "disputed": N_("Disputes raised"),
        "dispute_rate": N_("Dispute rate"),
        "pending": N_("Disputes waiting for the QC lead"),
        "uphold": N_("Upheld"),
        "reverse": N_("Reversed"),
        "amend": N_("Amended"),
    },
    # Notes csdesk writes on the script versions it makes itself (actions.qc.scripts).
    "version_note": {
        "built-in script": N_("Built-in script"),
        "follows the shop's forbidden phrases": N_("Follows the shop's forbidden phrases"),
    },
    "section": {
        "norms": N_("Service norms"),
        "timeliness": N_("Timeliness"),
        "wording": N_("Wording"),
        "skill": N_("Know-how"),
    },
}


def slice_name(request: web.Request, by: str, key: str) -> str:
    """A report slice's name in the request's locale (the chart's legend): a role, a
    category or a script version by name; an agent's name as it is."""
    if by == "role" and key in TABLES["role"]:
        return translate(request, TABLES["role"][key])
    if by == "category" and key in LABELS["category"]:
        return translate(request, LABELS["category"][key])
    if by == "version" and ".v" in key:
        role, number = key.rsplit(".v", 1)
        if role in TABLES["role"]:
            return translate(request, N_("{role}, version {n}")).format(
                role=translate(request, TABLES["role"][role]), n=number
            )
    return key


def _nav(user: CurrentUser) -> dict[str, bool]:
    return {
        "workspace": can(user, QUEUE),
        "results": can(user, RESULTS),
        "disputes": can(user, LEAD),
        "calibration": can(user, CALIBRATE),
        "reports": can(user, REPORTS),
        "scripts": can(user, QUEUE),
        "proposals": can(user, PROPOSE),
    }


def _page(request: web.Request, template: str, current: str, boot: dict[str, Any]) -> web.Response:
    user = current_user(request)
    labels = {
        table: {str(key): translate(request, msgid) for key, msgid in values.items()}
        for table, values in LABELS.items()
    }
    return render_console_page(
        request,
        user,
        template,
        {**boot, "qc_labels": labels, "is_lead": can(user, LEAD)},
        qc_nav=_nav(user),
        qc_paths={
            "workspace": WORKSPACE_PATH,
            "results": RESULTS_PATH,
            "disputes": DISPUTES_PATH,
            "calibration": CALIBRATION_PATH,
            "reports": REPORTS_PATH,
            "scripts": SCRIPTS_PATH,
            "proposals": PROPOSALS_PATH,
        },
        current=current,
    )


@routes.get(WORKSPACE_PATH)
async def workspace_page(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, QUEUE)
    return _page(request, "console/qc.html", "qc", {"inspector_id": user.id})


@routes.get(RESULTS_PATH)
async def results_page(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, RESULTS)
    unseen = await reads.unseen_findings(request.app[SESSIONS_KEY], user)
    return _page(request, "console/qc_results.html", "qc_results", {"unseen": unseen})


@routes.get(DISPUTES_PATH)
async def disputes_page(request: web.Request) -> web.Response:
    require(current_user(request), LEAD)
    return _page(request, "console/qc_disputes.html", "qc_disputes", {})


@routes.get(CALIBRATION_PATH)
async def calibration_page(request: web.Request) -> web.Response:
    require(current_user(request), CALIBRATE)
    return _page(request, "console/qc_calibration.html", "qc_calibration", {})


@routes.get(REPORTS_PATH)
async def reports_page(request: web.Request) -> web.Response:
    require(current_user(request), REPORTS)
    return _page(request, "console/qc_reports.html", "qc_reports", {})


@routes.get(SCRIPTS_PATH)
async def scripts_page(request: web.Request) -> web.Response:
    require(current_user(request), QUEUE)
    return _page(request, "console/qc_scripts.html", "qc_scripts", {})


@routes.get(PROPOSALS_PATH)
async def proposals_page(request: web.Request) -> web.Response:
    require(current_user(request), PROPOSE)
    return _page(request, "console/qc_proposals.html", "qc_proposals", {})
