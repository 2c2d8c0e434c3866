"""The one place a refusal becomes an HTTP answer.

Actions, reads and parsers raise :mod:`csdesk.errors` (and the access table its
``AccessDeniedError``); handlers do not catch them. This middleware answers each with its
status: JSON ``{"error", "field"?}`` under ``/api/`` (and ``/metrics``), the HTML error page
under ``/console/``. aiohttp's own refusals (no such route, wrong method, body too large)
are answered the same way under ``/api/``, so an API client never parses plain text. What
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
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except CsdeskError as exc:
        return error_response(request, exc.status, exc.message, field=exc.field)
    except AccessDeniedError as exc:
        return error_response(request, ForbiddenError.status, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if not is_api(request):
            if request.path.startswith("/console/") and exc.status in (404, 405):
                # An unknown console URL gets the console's error page, not "404: Not Found".
                return error_response(request, exc.status, exc.reason)
            raise
        response = error_response(request, exc.status, exc.reason)
        for name in ("Allow", "Retry-After", "WWW-Authenticate"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except Exception:
        if not is_api(request):
            raise
        log.exception("%s %s failed", request.method, request.path)
        return error_response(request, 500, "internal error; logged")
