"""The websocket Origin check: same site passes, any other page is refused."""

from __future__ import annotations

import pytest

from csdesk.realtime.origin import is_foreign_origin


@pytest.mark.parametrize(
    ("origin", "host", "foreign"),
    [
        (None, "desk.example.com", False),  # scripts send no Origin: the login decides
        ("http://127.0.0.1:8080", "127.0.0.1:8080", False),
        ("https://desk.example.com", "desk.example.com", False),  # TLS ends at the balancer
        ("http://desk.example.com", "desk.example.com", False),
        ("http://DESK.example.com", "desk.example.com:80", False),
        ("https://desk.example.com:8443", "desk.example.com:8443", False),
        ("http://[::1]:8080", "[::1]:8080", False),
        ("http://evil.example", "desk.example.com", True),
        ("http://desk.example.com.evil.example", "desk.example.com", True),
        ("http://desk.example.com:8080", "desk.example.com", True),
        ("https://desk.example.com", "desk.example.com:80", True),
        ("http://127.0.0.1:8081", "127.0.0.1:8080", True),
        ("null", "desk.example.com", True),
        ("file://", "desk.example.com", True),
        ("chrome-extension://abc", "desk.example.com", True),
        ("http://desk.example.com", "", True),
        ("http://desk.example.com", None, True),
        ("http://[bad", "desk.example.com", True),
    ],
)
def test_is_foreign_origin(origin: str | None, host: str | None, foreign: bool) -> None:
    assert is_foreign_origin(origin, host) is foreign
