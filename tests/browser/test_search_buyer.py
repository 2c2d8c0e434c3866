"""A supervisor finds a conversation by order number and opens the buyer's whole history."""

from __future__ import annotations

from playwright.async_api import expect

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from tests.browser.conftest import Desk, SignIn
from tests.helpers import make_agent, order_data

LEAD_PASSWORD = "lead-password-1"


async def test_find_by_order_number_then_the_buyer_record(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(
        sessions, shop_id, "xiaomei", [ServiceRole.PRESALES, ServiceRole.AFTERSALES_TRIAGE]
    )
    await create_user(
        sessions,
        shop_id=shop_id,
        username="wanglead",
        role=UserRole.SUPERVISOR,
        password=LEAD_PASSWORD,
    )
    await desk.event("order.created", order_data("T-5001", nick="小鱼", amount="66.00"))
    await desk.event(
        "message.received", {"buyer_nick": "小鱼", "text": "发货了吗", "order_id": "T-5001"}
    )
    await desk.event("message.received", {"buyer_nick": "阿杰", "text": "在吗"})

    lead = await signed_in("wanglead", LEAD_PASSWORD)
    await lead.goto("/console/")
    await lead.get_by_role("link", name="会话搜索 / Search conversations").click()
    await lead.get_by_label("昵称、订单号、完整手机号或聊天内容").fill("T-5001")
    await lead.get_by_role("button", name="搜索").click()
    rows = lead.locator("#se-body tr")
    await expect(rows.first).to_contain_text("小鱼")
    await expect(lead.locator("#se-body")).not_to_contain_text("阿杰")
    await rows.first.get_by_role("link", name="小鱼").click()
    await lead.wait_for_url("**/console/buyers/*")
    await expect(lead.locator("#by-nick")).to_have_text("小鱼")
    timeline = lead.locator("#by-timeline")
    await expect(timeline).to_contain_text("订单 T-5001")
    await expect(timeline).to_contain_text("接待人 xiaomei")
