"""Every console page as every login role, in Chromium, in the Chinese UI: no script error
or console error, no untranslated English, no raw role key, and error pages in words a
colleague reads (no developer string such as ``role 'qc_inspector' may not ...``).

The pages come from the app's router (every GET under /console/), with an id that does
not exist for the pages of one item and a URL that is no page at all, so a new page is
walked without anyone adding it here.
"""

from __future__ import annotations

import re
from typing import Any, Final

from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, ConsoleMessage, Page

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from tests.browser.conftest import Desk
from tests.helpers import make_agent

PASSWORD = "walk-password-1"
ROLE_KEYS = re.compile(
    r"\b(presales|order_review|payment_chasing|aftersales_triage|refund|hotline|qc_inspector)\b"
)
DEVELOPER = re.compile(r"may not [a-z_]+\.[a-z_]+|role '[a-z_]+'|Traceback|\b\d{3}: [A-Z]")
ENGLISH_WORD = re.compile(r"\b[A-Za-z][a-z]{3,}\b")
ALLOWED_WORDS = frozenset(
    {
        "csdesk",  # the product's name
        "Ctrl",  # key names
        "Enter",
        "Shift",
        "Bearer",  # the API token scheme, shown verbatim
        "Authorization",
        "Asia",  # the shop's time zone, Asia/Shanghai
        "Shanghai",
        "Erlang",  # Erlang C, the staffing formula's name
        "Markdown",  # the course pages' text format, by its name
    }
)
UNTRANSLATED_KNOWN: Final[frozenset[str]] = frozenset()
"""Pages whose words are not checked yet (none: every page is)."""
MISSING_ITEM_ID = "987654321"


def console_pages(server: TestServer) -> list[str]:
    paths: set[str] = set()
    for route in server.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method == "GET" and path.startswith("/console/"):
            paths.add(re.sub(r"\{\w+\}", MISSING_ITEM_ID, path))
    paths.add("/console/no-such-page")
    return sorted(paths)


def english_outside_bilingual(text: str, usernames: set[str]) -> list[str]:
    """English words in lines that are not bilingual ("中文 / English") on purpose."""
    found = []
    for line in text.splitlines():
        if re.search(r"[\u3000-\u9fff\uff00-\uffef].*?\s/\s", line):
            continue  # the home, login and error pages say each thing in both languages
        for word in ENGLISH_WORD.findall(line):
            if word not in ALLOWED_WORDS and word.lower() not in usernames | {"test", "shop"}:
                found.append(f"{word!r} in {line.strip()[:80]!r}")
    return found


async def visit(page: Page, path: str) -> tuple[int, str]:
    response = await page.goto(path)
    status = response.status if response is not None else 0
    if response is not None and "json" in (response.headers.get("content-type") or ""):
        # A fragment the page fetches (the dashboard's charts), not a page: its status
        # is still checked, its words are the page's to show.
        return status, ""
    await page.wait_for_load_state("networkidle")
    # Stored codes and records shown verbatim (the audit log's actions and details) are
    # data, not interface text: such cells carry data-verbatim.
    text: str = await page.evaluate(
        """() => {
            const body = document.body.cloneNode(true);
            body.querySelectorAll("[data-verbatim]").forEach((node) => node.remove());
            document.body.after(body);
            body.hidden = false;
            const text = body.innerText;
            body.remove();
            return text;
        }"""
    )
    return status, text


async def test_every_console_page_as_every_role(
    desk: Desk, browser: Browser, server: TestServer, sessions: SessionFactory, shop_id: str
) -> None:
    logins: dict[str, UserRole] = {
        "xiaomei": UserRole.AGENT,
        "lead": UserRole.SUPERVISOR,
        "inspector": UserRole.QC_INSPECTOR,
        "teacher": UserRole.TRAINER,
        "shopowner": UserRole.OWNER,
        "root": UserRole.ADMIN,
    }
    for username, role in logins.items():
        if role is UserRole.AGENT:
            await make_agent(sessions, shop_id, username, list(ServiceRole), chat_capacity=5)
        else:
            await create_user(
                sessions, shop_id=shop_id, username=username, role=role, password=PASSWORD
            )
    pages = console_pages(server)
    assert "/console/admin/users" in pages
    assert "/console/workbench" in pages
    # The console issue's pages: the quick-reply library and the teams.
    assert "/console/quick-replies" in pages
    assert "/console/admin/teams" in pages
    assert {  # training (培训) and points (积分): walked as every role like the rest
        "/console/training",
        "/console/training/courses/new",
        f"/console/training/courses/{MISSING_ITEM_ID}",
        f"/console/training/courses/{MISSING_ITEM_ID}/effect",
        "/console/training/my",
        f"/console/training/my/{MISSING_ITEM_ID}",
        "/console/training/points",
        "/console/training/rankings",
    } <= set(pages)
    problems: list[str] = []
    for username, role in logins.items():
        context, page = await desk.new_page(browser)
        console_errors: list[dict[str, Any]] = []

        def on_console(
            message: ConsoleMessage, errors: list[dict[str, Any]] = console_errors
        ) -> None:
            if message.type == "error":
                errors.append({"text": message.text, "url": message.location.get("url", "")})

        page.on("console", on_console)
        try:
            await page.goto("/login")
            await page.get_by_label("用户名 / Username").fill(username)
            await page.get_by_label("密码 / Password").fill(
                "agent-password-1" if role is UserRole.AGENT else PASSWORD
            )
            await page.get_by_role("button", name="登录 / Sign in").click()
            await page.wait_for_url("**/console/")
            for path in pages:
                console_errors.clear()
                status, text = await visit(page, path)
                where = f"{role.value} {path} ({status})"
                for error in console_errors:
                    # The document's own refusal (403, 404) is the page under test, not a fault.
                    own_refusal = status >= 400 and error["url"].rstrip("/").endswith(
                        path.rstrip("/")
                    )
                    if own_refusal and error["text"].startswith("Failed to load resource"):
                        continue
                    problems.append(f"{where}: console error {error['text']} ({error['url']})")
                if status >= 400 and DEVELOPER.search(text):
                    problems.append(f"{where}: developer string {DEVELOPER.search(text)[0]!r}")  # type: ignore[index]
                if path in UNTRANSLATED_KNOWN:
                    continue
                if ROLE_KEYS.search(text):
                    problems.append(f"{where}: raw role key {ROLE_KEYS.search(text)[0]!r}")  # type: ignore[index]
                for word in english_outside_bilingual(text, set(logins)):
                    problems.append(f"{where}: English {word}")
        finally:
            await context.close()
    assert problems == [], "\n".join(problems)
