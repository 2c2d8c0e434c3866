"""The one place a refusal becomes an HTTP answer.

Actions, reads and parsers raise :mod:`csdesk.errors` (and the access table its
``AccessDeniedError``); handlers do not catch them. This middleware answers each with its
status: JSON ``{"error", "field"?}`` under ``/api/`` (and ``/metrics``), the HTML error page
elsewhere. aiohttp's own refusals (no such route, wrong method, body too large) are
answered the same way, so an API client never parses plain text. What
else escapes is a bug: logged with the request, answered 500 without the traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from csdesk.auth.access import AccessDeniedError
from csdesk.auth.middleware import error_response, is_api
from csdesk.errors import CsdeskError, ForbiddenError

log = logging.getLogger(__name__)
ACCESS_DENIED_PAGE = (
    "你的账号没有打开这个页面或执行这个操作的权限。如需开通，请联系主管或店铺管理员。 / "
    "Your account may not open this page or do this. "
    "Ask your supervisor or the shop's admin if you need it."
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except AccessDeniedError as exc:
        # Before CsdeskError (it is one): the rule's name (``role 'agent' may not
        # supervisor.board``) helps an API client; a person on a console page gets the
        # error page's sentence instead.
        message = str(exc) if is_api(request) else ACCESS_DENIED_PAGE
        return error_response(request, ForbiddenError.status, message)
    except CsdeskError as exc:
        return error_response(request, exc.status, exc.message, field=exc.field)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if not is_api(request):
            if exc.status in (404, 405) and not request.path.startswith("/static/"):
                # An unknown page gets the console's error page, not "404: Not Found".
                return error_response(request, exc.status, exc.reason)
            raise
        response = error_response(request, exc.status, exc.reason)
        for name in ("Allow", "Retry-After", "WWW-Authenticate"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return error_response(request, 500, "internal error; logged")
