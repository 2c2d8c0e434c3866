"""Team administration in Chromium: an admin adds an agent with service roles and a chat
capacity; the agent signs in with the one-time password and must change it, goes on
shift and receives a refund chat; the admin deactivates them: their session ends at once
and their unanswered conversation is back in the queue."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Dialog, expect
from sqlalchemy import select

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus, UserRole
from csdesk.storage.models import AgentProfile, Conversation, User
from tests.browser.conftest import Desk, SignIn

ADMIN_PASSWORD = "admin-password-1"


async def test_admin_seats_an_agent_who_works_and_is_deactivated(
    desk: Desk, browser: Browser, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await create_user(
        sessions, shop_id=shop_id, username="boss", role=UserRole.ADMIN, password=ADMIN_PASSWORD
    )
    admin = await signed_in("boss", ADMIN_PASSWORD)
    await admin.goto("/console/admin/users")
    await expect(admin.locator("#ad-users-body tr")).to_have_count(1)
    await admin.locator("#ad-add").get_by_label("用户名").fill("xiaomei")
    await admin.locator("#ad-add").get_by_label("显示名").fill("小美")
    await expect(admin.get_by_label("角色")).to_have_value("agent")
    await admin.locator("#ad-service-roles input[value='presales']").uncheck()
    await admin.locator("#ad-service-roles input[value='refund']").check()
    await admin.locator("#ad-add").get_by_label("同时接待上限").fill("2")
    await admin.get_by_role("button", name="添加", exact=True).click()
    secret = admin.locator("#ad-secret .ad-secret")
    await expect(secret).to_have_text(re.compile(r"\S{12,}"))
    one_time = (await secret.text_content() or "").strip()
    row = admin.locator("#ad-users-body tr", has_text="小美")
    await expect(row).to_contain_text("退款")
    await expect(row).to_contain_text("等待首次登录")
    async with sessions() as session:
        user = await session.scalar(select(User).where(User.username == "xiaomei"))
        assert user is not None
        profile = await session.get(AgentProfile, user.id)
        assert profile is not None
        assert (profile.service_roles, profile.chat_capacity) == (["refund"], 2)

    # The one-time password leads to the password page first.
    context, agent = await desk.new_page(browser)
    try:
        await agent.goto("/login?next=/console/workbench")
        await agent.get_by_label("用户名 / Username").fill("xiaomei")
        await agent.get_by_label("密码 / Password").fill(one_time)
        await agent.get_by_role("button", name="登录 / Sign in").click()
        await agent.wait_for_url("**/console/account/password")
        await expect(agent.locator("#pw-must")).to_be_visible()
        await agent.get_by_label("当前密码").fill(one_time)
        await agent.get_by_label("新密码（至少 8 个字符）").fill("my-own-password")
        await agent.get_by_label("再次输入新密码").fill("my-own-password")
        await agent.get_by_role("button", name="修改密码").click()
        await agent.wait_for_url("**/console/")

        await agent.goto("/console/workbench")
        await expect(agent.locator("html[data-workbench='ready']")).to_be_attached()
        await agent.get_by_role("button", name="上班").click()
        await expect(agent.get_by_label("状态")).to_have_value("online")
        await desk.event("message.received", {"buyer_nick": "小鱼", "text": "东西坏了 我要退款"})
        chat = agent.locator("#conversation-list .conv-row").filter(has_text="小鱼")
        await expect(chat).to_be_visible()

        # Deactivated: signed out at once, the chat goes back to the queue.
        async def accept(dialog: Dialog) -> None:
            await dialog.accept()

        admin.on("dialog", accept)
        await row.get_by_role("button", name="停用").click()
        await expect(row).to_contain_text("已停用")
        async with sessions() as session:
            conversation = await session.scalar(select(Conversation))
            assert conversation is not None
            assert conversation.status is ConversationStatus.QUEUED
            assert conversation.assigned_agent_id is None
        # The open workbench is not left running: its live socket is closed (4001) at
        # once and the page goes to the sign-in page by itself, no reload needed.
        await agent.wait_for_url(re.compile(r"/login"))
    finally:
        await context.close()


async def test_owner_makes_a_team_with_its_supervisor_and_the_supervisor_reads_it(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    from csdesk.storage.enums import ServiceRole
    from tests.helpers import make_agent

    await create_user(
        sessions, shop_id=shop_id, username="boss", role=UserRole.OWNER, password=ADMIN_PASSWORD
    )
    await create_user(
        sessions,
        shop_id=shop_id,
        username="lead",
        role=UserRole.SUPERVISOR,
        password="lead-pass-1",
        display_name="王主管",
    )
    await make_agent(sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    owner = await signed_in("boss", ADMIN_PASSWORD)
    await owner.goto("/console/admin/teams")
    await expect(owner.locator("html[data-teams='ready']")).to_be_attached()
    await owner.get_by_label("班组名称").fill("售前一组")
    await owner.get_by_role("button", name="创建").click()
    team = owner.get_by_role("region", name="售前一组")
    await expect(team).to_be_visible()
    await expect(team).to_contain_text("还没有主管。")
    await team.get_by_label("xiaomei").check()
    await team.get_by_label("王主管").check()
    await team.locator("tr", has_text="王主管").get_by_label("本组主管").check()
    # An agent cannot lead a team: no such box on their row.
    await expect(team.locator("tr", has_text="xiaomei").get_by_label("本组主管")).to_have_count(0)
    await team.get_by_role("button", name="保存成员").click()
    await expect(owner.locator("#tm-status")).to_have_text("售前一组：成员已保存。")
    await expect(owner.get_by_role("region", name="售前一组")).to_contain_text("主管：王主管")

    lead = await signed_in("lead", "lead-pass-1")
    await lead.goto("/console/admin/teams")
    await expect(lead.locator("html[data-teams='ready']")).to_be_attached()
    read_only = lead.get_by_role("region", name="售前一组")
    await expect(read_only).to_contain_text("主管：王主管")
    await expect(read_only).to_contain_text("xiaomei")
    await expect(read_only.get_by_role("button", name="保存成员")).to_have_count(0)
    await expect(lead.get_by_role("button", name="创建")).to_have_count(0)
