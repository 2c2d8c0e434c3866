"""Cross-site WebSocket hijacking guard: a browser always sends ``Origin`` on a websocket
handshake, and a page of another site must not ride on the agent's session cookie."""

from __future__ import annotations

from yarl import URL

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_foreign_origin(origin: str | None, host: str | None) -> bool:
    """Whether ``Origin`` names another site than the ``Host`` the request came to.

    No ``Origin`` (scripts, ``curl``): not a browser page, the login alone decides. A ``Host``
    without a port matches the default port of the origin's scheme, so TLS ending at the
    load balancer (``https://desk`` to ``Host: desk``) is the same site. ``null`` origins
    (sandboxed frames, files) are foreign.
    """
    if origin is None:
        return False
    if not host:
        return True
    try:
        page = URL(origin)
        target = URL(f"//{host}")
    except ValueError:
        return True
    if page.scheme not in _DEFAULT_PORTS or not page.host or not target.host:
        return True
    if page.host.lower() != target.host.lower():
        return True
    return (target.explicit_port or _DEFAULT_PORTS[page.scheme]) != page.port
