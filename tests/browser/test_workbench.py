"""The agent workbench in a real browser: shift, a chat arriving live, quick replies with
variables, transfer, inert buyer markup, PII reveal with its audit trail, access by URL,
and the polling fallback when the live socket is unavailable.

Every wait is for a condition (Playwright's ``expect``); nothing sleeps.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, WebSocketRoute, expect
from sqlalchemy import select

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ServiceRole, UserRole
from csdesk.storage.models import Conversation
from tests.browser.conftest import Desk, SignIn, screenshot_path
from tests.helpers import make_agent, order_data

pytestmark = pytest.mark.browser
P = ServiceRole
AGENT_PASSWORD = "agent-password-1"  # what tests.helpers.make_agent sets
LEAD_PASSWORD = "lead-password-1"


async def conversation_of(sessions: SessionFactory, buyer_nick: str) -> Conversation:
    from csdesk.storage.models import Buyer

    async with sessions() as session:
        conversation = await session.scalar(
            select(Conversation)
            .join(Buyer, Buyer.id == Conversation.buyer_id)
            .where(Buyer.nick == buyer_nick, Conversation.kind == "chat")
        )
        assert conversation is not None
        return conversation


async def add_lead(sessions: SessionFactory, shop_id: str) -> None:
    await create_user(
        sessions,
        shop_id=shop_id,
        username="lead",
        role=UserRole.SUPERVISOR,
        password=LEAD_PASSWORD,
        display_name="王主管",
    )


async def test_chat_arrives_live_quick_reply_then_transfer_to_refund(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str, tmp_path: Path
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES], status=AgentStatus.OFFLINE)
    refunder = await make_agent(sessions, shop_id, "xiaoli", [P.REFUND])
    await desk.event("order.created", order_data("T-1001", nick="小鱼", amount="129.00"))
    await desk.event("order.paid", {"order_id": "T-1001"})

    page = await signed_in("xiaomei", AGENT_PASSWORD)
    await expect(page.locator("#list-empty")).to_be_visible()
    await page.get_by_role("button", name="上班").click()
    await expect(page.get_by_label("状态")).to_have_value("online")
    await expect(page.locator("#shift-roles")).to_contain_text("售前接待")
    await page.evaluate("window.__sameDocument = true")

    # A buyer writes: the signed event comes in, the chat shows up without a reload.
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "你好，这个保温杯有货吗？"})
    first = page.locator("#conversation-list .conv-row").filter(has_text="小鱼")
    await expect(first).to_be_visible()
    await expect(first).to_contain_text("你好，这个保温杯有货吗？")
    # A second buyer who has been waiting for minutes: the row is over the role's target.
    await desk.event(
        "message.received",
        {"buyer_nick": "阿杰", "text": "在吗？这个保温杯有黑色吗"},
        occurred_at=datetime.now(UTC) - timedelta(minutes=3),
    )
    late = page.locator("#conversation-list .conv-row").filter(has_text="阿杰")
    await expect(late).to_have_class(re.compile(r"\bis-overdue\b"))
    await expect(page.locator("#overdue-toast")).to_be_visible()
    assert await page.evaluate("window.__sameDocument") is True

    # The first chat opened by itself (nothing was open); Alt+↓ / Alt+↑ walk the list.
    await expect(page.locator("#chat-title")).to_have_text("小鱼")
    await page.locator("body").press("Alt+ArrowDown")
    await expect(page.locator("#chat-title")).to_have_text("阿杰")
    await page.locator("body").press("Alt+ArrowUp")
    await expect(page.locator("#chat-title")).to_have_text("小鱼")
    await expect(page.locator("#messages")).to_contain_text("你好，这个保温杯有货吗？")
    await expect(page.locator("#sec-orders-body")).to_contain_text("T-1001")
    await expect(page.locator("#sec-orders-body")).to_contain_text("待发货")
    await expect(page).to_have_url(re.compile(r"/console/conversations/\d+$"))

    # "/" opens quick replies; fuzzy search by code; variables come from the focus order.
    box = page.get_by_label("回复买家")
    await expect(box).to_be_focused()
    await box.press("/")
    search = page.get_by_role("combobox", name="快捷短语")
    await expect(search).to_be_focused()
    await search.fill("wfh")
    await expect(page.locator("#quick-options").get_by_role("option").first).to_contain_text(
        "T-1001"
    )
    await search.press("Enter")
    await expect(box).to_have_value(re.compile(r"订单T-1001还未发货，预计\d{1,2}月\d{1,2}日前发出"))
    await expect(page.get_by_role("button", name="发送")).to_be_enabled()
    await box.press("Enter")
    agent_message = page.locator("#messages .msg-agent")
    await expect(agent_message).to_contain_text("订单T-1001还未发货")
    await expect(box).to_have_value("")
    await expect(first.locator(".conv-timer")).to_have_text("")  # answered: no waiting clock

    # An unresolved variable (no tracking number yet) blocks sending.
    await box.press("/")
    await search.fill("物流单号 联系快递")
    await search.press("Enter")
    await expect(box).to_have_value(re.compile(r"\{物流单号\}"))
    await expect(page.locator("#composer-error")).to_contain_text("{物流单号}")
    await expect(page.get_by_role("button", name="发送")).to_be_disabled()
    await box.press("Enter")
    await expect(agent_message).to_have_count(1)
    await box.fill("")

    # Shift+Enter is a new line, not a send.
    await box.type("第一行")
    await box.press("Shift+Enter")
    await box.type("第二行")
    await expect(box).to_have_value("第一行\n第二行")
    await box.press("Enter")
    await expect(agent_message).to_have_count(2)
    await expect(agent_message.nth(1).locator(".msg-text")).to_have_text("第一行\n第二行")

    await page.screenshot(path=str(screenshot_path(tmp_path)))

    # Ctrl+K transfers; the handoff note is required.
    await box.press("Control+k")
    dialog = page.get_by_role("dialog", name="转接会话")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("radio", name=re.compile("退款")).check()
    await dialog.get_by_role("button", name="转接").click()
    await expect(dialog.get_by_role("alert")).to_have_text("请填写转接备注。")
    await dialog.get_by_label("转接备注（必填）").fill("买家要退款，订单已付款未发货")
    await dialog.get_by_role("button", name="转接").click()
    await expect(dialog).to_be_hidden()
    await expect(first).to_have_count(0)
    await expect(page.locator("#wb-notice")).to_have_text("小鱼：已转接到退款。")
    moved = await conversation_of(sessions, "小鱼")
    assert moved.role == "refund"
    assert moved.assigned_agent_id == refunder
    # The next conversation opens by itself.
    await expect(page.locator("#chat-title")).to_have_text("阿杰")


async def test_buyer_markup_is_shown_as_text_and_never_runs(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    page = await signed_in("xiaomei", AGENT_PASSWORD)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    nick = "<b>坏人</b><img src=x onerror=alert(3)>"
    text = (
        "<script>alert(1)</script>"
        '<img src=x onerror="window.__xss=1;alert(2)">'
        '<a href="javascript:alert(4)">点我</a>'
    )
    await desk.event("message.received", {"buyer_nick": nick, "text": text})
    listed = page.locator("#conversation-list .conv-row")
    await expect(listed).to_have_count(1)
    await expect(listed.locator(".conv-nick")).to_have_text(nick)
    await expect(listed.locator(".conv-preview")).to_have_text(text)
    await listed.click()
    await expect(page.locator("#chat-title")).to_have_text(nick)
    shown = page.locator("#messages .msg-buyer .msg-text")
    await expect(shown).to_have_text(text)
    await expect(page.locator("#sec-profile-body")).to_contain_text(nick)
    # Nothing the buyer sent became an element, so nothing could run.
    assert await page.locator("#workbench img, #workbench script, #workbench b").count() == 0
    assert await page.locator("#messages a").count() == 0
    assert await page.evaluate("window.__xss") is None
    assert dialogs == []


async def test_masked_phone_revealed_with_a_reason_lands_in_the_audit_log(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await add_lead(sessions, shop_id)
    await desk.event("order.created", order_data("T-2001", nick="小鱼"))
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "在吗"})
    page = await signed_in("xiaomei", AGENT_PASSWORD)
    await page.locator("#conversation-list .conv-row").first.click()
    orders = page.locator("#sec-orders-body")
    await expect(orders).to_contain_text("138****1234")
    await expect(orders).not_to_contain_text("13800001234")

    await page.get_by_role("button", name="查看订单 T-2001 的电话").click()
    dialog = page.get_by_role("dialog", name="查看买家信息")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="查看", exact=True).click()
    await expect(dialog.get_by_role("alert")).to_have_text("查看该信息需要填写原因。")
    await dialog.get_by_label("原因", exact=True).select_option(label="核对收货信息")
    await dialog.get_by_role("button", name="查看", exact=True).click()
    await expect(dialog).to_be_hidden()
    await expect(orders).to_contain_text("13800001234")
    await expect(orders).to_contain_text("浙江省杭州市****")  # the address stays masked

    lead = await signed_in("lead", LEAD_PASSWORD)
    response = await lead.request.get("/api/v1/audit")
    assert response.status == 200
    reveals = [e for e in (await response.json())["items"] if e["action"] == "pii.reveal"]
    assert len(reveals) == 1
    assert reveals[0]["actor_username"] == "xiaomei"
    assert reveals[0]["reason"] == "核对收货信息"
    assert reveals[0]["detail"]["field"] == "phone"


async def test_conversation_url_is_403_for_other_agents_and_open_to_supervisors(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "这个有货吗"})
    conversation = await conversation_of(sessions, "小鱼")
    await make_agent(sessions, shop_id, "xiaoli", [P.REFUND])
    await add_lead(sessions, shop_id)
    url = f"/console/conversations/{conversation.id}"

    other = await signed_in("xiaoli", AGENT_PASSWORD)
    response = await other.goto(url)
    assert response is not None
    assert response.status == 403
    # In words a colleague reads, not the rule's name.
    await expect(other.get_by_role("alert")).to_contain_text(
        "你的账号没有打开这个页面或执行这个操作的权限"
    )
    await expect(other.get_by_role("alert")).not_to_contain_text("conversations.read")
    api = await other.request.get(f"/api/v1/conversations/{conversation.id}/messages")
    assert api.status == 403

    lead = await signed_in("lead", LEAD_PASSWORD)
    response = await lead.goto(url)
    assert response is not None
    assert response.status == 200
    await expect(lead.locator("#chat-title")).to_have_text("小鱼")
    await expect(lead.locator("#messages")).to_contain_text("这个有货吗")
    await expect(lead.locator("#chat-meta")).to_contain_text("接待人 xiaomei")
    await expect(lead.get_by_label("回复买家")).to_be_disabled()
    await expect(lead.get_by_role("button", name=re.compile("^转接"))).to_be_disabled()
    # The cheat sheet opens from the keyboard anywhere.
    await lead.locator("body").press("Control+/")
    await expect(lead.get_by_role("dialog", name="键盘快捷键")).to_be_visible()


async def test_polling_keeps_the_list_current_without_the_live_socket(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])

    async def refuse(socket: WebSocketRoute) -> None:
        await socket.close()

    page = await signed_in("xiaomei", AGENT_PASSWORD)
    await page.route_web_socket(re.compile(r"/api/v1/live$"), refuse)
    await page.reload()
    await expect(page.locator("#live-state")).to_have_attribute(
        "data-mode", re.compile("polling|reconnecting")
    )
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "有人吗"})
    await expect(page.locator("#conversation-list .conv-row")).to_contain_text("有人吗")

    # English, and back: the switch is remembered for this browser.
    await page.get_by_role("button", name="EN").click()
    await expect(page.get_by_role("heading", name=re.compile("My conversations"))).to_be_visible()
    await expect(page.locator("#conversation-list .conv-row .tag-role")).to_have_text("Presales")
    await page.get_by_role("button", name="中文").click()
    await expect(page.get_by_role("heading", name=re.compile("我的会话"))).to_be_visible()


async def test_send_key_and_panel_layout_are_remembered_per_agent(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "在吗"})
    await desk.event("message.received", {"buyer_nick": "阿杰", "text": "有货吗"})
    page = await signed_in("xiaomei", AGENT_PASSWORD)
    await expect(page.locator("#chat-title")).to_have_text("小鱼")
    box = page.get_by_label("回复买家")

    # Ctrl+Enter mode: Enter is a new line, Ctrl+Enter sends.
    await page.get_by_label("发送键").select_option("ctrl-enter")
    await box.fill("亲，在的")
    await box.press("Enter")
    await expect(box).to_have_value("亲，在的\n")
    await expect(page.locator("#messages .msg-agent")).to_have_count(0)
    await box.press("Control+Enter")
    await expect(page.locator("#messages .msg-agent")).to_have_count(1)

    # A draft stays with its conversation while the agent looks elsewhere.
    await box.fill("草稿还没发")
    await page.locator("body").press("Alt+ArrowDown")
    await expect(page.locator("#chat-title")).to_have_text("阿杰")
    await expect(box).to_have_value("")
    await page.locator("body").press("Alt+ArrowUp")
    await expect(box).to_have_value("草稿还没发")

    # The buyer panel: move "订单" up, fold "历史会话"; both survive a reload.
    panel = page.locator("#panel-sections > .panel-section")
    await page.get_by_role("button", name="上移：订单").click()
    await page.get_by_role("button", name="历史会话", exact=True).click()
    await page.reload()
    await expect(panel.first).to_have_attribute("data-section", "orders")
    await expect(page.get_by_role("button", name="历史会话", exact=True)).to_have_attribute(
        "aria-expanded", "false"
    )
    await expect(page.get_by_label("发送键")).to_have_value("ctrl-enter")


async def set_tab_hidden(page: Page, hidden: bool) -> None:
    """Headless tabs are always visible: stand in for the agent switching tabs by overriding
    ``document.visibilityState`` and firing ``visibilitychange``, as the browser would."""
    await page.evaluate(
        """(hidden) => {
          const state = hidden ? "hidden" : "visible";
          const define = (name, value) =>
            Object.defineProperty(document, name, { configurable: true, get: () => value });
          define("visibilityState", state);
          define("hidden", hidden);
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


async def test_unread_messages_count_in_the_title_and_chime_every_30_s_until_read(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "在吗"})
    page = await signed_in("xiaomei", AGENT_PASSWORD)
    await page.clock.install()  # real time flows; fast_forward jumps over the 30 s
    await page.reload()
    await expect(page.locator("html[data-workbench='ready']")).to_be_attached()
    root = page.locator("#workbench")
    await expect(page.locator("#chat-title")).to_have_text("小鱼")
    await expect(page).to_have_title("工作台 · csdesk")
    await page.locator("#transcript").click()  # a gesture: the browser lets audio start

    # A new chat while another is open: unread, in the title, one chime.
    await desk.event("message.received", {"buyer_nick": "阿杰", "text": "有黑色的吗"})
    await expect(page.locator("#conversation-list .conv-row")).to_have_count(2)
    await expect(page).to_have_title("(1) 工作台 · csdesk")
    await expect(root).to_have_attribute("data-alerts-rung", "1")
    await desk.event("message.received", {"buyer_nick": "阿杰", "text": "在吗在吗"})
    await expect(page).to_have_title("(2) 工作台 · csdesk")
    await expect(root).to_have_attribute("data-alerts-rung", "2")
    await expect(root).to_have_attribute("data-alert-sound", "played")

    # Unread for 30 s: it chimes again.
    await page.clock.fast_forward("00:31")
    await expect(root).to_have_attribute("data-alerts-rung", "3")

    # Opening the conversation reads it; no more chimes.
    await page.locator("#conversation-list .conv-row").filter(has_text="阿杰").click()
    await expect(page.locator("#chat-title")).to_have_text("阿杰")
    await expect(page).to_have_title("工作台 · csdesk")
    await expect(root).to_have_attribute("data-unread", "0")
    await page.clock.fast_forward("00:31")
    await page.clock.fast_forward("00:31")
    await expect(root).to_have_attribute("data-alerts-rung", "3")

    # The tab in the background: even the open conversation's messages are unread, until
    # the agent comes back to the tab.
    await set_tab_hidden(page, True)
    await desk.event("message.received", {"buyer_nick": "阿杰", "text": "人呢"})
    await expect(page.locator("#messages")).to_contain_text("人呢")
    await expect(page).to_have_title("(1) 工作台 · csdesk")
    await expect(root).to_have_attribute("data-alerts-rung", "4")
    await set_tab_hidden(page, False)
    await expect(page).to_have_title("工作台 · csdesk")

    # The agent's choice: no chime while the tab is in front (the title still counts);
    # remembered with the other preferences.
    toggle = page.get_by_label("页面在前台时也响铃")
    await expect(toggle).to_be_checked()
    await toggle.uncheck()
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "还有一个问题"})
    await expect(page).to_have_title("(1) 工作台 · csdesk")
    await expect(root).to_have_attribute("data-alert-sound", "muted")
    await expect(root).to_have_attribute("data-alerts-rung", "4")
    await page.reload()
    await expect(page.get_by_label("页面在前台时也响铃")).not_to_be_checked()


