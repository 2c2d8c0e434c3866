"""The order review page in a real browser: a paid order whose gift does not match the
campaign (a 旅游券 where the projector promises an HDMI高清线) and whose address is
incomplete shows its failed checks, explained; the reviewer corrects the address and the
gifts in place and approves, and the server holds the corrected order. A hold needs a
reason; another agent's order is a 403 page.

Every wait is for a condition (Playwright's ``expect``); nothing sleeps.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from csdesk.actions.catalog import ProductSpec, add_products
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ConversationStatus, ServiceRole
from csdesk.storage.models import Conversation, Order
from tests.browser.conftest import Desk, SignIn, screenshot_path
from tests.helpers import make_agent, order_data

pytestmark = pytest.mark.browser
AGENT_PASSWORD = "agent-password-1"  # what tests.helpers.make_agent sets
PROJECTOR = {"sku": "PJ-1", "title": "家用投影仪", "qty": 1, "price": "1299.00"}
GOOD_ADDRESS = "浙江省杭州市西湖区文三路90号东部软件园3号楼"


async def projector_on_sale(sessions: SessionFactory, shop_id: str) -> None:
    """The catalog: the projector's campaign promises an HDMI cable as its gift."""
    async with sessions.begin() as session:
        await add_products(
            session,
            shop_id,
            [ProductSpec("PJ-1", "家用投影仪", "数码", 129900, gifts=("HDMI高清线",))],
        )


async def paid_order(desk: Desk, order_id: str, nick: str, **extra: object) -> None:
    """A created and paid order, as the platform sends them (signed)."""
    data = order_data(order_id, nick=nick, amount="1299.00", items=[PROJECTOR], **extra)
    await desk.event("order.created", data)
    await desk.event("order.paid", {"order_id": order_id})


async def order_check(sessions: SessionFactory, order_external_id: str) -> Conversation:
    async with sessions() as session:
        item = await session.scalar(
            select(Conversation)
            .join(Order, Order.id == Conversation.order_id)
            .where(Order.external_id == order_external_id, Conversation.kind == "order_check")
        )
        assert item is not None
        return item


async def stored_order(sessions: SessionFactory, order_external_id: str) -> Order:
    async with sessions() as session:
        order = await session.scalar(select(Order).where(Order.external_id == order_external_id))
        assert order is not None
        return order


async def flag_codes(page: Page, item_id: int) -> set[str]:
    response = await page.request.get(f"/api/v1/order-checks/{item_id}")
    assert response.status == 200, await response.text()
    return {flag["code"] for flag in (await response.json())["flags"]}


