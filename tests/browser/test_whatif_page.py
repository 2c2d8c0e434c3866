"""The what-if page (模拟推演) in a real browser: an owner's bad factor is refused naming
the field (marked on the form); a run with "+2 on refunds from 20:00" and more buyers is
submitted, its progress shows in the list and its result opens by itself beside the
baseline, charts included, without the page reloading; agents get no page."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from tests.browser.conftest import Desk, SignIn
from tests.helpers import make_agent

pytestmark = pytest.mark.browser
PASSWORD = "owner-password-1"
PAGE = "/console/whatif"


async def test_owner_runs_a_what_if_and_sees_its_result_without_a_reload(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await create_user(
        sessions, shop_id=shop_id, username="boss", role=UserRole.OWNER, password=PASSWORD
    )
    await make_agent(sessions, shop_id, "售前小王", [ServiceRole.PRESALES])
    await make_agent(sessions, shop_id, "退款小李", [ServiceRole.REFUND])
    for n in range(8):
        await desk.event("message.received", {"buyer_nick": f"买家{n}", "text": "这款有现货吗"})
    for n in range(4):
        await desk.event("message.received", {"buyer_nick": f"退款{n}", "text": "我要退款"})

    page = await signed_in("boss", PASSWORD)
    await page.goto(desk.url("/console/dashboard"))
    await page.get_by_role("link", name="模拟推演：加人或进线增加时会怎样").click()
    await page.wait_for_url(f"**{PAGE}")
    await expect(page.locator("html[data-whatif='ready']")).to_be_attached()
    await expect(page.locator("#wi-empty")).to_be_visible()
    await page.evaluate("window.__sameDocument = true")

    form = page.locator("#wi-form")
    await form.get_by_role("button", name="添加排班调整").click()
    change = form.locator(".wi-change").first
    await change.get_by_label("岗位").select_option("refund")
    await change.get_by_label("人数（+ 增加，− 减少）").fill("2")
    await change.get_by_label("从").select_option("20")
    await form.get_by_label("模拟时长（小时）").fill("6")
    await form.get_by_label("进线量倍数").fill("9")
    await form.get_by_role("button", name="开始模拟").click()
    await expect(page.locator("#wi-error")).to_contain_text("scale")
    await expect(form.get_by_label("进线量倍数")).to_have_attribute("aria-invalid", "true")

    await form.get_by_label("进线量倍数").fill("5")
    await form.get_by_role("button", name="开始模拟").click()
    row = page.locator("#wi-rows tr").first
    await expect(row).to_contain_text("退款")
    await expect(row).to_contain_text("+2")
    await expect(row).to_contain_text("进线 × 5")

    result = page.locator("#wi-result")
    await expect(result).to_be_visible(timeout=60_000)
    await expect(row.locator(".wi-status")).to_have_attribute("data-status", "done")
    await expect(result.locator("h3")).to_have_text(["现状", "调整后"])
    adjusted = result.locator(".wi-col").nth(1)
    presales = adjusted.locator("tr[data-role='presales']")
    await expect(presales).to_be_visible()
    arrivals = int(await presales.locator("[data-k='arrivals']").inner_text())
    served = int((await presales.locator("[data-k='served']").inner_text()).split(" ")[0])
    abandoned = int((await presales.locator("[data-k='abandoned']").inner_text()).split(" ")[0])
    assert arrivals > 0
    assert served + abandoned == arrivals
    await expect(adjusted.locator("svg")).to_have_count(2)
    await expect(adjusted.locator(".wi-misses")).to_be_visible()
    await expect(adjusted.locator(".wi-recovered")).to_contain_text("¥")
    assert await page.evaluate("window.__sameDocument === true"), "the page reloaded"


async def test_an_agent_gets_no_what_if_page(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "agent1", [ServiceRole.PRESALES])
    page = await signed_in("agent1", "agent-password-1")
    response = await page.goto(desk.url(PAGE))
    assert response is not None
    assert response.status == 403