async def test_a_reply_with_a_forbidden_phrase_is_held_then_sent_anyway(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await add_lead(sessions, shop_id)
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "这个有货吗"})
    page = await signed_in("xiaomei", AGENT_PASSWORD)
    await expect(page.locator("#chat-title")).to_have_text("小鱼")
    box = page.get_by_label("回复买家")
    sent = page.locator("#messages .msg-agent")
    reminder = page.locator("#held-box")

    await box.fill("不知道呢")
    await box.press("Enter")
    alert = page.get_by_role("alert").filter(has_text="服务态度提醒")
    await expect(alert).to_contain_text("服务态度提醒：这条回复还没有发出。")
    await expect(alert).to_contain_text("“不知道”：推诿")
    await expect(sent).to_have_count(0)
    await expect(box).to_have_value("不知道呢")

    # Editing puts the reminder away; the rewritten reply is checked again on sending.
    await page.get_by_role("button", name="修改回复").click()
    await expect(reminder).to_be_hidden()
    await expect(box).to_be_focused()
    await box.fill("这个我也不知道，你自己看详情页吧")
    await box.press("Enter")
    await expect(alert).to_contain_text("“不知道”")
    await expect(alert).to_contain_text("“自己看”：把事情推回给买家")
    await expect(sent).to_have_count(0)

    await page.get_by_role("button", name="仍然发送").click()
    await expect(sent).to_have_text(re.compile("这个我也不知道，你自己看详情页吧"))
    await expect(reminder).to_be_hidden()
    await expect(box).to_have_value("")

    lead = await signed_in("lead", LEAD_PASSWORD)
    response = await lead.request.get("/api/v1/audit")
    overrides = [
        e for e in (await response.json())["items"] if e["action"] == "reply.forbidden_override"
    ]
    assert len(overrides) == 1
    assert overrides[0]["actor_username"] == "xiaomei"
    assert overrides[0]["detail"]["phrases"] == ["不知道", "自己看"]


