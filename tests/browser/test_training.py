"""Training in a real browser: a trainer writes a course with a quiz (and markup that must
stay text), adds a rule and gives the course to an agent; the agent finds it under 我的课程
in the workbench, reads it, fails and then passes the quiz; the trainer's effect view lists
the agent who passed. Every wait is for a condition; nothing sleeps."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ServiceRole, UserRole
from csdesk.storage.training_models import (
    AssignmentStatus,
    TrainingAssignment,
    TrainingRule,
)
from tests.browser.conftest import Desk, SignIn
from tests.helpers import make_agent

pytestmark = pytest.mark.browser
PASSWORD = "password-123"


async def sign_in_at(page: Page, username: str, password: str, target: str) -> None:
    await page.goto(f"/login?next={target}")
    await page.get_by_label("用户名 / Username").fill(username)
    await page.get_by_label("密码 / Password").fill(password)
    await page.get_by_role("button", name="登录 / Sign in").click()
    await page.wait_for_url(f"**{target}")


async def test_trainer_writes_a_course_the_agent_passes_it_the_effect_lists_them(
    desk: Desk, browser: Any, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    agent_id = await make_agent(
        sessions, shop_id, "xiaomei", [ServiceRole.PRESALES], status=AgentStatus.OFFLINE
    )
    await create_user(
        sessions, shop_id=shop_id, username="peixun", role=UserRole.TRAINER, password=PASSWORD
    )

    # 1. The trainer writes the course: a page in Markdown and a two-question quiz.
    context, trainer = await desk.new_page(browser)
    await sign_in_at(trainer, "peixun", PASSWORD, "/console/training")
    await expect(trainer.locator("html[data-training='ready']")).to_be_attached()
    await trainer.get_by_role("link", name="新建课程").click()
    await trainer.wait_for_url("**/console/training/courses/new")
    await trainer.get_by_label("标题", exact=True).fill("服务用语：不说禁用语")
    await trainer.get_by_label("简介").fill("为什么“不知道”会被投诉")
    await trainer.get_by_label("第 1 页标题").fill("禁用语")
    await trainer.get_by_label("第 1 页正文（Markdown）").fill(
        "不要说**不知道**。\n\n<script>alert('x')</script>\n\n- 说：我帮您查一下"
    )
    await trainer.get_by_label("第 1 题").fill("买家问物流，你不清楚时应该说？")
    await trainer.get_by_label("选项 1", exact=True).fill("不知道")
    await trainer.get_by_label("选项 2", exact=True).fill("我帮您查一下")
    await trainer.get_by_label("选项 2 正确").check()
    await trainer.get_by_role("button", name="添加一题").click()
    await trainer.get_by_label("第 2 题").fill("以下哪些是禁用语？")
    await trainer.locator("#tc-q-kind-1").select_option("multiple")
    second = trainer.locator("#tc-questions > li").nth(1)
    await second.get_by_label("选项 1", exact=True).fill("不知道")
    await second.get_by_label("选项 2", exact=True).fill("请稍等")
    await second.get_by_role("button", name="添加选项").click()
    await second.get_by_label("选项 3", exact=True).fill("自己看")
    await second.get_by_label("选项 1 正确").check()
    await second.get_by_label("选项 3 正确").check()
    await trainer.get_by_label("及格线（答对题目的百分比）").fill("100")
    await trainer.get_by_role("checkbox", name="服务禁用语").check()
    await trainer.get_by_role("checkbox", name="售前接待").check()
    await trainer.get_by_role("button", name="保存课程").click()
    await trainer.wait_for_url("**/console/training/courses/*")
    preview = trainer.locator(".tr-preview")
    await expect(preview.locator("strong")).to_have_text("不知道")
    await expect(preview).to_contain_text("<script>alert('x')</script>")  # shown, not run
    assert await preview.locator("script").count() == 0

    # 2. A rule (one standing finding is enough) and the course given to the agent.
    await expect(trainer.locator("html[data-training='ready']")).to_be_attached()
    await trainer.get_by_label("质检类别", exact=True).select_option("forbidden_phrase")
    await trainer.locator("#tr-threshold").fill("1")
    await trainer.get_by_role("button", name="添加规则").click()
    await expect(trainer.locator("#tc-rules")).to_contain_text("1 次「服务禁用语」")
    await trainer.locator("#tc-agents").select_option(str(agent_id))
    await trainer.get_by_role("button", name="分配课程").click()
    await expect(trainer.locator("#tc-assign-done")).to_contain_text("已分配给 1 人")
    async with sessions() as session:
        rule = await session.scalar(select(TrainingRule))
        assert rule is not None
        assert (rule.category, rule.threshold) == ("forbidden_phrase", 1)

    # 3. The agent finds it in the workbench, reads it, fails, then passes.
    agent = await signed_in("xiaomei", "agent-password-1")
    courses = agent.locator("#my-courses")
    await expect(courses).to_be_visible()
    await expect(courses).to_contain_text("服务用语：不说禁用语")
    await courses.get_by_role("link", name="服务用语：不说禁用语").click()
    await agent.wait_for_url("**/console/training/my/*")
    await expect(agent.locator("html[data-training='ready']")).to_be_attached()
    await expect(agent.locator(".tr-markdown strong")).to_have_text("不知道")
    await agent.get_by_role("radio", name="不知道").check()
    await agent.get_by_role("checkbox", name="不知道").check()
    await agent.get_by_role("button", name="提交答案").click()
    result = agent.locator("#tk-result")
    await expect(result).to_contain_text("未通过")
    await expect(result).not_to_contain_text("正确答案")  # not given away before passing
    await agent.get_by_role("radio", name="我帮您查一下").check()
    await agent.get_by_role("checkbox", name="自己看").check()
    await agent.get_by_role("button", name="提交答案").click()
    await expect(result).to_contain_text("已通过：100%")
    await expect(agent.locator("#tk-status")).to_have_text("已通过")
    await expect(agent.locator("#tk-attempts li")).to_have_count(2)
    async with sessions() as session:
        row = await session.scalar(select(TrainingAssignment))
        assert row is not None
        assert row.status is AssignmentStatus.PASSED
        assert row.boost_until is not None

    # 4. The trainer's effect view lists the agent who passed (no chats scored since yet).
    await trainer.goto(f"/console/training/courses/{row.course_id}/effect")
    await expect(trainer.locator("html[data-training='ready']")).to_be_attached()
    await expect(trainer.locator("#te-agents")).to_contain_text("xiaomei")
    await expect(trainer.locator("#te-pooled")).to_contain_text("服务禁用语")
    await expect(trainer.locator("#te-pooled")).to_contain_text("已评分会话还不够")
    chart = trainer.locator("#te-chart")
    await expect(chart).to_have_js_property("complete", True)
    assert await chart.evaluate("img => img.naturalWidth") > 0
    await context.close()
