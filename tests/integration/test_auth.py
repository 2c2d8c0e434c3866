"""Sign-in, sessions, CSRF, throttling, bearer tokens and role checks, over real HTTP.

Every test runs on each backend (SQLite / PostgreSQL, with and without Redis). The app's
auth clock is a fake one the tests move, so expiry and throttle windows pass without
sleeping.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from sqlalchemy import func, select, update

from csdesk.actions.shops import ensure_shop
from csdesk.actions.users import (
    create_user,
    issue_token,
    normalize_username,
    revoke_token,
    set_active,
    set_password,
)
from csdesk.app import create_app
from csdesk.auth.current import AUTH_CLOCK_KEY
from csdesk.auth.passwords import FAST_HASH_ENV, hasher
from csdesk.auth.tokens import sha256_hex
from csdesk.clock import utcnow
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from csdesk.storage.models import AuditLog, User, WebSession

Client = TestClient[web.Request, web.Application]
PASSWORD = "correct horse battery"
WRONG = "wrong password!"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
LOGIN_FORM_CSRF = re.compile(r'action="/login".*?name="csrf_token" value="([^"]+)"', re.DOTALL)


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def fast_password_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2 costs ~0.1 s per hash; the parameters are not what these tests check."""
    monkeypatch.setenv(FAST_HASH_ENV, "1")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(utcnow())


@pytest.fixture
async def client(
    settings: Settings, clock: FakeClock, aiohttp_client: Callable[..., Any]
) -> Client:
    """The shared ``client`` fixture, with the auth clock under the test's control."""
    test_client: Client = await aiohttp_client(app_with_clock(settings, clock))
    return test_client


def app_with_clock(settings: Settings, clock: Callable[[], datetime]) -> web.Application:
    app = create_app(settings)
    app[AUTH_CLOCK_KEY] = clock
    return app


async def add_user(
    sessions: SessionFactory, shop_id: str, username: str, role: UserRole = UserRole.AGENT
) -> User:
    return await create_user(
        sessions, shop_id=shop_id, username=username, role=role, password=PASSWORD
    )


async def login_token(client: Client) -> str:
    response = await client.get("/login")
    assert response.status == 200
    match = LOGIN_FORM_CSRF.search(await response.text())
    assert match is not None
    return match.group(1)


async def login(
    client: Client, username: str, password: str = PASSWORD, *, next_url: str | None = None
) -> ClientResponse:
    form = {"csrf_token": await login_token(client), "username": username, "password": password}
    if next_url is not None:
        form["next"] = next_url
    return await client.post("/login", data=form, allow_redirects=False)


def jar_cookie(client: Client, name: str = "csdesk_session") -> str | None:
    for morsel in client.session.cookie_jar:
        if morsel.key == name:
            return morsel.value
    return None


async def page_csrf(client: Client) -> str:
    """The session's CSRF token, as the console's logout form carries it."""
    response = await client.get("/console/")
    assert response.status == 200
    match = CSRF_INPUT.search(await response.text())
    assert match is not None
    return match.group(1)


async def me_with_cookie(client: Client, cookie: str) -> ClientResponse:
    client.session.cookie_jar.clear()
    return await client.get("/api/v1/me", headers={"Cookie": f"csdesk_session={cookie}"})


async def audit_actions(sessions: SessionFactory, shop_id: str) -> list[tuple[str, dict[str, Any]]]:
    async with sessions() as session:
        rows = await session.execute(
            select(AuditLog.action, AuditLog.detail)
            .where(AuditLog.shop_id == shop_id)
            .order_by(AuditLog.id)
        )
        return [(action, detail) for action, detail in rows]


# --- public and anonymous ---------------------------------------------------------------


async def test_public_routes_need_no_login(client: Client) -> None:
    assert (await client.get("/healthz")).status == 200
    css = await client.get("/static/css/app.css")
    assert css.status == 200
    assert "font-family" in await css.text()
    page = await client.get("/login")
    assert page.status == 200
    text = await page.text()
    assert "登录 / Sign in" in text
    assert '<label for="username">' in text
    assert '<label for="password">' in text
    assert page.cookies["csdesk_login_csrf"]["httponly"]


