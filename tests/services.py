"""Where the test suite finds PostgreSQL and Redis, and what it does when they are missing.

With ``CSDESK_REQUIRE_SERVICES=1`` (CI) a missing service fails the test instead of
skipping it, so a green run always means every backend ran.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

POSTGRES_URL = os.environ.get(
    "CSDESK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("CSDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("CSDESK_REQUIRE_SERVICES") == "1"


def _answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def require(service: str) -> None:
    """Skip (or, in CI, fail) the calling test when ``service`` does not answer."""
    url, port = (POSTGRES_URL, 5432) if service == "postgres" else (REDIS_URL, 6379)
    if _answers(url, port):
        return
    message = f"{service} does not answer at {url}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (CSDESK_REQUIRE_SERVICES=1)")
    pytest.skip(message)
