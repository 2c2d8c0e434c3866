"""The shop rules page (店铺规则) in a real browser: an owner's mistake is shown naming its
key (and marks the field) and nothing is stored; a good document is saved and audited; the
form edits the same document (timers, promotion, the shop's triage phrases, tried on a
buyer message before saving); a supervisor reads it without a way to change it.

Every wait is for a condition (Playwright's ``expect``); nothing sleeps.
"""

from __future__ import annotations

import json

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from csdesk.storage.models import AuditLog, Shop
from tests.browser.conftest import Desk, SignIn

pytestmark = pytest.mark.browser
PASSWORD = "owner-password-1"
PAGE = "/console/shop-config"


async def _user(sessions: SessionFactory, shop_id: str, name: str, role: UserRole) -> None:
    await create_user(sessions, shop_id=shop_id, username=name, role=role, password=PASSWORD)


async def _stored(sessions: SessionFactory, shop_id: str) -> object:
    async with sessions() as session:
        return await session.scalar(select(Shop.config).where(Shop.id == shop_id))


async def test_owner_fixes_a_named_mistake_and_saves(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await _user(sessions, shop_id, "boss", UserRole.OWNER)
    page = await signed_in("boss", PASSWORD)
    await page.goto(desk.url(PAGE))
    await expect(page.get_by_role("heading", name="店铺规则", level=1)).to_be_visible()
    await page.get_by_role("heading", name="全部规则（JSON）").click()  # opens the JSON view
    editor = page.locator("#sc-text")
    await expect(editor).to_have_value("{}")

    await editor.fill(json.dumps({"routing": {"payment_chasing": {"delay_s": "abc"}}}))
    await page.get_by_role("button", name="保存").click()
    await expect(page.get_by_role("alert")).to_contain_text("routing.payment_chasing.delay_s")
    # The key is a form field: that field is marked (and the JSON filled it in as typed).
    delay = page.get_by_label("下单未付款后首次催付")
    await expect(delay).to_have_attribute("aria-invalid", "true")
    assert await _stored(sessions, shop_id) == {}

    await editor.fill("{ not json")
    await page.get_by_role("button", name="保存").click()
    await expect(page.get_by_role("alert")).to_contain_text("不是有效的 JSON")
    assert await _stored(sessions, shop_id) == {}

    good = {"routing": {"payment_chasing": {"delay_s": 600}}, "promotion": "double11"}
    await editor.fill(json.dumps(good))
    await expect(delay).to_have_value("10")  # the form follows the JSON: 600 s = 10 minutes
    await expect(page.get_by_label("当前活动档期")).to_have_value("double11")
    await page.get_by_label("原因（记入审计日志）").fill("双十一提前催付")
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator("#sc-result")).to_be_visible()
    await expect(page.locator("#sc-result")).to_contain_text("已保存")
    await expect(page.locator("#sc-error")).to_have_text("")  # the mistake is gone
    await expect(delay).not_to_have_attribute("aria-invalid", "true")
    assert await _stored(sessions, shop_id) == good
    async with sessions() as session:
        reasons = list(
            await session.scalars(select(AuditLog.reason).where(AuditLog.action == "shop.config"))
        )
    assert reasons == ["双十一提前催付"]

    await page.reload()  # what was saved is what the page shows
    assert json.loads(await editor.input_value()) == good


async def test_owner_adds_a_phrase_tries_it_and_sets_timers_in_the_form(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await _user(sessions, shop_id, "boss", UserRole.OWNER)
    page = await signed_in("boss", PASSWORD)
    await page.goto(desk.url(PAGE))
    await expect(page.get_by_text("暂无修改：使用内置短语。")).to_be_visible()

    # The shop's own word for a broken item: nothing by the built-in rules.
    await page.get_by_role("button", name="添加短语").click()
    row = page.locator("#sc-phrase-rows tr").last
    await row.get_by_label("短语", exact=True).fill("熊猫码")
    await expect(row).to_contain_text("新增")
    await row.get_by_label("意图").select_option("refund")
    await page.get_by_label("买家消息").fill("熊猫码")
    await page.get_by_role("button", name="试一试").click()
    tried = page.locator("#sc-try-result")
    # A new phrase without a weight: the server names it, nothing is tried or stored.
    await expect(tried).to_contain_text("routing.triage.phrases.熊猫码.weight")
    await row.get_by_label("权重").fill("4")
    await page.get_by_role("button", name="试一试").click()
    draft = tried.locator(".sc-verdict").first
    saved = tried.locator(".sc-verdict").last
    await expect(draft).to_contain_text("退款")
    await expect(draft).to_contain_text("熊猫码")  # the reason names the phrase
    await expect(saved).not_to_contain_text("退款")  # still the saved rules until saved

    # A built-in phrase switched off shows what it was.
    await page.get_by_role("button", name="添加短语").click()
    second = page.locator("#sc-phrase-rows tr").last
    await second.get_by_label("短语", exact=True).fill("tk")
    await expect(second).to_contain_text("退款")
    await second.get_by_label("停用内置短语").check()
    await expect(second.get_by_label("权重")).to_be_disabled()

    await page.get_by_label("下单未付款后首次催付").fill("10")
    await page.get_by_label("订单金额达到此数改由热线电话催付").fill("3000")
    await page.get_by_label("原因（记入审计日志）").fill("本店说法")
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator("#sc-result")).to_be_visible()
    await expect(page.locator("#sc-result")).to_contain_text("已保存")
    assert await _stored(sessions, shop_id) == {
        "routing": {
            "triage": {"phrases": {"熊猫码": {"intent": "refund", "weight": 4}, "tk": None}},
            "payment_chasing": {"delay_s": 600, "big_order_fen": 300_000},
        }
    }

    # Emptying a field gives the default back: the key leaves the document.
    await page.get_by_label("订单金额达到此数改由热线电话催付").fill("")
    await page.locator("#sc-phrase-rows tr").last.get_by_role("button", name="删除此行").click()
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator("#sc-result")).to_be_visible()
    await expect(page.locator("#sc-result")).to_contain_text("已保存")
    assert await _stored(sessions, shop_id) == {
        "routing": {
            "triage": {"phrases": {"熊猫码": {"intent": "refund", "weight": 4}}},
            "payment_chasing": {"delay_s": 600},
        }
    }
    await page.reload()
    await expect(page.locator("#sc-phrase-rows tr")).to_have_count(1)
    await expect(page.locator("#sc-phrase-rows tr").get_by_label("短语", exact=True)).to_have_value(
        "熊猫码"
    )
    await expect(page.get_by_label("下单未付款后首次催付")).to_have_value("10")


async def test_a_supervisor_reads_the_rules_but_cannot_change_them(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await _user(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await _user(sessions, shop_id, "xiaoli", UserRole.AGENT)
    page = await signed_in("lead", PASSWORD)
    await page.goto(desk.url(PAGE))
    await expect(page.locator("#sc-text")).to_have_js_property("readOnly", True)
    await expect(page.get_by_label("下单未付款后首次催付")).to_be_disabled()
    await expect(page.get_by_role("button", name="添加短语")).to_be_hidden()
    await expect(page.get_by_role("button", name="保存")).to_be_hidden()
    await expect(page.get_by_text("只有店主或管理员可以修改这些规则。")).to_be_visible()
    agent_page = await signed_in("xiaoli", PASSWORD)
    response = await agent_page.goto(desk.url(PAGE))
    assert response is not None
    assert response.status == 403
