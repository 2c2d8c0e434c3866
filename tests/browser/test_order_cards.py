"""One-click cards from the buyer panel in Chromium (console UX bar, point 5): 订单核对
goes out filled from the stored order (contact data masked) and shows as a card in the
transcript; 催付 is offered only while the order is unpaid; 推荐商品 picks from the catalog.
"""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from csdesk.actions.catalog import ProductSpec, add_products
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole
from tests.browser.conftest import Desk, SignIn
from tests.helpers import make_agent, order_data

pytestmark = pytest.mark.browser
P = ServiceRole


async def test_one_click_order_check_card_goes_out_filled_from_the_order(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", list(P))
    async with sessions.begin() as session:
        await add_products(
            session, shop_id, [ProductSpec("CUP-2", "保温杯 大容量", "杯壶", 15900, ("杯套",))]
        )
    await desk.event("order.created", order_data("T-1001", nick="小鱼", amount="129.00"))
    await desk.event("order.created", order_data("T-1002", nick="小鱼", amount="59.00"))
    await desk.event("order.paid", {"order_id": "T-1001"})
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "帮我核对一下订单信息"})
    page = await signed_in("xiaomei", "agent-password-1")
    await expect(page.locator("#chat-title")).to_have_text("小鱼")
    orders = page.locator("#sec-orders-body")
    await expect(orders).to_contain_text("T-1001")

    # Paid: 订单核对 only; unpaid: 催付 too.
    await expect(orders.get_by_role("button", name="订单 T-1001 的催付卡片")).to_have_count(0)
    await expect(orders.get_by_role("button", name="订单 T-1002 的催付卡片")).to_be_visible()

    await orders.get_by_role("button", name="订单 T-1001 的订单核对卡片").click()
    card = page.locator("#messages .msg-agent .msg-card[data-card='order_check']")
    await expect(card).to_have_count(1)
    await expect(card.locator(".msg-card-title")).to_have_text("订单核对")
    fields = card.locator(".facts-list")
    await expect(fields).to_contain_text("订单号T-1001")
    await expect(fields).to_contain_text("商品保温杯 ×1")
    await expect(fields).to_contain_text("金额¥129.00")
    await expect(fields).to_contain_text("电话138****1234")
    await expect(fields).to_contain_text("收货人王**")
    await expect(card).not_to_contain_text("13800001234")
    await expect(page.locator("#wb-notice")).to_have_text("小鱼：已发送“订单核对”卡片。")
    # It answered the buyer: the row's waiting clock stopped.
    await expect(
        page.locator("#conversation-list").get_by_role("link", name="小鱼, 已回复")
    ).to_be_visible()

    # 推荐商品: from the catalog, one click on the item sends its card.
    await orders.get_by_role("button", name="推荐商品").click()
    dialog = page.get_by_role("dialog", name="推荐商品")
    await dialog.get_by_label("搜索商品").fill("大容量")
    await dialog.get_by_role("button", name="保温杯 大容量").click()
    await expect(dialog).to_be_hidden()
    item = page.locator("#messages .msg-card[data-card='product']")
    await expect(item).to_contain_text("价格¥159.00")
    await expect(item).to_contain_text("赠品杯套")
