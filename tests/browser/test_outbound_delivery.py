"""An agent's reply on its way to the buyer, in a real browser against a fake platform.

The agent replies; the platform (a local receiver checking the signature and its time,
deduping by delivery_id) receives it once; the message shows 已送达. The platform goes down
(503): the next reply shows 发送中, then 已送达 once it is back, delivered exactly once. Down
past the retry window: 未送达 with 重试, which sends it.

Every wait is for a condition (Playwright's ``expect``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from csdesk.actions.shops import set_channel
from csdesk.actions.users import create_user
from csdesk.clock import utcnow
from csdesk.settings import OutboundSettings, Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from tests.browser.conftest import Desk, SignIn
from tests.fake_platform import FakePlatform
from tests.helpers import make_agent
from tests.outbound_support import until

pytestmark = pytest.mark.browser
AGENT_PASSWORD = "agent-password-1"  # what tests.helpers.make_agent sets
OWNER_PASSWORD = "owner-password-1"
WINDOW_S = 2.0
"""The retry window of this test's desk: short, so "down past the limit" happens in it."""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        outbound=OutboundSettings(
            backoff_s=0.1, max_backoff_s=0.3, max_age_s=WINDOW_S, lease_s=2, timeout_s=2
        ),
    )


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    await fake.start()
    yield fake
    await fake.stop()


async def test_a_reply_shows_its_delivery_through_an_outage_and_a_retry(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str, platform: FakePlatform
) -> None:
    platform.secret = (await set_channel(sessions, shop_id, platform.url, utcnow())).outbound_secret
    await make_agent(sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "这个保温杯有货吗？"})
    page = await signed_in("xiaomei", AGENT_PASSWORD)
    await expect(page.locator("#chat-title")).to_have_text("小鱼")
    box = page.get_by_label("回复买家")
    mine = page.locator("#messages .msg-agent")

    # 1. Delivered once, signed (the receiver checked the signature and its time).
    await box.fill("亲，有货的")
    await box.press("Enter")
    first = mine.filter(has_text="亲，有货的")
    await expect(first.locator(".msg-delivery")).to_have_text("已送达")
    assert len(platform.accepted) == 1
    assert platform.bodies()[0]["data"]["text"] == "亲，有货的"
    assert platform.refused == []

    # 2. The platform is down: sending, then delivered once it is back, exactly once.
    platform.mode = "down"
    await box.fill("今天下单今天发")
    await box.press("Enter")
    second = mine.filter(has_text="今天下单今天发")
    await expect(second.locator(".msg-delivery")).to_have_text("发送中")

    async def refused_twice() -> bool:
        return platform.answered_503 >= 2

    await until(refused_twice)
    await expect(second.locator(".msg-delivery")).to_have_text("发送中")
    platform.mode = "ok"
    await expect(second.locator(".msg-delivery")).to_have_text("已送达")
    assert [body["data"]["text"] for body in platform.bodies()] == ["亲，有货的", "今天下单今天发"]
    assert platform.repeats == []

    # 3. Down past the retry window: not delivered, with a retry that sends it.
    platform.mode = "down"
    await box.fill("还有别的问题吗")
    await box.press("Enter")
    third = mine.filter(has_text="还有别的问题吗")
    await expect(third.locator(".msg-delivery")).to_contain_text("未送达")
    retry = third.get_by_role("button", name="重新发送这条消息")
    await expect(retry).to_be_visible()
    platform.mode = "ok"
    await retry.click()
    await expect(third.locator(".msg-delivery")).to_have_text("已送达")
    assert [body["data"]["text"] for body in platform.bodies()] == [
        "亲，有货的",
        "今天下单今天发",
        "还有别的问题吗",
    ]
    assert platform.repeats == []
    assert platform.refused == []


async def test_an_owner_subscribes_a_webhook_and_sends_a_test(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str, platform: FakePlatform
) -> None:
    await create_user(
        sessions, shop_id=shop_id, username="laoban", role=UserRole.OWNER, password=OWNER_PASSWORD
    )
    page = await signed_in("laoban", OWNER_PASSWORD)
    await page.goto("/console/admin/webhooks")
    await expect(page.locator("html[data-webhooks='ready']")).to_be_attached()
    await expect(page.locator("#wh-channel-url")).to_contain_text("未配置渠道")
    await expect(page.locator("#wh-empty")).to_be_visible()
    await page.get_by_label("地址 (URL)").fill(platform.url)
    await page.get_by_label("说明").fill("ERP 同步")
    await page.get_by_label("conversation.closed").check()
    await page.get_by_role("button", name="订阅", exact=True).click()
    secret = page.locator("#wh-secret")
    await expect(secret).not_to_be_empty()
    platform.secret = await secret.inner_text()
    row = page.locator("#wh-body tr").filter(has_text=platform.url)
    await expect(row).to_contain_text("conversation.closed")
    await row.get_by_role("button", name="发送测试").click()
    await platform.wait_for(1)
    assert platform.bodies()[0]["type"] == "webhook.test"
    log = page.locator("#wh-log-body tr")
    await row.get_by_role("button", name="投递记录").click()
    await expect(log.first).to_contain_text("webhook.test")
    await expect(log.first).to_contain_text("已送达")
    await row.get_by_role("button", name="暂停").click()
    await expect(page.locator("#wh-body tr").filter(has_text=platform.url)).to_contain_text(
        "已暂停"
    )
