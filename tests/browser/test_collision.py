"""Collision in Chromium, two people on one conversation (console UX bar, point 10): the
agent holding it and a supervisor watching see each other viewing and typing (in the chat
and, for the agent, on the list row); the agent gets a banner when the supervisor's note
lands under their draft; and the agent's reply is held when the buyer wrote after the draft
began, until the agent reads the new line and sends anyway.
"""

from __future__ import annotations

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.storage.models import Buyer, Conversation
from tests.browser.conftest import Desk, SignIn
from tests.helpers import make_agent

pytestmark = pytest.mark.browser
P = ServiceRole


async def test_two_people_on_one_conversation_see_each_other_and_a_draft_is_held(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await create_user(
        sessions,
        shop_id=shop_id,
        username="lead",
        role=UserRole.SUPERVISOR,
        password="lead-pass-1",
        display_name="王主管",
    )
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "这款保温杯有货吗"})
    async with sessions() as session:
        conversation_id = await session.scalar(
            select(Conversation.id).join(Buyer, Buyer.id == Conversation.buyer_id)
        )

    agent = await signed_in("xiaomei", "agent-password-1")
    await expect(agent.locator("#chat-title")).to_have_text("小鱼")
    lead = await signed_in("lead", "lead-pass-1")
    await lead.goto(f"/console/conversations/{conversation_id}")
    await expect(lead.locator("html[data-workbench='ready']")).to_be_attached()
    await expect(lead.locator("#chat-title")).to_have_text("小鱼")

    # Viewing (the eye): both ways, and on the agent's list row.
    agent_presence = agent.locator("#chat-presence")
    lead_presence = lead.locator("#chat-presence")
    await expect(agent_presence).to_contain_text("王主管 正在查看")
    await expect(lead_presence).to_contain_text("xiaomei 正在查看")
    row = agent.locator("#conversation-list .conv-row").filter(has_text="小鱼")
    await expect(row.get_by_label("王主管 正在查看")).to_be_visible()

    # Typing (the pen): the agent's draft, then the supervisor's note.
    box = agent.get_by_label("回复买家")
    await box.click()
    await box.type("有货的亲，")
    await expect(lead_presence).to_contain_text("xiaomei 正在输入")
    await lead.keyboard.press("Alt+n")
    note = lead.get_by_label("内部备注（买家看不到）")
    await note.type("注意买家要两件")
    await expect(agent_presence).to_contain_text("王主管 正在写备注")
    await expect(row.get_by_label("王主管 正在输入")).to_be_visible()

    # The note lands under the agent's draft: a banner says the chat changed.
    await note.press("Enter")
    await expect(agent.locator("#chat-changed")).to_contain_text("王主管 在你查看时添加了备注。")
    await expect(agent.locator("#messages .msg-note")).to_contain_text("注意买家要两件")

    # The buyer writes after the draft began: the reply is held with the new line shown.
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "那我要两件，能便宜点吗"})
    await box.type("今天下单就发货")
    await box.press("Enter")
    held = agent.locator("#held-box")
    await expect(held).to_be_visible()
    await expect(held).to_contain_text("未发送：你输入时买家发来了新消息")
    await expect(held.locator(".held-line")).to_have_text(["那我要两件，能便宜点吗"])
    sent = agent.locator("#messages .msg-agent")
    await expect(sent).to_have_count(0)
    await expect(box).to_have_value("有货的亲，今天下单就发货")
    # Read, then confirmed: it goes out.
    await agent.get_by_role("button", name="仍然发送").click()
    await expect(sent).to_have_count(1)
    await expect(sent.locator(".msg-text")).to_have_text("有货的亲，今天下单就发货")
    await expect(held).to_be_hidden()
    await expect(lead.locator("#messages .msg-agent")).to_have_count(1)

    # The supervisor leaves: the eye goes away.
    await lead.goto("/console/")
    await expect(agent_presence).to_be_hidden()
