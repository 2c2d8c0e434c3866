"""Browser tests: headless Chromium (Playwright, async API) against a real server.

The server is the whole app on 127.0.0.1 at a free port, over a migrated SQLite copy, with
in-process jobs and live events: the same stack ``csdesk demo`` runs. Chromium is the
system one (``/usr/bin/chromium``, or ``CSDESK_CHROMIUM``); Playwright's own browsers are
never downloaded. Without Chromium the tests skip, or fail under ``CSDESK_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from pytest_aiohttp import AiohttpServer

from csdesk.actions.shops import ensure_shop
from csdesk.app import create_app
from csdesk.ingest.signature import sign
from csdesk.keys import PROCESSOR_KEY, SESSIONS_KEY
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from tests.conftest import TEST_SHOP, WEBHOOK_SECRET
from tests.helpers import event_body
from tests.services import REQUIRE_SERVICES

CHROMIUM = os.environ.get("CSDESK_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1366, "height": 768}
WAIT_MS = 15_000
"""Upper bound for a condition to hold (a broken build fails instead of hanging); nothing
waits this long when things work."""

expect.set_options(timeout=WAIT_MS)


def chromium_path() -> str:
    found = shutil.which(CHROMIUM) or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else None)
    if found:
        return found
    message = (
        f"Chromium not found at {CHROMIUM!r} (install Debian's chromium or set CSDESK_CHROMIUM)"
    )
    if REQUIRE_SERVICES:
        pytest.fail(message + " (CSDESK_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture
def backend() -> str:
    """Browser tests run on the embedded backend only (SQLite, no Redis)."""
    return "sqlite"


@pytest.fixture
def redis_prefix() -> str:
    return "csdesk-browser-unused:"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=LAUNCH_ARGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def server(settings: Settings, aiohttp_server: AiohttpServer) -> TestServer:
    return await aiohttp_server(create_app(settings), host="127.0.0.1")


@pytest.fixture
def sessions(server: TestServer) -> SessionFactory:
    factory: SessionFactory = server.app[SESSIONS_KEY]
    return factory


@pytest.fixture
async def shop_id(sessions: SessionFactory) -> str:
    return (await ensure_shop(sessions, TEST_SHOP, "测试旗舰店")).id


@dataclass
class Desk:
    """The server under test, seen from outside: its URL and signed platform events."""

    server: TestServer
    http: ClientSession
    page_errors: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def event(self, event_type: str, data: dict[str, Any], **kwargs: Any) -> None:
        """``POST /api/v1/events``, signed as the platform signs it; waits until applied."""
        body = event_body(event_type, data, **kwargs)
        response = await self.http.post(
            self.url("/api/v1/events"),
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Csdesk-Signature": sign(body, WEBHOOK_SECRET),
            },
        )
        assert response.status in (200, 202), await response.text()
        await self.server.app[PROCESSOR_KEY].wait_idle()

    async def new_page(self, browser: Browser) -> tuple[BrowserContext, Page]:
        context = await browser.new_context(
            viewport=VIEWPORT,  # type: ignore[arg-type]
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            base_url=self.url("/"),
        )
        page = await context.new_page()
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        return context, page

    async def sign_in(self, page: Page, username: str, password: str) -> None:
        await page.goto("/login?next=/console/workbench")
        await page.get_by_label("用户名 / Username").fill(username)
        await page.get_by_label("密码 / Password").fill(password)
        await page.get_by_role("button", name="登录 / Sign in").click()
        await page.wait_for_url("**/console/workbench")
        await expect(page.locator("html[data-workbench='ready']")).to_be_attached()


@pytest.fixture
async def desk(server: TestServer, shop_id: str) -> AsyncIterator[Desk]:
    async with ClientSession() as http:
        here = Desk(server, http)
        yield here
    assert here.page_errors == [], "script errors on the page:\n" + json.dumps(
        here.page_errors, ensure_ascii=False, indent=2
    )


SignIn = Callable[[str, str], Awaitable[Page]]


@pytest.fixture
async def signed_in(desk: Desk, browser: Browser) -> AsyncIterator[SignIn]:
    """A new browser context (its own cookies) signed in as the given user."""
    contexts: list[BrowserContext] = []

    async def open_as(username: str, password: str) -> Page:
        context, page = await desk.new_page(browser)
        contexts.append(context)
        await desk.sign_in(page, username, password)
        return page

    yield open_as
    for context in contexts:
        await context.close()


def screenshot_path(tmp_path: Path, name: str = "workbench") -> Path:
    """``docs/screenshot-{name}.png`` when CSDESK_UPDATE_SCREENSHOT=1, else a temp file
    (the README shows the workbench and the order review page)."""
    filename = f"screenshot-{name}.png"
    if os.environ.get("CSDESK_UPDATE_SCREENSHOT") == "1":
        return Path(__file__).resolve().parents[2] / "docs" / filename
    return tmp_path / filename