async def test_anonymous_console_redirects_and_api_says_401(client: Client) -> None:
    response = await client.get("/console/", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/login?next=/console/"

    response = await client.get("/console/queues?role=refund", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/login?next=/console/queues?role%3Drefund"

    for path in ("/api/v1/me", "/api/v1/audit", "/api/v1/nowhere"):
        response = await client.get(path)
        assert response.status == 401, path
        assert "error" in await response.json()
    # Only the exact webhook route is exempt, not everything under it.
    assert (await client.get("/api/v1/events/e-1")).status == 401


# --- password login ------------------------------------------------------------------


async def test_login_opens_a_session(
    client: Client, sessions: SessionFactory, shop_id: str
) -> None:
    user = await create_user(
        sessions,
        shop_id=shop_id,
        username="XiaoMei",
        role=UserRole.AGENT,
        password=PASSWORD,
        display_name="小美",
    )
    response = await login(client, "xiaomei")
    assert response.status == 303
    assert response.headers["Location"] == "/console/"
    cookie = response.cookies["csdesk_session"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert int(cookie["max-age"]) == 12 * 3600
    assert not cookie["secure"]

    async with sessions() as session:
        stored = await session.scalar(select(WebSession).where(WebSession.user_id == user.id))
    assert stored is not None
    assert stored.key_hash == sha256_hex(cookie.value) != cookie.value

    home = await client.get("/console/")
    assert home.status == 200
    text = await home.text()
    assert "小美" in text
    assert 'action="/logout"' in text
    assert "客服 / Agent" in text

    me = await client.get("/api/v1/me")
    assert me.status == 200
    assert await me.json() == {
        "id": user.id,
        "username": "xiaomei",
        "display_name": "小美",
        "role": "agent",
        "shop_id": shop_id,
        "via_token": False,
    }
    actions = await audit_actions(sessions, shop_id)
    assert actions[-1][0] == "login.succeeded"

    # Signed in already: the form is still there (shared desks switch accounts) and says so.
    again = await client.get("/login", allow_redirects=False)
    assert again.status == 200
    assert "当前已登录" in await again.text()


@pytest.mark.parametrize("username", ["xiaomei", "nobody"])
async def test_wrong_credentials_give_no_session(
    client: Client, sessions: SessionFactory, shop_id: str, username: str
) -> None:
    await add_user(sessions, shop_id, "xiaomei")
    response = await login(client, username, WRONG)
    assert response.status == 401
    assert "用户名或密码错误" in await response.text()
    assert "csdesk_session" not in response.cookies
    assert jar_cookie(client) is None
    assert (await client.get("/api/v1/me")).status == 401
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WebSession)) == 0
    failures = [d for a, d in await audit_actions(sessions, shop_id) if a == "login.failed"]
    if username == "xiaomei":
        assert failures == [{"reason": "bad_password", "address": "127.0.0.1"}]
    else:
        assert failures == []  # no shop to file an unknown name under


async def test_missing_fields_are_a_400(client: Client) -> None:
    form = {"csrf_token": await login_token(client), "username": "xiaomei"}
    response = await client.post("/login", data=form, allow_redirects=False)
    assert response.status == 400
    assert "请输入用户名和密码" in await response.text()


async def test_deactivated_user_cannot_sign_in_and_loses_sessions(
    client: Client, sessions: SessionFactory, shop_id: str
) -> None:
    await add_user(sessions, shop_id, "xiaomei")
    assert (await login(client, "xiaomei")).status == 303
    token = await issue_token(sessions, "xiaomei")
    await set_active(sessions, "xiaomei", False)
    assert (await client.get("/api/v1/me")).status == 401
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=headers)).status == 401
    assert (await login(client, "xiaomei")).status == 401


async def test_password_change_ends_sessions(
    client: Client, sessions: SessionFactory, shop_id: str
) -> None:
    await add_user(sessions, shop_id, "xiaomei")
    assert (await login(client, "xiaomei")).status == 303
    await set_password(sessions, "xiaomei", "a brand new secret")
    assert (await client.get("/api/v1/me")).status == 401
    assert (await login(client, "xiaomei")).status == 401
    assert (await login(client, "xiaomei", "a brand new secret")).status == 303


async def test_outdated_hash_is_upgraded_at_login(
    client: Client, sessions: SessionFactory, shop_id: str
) -> None:
    user = await add_user(sessions, shop_id, "xiaomei")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    # Simulates a row written under older argon2 parameters; no action writes such a hash.
    async with sessions.begin() as session:
        await session.execute(update(User).where(User.id == user.id).values(password_hash=weak))
    assert (await login(client, "xiaomei")).status == 303
    async with sessions() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None
    assert stored != weak
    assert not hasher().check_needs_rehash(stored)
    client.session.cookie_jar.clear()
    assert (await login(client, "xiaomei")).status == 303