async def test_auto_suspend_setting_takes_the_agent_busy_at_n_chats_and_back(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "这个有货吗"})
    page = await signed_in("xiaomei", AGENT_PASSWORD)
    status = page.get_by_label("状态")
    setting = page.get_by_label("自动挂起")
    hint = page.locator("#auto-suspend-hint")
    await expect(status).to_have_value("online")
    await expect(setting).to_have_value("")  # the shop's default: off
    await expect(setting.locator("option").first).to_have_text("店铺默认：关闭")

    await setting.select_option(label="同时接待 2 个时")
    await expect(hint).to_contain_text("同时接待达到 2 个会话时自动挂起")
    await desk.event("message.received", {"buyer_nick": "阿杰", "text": "这个有货吗"})
    await expect(page.locator("#conversation-list .conv-row")).to_have_count(2)
    await expect(status).to_have_value("busy")  # announced live
    await expect(hint).to_have_text("已自动挂起：接待数低于 2 个后恢复在线，期间不分配新会话。")

    await page.locator("body").press("Alt+c")
    dialog = page.get_by_role("dialog", name="结束会话")
    await dialog.get_by_label("结果").select_option(index=1)
    await dialog.get_by_role("button", name="结束会话").click()
    await expect(page.locator("#conversation-list .conv-row")).to_have_count(1)
    await expect(status).to_have_value("online")
    await page.reload()
    await expect(page.get_by_label("自动挂起")).to_have_value("2")


