"""The refund workbench in a real browser: a refund reviewer approves before the deadline
(issue 4), a rejection without a reason is stopped in place, and another agent's refund
item is a 403 page.

Every wait is for a condition (Playwright's ``expect``); nothing sleeps.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ConversationStatus, RefundStatus, ServiceRole
from csdesk.storage.models import Conversation, Refund
from tests.browser.conftest import Desk, SignIn
from tests.helpers import make_agent, order_data

NO_RIGHT = "没有打开这个页面或执行这个操作的权限"  # the 403 page (never the rule's name)

pytestmark = pytest.mark.browser
AGENT_PASSWORD = "agent-password-1"  # what tests.helpers.make_agent sets
TIME_LEFT = re.compile(r"^剩余 \d+小时\d{2}分\d{2}秒$")


async def refund_requested(desk: Desk, order_id: str, refund_id: str, nick: str) -> None:
    """A paid order and its refund request, as the platform sends them (signed)."""
    await desk.event("order.created", order_data(order_id, nick=nick, amount="199.00"))
    await desk.event("order.paid", {"order_id": order_id})
    await desk.event(
        "refund.requested",
        {
            "refund_id": refund_id,
            "order_id": order_id,
            "kind": "refund_only",
            "amount": "199.00",
            "reason": "不想要了",
        },
    )


async def review_item(sessions: SessionFactory, refund_external_id: str) -> Conversation:
    async with sessions() as session:
        item = await session.scalar(
            select(Conversation)
            .join(Refund, Refund.id == Conversation.refund_id)
            .where(Refund.external_id == refund_external_id, Conversation.kind == "refund_review")
        )
        assert item is not None
        return item


async def refund_status(page: Page, item_id: int) -> tuple[str, str]:
    response = await page.request.get(f"/api/v1/refund-items/{item_id}")
    assert response.status == 200, await response.text()
    body = await response.json()
    return body["refund"]["status"], body["conversation"]["status"]


async def test_refund_reviewer_approves_before_the_deadline(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    reviewer = await make_agent(sessions, shop_id, "xiaoli", [ServiceRole.REFUND])
    await refund_requested(desk, "T-3001", "R-3001", "小鱼")
    review = await review_item(sessions, "R-3001")
    assert review.assigned_agent_id == reviewer

    # The review is in the agent's list; its row links to the refund workbench.
    page = await signed_in("xiaoli", AGENT_PASSWORD)
    row = page.locator("#conversation-list .conv-row").filter(has_text="小鱼")
    await expect(row.locator(".conv-link")).to_have_attribute(
        "href", f"/console/refund-items/{review.id}"
    )
    await row.locator(".conv-link").click()
    await page.wait_for_url(f"**/console/refund-items/{review.id}")
    await expect(page.locator("html[data-refund='ready']")).to_be_attached()
    await expect(page.locator("#rf-amount")).to_have_text("¥199.00")
    await expect(page.locator("#rf-reason")).to_have_text("不想要了")
    await expect(page.locator("#rf-kind")).to_have_text("退款审核")
    await expect(page.locator("#rf-refund-kind")).to_have_text("仅退款")
    await expect(page.locator("#rf-order")).to_contain_text("T-3001")
    await expect(page.locator("#rf-buyer")).to_have_text("小鱼")
    await expect(page.locator("#rf-status")).to_have_text("待审核")

    # Before the deadline: the countdown shows the time left, not in red, not overdue.
    timer = page.get_by_role("timer")
    await expect(timer).to_have_text(TIME_LEFT)
    await expect(timer).to_have_attribute("data-state", "running")
    await expect(page.locator("#rf-deadline-at")).not_to_be_empty()
    # Refund-only on an unshipped order: approve, reject and intercept are on offer.
    await expect(page.get_by_role("button", name="拦截发货")).to_be_visible()
    await expect(page.get_by_role("button", name="退款完成")).to_be_hidden()
    await expect(page.get_by_role("button", name="已收到退货")).to_be_hidden()

    # Rejecting needs a reason: the error shows in place and nothing changes.
    await page.get_by_role("button", name="拒绝", exact=True).click()
    await expect(page.locator("#rf-reject-error")).to_have_text("请填写拒绝原因。")
    await expect(page.get_by_role("alert").filter(has_text="请填写拒绝原因。")).to_be_visible()
    await expect(page.get_by_label("拒绝原因（必填，买家可见）")).to_be_focused()
    assert await refund_status(page, review.id) == ("requested", "assigned")

    # 同意退款: the result shows without a reload.
    await page.evaluate("window.__sameDocument = true")
    await page.get_by_role("button", name="同意退款").click()
    await expect(page.get_by_role("status").filter(has_text="已同意退款。")).to_be_visible()
    await expect(page.locator("#rf-status")).to_have_text("已同意")
    await expect(page.locator("#rf-item-status")).to_have_text("已关闭")
    await expect(page.get_by_role("button", name="同意退款")).to_be_hidden()
    await expect(page.get_by_role("button", name="拒绝", exact=True)).to_be_hidden()
    assert await page.evaluate("window.__sameDocument") is True

    # The server agrees: approved, and before the deadline (no after_deadline flag).
    assert await refund_status(page, review.id) == ("approved", "closed")
    review = await review_item(sessions, "R-3001")
    async with sessions() as session:
        refund = await session.scalar(select(Refund).where(Refund.external_id == "R-3001"))
    assert refund is not None
    assert refund.status is RefundStatus.APPROVED
    assert review.status is ConversationStatus.CLOSED
    assert review.disposition == "refund_approved"
    assert "after_deadline" not in review.tags
    assert review.closed_at is not None
    assert review.closed_at < refund.deadline_at


async def test_another_agents_refund_item_is_a_403_page(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaoli", [ServiceRole.REFUND])
    await refund_requested(desk, "T-3002", "R-3002", "阿杰")
    review = await review_item(sessions, "R-3002")
    await make_agent(
        sessions, shop_id, "xiaowang", [ServiceRole.REFUND], status=AgentStatus.OFFLINE
    )

    other = await signed_in("xiaowang", AGENT_PASSWORD)
    response = await other.goto(f"/console/refund-items/{review.id}")
    assert response is not None
    assert response.status == 403
    await expect(other.get_by_role("alert")).to_contain_text(NO_RIGHT)
    await expect(other.get_by_role("alert")).not_to_contain_text("refund.review")


async def set_deadline(sessions: SessionFactory, refund_external_id: str, at: datetime) -> None:
    async with sessions.begin() as session:
        refund = await session.scalar(
            select(Refund).where(Refund.external_id == refund_external_id)
        )
        assert refund is not None
        refund.deadline_at = at


async def test_countdown_turns_red_in_the_last_hour_then_reads_overdue(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:

    await make_agent(sessions, shop_id, "xiaoli", [ServiceRole.REFUND])
    await refund_requested(desk, "T-3003", "R-3003", "阿强")
    review = await review_item(sessions, "R-3003")
    page = await signed_in("xiaoli", AGENT_PASSWORD)

    await set_deadline(sessions, "R-3003", datetime.now(UTC) + timedelta(minutes=30))
    await page.goto(f"/console/refund-items/{review.id}")
    timer = page.get_by_role("timer")
    await expect(timer).to_have_text(re.compile(r"^剩余 0小时[23]\d分\d{2}秒$"))
    await expect(timer).to_have_attribute("data-state", "urgent")
    await expect(timer).to_have_class(re.compile(r"\bis-urgent\b"))

    # Past the deadline: 已超时; rejecting is gone, approving (recorded as late) stays.
    await set_deadline(sessions, "R-3003", datetime.now(UTC) - timedelta(minutes=1))
    await page.reload()
    await expect(timer).to_have_text("已超时")
    await expect(timer).to_have_class(re.compile(r"\bis-overdue\b"))
    await expect(page.locator("#rf-overdue-note")).to_be_visible()
    await expect(page.get_by_role("button", name="拒绝", exact=True)).to_be_hidden()
    await expect(page.get_by_role("button", name="同意退款")).to_be_visible()
