"""The shop rules page (店铺规则) in a real browser: an owner's mistake is shown naming its
key and nothing is stored; a good document is saved, audited and used by routing; a
supervisor reads it without a way to change it.

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
    editor = page.locator("#sc-text")
    await expect(editor).to_have_value("{}")

    await editor.fill(json.dumps({"routing": {"payment_chasing": {"delay_s": "abc"}}}))
    await page.get_by_role("button", name="保存").click()
    await expect(page.get_by_role("alert")).to_contain_text("routing.payment_chasing.delay_s")
    await expect(editor).to_have_attribute("aria-invalid", "true")
    assert await _stored(sessions, shop_id) == {}

    await editor.fill("{ not json")
    await page.get_by_role("button", name="保存").click()
    await expect(page.get_by_role("alert")).to_contain_text("不是有效的 JSON")

    good = {"routing": {"payment_chasing": {"delay_s": 600}}, "promotion": "double11"}
    await editor.fill(json.dumps(good))
    await page.get_by_label("原因（记入审计日志）").fill("双十一提前催付")
    await page.get_by_role("button", name="保存").click()
    await expect(page.get_by_role("status")).to_contain_text("已保存")
    await expect(page.locator("#sc-error")).to_have_text("")  # the mistake is gone
    assert await _stored(sessions, shop_id) == good
    async with sessions() as session:
        reasons = list(
            await session.scalars(select(AuditLog.reason).where(AuditLog.action == "shop.config"))
        )
    assert reasons == ["双十一提前催付"]

    await page.reload()  # what was saved is what the page shows
    assert json.loads(await editor.input_value()) == good


async def test_a_supervisor_reads_the_rules_but_cannot_change_them(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await _user(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await _user(sessions, shop_id, "xiaoli", UserRole.AGENT)
    page = await signed_in("lead", PASSWORD)
    await page.goto(desk.url(PAGE))
    await expect(page.locator("#sc-text")).to_have_js_property("readOnly", True)
    await expect(page.get_by_role("button", name="保存")).to_be_hidden()
    await expect(page.get_by_text("只有店主或管理员可以修改这些规则。")).to_be_visible()
    agent_page = await signed_in("xiaoli", PASSWORD)
    response = await agent_page.goto(desk.url(PAGE))
    assert response is not None
    assert response.status == 403