async def test_reviewer_fixes_gift_and_address_then_approves(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str, tmp_path: Path
) -> None:
    await projector_on_sale(sessions, shop_id)
    reviewer = await make_agent(sessions, shop_id, "xiaozhou", [ServiceRole.ORDER_REVIEW])
    await paid_order(desk, "T-5001", "小鹿", gifts=["旅游券"], address="浙江省杭州市西湖区")
    check = await order_check(sessions, "T-5001")
    assert check.assigned_agent_id == reviewer

    # The check is in the reviewer's list; its row links to the order review page.
    page = await signed_in("xiaozhou", AGENT_PASSWORD)
    row = page.locator("#conversation-list .conv-row").filter(has_text="小鹿")
    await expect(row.locator(".conv-link")).to_have_attribute(
        "href", f"/console/order-items/{check.id}"
    )
    await row.locator(".conv-link").click()
    await page.wait_for_url(f"**/console/order-items/{check.id}")
    await expect(page.locator("html[data-order-review='ready']")).to_be_attached()
    await expect(page.locator("#or-order-no")).to_have_text("T-5001")
    await expect(page.locator("#or-buyer")).to_have_text("小鹿")
    await expect(page.locator("#or-amount")).to_have_text("¥1299.00")
    await expect(page.locator("#or-gifts")).to_have_text("旅游券")
    await expect(page.locator("#or-promised")).to_have_text("HDMI高清线")
    await expect(page.locator("#or-address")).to_contain_text("****")  # masked

    # The failed checks, each named and explained in Chinese.
    flags = page.locator("#or-flags .or-flag")
    codes = await flag_codes(page, check.id)
    assert codes == {"gift_missing", "gift_unexpected", "address_too_short", "address_no_detail"}
    await expect(flags).to_have_count(len(codes))
    await expect(page.locator("#or-flag-count")).to_have_text(str(len(codes)))
    gift = page.locator(".or-flag[data-code='gift_unexpected']")
    await expect(gift.locator(".or-flag-title")).to_have_text("赠品与活动不符")
    await expect(gift.locator(".or-flag-reason")).to_have_text("订单附带 旅游券, 活动并未承诺")
    await expect(gift.locator(".or-flag-help")).to_contain_text("HDMI高清线")
    detail = page.locator(".or-flag[data-code='address_no_detail']")
    await expect(detail.locator(".or-flag-title")).to_have_text("缺少详细地址")
    await expect(detail.locator(".or-flag-help")).to_contain_text("门牌号")
    # The forms the failed checks call for are open; the invoice one is not.
    await expect(page.get_by_label("新的收货地址（省、市、区/县、街道门牌）")).to_be_visible()
    await expect(page.get_by_label("赠品和活动商品，每行一个（留空表示不送）")).to_be_visible()
    await expect(page.get_by_label("发票抬头", exact=True)).to_be_hidden()
    await expect(page.locator("#or-approve-warning")).to_be_visible()
    await page.screenshot(path=str(screenshot_path(tmp_path, "order-review")))

    # Another undeliverable address is refused in place; nothing changes.
    await page.evaluate("window.__sameDocument = true")
    address = page.get_by_label("新的收货地址（省、市、区/县、街道门牌）")
    await address.fill("北京")
    await page.get_by_role("button", name="保存地址").click()
    await expect(page.locator("#or-address-error")).to_contain_text("缺少区/县")
    await expect(address).to_have_attribute("aria-invalid", "true")
    await expect(address).to_be_focused()
    assert (await stored_order(sessions, "T-5001")).address == "浙江省杭州市西湖区"

    # A deliverable address: the address checks are gone, the gift ones stand.
    await address.fill(GOOD_ADDRESS)
    await page.get_by_role("button", name="保存地址").click()
    await expect(page.get_by_role("status")).to_have_text("收货地址已更正。")
    await expect(flags).to_have_count(2)
    await expect(page.locator(".or-flag[data-code^='address_']")).to_have_count(0)
    await expect(page.locator("#or-address")).to_have_text(re.compile(r"^浙江省杭州市\*+$"))
    assert await flag_codes(page, check.id) == {"gift_missing", "gift_unexpected"}

    # The promised gift replaces the travel voucher.
    await page.get_by_role("button", name="改为活动赠品").click()
    gifts = page.get_by_label("赠品和活动商品，每行一个（留空表示不送）")
    await expect(gifts).to_have_value("HDMI高清线")
    await expect(gifts).to_be_focused()
    await page.get_by_role("button", name="保存赠品").click()
    await expect(page.get_by_role("status")).to_have_text("赠品已更正。")
    await expect(flags).to_have_count(0)
    await expect(page.locator("#or-no-flags")).to_have_text("所有检查均已通过，可以发货。")
    await expect(page.locator("#or-gifts")).to_have_text("HDMI高清线")
    await expect(page.locator("#or-approve-warning")).to_be_hidden()

    # Approve: the item closes in place.
    await page.get_by_label("备注（选填）").fill("地址和赠品已改")
    await page.get_by_role("button", name="审核通过，按原样发货").click()
    await expect(page.get_by_role("status")).to_have_text("审核通过：订单按原样发货。")
    await expect(page.locator("#or-item-status")).to_have_text("已关闭")
    await expect(page.locator("#or-done")).to_be_visible()
    await expect(page.get_by_role("button", name="审核通过，按原样发货")).to_be_hidden()
    assert await page.evaluate("window.__sameDocument") is True

    # The server holds the corrected order and the closed, approved check.
    order = await stored_order(sessions, "T-5001")
    assert (order.address, order.gifts) == (GOOD_ADDRESS, ["HDMI高清线"])
    check = await order_check(sessions, "T-5001")
    assert check.status is ConversationStatus.CLOSED
    assert check.disposition == "order_approved"
    assert {"address_fixed", "gifts_fixed"} <= set(check.tags)
    assert "approved_with_flags" not in check.tags


