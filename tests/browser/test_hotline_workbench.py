"""The hotline workbench in a real browser: an inbound call from a known buyer's number opens
as a masked caller card and closes with an outcome; proactive calls to complaint-risk buyers
get an outcome per buyer on the outbound list; a supervisor creates a notice campaign from
an order filter and sees its buyers; another agent's call item is a 403 page.

Work arrives as signed platform events; every wait is for a condition (Playwright's
``expect``); nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from csdesk.actions.outbox import Deps
from csdesk.actions.sweeps import activate_due_items
from csdesk.actions.users import create_user
from csdesk.keys import BUS_KEY, SESSIONS_KEY
from csdesk.routing.queues import QUEUE_KEY
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ConversationStatus, ServiceRole, UserRole
from csdesk.storage.models import AuditLog, Conversation
from tests.browser.conftest import Desk, SignIn
from tests.helpers import make_agent, order_data

NO_RIGHT = "没有打开这个页面或执行这个操作的权限"  # the 403 page (never the rule's name)

pytestmark = pytest.mark.browser
AGENT_PASSWORD = "agent-password-1"  # what tests.helpers.make_agent sets
LEAD_PASSWORD = "lead-password-1"
CLOSED = ConversationStatus.CLOSED


async def paid_order(desk: Desk, order_id: str, nick: str, **extra: Any) -> None:
    await desk.event("order.created", order_data(order_id, nick=nick, **extra))
    await desk.event("order.paid", {"order_id": order_id})


async def items(sessions: SessionFactory, kind: str) -> list[Conversation]:
    async with sessions() as session:
        query = select(Conversation).where(Conversation.kind == kind).order_by(Conversation.id)
        return list(await session.scalars(query))


async def audit_rows(sessions: SessionFactory, action: str) -> list[AuditLog]:
    async with sessions() as session:
        return list(await session.scalars(select(AuditLog).where(AuditLog.action == action)))


async def hotline_page(page: Page) -> None:
    await page.goto("/console/")
    await page.get_by_role("link", name="热线工作台 / Hotline workbench").click()
    await page.wait_for_url("**/console/hotline")
    await expect(page.locator("html[data-hotline='ready']")).to_be_attached()


async def test_inbound_call_card_shows_the_caller_masked_and_records_the_outcome(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    agent = await make_agent(sessions, shop_id, "xiaore", [ServiceRole.HOTLINE])
    # The buyer is known from an earlier order: its receiver phone is the calling number.
    await paid_order(desk, "T-5001", "老客户", amount="299.00", receiver_phone="13812345678")
    await desk.event("call.inbound", {"call_id": "CALL-5001", "caller_phone": "138-1234-5678"})
    (call,) = await items(sessions, "call")
    assert call.assigned_agent_id == agent

    # The call is in the agent's list; its row links to the call card.
    page = await signed_in("xiaore", AGENT_PASSWORD)
    row = page.locator("#conversation-list .conv-row").filter(has_text="来电")
    await expect(row.locator(".conv-link")).to_have_attribute(
        "href", f"/console/call-items/{call.id}"
    )
    await row.locator(".conv-link").click()
    await page.wait_for_url(f"**/console/call-items/{call.id}")
    await expect(page.locator("html[data-hotline='ready']")).to_be_attached()
    await expect(page.locator("#hc-kind")).to_have_text("来电")
    await expect(page.locator("#hc-status")).to_have_text("接待中")

    # The caller, found by the number: masked, with the order the buyer placed.
    await expect(page.locator("#hc-phone")).to_have_text("138****5678")
    card = page.get_by_role("article").filter(has_text="老客户")
    await expect(card).to_have_count(1)
    await expect(card.get_by_role("heading", name="老客户")).to_be_visible()
    await expect(card).to_contain_text("T-5001 · 待发货 · ¥299.00")
    await expect(page.locator("#hc-notes")).to_contain_text("来电 CALL-5001")
    assert "13812345678" not in await page.content()
    lookups = await audit_rows(sessions, "hotline.lookup")
    assert [(r.actor_id, r.target_id) for r in lookups] == [(agent, "138****5678")]

    # No outcome chosen: stopped in place, nothing changes.
    record = page.get_by_role("button", name="记录通话结果")
    await record.click()
    await expect(page.get_by_role("alert").filter(has_text="请先选择结果。")).to_be_visible()
    (call,) = await items(sessions, "call")
    assert call.status is ConversationStatus.ASSIGNED

    await page.get_by_role("radio", name="已解答").check()
    await record.click()
    await expect(page.get_by_role("status").filter(has_text="已记录结果：已解答。")).to_be_visible()
    await expect(page.locator("#hc-status")).to_have_text("已关闭")
    await expect(record).to_be_hidden()

    (call,) = await items(sessions, "call")
    assert call.status is CLOSED
    assert call.disposition == "answered"
    assert call.closed_at is not None


async def test_complaint_risk_calls_get_an_outcome_per_buyer(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    agent = await make_agent(sessions, shop_id, "xiaore", [ServiceRole.HOTLINE])
    for order_id, nick, phone in (
        ("T-5101", "小李", "13900001111"),
        ("T-5102", "老张", "13900002222"),
    ):
        await paid_order(desk, order_id, nick, receiver_phone=phone)
        # An angry message books a proactive call (seed 003: call before the complaint).
        await desk.event(
            "message.received", {"buyer_nick": nick, "text": "再不处理我就给差评 投诉你们"}
        )
    calls = await items(sessions, "proactive_call")
    assert len(calls) == 2
    due = max(c.not_before or c.opened_at for c in calls)
    # Outbound calls wait out the quiet hours: let the clock reach them.
    app = desk.server.app
    await activate_due_items(
        Deps(app[SESSIONS_KEY], app[BUS_KEY], app[QUEUE_KEY]), due + timedelta(seconds=1)
    )
    calls = await items(sessions, "proactive_call")
    mine = [c for c in calls if c.assigned_agent_id == agent]
    assert len(mine) == 1  # one call at a time (hotline capacity 1); the other waits
    first = mine[0]
    nicks = {calls[0].id: "小李", calls[1].id: "老张"}
    first_nick = nicks[first.id]
    other = next(c for c in calls if c.id != first.id)
    other_nick = nicks[other.id]

    page = await signed_in("xiaore", AGENT_PASSWORD)
    await hotline_page(page)
    section = page.locator("#hl-kind-proactive_call")
    await expect(section.get_by_role("heading", name="主动外呼 (2)")).to_be_visible()
    first_row = section.locator("tbody tr").filter(has_text=first_nick)
    other_row = section.locator("tbody tr").filter(has_text=other_nick)
    await expect(first_row).to_contain_text("我的")
    await expect(other_row).to_contain_text("等待客服接手")
    await expect(other_row.get_by_role("combobox")).to_have_count(0)
    await expect(first_row.get_by_role("link", name=first_nick)).to_have_attribute(
        "href", f"/console/call-items/{first.id}"
    )

    # The number to dial: revealed with a reason (audited), masked until then.
    phone = "13900001111" if first_nick == "小李" else "13900002222"
    masked = phone[:3] + "****" + phone[-4:]
    await expect(first_row).to_contain_text(masked)
    await first_row.get_by_role("button", name=f"查看{first_nick}的电话").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("原因", exact=True).select_option(label="电话联系买家")
    await dialog.get_by_role("button", name="查看", exact=True).click()
    await expect(first_row).to_contain_text(phone)
    reveals = await audit_rows(sessions, "pii.reveal")
    assert [(r.actor_id, r.reason) for r in reveals] == [(agent, "电话联系买家")]

    # Recording needs a choice; then the row shows the result in place.
    record = first_row.get_by_role("button", name=f"记录{first_nick}的通话结果")
    await record.click()
    await expect(page.locator("#hl-error")).to_have_text(f"请先选择{first_nick}的通话结果。")
    await first_row.get_by_role("combobox", name=f"{first_nick}的通话结果").select_option(
        label="已接通"
    )
    await record.click()
    await expect(
        page.get_by_role("status").filter(has_text=f"已记录{first_nick}的通话结果：已接通。")
    ).to_be_visible()
    await expect(first_row).to_contain_text("已记录：已接通")
    async with sessions() as session:
        done = await session.get(Conversation, first.id)
        waiting = await session.get(Conversation, other.id)
    assert done is not None
    assert waiting is not None
    assert (done.status, done.disposition) == (CLOSED, "call_reached")
    # The freed line takes the waiting call at once.
    assert waiting.assigned_agent_id == agent

    await page.get_by_role("button", name="刷新列表").click()
    await expect(section.get_by_role("heading", name="主动外呼 (1)")).to_be_visible()
    await other_row.get_by_role("combobox", name=f"{other_nick}的通话结果").select_option(
        label="无人接听"
    )
    await other_row.get_by_role("button", name=f"记录{other_nick}的通话结果").click()
    await expect(other_row).to_contain_text("已记录：无人接听")
    async with sessions() as session:
        second = await session.get(Conversation, other.id)
    assert second is not None
    assert (second.status, second.disposition) == (CLOSED, "call_no_answer")


async def test_supervisor_creates_a_notice_campaign_and_sees_its_buyers(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await create_user(
        sessions,
        shop_id=shop_id,
        username="lead",
        role=UserRole.SUPERVISOR,
        password=LEAD_PASSWORD,
    )
    presale = "双十一预售"
    await paid_order(desk, "T-6001", "买家甲", campaign=presale)
    await paid_order(desk, "T-6002", "买家甲", campaign=presale, amount="599.00")
    await paid_order(desk, "T-6003", "买家乙", campaign=presale)
    await paid_order(desk, "T-6004", "买家丙")  # not in the presale

    page = await signed_in("lead", LEAD_PASSWORD)
    await hotline_page(page)
    await expect(page.locator("#hl-runs-empty")).to_be_visible()
    create = page.get_by_role("button", name="创建活动")

    # The filter is required: no order campaign and no SKU is refused in place.
    await page.get_by_label("活动名称（必填）").fill("预售延迟发货")
    await page.get_by_label("告知买家的内容（必填）").fill("双十一预售商品7天内无法发货, 致电说明")
    await create.click()
    await expect(page.locator("#hl-campaign-error")).to_have_text("请填写订单活动或 SKU。")
    await expect(page.get_by_label("订单活动")).to_be_focused()

    await page.get_by_label("订单活动").fill(presale)
    await page.get_by_role("button", name="预览人数").click()
    await expect(page.locator("#hl-campaign-result")).to_have_text(
        "匹配 3 个订单：将呼叫 2 位买家（其中 0 位已有未完成的通话）。"
    )
    assert await items(sessions, "notice_call") == []

    await create.click()
    await expect(page.locator("#hl-campaign-result")).to_have_text(
        "已创建活动「预售延迟发货」：为 2 位买家新建 2 通外呼。"
    )
    # Its progress lists each buyer once, with the order the call is about.
    progress = page.locator("#hl-progress")
    await expect(progress.get_by_role("heading")).to_have_text("活动进度：预售延迟发货")
    rows = progress.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.filter(has_text="买家甲")).to_contain_text("T-6002")
    await expect(rows.filter(has_text="买家乙")).to_contain_text("T-6003")
    await expect(rows.filter(has_text="买家丙")).to_have_count(0)
    await expect(page.locator("#hl-runs tbody tr").filter(has_text="预售延迟发货")).to_have_count(1)

    calls = await items(sessions, "notice_call")
    assert len(calls) == 2
    assert all("notice:预售延迟发货" in c.tags for c in calls)

    # The calls are on the notice list; a supervisor may log one for the team.
    notices = page.locator("#hl-kind-notice_call")
    await expect(notices.locator("tbody tr")).to_have_count(2)
    row = notices.locator("tbody tr").filter(has_text="买家乙")
    await row.get_by_role("combobox", name="买家乙的通话结果").select_option(label="已接通")
    await row.get_by_role("button", name="记录买家乙的通话结果").click()
    await expect(rows.filter(has_text="买家乙")).to_contain_text("已接通")
    await expect(progress.locator("#hl-progress-counts")).to_contain_text("已接通 1")
    called = next(c for c in await items(sessions, "notice_call") if c.status is CLOSED)
    assert called.disposition == "call_reached"
    assert called.id in {c.id for c in calls}


async def test_another_agents_call_item_is_a_403_page(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:

    await make_agent(sessions, shop_id, "xiaore", [ServiceRole.HOTLINE])
    await desk.event("call.inbound", {"call_id": "CALL-5301", "caller_phone": "13700001111"})
    (call,) = await items(sessions, "call")
    await make_agent(sessions, shop_id, "xiaoyu", [ServiceRole.HOTLINE], status=AgentStatus.OFFLINE)

    other = await signed_in("xiaoyu", AGENT_PASSWORD)
    response = await other.goto(f"/console/call-items/{call.id}")
    assert response is not None
    assert response.status == 403
    await expect(other.get_by_role("alert")).to_contain_text(NO_RIGHT)
    await expect(other.get_by_role("alert")).not_to_contain_text("hotline.work")
    assert "13700001111" not in await other.content()