# --- throttling --------------------------------------------------------------------------


async def test_throttle_per_username_blocks_even_the_right_password(
    client: Client, sessions: SessionFactory, shop_id: str, clock: FakeClock, settings: Settings
) -> None:
    await add_user(sessions, shop_id, "xiaomei")
    allowed, window = settings.auth.login_failures_allowed, settings.auth.login_window_s
    for _ in range(allowed):
        assert (await login(client, "xiaomei", WRONG)).status == 401
        clock.advance(10)

    response = await login(client, "xiaomei")
    assert response.status == 429
    retry_after = int(response.headers["Retry-After"])
    assert retry_after == window - 10 * allowed
    text = await response.text()
    assert "登录失败次数过多" in text
    assert "Too many failed sign-ins" in text
    assert jar_cookie(client) is None

    clock.advance(retry_after - 1)
    assert (await login(client, "xiaomei")).status == 429
    clock.advance(1)
    assert (await login(client, "xiaomei")).status == 303


async def test_success_does_not_reset_the_address_count(
    client: Client, sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    """Else one could guess at others' passwords and sign in to one's own account in between."""
    await add_user(sessions, shop_id, "xiaomei")
    for n in range(settings.auth.login_failures_per_address - 1):
        assert (await login(client, f"guess{n}", WRONG)).status == 401
    assert (await login(client, "xiaomei")).status == 303
    assert (await login(client, "guess-last", WRONG)).status == 401
    assert (await login(client, "xiaomei")).status == 429


async def test_throttle_per_client_address(
    client: Client, sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    await add_user(sessions, shop_id, "xiaomei")
    # More failures than one user may have: the address's own (higher) allowance counts.
    assert settings.auth.login_failures_per_address > settings.auth.login_failures_allowed
    for n in range(settings.auth.login_failures_per_address):
        assert (await login(client, f"guess{n}", WRONG)).status == 401
    # A different, correct account from the same address is refused too.
    response = await login(client, "xiaomei")
    assert response.status == 429
    assert int(response.headers["Retry-After"]) > 0


# Only server mode has several web processes (embedded is one process by design).
@pytest.mark.parametrize("backend", ["sqlite+redis", "postgres+redis"], indirect=True)
async def test_throttle_is_shared_between_web_processes(
    client: Client,
    sessions: SessionFactory,
    shop_id: str,
    settings: Settings,
    clock: FakeClock,
    aiohttp_client: Callable[..., Any],
) -> None:
    assert settings.redis.url is not None
    other: Client = await aiohttp_client(app_with_clock(settings, clock))
    await add_user(sessions, shop_id, "xiaomei")
    for n in range(settings.auth.login_failures_allowed):
        assert (await login(client if n % 2 else other, "xiaomei", WRONG)).status == 401
    assert (await login(other, "xiaomei")).status == 429
    assert (await login(client, "xiaomei")).status == 429


# --- CSRF --------------------------------------------------------------------------------


async def test_login_form_csrf(client: Client, sessions: SessionFactory, shop_id: str) -> None:
    await add_user(sessions, shop_id, "xiaomei")
    form = {"username": "xiaomei", "password": PASSWORD}

    missing = await client.post("/login", data=form, allow_redirects=False)
    assert missing.status == 403
    assert "CSRF" in await missing.text()

    token = await login_token(client)
    forged_token = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    wrong = await client.post(
        "/login", data={**form, "csrf_token": forged_token}, allow_redirects=False
    )
    assert wrong.status == 403
    assert "CSRF token invalid" in await wrong.text()

    # A cookie and field that agree but were not signed with our key (planted by an attacker).
    client.session.cookie_jar.clear()
    planted = "a" * 32 + "." + "b" * 64
    forged = await client.post(
        "/login",
        data={**form, "csrf_token": planted},
        headers={"Cookie": f"csdesk_login_csrf={planted}"},
        allow_redirects=False,
    )
    assert forged.status == 403

    no_cookie = await client.post(
        "/login", data={**form, "csrf_token": token}, allow_redirects=False
    )
    assert no_cookie.status == 403
    assert "CSRF cookie missing" in await no_cookie.text()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WebSession)) == 0