async def test_internal_note_with_a_mention_reaches_the_colleague_named(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES, P.AFTERSALES_TRIAGE])
    await add_lead(sessions, shop_id)
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "你们这质量太差了"})
    lead = await signed_in("lead", LEAD_PASSWORD)
    page = await signed_in("xiaomei", AGENT_PASSWORD)
    await expect(page.locator("#chat-title")).to_have_text("小鱼")

    # Alt+N: the box writes an internal note instead of a reply.
    await page.get_by_label("回复买家").press("Alt+n")
    note_box = page.get_by_label("内部备注（买家看不到）")
    await expect(note_box).to_be_focused()
    await expect(page.get_by_role("radio", name="内部备注")).to_be_checked()
    await expect(page.get_by_role("button", name="添加备注")).to_be_visible()
    await note_box.fill("@lead 买家说质量差要投诉，请帮忙看看")
    await note_box.press("Enter")
    note = page.locator("#messages .msg-note")
    await expect(note).to_contain_text("内部备注 · xiaomei")
    await expect(note).to_contain_text("@lead 买家说质量差要投诉，请帮忙看看")
    await expect(page.locator("#wb-notice")).to_have_text("备注已添加，已通知 王主管。")
    await expect(note_box).to_have_value("")
    # Not an answer: the buyer is still waiting, the row still shows the buyer's words.
    row = page.locator("#conversation-list .conv-row").filter(has_text="小鱼")
    await expect(row.locator(".conv-preview")).to_have_text("你们这质量太差了")
    await expect(row.locator(".conv-timer")).not_to_have_text("")

    # The supervisor named sees it at once, hears it (one chime, nothing of theirs unread)
    # and can open the conversation from it.
    mention = lead.get_by_role("region", name="备注中提到我")
    await expect(mention).to_contain_text("xiaomei 在备注中提到了你（小鱼）")
    await expect(mention).to_contain_text("请帮忙看看")
    await expect(lead.locator("#workbench")).to_have_attribute("data-alerts-rung", "1")
    await expect(lead.locator("#workbench")).to_have_attribute("data-unread", "0")
    await mention.get_by_role("link", name="打开").click()
    await expect(lead.locator("#chat-title")).to_have_text("小鱼")
    await expect(lead.locator("#messages .msg-note")).to_contain_text("请帮忙看看")

    # Alt+N again: back to replying to the buyer.
    await note_box.press("Alt+n")
    await expect(page.get_by_label("回复买家")).to_be_focused()
    await expect(page.get_by_role("button", name="发送")).to_be_visible()