async def test_hold_needs_a_reason_and_the_invoice_is_confirmed(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaozhou", [ServiceRole.ORDER_REVIEW])
    await paid_order(desk, "T-5002", "阿杰", invoice_title="杭州某某科技有限公司")
    check = await order_check(sessions, "T-5002")
    page = await signed_in("xiaozhou", AGENT_PASSWORD)

    # The shortcut opens the next order waiting for this reviewer.
    await page.goto("/console/order-items")
    await page.wait_for_url(f"**/console/order-items/{check.id}")
    invoice_flag = page.locator(".or-flag[data-code='invoice_requested']")
    await expect(invoice_flag.locator(".or-flag-title")).to_have_text("买家要求开发票")
    await expect(invoice_flag.locator(".or-flag-help")).to_contain_text("物流宝")
    await expect(page.locator("#or-hold")).to_be_hidden()

    # Holding without a reason is stopped in place.
    await page.locator("#or-hold-box summary").click()
    await page.get_by_role("button", name="确认暂停").click()
    await expect(page.locator("#or-hold-error")).to_have_text("请填写暂停发货的原因。")
    await expect(page.get_by_label("暂停原因（必填）")).to_be_focused()
    await page.get_by_label("暂停原因（必填）").fill("等买家确认发票抬头")
    await page.get_by_role("button", name="确认暂停").click()
    await expect(page.get_by_role("status")).to_have_text("已暂停发货。")
    await expect(page.locator("#or-hold")).to_be_visible()
    await expect(page.locator("#or-item-status")).to_have_text("接待中")

    # The invoice form opened by itself, filled with the buyer's title: confirm it.
    title = page.get_by_label("发票抬头", exact=True)
    await expect(title).to_have_value("杭州某某科技有限公司")
    await title.fill("杭州某某科技有限公司（专票）")
    await page.get_by_role("button", name="确认发票抬头").click()
    await expect(page.get_by_role("status")).to_have_text("发票抬头已确认。")
    await expect(invoice_flag).to_have_count(0)
    await expect(page.locator("#or-invoice")).to_have_text("杭州某某科技有限公司（专票）")

    order = await stored_order(sessions, "T-5002")
    assert order.invoice_title == "杭州某某科技有限公司（专票）"
    check = await order_check(sessions, "T-5002")
    assert check.status is ConversationStatus.ASSIGNED
    assert check.disposition == "on_hold"
    assert {"on_hold", "invoice_confirmed"} <= set(check.tags)


async def test_another_agents_order_check_is_a_403_page(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaozhou", [ServiceRole.ORDER_REVIEW])
    await paid_order(desk, "T-5003", "阿强", address="待定")
    check = await order_check(sessions, "T-5003")
    await make_agent(
        sessions, shop_id, "xiaowang", [ServiceRole.ORDER_REVIEW], status=AgentStatus.OFFLINE
    )

    other = await signed_in("xiaowang", AGENT_PASSWORD)
    response = await other.goto(f"/console/order-items/{check.id}")
    assert response is not None
    assert response.status == 403
    await expect(other.get_by_role("alert")).to_contain_text(
        "你的账号没有打开这个页面或执行这个操作的权限"
    )
    await expect(other.get_by_role("alert")).not_to_contain_text("order_review.work")
    # Nothing waits for this reviewer: the shortcut says so instead of opening another's.
    response = await other.goto("/console/order-items")
    assert response is not None
    assert response.status == 200
    await expect(other.get_by_text("目前没有等你审核的订单。")).to_be_visible()
