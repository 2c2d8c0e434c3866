"""What the console's pages share: the shell (``console/_page.html``) rendered with the
page's boot data under strict headers. Each page module (workbench, refund, order review,
chasing, hotline, supervisor) loads its own data (the item pages' extras, buyer nick, tags
and shop zone, from ``csdesk.reads.conversations``) and calls :func:`render_console_page`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from aiohttp import web

from csdesk.auth.current import CurrentUser, csrf_token_for
from csdesk.i18n import LOCALES, i18n_context, translate
from csdesk.web.auth_views import render
from csdesk.web.console import labels

WORKBENCH_PATH: Final = "/console/workbench"
CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""Scripts only from our own files: injected markup (were any to slip through) cannot run."""

PageHandler = Callable[[web.Request], Awaitable[web.Response]]


def render_console_page(
    request: web.Request,
    user: CurrentUser,
    template: str,
    boot: Mapping[str, Any] | None,
    **context: Any,
) -> web.Response:
    """The page shell under the console's strict CSP.

    ``boot`` is the page's own data for its script; the user, the locale and the translated
    label tables are added to it (``None``: a page without a script, and no boot data).
    ``context`` is the page's own template variables; ``current="workbench"`` marks the
    workbench link as the current page."""
    i18n = i18n_context(request)
    data: dict[str, Any] | None = None
    if boot is not None:
        data = {
            "user": {"id": user.id, "display_name": user.display_name, "role": user.role.value},
            "locale": i18n["locale"],
            **boot,
            "labels": labels.translated(lambda msgid: translate(request, msgid)),
        }
    response = render(
        request,
        template,
        **i18n,
        boot=data,
        label_tables=data["labels"] if data is not None else None,
        csrf_meta=csrf_token_for(request) or "",
        locales=LOCALES,
        workbench_path=WORKBENCH_PATH,
        here=request.path_qs,
        **context,
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