async def test_unsafe_requests_need_the_session_csrf_token(
    client: Client, sessions: SessionFactory, shop_id: str
) -> None:
    await add_user(sessions, shop_id, "xiaomei")
    assert (await login(client, "xiaomei")).status == 303
    token = await page_csrf(client)

    missing = await client.post("/logout", allow_redirects=False)
    assert missing.status == 403
    assert "CSRF token missing" in await missing.text()
    wrong = await client.post("/logout", data={"csrf_token": "0" * 64}, allow_redirects=False)
    assert wrong.status == 403
    assert "CSRF token invalid" in await wrong.text()
    assert (await client.get("/api/v1/me")).status == 200  # still signed in

    api = await client.delete("/api/v1/me")
    assert api.status == 403
    assert "CSRF token missing" in (await api.json())["error"]
    api = await client.delete("/api/v1/me", headers={"X-CSRF-Token": token})
    assert api.status == 405  # past the CSRF check; the route just has no DELETE


# --- session lifecycle ----------------------------------------------------------------


async def test_session_id_rotates_at_every_login(
    client: Client, sessions: SessionFactory, shop_id: str
) -> None:
    user = await add_user(sessions, shop_id, "xiaomei")
    assert (await login(client, "xiaomei")).status == 303
    first = jar_cookie(client)
    assert (await login(client, "xiaomei")).status == 303
    second = jar_cookie(client)
    assert first is not None
    assert second is not None
    assert first != second
    async with sessions() as session:
        hashes = (
            await session.scalars(select(WebSession.key_hash).where(WebSession.user_id == user.id))
        ).all()
    assert hashes == [sha256_hex(second)]
    assert (await me_with_cookie(client, first)).status == 401
    assert (await me_with_cookie(client, second)).status == 200


async def test_logout(client: Client, sessions: SessionFactory, shop_id: str) -> None:
    await add_user(sessions, shop_id, "xiaomei")
    assert (await login(client, "xiaomei")).status == 303
    cookie = jar_cookie(client)
    assert cookie is not None
    token = await page_csrf(client)
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login"
    assert response.cookies["csdesk_session"].value == ""
    assert jar_cookie(client) is None
    assert (await client.get("/console/", allow_redirects=False)).status == 302
    assert (await me_with_cookie(client, cookie)).status == 401
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WebSession)) == 0
    assert (await audit_actions(sessions, shop_id))[-1][0] == "logout"


async def test_session_expires(
    client: Client, sessions: SessionFactory, shop_id: str, clock: FakeClock, settings: Settings
) -> None:
    await add_user(sessions, shop_id, "xiaomei")
    assert (await login(client, "xiaomei")).status == 303
    clock.advance(settings.auth.session_max_age_s - 1)
    assert (await client.get("/api/v1/me")).status == 200
    clock.advance(1)
    response = await client.get("/console/", allow_redirects=False)
    assert response.status == 302
    assert response.cookies["csdesk_session"].value == ""  # the dead cookie is cleared
    assert (await client.get("/api/v1/me")).status == 401


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/console/queues?role=refund", "/console/queues?role=refund"),
        ("https://evil.example/phish", "/console/"),
        ("//evil.example/phish", "/console/"),
        ("/\\evil.example/phish", "/console/"),
        ("javascript:alert(1)", "/console/"),
        ("/login", "/console/"),
    ],
)
async def test_next_only_leads_inside_the_site(
    client: Client, sessions: SessionFactory, shop_id: str, next_url: str, lands_on: str
) -> None:
    await add_user(sessions, shop_id, "xiaomei")
    response = await login(client, "xiaomei", next_url=next_url)
    assert response.status == 303
    assert response.headers["Location"] == lands_on
    page = await client.get("/login", params={"next": next_url})
    assert f'name="next" value="{html.escape(lands_on)}"' in await page.text()


# --- bearer tokens ---------------------------------------------------------------------


