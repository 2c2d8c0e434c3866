"""The alerts page (告警) in a real browser: an owner sets the DingTalk robot and its 加签
secret, a mistake is refused naming the field (and the field is marked), "send a test"
reaches the local fake robot (which checks the signature) and the list shows it delivered;
a threshold crossed raises a live notice on the open page and a row in the list; a
supervisor reads without a way to change anything.

Every wait is for a condition (Playwright's ``expect``); nothing sleeps.
"""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import expect
from pytest_aiohttp import AiohttpServer

from csdesk.actions.users import create_user
from csdesk.jobs.base import JOBS_KEY
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from tests.browser.conftest import Desk, SignIn
from tests.fake_robot import FakeRobot

pytestmark = pytest.mark.browser
PASSWORD = "owner-password-1"
PAGE = "/console/alerts"


@pytest.fixture
def robot() -> FakeRobot:
    return FakeRobot()


@pytest.fixture
async def robot_server(robot: FakeRobot, aiohttp_server: AiohttpServer) -> TestServer:
    return await aiohttp_server(robot.app(), host="127.0.0.1")


async def _user(sessions: SessionFactory, shop_id: str, name: str, role: UserRole) -> None:
    await create_user(sessions, shop_id=shop_id, username=name, role=role, password=PASSWORD)


async def test_owner_sets_the_robot_and_sends_a_test(
    desk: Desk,
    signed_in: SignIn,
    sessions: SessionFactory,
    shop_id: str,
    robot: FakeRobot,
    robot_server: TestServer,
) -> None:
    await _user(sessions, shop_id, "boss", UserRole.OWNER)
    page = await signed_in("boss", PASSWORD)
    await page.goto(desk.url(PAGE))
    await expect(page.get_by_role("heading", name="告警", level=1)).to_be_visible()
    await expect(page.locator("html[data-alerts='ready']")).to_be_attached()
    await expect(page.get_by_text("暂无告警")).to_be_visible()

    webhook = str(robot_server.make_url(f"/robot/send?access_token={robot.access_token}"))
    await page.get_by_label("钉钉机器人地址").fill(webhook)
    await page.get_by_label("钉钉加签密钥").fill(robot.secret)
    depth = page.get_by_label("队列排队超过", exact=True)
    await depth.fill("-3")
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator("#al-error")).to_contain_text("thresholds.queue_depth")
    await expect(depth).to_have_attribute("aria-invalid", "true")

    await depth.fill("30")
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator("#al-result")).to_contain_text("告警设置已保存")
    await expect(page.locator("#al-error")).to_have_text("")
    await expect(depth).not_to_have_attribute("aria-invalid", "true")
    # The secret is never shown again; the field says it is set.
    secret = page.get_by_label("钉钉加签密钥")
    await expect(secret).to_have_value("")
    await expect(secret).to_have_attribute("placeholder", "已设置（留空则不变）")

    await page.get_by_role("button", name="发送测试").click()
    await expect(page.locator("#al-result")).to_contain_text("测试告警已发往 1 个机器人")
    row = page.locator("#al-rows tr").first
    await expect(row).to_contain_text("测试告警")
    await expect(row.locator(".al-delivery[data-channel='dingtalk']")).to_have_attribute(
        "data-status", "sent"
    )
    await expect(row).to_contain_text("钉钉: 已送达")
    assert robot.refused == []
    assert len(robot.accepted) == 1
    assert "测试告警" in robot.texts()[0]


async def test_a_failing_robot_shows_in_the_list_and_a_live_notice_arrives(
    desk: Desk,
    signed_in: SignIn,
    sessions: SessionFactory,
    shop_id: str,
    robot: FakeRobot,
    robot_server: TestServer,
) -> None:
    await _user(sessions, shop_id, "boss", UserRole.OWNER)
    page = await signed_in("boss", PASSWORD)
    await page.goto(desk.url(PAGE))
    await expect(page.locator("html[data-alerts='ready']")).to_be_attached()
    webhook = str(robot_server.make_url(f"/robot/send?access_token={robot.access_token}"))
    await page.get_by_label("钉钉机器人地址").fill(webhook)
    await page.get_by_label("钉钉加签密钥").fill(robot.secret)
    for label in ("队列最久等待超过", "1 小时内将自动通过的退款至少", "买家等客服回复超过"):
        await page.get_by_label(label).fill("0")
    await page.get_by_label("在岗人数比需要（Erlang C）少至少").fill("0")
    await page.get_by_label("队列排队超过", exact=True).fill("1")
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator("#al-result")).to_contain_text("告警设置已保存")
    await expect(page.locator("html[data-alert-feed='live']")).to_be_attached()

    robot.fail_next = 5
    for n in range(2):
        await desk.event("message.received", {"buyer_nick": f"买家{n}", "text": "有货吗"})
    assert await desk.server.app[JOBS_KEY].enqueue("evaluate_alerts")

    notice = page.locator(".alert-notice").first
    await expect(notice).to_contain_text("售前接待队列积压")
    await expect(notice.get_by_role("link", name="全部告警")).to_have_attribute("href", PAGE)
    row = page.locator("#al-rows tr[data-kind='queue']")
    await expect(row).to_contain_text("售前接待队列 2 条排队（阈值 1）")
    delivery = row.locator(".al-delivery")
    await expect(delivery).to_have_attribute("data-status", "pending")
    await expect(delivery).to_contain_text("重试中")
    await expect(delivery.locator(".al-error")).to_have_text("HTTP 500")
    await expect(page.locator("#al-summary")).to_contain_text("重试中 1")
    await page.get_by_label("只看发送失败或重试中的告警").check()
    await expect(page.locator("#al-rows tr")).to_have_count(1)
    await page.get_by_role("button", name="知道了").click()
    await expect(page.locator(".alert-notice")).to_have_count(0)


async def test_a_supervisor_reads_but_cannot_change_or_test(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await _user(sessions, shop_id, "sv", UserRole.SUPERVISOR)
    page = await signed_in("sv", PASSWORD)
    await page.goto(desk.url(PAGE))
    await expect(page.locator("html[data-alerts='ready']")).to_be_attached()
    await expect(page.get_by_text("只有店主或管理员可以修改告警设置。")).to_be_visible()
    await expect(page.get_by_role("button", name="发送测试")).to_be_hidden()
    await expect(page.get_by_label("钉钉机器人地址")).to_be_disabled()
    await expect(page.get_by_role("link", name="告警")).to_have_attribute("aria-current", "page")
