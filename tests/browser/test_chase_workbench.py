"""The payment chasing page in a real browser: an unpaid order's chase falls due and goes
to the chaser; the page lists it with its script (buyer, order, amount) and quiet-hours
state, the chaser records an outcome in place, and once the order is paid the recovered
amount shows. Supervisors open any chaser's list; QC inspectors get a 403 page.

Every wait is for a condition (Playwright's ``expect``); nothing sleeps.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import expect
from sqlalchemy import select

from csdesk.actions.outbox import Deps
from csdesk.actions.sweeps import activate_due_items
from csdesk.actions.users import create_user
from csdesk.keys import BUS_KEY, SESSIONS_KEY
from csdesk.routing.queues import QUEUE_KEY
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus, ServiceRole, UserRole
from csdesk.storage.models import Buyer, Conversation, Shop
from tests.browser.conftest import Desk, SignIn
from tests.helpers import make_agent, order_data

NO_RIGHT = "没有打开这个页面或执行这个操作的权限"  # the 403 page (never the rule's name)

pytestmark = pytest.mark.browser
AGENT_PASSWORD = "agent-password-1"  # what tests.helpers.make_agent sets
OTHER_PASSWORD = "other-password-1"
SHOP_TZ = ZoneInfo("Asia/Shanghai")


def clock(at: datetime) -> str:
    return at.astimezone(SHOP_TZ).strftime("%H:%M")


async def set_quiet_hours(sessions: SessionFactory, shop_id: str, start: str, end: str) -> None:
    """The shop's chase quiet hours (免打扰), as a shop owner configures them."""
    async with sessions.begin() as session:
        shop = await session.get(Shop, shop_id)
        assert shop is not None
        config: dict[str, Any] = dict(shop.config or {})
        config["routing"] = {"payment_chasing": {"quiet_start": start, "quiet_end": end}}
        shop.config = config


async def chase_of(sessions: SessionFactory, nick: str) -> Conversation:
    async with sessions() as session:
        item = await session.scalar(
            select(Conversation)
            .join(Buyer, Buyer.id == Conversation.buyer_id)
            .where(Buyer.nick == nick, Conversation.kind == "payment_chase")
        )
        assert item is not None
        return item


async def chase_due(desk: Desk, server: TestServer, sessions: SessionFactory, nick: str) -> int:
    """An unpaid order (signed event) whose first chase falls due: the sweep that runs
    every 10 s, run at the chase's time, hands it to the buyer's chaser."""
    await desk.event("order.created", order_data("T-7001", nick=nick, amount="299.00"))
    chase = await chase_of(sessions, nick)
    assert chase.status is ConversationStatus.SCHEDULED
    assert chase.not_before is not None
    app = server.app
    deps = Deps(app[SESSIONS_KEY], app[BUS_KEY], app[QUEUE_KEY])
    await activate_due_items(deps, chase.not_before + timedelta(seconds=1))
    return chase.id


