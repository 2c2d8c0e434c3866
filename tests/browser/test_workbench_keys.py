"""The workbench's newer keys and helpers in Chromium: Alt+S suspends and resumes, Alt+Z
snoozes (the row sinks), Alt+E resolves and opens the next chat, the transfer picker shows
each colleague's status and load and hands to one of them, @ completes a colleague's name
in a note, a suggested reply for the triaged intent is taken with Tab (never sent by
itself), and the buyer panel lists the notes about the buyer.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.storage.models import Buyer, Conversation
from tests.browser.conftest import Desk, SignIn
from tests.helpers import make_agent, order_data

pytestmark = pytest.mark.browser
P = ServiceRole
PASSWORD = "agent-password-1"


async def chat_of(sessions: SessionFactory, nick: str) -> Conversation:
    async with sessions() as session:
        found = await session.scalar(
            select(Conversation)
            .join(Buyer, Buyer.id == Conversation.buyer_id)
            .where(Buyer.nick == nick, Conversation.kind == "chat")
        )
        assert found is not None
        return found


async def test_suspend_snooze_resolve_and_transfer_to_a_colleague_by_key(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    colleague = await make_agent(sessions, shop_id, "xiaoli", [P.REFUND], chat_capacity=4)
    for nick, text in (("小鱼", "在吗"), ("阿杰", "你好"), ("小王", "有人吗")):
        await desk.event("message.received", {"buyer_nick": nick, "text": text})
    page = await signed_in("xiaomei", PASSWORD)
    await expect(page.locator("#conversation-list .conv-row")).to_have_count(3)
    await expect(page.locator("#chat-title")).to_have_text("小鱼")
    body = page.locator("body")

    # Alt+S: 挂起 and back.
    status = page.get_by_label("状态")
    await body.press("Alt+s")
    await expect(status).to_have_value("busy")
    await body.press("Alt+s")
    await expect(status).to_have_value("online")

    # Alt+Z: snoozed, the row sinks to the bottom, the next chat opens.
    await body.press("Alt+z")
    dialog = page.get_by_role("dialog", name="稍后处理此会话")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="稍后处理").click()
    await expect(dialog).to_be_hidden()
    rows = page.locator("#conversation-list .conv-row")
    await expect(rows.last).to_contain_text("小鱼")
    await expect(rows.last).to_have_class(re.compile(r"\bis-snoozed\b"))
    await expect(rows.last.locator(".conv-timer")).to_contain_text("稍后")
    await expect(page.locator("#chat-title")).not_to_have_text("小鱼")
    snoozed = await chat_of(sessions, "小鱼")
    assert snoozed.snoozed_until is not None

    # Alt+E: resolved (已解答) and the next one opens.
    current = await page.locator("#chat-title").text_content()
    assert current in ("阿杰", "小王")
    await body.press("Alt+e")
    await expect(page.locator("#wb-notice")).to_have_text(f"{current}：已解决。")
    closed = await chat_of(sessions, current)
    assert closed.status.value == "closed"
    assert closed.disposition == "answered"
    await expect(page.locator("#conversation-list .conv-row")).to_have_count(2)
    await expect(page.locator("#chat-title")).not_to_have_text(current)

    # Ctrl+K: the picker shows each colleague with status and load; hand to one by name.
    other = await page.locator("#chat-title").text_content()
    assert other is not None
    await page.get_by_label("回复买家").press("Control+k")
    transfer = page.get_by_role("dialog", name="转接会话")
    await transfer.get_by_role("radio", name=re.compile("退款")).check()
    choice = transfer.locator(f"[data-agent-id='{colleague}']")
    await expect(choice).to_contain_text("xiaoli")
    await expect(choice).to_contain_text("在线")
    await expect(choice).to_contain_text("0/4 个会话")
    await choice.get_by_role("radio").check()
    await transfer.get_by_label("转接备注（必填）").fill("买家要退款，请直接处理")
    await transfer.get_by_role("button", name="转接").click()
    await expect(transfer).to_be_hidden()
    moved = await chat_of(sessions, other)
    assert moved.assigned_agent_id == colleague
    assert moved.role == "refund"


async def test_mentions_complete_suggestion_taken_with_tab_and_notes_in_the_panel(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", list(P))
    await create_user(
        sessions,
        shop_id=shop_id,
        username="lead",
        role=UserRole.SUPERVISOR,
        password="lead-pass-1",
        display_name="王主管",
    )
    await desk.event("order.created", order_data("T-3001", nick="小鱼"))
    await desk.event("order.paid", {"order_id": "T-3001"})
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "我的订单什么时候发货？"})
    page = await signed_in("xiaomei", PASSWORD)
    await expect(page.locator("#chat-title")).to_have_text("小鱼")

    # A suggestion for the triaged intent, with why; Tab takes it, nothing is sent.
    bar = page.locator("#suggestion")
    await expect(bar).to_be_visible()
    await expect(bar).to_contain_text("推荐回复")
    await expect(page.locator("#suggestion-reason")).to_contain_text("买家意图：")
    suggested = await page.locator("#suggestion-text").text_content()
    assert suggested is not None
    assert "T-3001" in suggested
    box = page.get_by_label("回复买家")
    await box.focus()
    await box.press("Tab")
    await expect(box).to_have_value(re.compile("T-3001"))
    await expect(box).to_be_focused()
    await expect(bar).to_be_hidden()
    await expect(page.locator("#messages .msg-agent")).to_have_count(0)
    await box.fill("")
    await expect(bar).to_be_visible()
    await box.press("Escape")
    await expect(bar).to_be_hidden()

    # @ in a note lists colleagues; Enter completes the username.
    await page.locator("body").press("Alt+n")
    note = page.get_by_label("内部备注（买家看不到）")
    await note.type("请 @le")
    options = page.locator("#mention-options")
    await expect(options).to_be_visible()
    await expect(options.get_by_role("option")).to_have_count(1)
    await expect(options.get_by_role("option")).to_contain_text("@lead")
    await note.press("Enter")
    await expect(note).to_have_value("请 @lead ")
    await expect(options).to_be_hidden()
    await note.type("看一下发货")
    await note.press("Enter")
    await expect(page.locator("#wb-notice")).to_have_text("备注已添加，已通知 王主管。")

    # The buyer panel's notes section lists it (reopened: the panel reloads).
    await page.reload()
    await expect(page.locator("html[data-workbench='ready']")).to_be_attached()
    notes = page.locator("#sec-notes-body")
    await expect(notes).to_contain_text("请 @lead 看一下发货")
    await expect(notes).to_contain_text("本会话")
