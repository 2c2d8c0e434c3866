"""Security headers on every response over real HTTP, and HTTPS as the browser saw it.

Every page (the login form first: it must not be framed), error page, JSON answer, static
file and redirect carries the CSP with ``frame-ancestors 'none'``, ``X-Frame-Options``,
``nosniff`` and a referrer policy. Over HTTPS (real TLS here, or ``X-Forwarded-Proto``
from a trusted proxy) cookies are ``Secure`` and HSTS is sent; from an untrusted peer the
forwarded headers change nothing.
"""

from __future__ import annotations

import dataclasses
import ssl
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pytest_aiohttp import AiohttpClient

from csdesk.app import create_app
from csdesk.settings import SecuritySettings, Settings, parse_networks
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from csdesk.web.security import forwarded_client
from tests.helpers import token_for

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

LOOPBACK = parse_networks("127.0.0.1")


def assert_hardened(response: aiohttp.ClientResponse) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, (response.url, csp)
    assert "script-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert headers.get("X-Frame-Options") == "DENY", response.url
    assert headers.get("X-Content-Type-Options") == "nosniff", response.url
    assert headers.get("Referrer-Policy") == "same-origin", response.url


def set_cookies(response: aiohttp.ClientResponse) -> list[str]:
    return response.headers.getall("Set-Cookie", [])


@SQLITE
async def test_every_kind_of_response_carries_the_headers(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    token = await token_for(sessions, shop_id, "boss", UserRole.ADMIN)
    bearer = {"Authorization": f"Bearer {token}"}
    answers = [
        await client.get("/login"),  # the form a clickjacker would frame
        await client.get("/no-such-page", headers=bearer),  # aiohttp's 404 as an HTML page
        await client.get("/console/no-such-page", headers=bearer),
        await client.get("/console/", allow_redirects=False),  # redirect to /login
        await client.get("/api/v1/nope", headers=bearer),  # JSON 404 under /api/
        await client.get("/api/v1/me"),  # 401
        await client.get("/api/v1/me", headers=bearer),
        await client.get("/console/", headers=bearer),
        await client.get("/healthz"),
        await client.get("/static/console/workbench.js"),
        await client.post("/login", data={"username": "x", "password": "y"}),  # 403 CSRF
    ]
    for response in answers:
        assert_hardened(response)
    login, missing, console_missing = answers[0], answers[1], answers[2]
    assert login.status == 200
    assert login.content_type == "text/html"
    assert missing.status == 404
    assert missing.content_type == "text/html"
    assert "找不到页面" in await missing.text()
    assert console_missing.status == 404
    assert console_missing.content_type == "text/html"
    assert answers[4].status == 404
    assert answers[4].content_type == "application/json"
    # Plain HTTP from an untrusted peer: no HSTS, cookies without Secure.
    assert "Strict-Transport-Security" not in login.headers
    assert set_cookies(login)
    assert all("Secure" not in c for c in set_cookies(login))


@SQLITE
async def test_forwarded_headers_from_an_untrusted_peer_change_nothing(
    client: TestClient[Any, Any],
) -> None:
    response = await client.get(
        "/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    )
    assert "Strict-Transport-Security" not in response.headers
    assert all("Secure" not in cookie for cookie in set_cookies(response))


@SQLITE
async def test_a_trusted_proxy_saying_https_gets_secure_cookies_and_hsts(
    settings: Settings, aiohttp_client: AiohttpClient
) -> None:
    trusted = dataclasses.replace(settings, security=SecuritySettings(trusted_proxies=LOOPBACK))
    client = await aiohttp_client(create_app(trusted))
    response = await client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert_hardened(response)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookies = set_cookies(response)
    assert cookies
    assert all("Secure" in cookie for cookie in cookies)
    # The same proxy forwarding plain HTTP: no HSTS (it would lock HTTP-only sites out).
    plain = await client.get("/login", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers
    assert all("Secure" not in cookie for cookie in set_cookies(plain))


def test_the_client_is_the_rightmost_untrusted_forwarded_address() -> None:
    proxies = parse_networks("10.0.0.0/8, 127.0.0.1")
    assert forwarded_client("198.51.100.7", proxies) == "198.51.100.7"
    # A client may prepend anything; only what our proxies appended counts.
    assert forwarded_client("1.2.3.4, 198.51.100.7, 10.1.2.3", proxies) == "198.51.100.7"
    assert forwarded_client("10.1.2.3", proxies) is None
    assert forwarded_client("not-an-ip", proxies) is None
    with pytest.raises(ValueError, match="CSDESK_TRUSTED_PROXIES"):
        parse_networks("10.0.0.0/8, bogus")


@pytest.fixture
def tls_context(tmp_path: Path) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@SQLITE
async def test_served_over_tls_cookies_are_secure_and_hsts_is_sent(
    settings: Settings, tls_context: ssl.SSLContext
) -> None:
    server = TestServer(create_app(settings))
    await server.start_server(ssl=tls_context)
    try:
        insecure = aiohttp.TCPConnector(ssl=False)  # a self-signed test certificate
        async with (
            aiohttp.ClientSession(connector=insecure) as http,
            http.get(server.make_url("/login")) as response,
        ):
            assert response.url.scheme == "https"
            assert response.status == 200
            assert_hardened(response)
            assert "Strict-Transport-Security" in response.headers
            cookies = set_cookies(response)
            assert cookies
            assert all("Secure" in cookie for cookie in cookies)
    finally:
        await server.close()