async def test_chaser_records_an_outcome_and_sees_the_recovered_amount(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str, server: TestServer
) -> None:
    # Quiet hours well away from now, so the chase is not moved by them.
    here = datetime.now(SHOP_TZ)
    await set_quiet_hours(
        sessions, shop_id, clock(here + timedelta(hours=3)), clock(here + timedelta(hours=4))
    )
    chaser = await make_agent(sessions, shop_id, "xiaoqian", [ServiceRole.PAYMENT_CHASING])
    chase_id = await chase_due(desk, server, sessions, "小鹿")
    assert (await chase_of(sessions, "小鹿")).assigned_agent_id == chaser

    # The chase is in the chaser's list; its row links to the chase page, on this chase.
    page = await signed_in("xiaoqian", AGENT_PASSWORD)
    row = page.locator("#conversation-list .conv-row").filter(has_text="小鹿")
    await expect(row.locator(".conv-link")).to_have_attribute(
        "href", f"/console/chases?item={chase_id}"
    )
    await row.locator(".conv-link").click()
    await page.wait_for_url(f"**/console/chases?item={chase_id}")
    await expect(page.locator("html[data-chases='ready']")).to_be_attached()

    line = page.locator(f"#ch-rows tr[data-id='{chase_id}']")
    pick = line.get_by_role("button", name="小鹿")
    await expect(pick).to_be_focused()
    await expect(pick).to_have_attribute("aria-pressed", "true")
    await expect(line.locator("td")).to_have_text(
        ["小鹿", "T-7001", "¥299.00", re.compile(r"\d{2}:\d{2}$"), "0", "现在", "可联系", "接待中"]
    )
    await expect(page.locator("#ch-quiet")).to_have_attribute("data-quiet", "false")
    await expect(page.locator("#ch-quiet")).to_contain_text("现在可以联系买家。")
    await expect(page.locator("#ch-kind")).to_have_text("催付")

    # The script: the shop's voice, the buyer by name, the order and its amount.
    script = page.get_by_label("旺旺消息（催付话术）")
    for part in ("小鹿您好", "测试旗舰店", "保温杯", "T-7001", "¥299.00"):
        await expect(script).to_have_value(re.compile(re.escape(part)))
    # Nothing recovered yet.
    await expect(page.locator("#ch-recovered")).to_have_text("¥0.00")
    await expect(page.locator("#ch-kpi-label")).to_have_text("我近30天挽回的金额")

    # Quiet hours starting now: the list says so, and when contact is allowed again.
    now = datetime.now(SHOP_TZ)
    quiet_end = clock(now + timedelta(hours=1))
    await set_quiet_hours(sessions, shop_id, clock(now - timedelta(hours=1)), quiet_end)
    await page.reload()
    await expect(page.locator("#ch-quiet")).to_have_attribute("data-quiet", "true")
    await expect(page.locator("#ch-quiet")).to_contain_text(f"{quiet_end} 之前请勿联系买家")
    await expect(line.locator("td").nth(6)).to_have_text("免打扰中")
    await expect(line.locator(".ch-next")).to_contain_text(quiet_end)

    # Recording needs an outcome; then the answer shows in place, without a reload.
    await page.evaluate("window.__sameDocument = true")
    await page.get_by_role("button", name="记录结果").click()
    await expect(page.locator("#ch-outcome-error")).to_have_text("请选择催付结果。")
    await page.get_by_role("radio", name="无人应答").check()
    await page.get_by_role("button", name="记录结果").click()
    await expect(page.get_by_role("status")).to_contain_text("已记录：无人应答。下次催付：")
    chase = await chase_of(sessions, "小鹿")
    assert (chase.status, chase.attempts) == (ConversationStatus.SCHEDULED, 1)
    assert chase.not_before is not None
    next_at = clock(chase.not_before)
    await expect(page.get_by_role("status")).to_contain_text(next_at)
    # Still this chaser's (the buyer's chase claim), waiting for the next attempt.
    await expect(line.locator("td").nth(4)).to_have_text("1")
    await expect(line.locator("td").nth(7)).to_have_text("待处理")
    await expect(line.locator(".ch-next")).to_contain_text(next_at)
    await expect(page.locator("#ch-waiting")).to_contain_text(next_at)
    await expect(page.get_by_role("button", name="记录结果")).to_be_hidden()

    # The buyer pays: the chase ends, and the amount is credited to the chaser.
    await desk.event("order.paid", {"order_id": "T-7001"})
    await page.get_by_role("button", name="刷新").click()
    await expect(page.locator("#ch-recovered")).to_have_text("¥299.00")
    await expect(page.locator("#ch-paid")).to_have_text("1 / 1")
    await expect(page.locator("#ch-rate")).to_have_text("100%")
    await expect(page.locator("#ch-attempts")).to_have_text("1")
    await expect(page.locator("#ch-empty")).to_be_visible()
    await expect(line).to_have_count(0)
    assert await page.evaluate("window.__sameDocument") is True
    chase = await chase_of(sessions, "小鹿")
    assert (chase.status, chase.recovered_fen) == (ConversationStatus.CLOSED, 29900)


async def test_supervisor_sees_the_chasers_list_and_qc_gets_403(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str, server: TestServer
) -> None:

    await make_agent(sessions, shop_id, "xiaoqian", [ServiceRole.PAYMENT_CHASING])
    chase_id = await chase_due(desk, server, sessions, "阿杰")
    for username, role in (("lead", UserRole.SUPERVISOR), ("inspector", UserRole.QC_INSPECTOR)):
        await create_user(
            sessions, shop_id=shop_id, username=username, role=role, password=OTHER_PASSWORD
        )

    # A supervisor opening the chase sees its chaser's list, with the shop's total.
    lead = await signed_in("lead", OTHER_PASSWORD)
    await lead.goto(f"/console/chases?item={chase_id}")
    await expect(lead.locator("html[data-chases='ready']")).to_be_attached()
    await expect(lead.get_by_label("催付员")).to_have_value(
        str((await chase_of(sessions, "阿杰")).assigned_agent_id)
    )
    await expect(lead.locator(f"#ch-rows tr[data-id='{chase_id}']")).to_contain_text("T-7001")
    await expect(lead.locator("#ch-kpi-label")).to_have_text("xiaoqian 近30天挽回金额")
    await expect(lead.locator("#ch-total-box")).to_be_visible()

    inspector = await signed_in("inspector", OTHER_PASSWORD)
    response = await inspector.goto("/console/chases")
    assert response is not None
    assert response.status == 403
    await expect(inspector.get_by_role("alert")).to_contain_text(
        "没有打开这个页面或执行这个操作的权限"
    )
    await expect(inspector.get_by_role("alert")).not_to_contain_text("chase.work")
