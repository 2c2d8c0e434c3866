"""The one gate every request passes: who is calling, may the route be reached anonymously,
does an unsafe cookie request carry its CSRF token, and how refusals look (JSON for
``/api/``, an HTML page or a redirect to ``/login`` for the console)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web
from yarl import URL

from csdesk.actions.users import authenticate_session, authenticate_token
from csdesk.auth.csrf import UNSAFE_METHODS, presented_token, session_csrf_problem
from csdesk.auth.current import SESSION_KEY, USER_KEY, auth_now, template_context
from csdesk.auth.sessions import SESSION_COOKIE, clear_session_cookie
from csdesk.keys import SESSIONS_KEY, TEMPLATES_KEY

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PUBLIC_PATHS: Final = frozenset({"/healthz", "/login", "/favicon.ico"})
PUBLIC_PREFIXES: Final = ("/static/", "/media/")
"""``/media/``: images by signed URL (``web/public_media.py`` checks the signature)."""
# Signed by the platform with the webhook secret instead of a login.
PUBLIC_ROUTES: Final = frozenset({("POST", "/api/v1/events")})
LOGIN_PATH: Final = "/login"
HOME_PATH: Final = "/console/"


def is_public(request: web.Request) -> bool:
    path = request.path
    return (
        path in PUBLIC_PATHS
        or path.startswith(PUBLIC_PREFIXES)
        or (request.method, path) in PUBLIC_ROUTES
    )


MACHINE_PATHS: Final = frozenset({"/metrics"})
"""Read by programs (a Prometheus scraper), not people: answered like the API (401, not a
redirect to the login page)."""


def is_api(request: web.Request) -> bool:
    return (
        request.path == "/api" or request.path.startswith("/api/") or request.path in MACHINE_PATHS
    )


def redirect(location: str, status: int = 302) -> web.Response:
    """A redirect to return (not raise), so the caller can still set or clear cookies on it."""
    return web.Response(status=status, headers={"Location": location})


def login_redirect(request: web.Request) -> web.Response:
    """Back to where the user was going after login; only GETs are worth coming back to."""
    target = URL(LOGIN_PATH)
    if request.method in {"GET", "HEAD"}:
        target = target.with_query(next=request.path_qs)
    return redirect(str(target))


def safe_next(value: str | None, default: str = HOME_PATH) -> str:
    """``value`` when it is a path on this site, else ``default`` (no open redirects).

    Refused: absolute URLs, scheme-relative ``//host``, backslashes (browsers read ``/\\host``
    as ``//host``), control characters, and the login page itself.
    """
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path in {LOGIN_PATH, "/logout"}:
        return default
    return value


def error_response(
    request: web.Request, status: int, message: str, *, field: str | None = None
) -> web.Response:
    if is_api(request):
        body = {"error": message, **({"field": field} if field else {})}
        return web.json_response(body, status=status)
    page = request.app[TEMPLATES_KEY].get_template("error.html")
    html = page.render(**template_context(request), status=status, message=message)
    return web.Response(text=html, status=status, content_type="text/html")


def _unauthorized(message: str, *, bearer_error: bool) -> web.Response:
    response = web.json_response({"error": message}, status=401)
    response.headers["WWW-Authenticate"] = (
        'Bearer realm="csdesk", error="invalid_token"' if bearer_error else 'Bearer realm="csdesk"'
    )
    return response


PASSWORD_PAGE: Final = "/console/account/password"
OPEN_WITH_ONE_TIME_PASSWORD: Final = frozenset(
    {PASSWORD_PAGE, "/api/v1/account/password", "/api/v1/me", "/logout", "/console/lang"}
)


def one_time_password_gate(request: web.Request) -> web.Response | None:
    """Signed in with a one-time password: only the password change (and logging out) is
    open; the console leads there, the API says why it refuses."""
    if request.path in OPEN_WITH_ONE_TIME_PASSWORD:
        return None
    if is_api(request):
        return web.json_response(
            {"error": "change your one-time password first", "field": "password"}, status=403
        )
    return redirect(PASSWORD_PAGE, 303 if request.method not in {"GET", "HEAD"} else 302)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    public = is_public(request)
    if public and request.path != LOGIN_PATH:
        return await handler(request)

    sessions = request.app[SESSIONS_KEY]
    now = auth_now(request)
    stale_cookie = False
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized(
                "unsupported Authorization header: use 'Bearer TOKEN'", bearer_error=True
            )
        user = await authenticate_token(sessions, token.strip(), now=now)
        if user is None:
            return _unauthorized("invalid or revoked API token", bearer_error=True)
        request[USER_KEY] = user
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            info = await authenticate_session(sessions, cookie, now=now)
            if info is None:
                stale_cookie = True
            else:
                request[SESSION_KEY] = info
                request[USER_KEY] = info.user

    if USER_KEY not in request and not public:
        if is_api(request):
            response: web.StreamResponse = _unauthorized(
                "authentication required: sign in or send Authorization: Bearer TOKEN",
                bearer_error=False,
            )
        else:
            response = login_redirect(request)
        if stale_cookie:
            clear_session_cookie(response)
        return response

    user = request.get(USER_KEY)
    if user is not None and user.must_change_password and not public:
        refusal = one_time_password_gate(request)
        if refusal is not None:
            return refusal

    info = request.get(SESSION_KEY)
    if info is not None and request.method in UNSAFE_METHODS and not public:
        problem = session_csrf_problem(info.csrf_token, await presented_token(request))
        if problem:
            return error_response(request, 403, problem)

    return await handler(request)
