"""Security headers on every response, and what a trusted reverse proxy may tell us.

One middleware, outermost, so nothing escapes it: pages, the login form, JSON, error pages
(the error middleware's and aiohttp's own), static files and redirects all carry

- ``Content-Security-Policy``: scripts, styles, images and sockets from this site only, no
  plugins, forms post here only, and ``frame-ancestors 'none'`` (with ``X-Frame-Options:
  DENY`` for older browsers): no other site can frame the login form or the console;
- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin``;
- over HTTPS, ``Strict-Transport-Security`` and the ``Secure`` flag on every cookie set.

HTTPS means TLS to this process, or ``X-Forwarded-Proto: https`` from a peer listed in
``CSDESK_TRUSTED_PROXIES`` (from anyone else the header is ignored: a client could claim
anything). The same trusted peer may name the client in ``X-Forwarded-For``; the request
the handlers see then carries that address (``request.remote``: the login throttle's).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from csdesk.keys import SETTINGS_KEY
from csdesk.settings import Network

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _address(raw: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not raw:
        return None
    try:
        return ipaddress.ip_address(raw.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(raw: str | None, proxies: tuple[Network, ...]) -> bool:
    address = _address(raw)
    return address is not None and any(address in network for network in proxies)


def forwarded_client(header: str, proxies: tuple[Network, ...]) -> str | None:
    """The client in ``X-Forwarded-For``: the right-most address that is not a trusted proxy
    (those to its left could have been written by the client itself)."""
    for entry in reversed([part.strip() for part in header.split(",") if part.strip()]):
        address = _address(entry)
        if address is None:
            return None
        if not any(address in network for network in proxies):
            return str(address)
    return None


def _forwarded_proto(request: web.BaseRequest) -> str | None:
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto if proto in ("http", "https") else None


def is_https(request: web.BaseRequest, proxies: tuple[Network, ...]) -> bool:
    """Did the browser's request reach us over HTTPS (directly, or via a trusted proxy)?"""
    if proxies and _trusted(request.remote, proxies):
        proto = _forwarded_proto(request)
        if proto is not None:
            return proto == "https"
    return request.secure


def through_proxy(request: web.Request, proxies: tuple[Network, ...]) -> web.Request:
    """``request`` as the browser made it (scheme, client address), when its peer is a
    trusted proxy; else ``request`` itself."""
    if not proxies or not _trusted(request.remote, proxies):
        return request
    proto = _forwarded_proto(request)
    client = forwarded_client(request.headers.get("X-Forwarded-For", ""), proxies)
    if proto is None:
        return request if client is None else request.clone(remote=client)
    if client is None:
        return request.clone(scheme=proto)
    return request.clone(scheme=proto, remote=client)


@web.middleware
async def proxy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: handlers see the browser's scheme and address (trusted proxies only)."""
    return await handler(through_proxy(request, request.app[SETTINGS_KEY].security.trusted_proxies))


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every response the app sends, whoever made it (a handler,
    the error middleware, aiohttp's own 404/500, a websocket's handshake)."""
    settings = request.app[SETTINGS_KEY]
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    https = is_https(request, settings.security.trusted_proxies)
    if https and settings.security.hsts_max_age_s > 0:
        response.headers["Strict-Transport-Security"] = (
            f"max-age={settings.security.hsts_max_age_s}"
        )
    if https or settings.auth.cookie_secure:
        # The cookies are already written out as headers when this hook runs.
        cookies = response.headers.getall("Set-Cookie", [])
        if cookies:
            del response.headers["Set-Cookie"]
            for cookie in cookies:
                response.headers.add("Set-Cookie", _secure(cookie))


def _secure(cookie: str) -> str:
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    return cookie if "secure" in attributes else f"{cookie}; Secure"


def setup_security(app: web.Application) -> None:
    app.on_response_prepare.append(add_security_headers)
