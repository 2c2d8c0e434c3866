"""The owner dashboard in a real browser: during a burst of signed refund events the pending
refund figures rise without a reload; a role short of agents shows red; the supervisor
pages link to it; an agent gets the 403 page.

Every wait is for a condition (Playwright's ``expect``); nothing sleeps.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import expect

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from tests.browser.conftest import Desk, SignIn, screenshot_path
from tests.helpers import make_agent, order_data

pytestmark = pytest.mark.browser
OWNER_PASSWORD = "owner-password-1"
AGENT_PASSWORD = "agent-password-1"  # what tests.helpers.make_agent sets
REFRESH_MS = 8_000
"""The page re-reads every 3 s: a figure must follow well within two rounds."""


async def test_refund_burst_raises_the_figures_without_reload(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str, tmp_path: Path
) -> None:
    await create_user(
        sessions,
        shop_id=shop_id,
        username="boss",
        role=UserRole.OWNER,
        password=OWNER_PASSWORD,
        display_name="老板",
    )
    await make_agent(sessions, shop_id, "xiaoli", [ServiceRole.PRESALES], chat_capacity=0)
    page = await signed_in("boss", OWNER_PASSWORD)
    await page.goto("/console/supervisor")
    await page.get_by_role("link", name="经营看板").click()
    await page.wait_for_url("**/console/dashboard")
    await expect(page.locator("html[data-dashboard='ready']")).to_be_attached()
    await expect(page.get_by_role("heading", name="待处理退款")).to_be_visible()
    await expect(page.locator("#db-pending")).to_have_text("0")
    await expect(page.locator("#db-pending-amount")).to_have_text("¥0.00")
    await page.evaluate("window.__sameDocument = true")

    # A burst: five paid orders, five refund requests; two of them were asked 23.5 h ago,
    # so the platform auto-approves them within the hour (24 h for an unshipped order).
    now = datetime.now(UTC)
    long_ago = now - timedelta(hours=30)
    amounts = ["10.00", "20.50", "30.25", "40.00", "50.00"]
    for i, amount in enumerate(amounts):
        await desk.event(
            "order.created", order_data(f"T-{i}", amount="99.00"), occurred_at=long_ago
        )
        await desk.event("order.paid", {"order_id": f"T-{i}"}, occurred_at=long_ago)
        asked = now - timedelta(hours=23, minutes=30) if i < 2 else now
        await desk.event(
            "refund.requested",
            {
                "refund_id": f"R-{i}",
                "order_id": f"T-{i}",
                "kind": "refund_only",
                "amount": amount,
                "reason": "不想要了",
            },
            occurred_at=asked,
        )
        await expect(page.locator("#db-pending")).to_have_text(str(i + 1), timeout=REFRESH_MS)
    await expect(page.locator("#db-pending-amount")).to_have_text("¥150.75")
    await expect(page.locator("#db-due-1h")).to_have_text("2")
    await expect(page.locator("#db-due-1h-amount")).to_have_text("¥30.50")

    # A buyer waits for pre-sales; the one agent on shift (without room) is as many as the
    # last hour's one arrival needs: not short, not red.
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "这个有货吗"})
    presales = page.locator("#db-roles-body tr[data-role='presales']")
    await expect(presales.locator("[data-cell='queued']")).to_have_text("1", timeout=REFRESH_MS)
    await expect(presales.locator("[data-cell='agents_on_shift']")).to_have_text("1")
    await expect(presales.locator("[data-cell='agents_needed']")).to_have_text("1")
    await expect(presales.locator("[data-cell='agents_on_shift']")).not_to_have_class(
        "num is-alert"
    )
    assert await page.evaluate("window.__sameDocument") is True
    await page.screenshot(path=screenshot_path(tmp_path, "dashboard"), full_page=True)


async def test_short_role_is_red_and_agents_get_403(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await create_user(
        sessions,
        shop_id=shop_id,
        username="lead",
        role=UserRole.SUPERVISOR,
        password=OWNER_PASSWORD,
    )
    await make_agent(sessions, shop_id, "xiaoli", [ServiceRole.PRESALES])
    for i in range(3):
        await desk.event("message.received", {"buyer_nick": f"买家{i}", "text": "请问有现货吗"})
    page = await signed_in("lead", OWNER_PASSWORD)
    await page.goto("/console/dashboard")
    await expect(page.locator("html[data-dashboard='ready']")).to_be_attached()
    refund = page.locator("#db-roles-body tr[data-role='refund'] [data-cell='agents_on_shift']")
    await expect(refund).to_have_text("0")
    await expect(refund).not_to_have_class(re.compile(r"\bis-alert\b"))

    # Nobody holds the refund role, and a refund request arrives: short, in red.
    await desk.event("order.created", order_data("T-9"))
    await desk.event("order.paid", {"order_id": "T-9"})
    await desk.event(
        "refund.requested",
        {
            "refund_id": "R-9",
            "order_id": "T-9",
            "kind": "refund_only",
            "amount": "9.90",
            "reason": "拍错了",
        },
    )
    await expect(refund).to_have_class(re.compile(r"\bis-alert\b"), timeout=REFRESH_MS)

    agent_page = await signed_in("xiaoli", AGENT_PASSWORD)
    response = await agent_page.goto("/console/dashboard")
    assert response is not None
    assert response.status == 403
    await agent_page.goto("/console/guided")
    await expect(agent_page.get_by_role("link", name="经营看板")).to_have_count(0)


async def test_live_burst_moves_figures_and_chart_and_drill_down_exports(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str, tmp_path: Path
) -> None:
    """Over the dashboard's websocket (not polling): a burst of signed refund requests
    raises the pending figures and the refund chart; the pending figure drills down to the
    refunds it counts; their XLSX export opens in openpyxl with the same rows."""
    await create_user(
        sessions, shop_id=shop_id, username="boss", role=UserRole.OWNER, password=OWNER_PASSWORD
    )
    page = await signed_in("boss", OWNER_PASSWORD)
    await page.goto("/console/dashboard")
    await expect(page.locator("html[data-dashboard-live='live']")).to_be_attached()
    await page.evaluate("window.__sameDocument = true")
    chart = page.locator("#db-chart-refunds path[data-series='refund_only']")
    await expect(chart).to_have_attribute("data-total", "0")

    long_ago = datetime.now(UTC) - timedelta(hours=30)
    amounts = ["11.00", "22.00", "33.30", "44.00"]
    for i, amount in enumerate(amounts):
        await desk.event(
            "order.created", order_data(f"T-{i}", amount="99.00"), occurred_at=long_ago
        )
        await desk.event("order.paid", {"order_id": f"T-{i}"}, occurred_at=long_ago)
        await desk.event(
            "refund.requested",
            {
                "refund_id": f"R-{i}",
                "order_id": f"T-{i}",
                "kind": "refund_only",
                "amount": amount,
                "reason": "不想要了",
            },
        )
    await expect(page.locator("#db-pending")).to_have_text(str(len(amounts)), timeout=REFRESH_MS)
    await expect(page.locator("#db-pending-amount")).to_have_text("¥110.30")
    await expect(page.locator("#db-reasons tr[data-reason='不想要了']")).to_contain_text("4")
    # The series are re-read at most every few seconds: the chart follows within that.
    await expect(chart).to_have_attribute("data-total", str(len(amounts)), timeout=15_000)
    assert await page.evaluate("window.__sameDocument") is True
    assert await page.evaluate("document.documentElement.dataset.dashboardLive") == "live"

    await page.locator("#db-pending").click()
    dialog = page.locator("#db-drill-dialog[data-ready='1']")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("#db-drill-title")).to_have_text("待处理退款")
    rows = dialog.locator("#db-drill-table tbody tr")
    await expect(rows).to_have_count(len(amounts))
    listed = sorted(await rows.locator("td:first-child").all_text_contents())
    assert listed == [f"R-{i}" for i in range(len(amounts))]
    await page.screenshot(path=screenshot_path(tmp_path, "dashboard-drill"), full_page=True)

    href = await dialog.locator("#db-drill-xlsx").get_attribute("href")
    assert href is not None
    response = await page.request.get(href)
    assert response.ok
    book = load_workbook(io.BytesIO(await response.body()))
    sheet = book.active
    assert sheet is not None
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0][1] == "退款编号"
    assert sorted(str(row[1]) for row in table[1:]) == listed
