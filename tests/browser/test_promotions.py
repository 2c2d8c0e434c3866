"""The promotion-mode page (大促模式) in a real browser: an owner's bad schedule is refused
naming the field (marked on the form), a good one is listed in shop time, a profile is
switched on by hand and the owner dashboard names it; a supervisor reads only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from tests.browser.conftest import Desk, SignIn

pytestmark = pytest.mark.browser
PASSWORD = "owner-password-1"
PAGE = "/console/promotions"
SHOP_TZ = ZoneInfo("Asia/Shanghai")


def local(at: datetime) -> str:
    return at.astimezone(SHOP_TZ).strftime("%Y-%m-%dT%H:%M")


async def test_owner_schedules_and_switches_a_promotion(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await create_user(
        sessions, shop_id=shop_id, username="boss", role=UserRole.OWNER, password=PASSWORD
    )
    page = await signed_in("boss", PASSWORD)
    await page.goto(desk.url(PAGE))
    await expect(page.locator("html[data-promotions='ready']")).to_be_attached()
    await expect(page.locator("#pr-live")).to_have_text("未开启大促")
    await expect(page.get_by_role("rowheader", name="双十一")).to_be_visible()  # the profiles

    form = page.locator("#pr-schedule")
    start = datetime.now(UTC) + timedelta(days=1)
    await form.get_by_label("大促方案").select_option("double11")
    await form.get_by_label("开始").fill(local(start))
    await form.get_by_label("结束").fill(local(start - timedelta(hours=1)))
    await form.get_by_role("button", name="加入排期").click()
    await expect(page.locator("#pr-error")).to_contain_text("ends_at")
    await expect(form.get_by_label("结束")).to_have_attribute("aria-invalid", "true")

    await form.get_by_label("结束").fill(local(start + timedelta(hours=6)))
    await form.get_by_label("备注").fill("双十一预热")
    await form.get_by_role("button", name="加入排期").click()
    await expect(page.locator("#pr-result")).to_contain_text("大促已排期")
    row = page.locator("#pr-rows tr").first
    await expect(row).to_contain_text(local(start).replace("T", " "))
    await expect(row).to_contain_text("待开始")

    switch = page.locator("#pr-switch")
    await switch.get_by_label("大促方案").select_option("juhuasuan")
    await switch.get_by_role("button", name="立即开启").click()
    await expect(page.locator("#pr-live")).to_contain_text("聚划算 直到手动关闭")
    await page.goto(desk.url("/console/dashboard"))
    await expect(page.locator("#db-promotion")).to_have_text("聚划算")
    await expect(page.locator("#db-promotion-until")).to_have_text("直到手动关闭")


async def test_a_supervisor_reads_the_promotion_page_only(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await create_user(
        sessions, shop_id=shop_id, username="sv", role=UserRole.SUPERVISOR, password=PASSWORD
    )
    page = await signed_in("sv", PASSWORD)
    await page.goto(desk.url(PAGE))
    await expect(page.locator("html[data-promotions='ready']")).to_be_attached()
    await expect(page.get_by_text("只有店主或管理员可以开关或排期大促。")).to_be_visible()
    await expect(page.locator("#pr-schedule")).to_be_hidden()
    await expect(page.locator("#pr-switch")).to_be_hidden()