async def test_bearer_tokens(client: Client, sessions: SessionFactory, shop_id: str) -> None:
    user = await add_user(sessions, shop_id, "ops-bot", UserRole.SUPERVISOR)
    token = await issue_token(sessions, "Ops-Bot")
    assert token.startswith("csd_")
    good = {"Authorization": f"Bearer {token}"}

    me = await client.get("/api/v1/me", headers=good)
    assert me.status == 200
    body = await me.json()
    assert body["id"] == user.id
    assert body["via_token"] is True
    assert (await client.get("/api/v1/audit", headers=good)).status == 200
    # No cookie, so no CSRF token needed: the request gets past the gate to the router.
    assert (await client.delete("/api/v1/me", headers=good)).status == 405

    for header in (
        f"Bearer {token}x",
        "Bearer csd_" + "A" * 43,
        "Bearer ",
        f"Basic {token}",
    ):
        response = await client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status == 401, header
        assert "error" in await response.json()
        assert "WWW-Authenticate" in response.headers

    # A bad token is refused even on console pages, not silently treated as anonymous.
    bad = await client.get(
        "/console/", headers={"Authorization": "Bearer nope"}, allow_redirects=False
    )
    assert bad.status == 401

    assert await revoke_token(sessions, token)
    assert not await revoke_token(sessions, token)
    assert (await client.get("/api/v1/me", headers=good)).status == 401


async def test_token_and_user_validation(sessions: SessionFactory, shop_id: str) -> None:
    with pytest.raises(LookupError):
        await issue_token(sessions, "nobody")
    await add_user(sessions, shop_id, "xiaomei")
    with pytest.raises(ValueError, match="already taken"):
        await add_user(sessions, shop_id, "XIAOMEI")
    with pytest.raises(ValueError, match="empty"):
        await add_user(sessions, shop_id, "   ")
    with pytest.raises(ValueError, match="username must be"):
        await add_user(sessions, shop_id, "has space")
    with pytest.raises(ValueError, match="at least 8"):
        await create_user(
            sessions, shop_id=shop_id, username="short", role=UserRole.AGENT, password="1234567"
        )
    with pytest.raises(ValueError, match="unknown shop"):
        await add_user(sessions, "no-such-shop", "lost")
    bot = await create_user(
        sessions, shop_id=shop_id, username="店铺:机器人", role=UserRole.AGENT, password=None
    )
    assert bot.username == normalize_username("店铺:机器人")
    assert bot.password_hash is None


# --- roles -----------------------------------------------------------------------------


async def test_audit_log_is_for_supervisors_and_up(
    client: Client, sessions: SessionFactory, shop_id: str
) -> None:
    await add_user(sessions, shop_id, "xiaomei", UserRole.AGENT)
    await add_user(sessions, shop_id, "boss", UserRole.SUPERVISOR)
    await ensure_shop(sessions, "other-shop", "别的店")
    await add_user(sessions, "other-shop", "stranger", UserRole.AGENT)
    assert (await login(client, "stranger")).status == 303

    client.session.cookie_jar.clear()
    assert (await login(client, "xiaomei")).status == 303
    denied = await client.get("/api/v1/audit")
    assert denied.status == 403
    assert "audit.read" in (await denied.json())["error"]

    client.session.cookie_jar.clear()
    assert (await login(client, "boss")).status == 303
    response = await client.get("/api/v1/audit", params={"limit": "2"})
    assert response.status == 200
    body = await response.json()
    assert body["shop_id"] == shop_id
    assert [item["action"] for item in body["items"]] == ["login.succeeded", "login.succeeded"]
    assert [item["actor_username"] for item in body["items"]] == ["boss", "xiaomei"]
    assert body["next_before_id"] == body["items"][-1]["id"]

    rest = await client.get("/api/v1/audit", params={"before_id": str(body["next_before_id"])})
    actions = [item["action"] for item in (await rest.json())["items"]]
    assert actions == ["user.created", "user.created"]  # the other shop's rows stay out
    assert (await client.get("/api/v1/audit", params={"limit": "0"})).status == 400
    assert (await client.get("/api/v1/audit", params={"limit": "x"})).status == 400


async def test_console_home_links_follow_the_role(
    client: Client, sessions: SessionFactory, shop_id: str
) -> None:
    await add_user(sessions, shop_id, "xiaomei", UserRole.AGENT)
    await add_user(sessions, shop_id, "boss", UserRole.OWNER)
    assert (await login(client, "xiaomei")).status == 303
    assert "/console/admin/audit" not in await (await client.get("/console/")).text()
    assert (await login(client, "boss")).status == 303
    text = await (await client.get("/console/")).text()
    assert "/console/admin/audit" in text
    assert "店主 / Owner" in text
