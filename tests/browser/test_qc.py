"""QC in a real browser: an inspector scores a sampled conversation from the keyboard
(overriding an auto-scored item with a reason, failing a critical item); an agent sees
the new-findings badge, opens the finding and disputes it; a QC lead runs a calibration
session and sees α. Every wait is for a condition; nothing sleeps."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from csdesk.actions.outbox import Deps
from csdesk.actions.qc import calibration, checks, disputes, sampling, scoring
from csdesk.actions.users import as_current_user, create_user
from csdesk.auth.current import CurrentUser
from csdesk.clock import SHOP_TZ, utcnow
from csdesk.keys import BUS_KEY, SESSIONS_KEY
from csdesk.routing.queues import QUEUE_KEY
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus, ServiceRole, UserRole
from csdesk.storage.models import Conversation, Message, User
from csdesk.storage.qc_models import FindingStatus, QcFinding, QcScore
from tests.browser.conftest import Desk, SignIn
from tests.helpers import make_agent

pytestmark = pytest.mark.browser
PASSWORD = "password-123"


def deps_of(desk: Desk) -> Deps:
    app = desk.server.app
    return Deps(app[SESSIONS_KEY], app[BUS_KEY], app[QUEUE_KEY])


async def user(sessions: SessionFactory, shop_id: str, name: str, role: UserRole) -> CurrentUser:
    row = await create_user(sessions, shop_id=shop_id, username=name, role=role, password=PASSWORD)
    return CurrentUser(row.id, shop_id, name, row.display_name, role, via_token=False)


async def closed_chat(
    desk: Desk, sessions: SessionFactory, nick: str, agent_id: int, replies: list[str]
) -> int:
    """A buyer writes; the agent's replies are stored as sent; the chat is closed and checked."""
    await desk.event("message.received", {"buyer_nick": nick, "text": "这个保温杯有货吗"})
    now = utcnow()
    async with sessions.begin() as session:
        conversation = await session.scalar(
            select(Conversation)
            .where(Conversation.kind == "chat")
            .order_by(Conversation.id.desc())
            .limit(1)
        )
        assert conversation is not None
        for n, text in enumerate(replies):
            session.add(
                Message(
                    shop_id=conversation.shop_id,
                    conversation_id=conversation.id,
                    sender="agent",
                    author_id=agent_id,
                    text=text,
                    sent_at=now + timedelta(seconds=n + 1),
                )
            )
        conversation.status = ConversationStatus.CLOSED
        conversation.assigned_agent_id = agent_id
        conversation.closed_at = now + timedelta(seconds=len(replies) + 1)
        conversation_id = conversation.id
    await checks.check_conversation(deps_of(desk), conversation_id, utcnow())
    return conversation_id


async def open_as(desk: Desk, browser_page: Page, username: str, target: str) -> None:
    await browser_page.goto(f"/login?next={target}")
    await browser_page.get_by_label("用户名 / Username").fill(username)
    await browser_page.get_by_label("密码 / Password").fill(PASSWORD)
    await browser_page.get_by_role("button", name="登录 / Sign in").click()
    await browser_page.wait_for_url(f"**{target}")


async def test_inspector_scores_from_the_keyboard_with_a_critical_item(
    desk: Desk, browser: Any, sessions: SessionFactory, shop_id: str
) -> None:
    agent_id = await make_agent(sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    inspector = await user(sessions, shop_id, "zhijian", UserRole.QC_INSPECTOR)
    conversation_id = await closed_chat(
        desk, sessions, "小鱼", agent_id, ["有的", "您的手机号是13800001234吧，我帮您登记了"]
    )
    day = utcnow().astimezone(SHOP_TZ).date()
    # A lot of one conversation: ISO 2859-1 inspects it all (the random sample).
    assert await sampling.sample_day(deps_of(desk), shop_id, day, utcnow()) == 1

    context, page = await desk.new_page(browser)
    await open_as(desk, page, "zhijian", "/console/qc")
    row = page.locator(f"[data-conversation-id='{conversation_id}']")
    await expect(row).to_contain_text("随机抽样")
    await row.click()
    await expect(page.locator("#qc-conv-title")).to_contain_text(f"#{conversation_id}")
    # The missing greeting is flagged on the first agent message; hover names the rule.
    flag = page.locator(".qc-hit-flag[data-rule='greeting']")
    await expect(flag).to_be_visible()
    assert "greeting" in (await flag.get_attribute("title") or "")
    await page.get_by_label("高亮自动质检命中").uncheck()
    await expect(flag).to_be_hidden()
    await page.get_by_label("高亮自动质检命中").check()

    await page.locator("#qc-conv-title").click()  # the keyboard is the page's, not a filter's
    await page.keyboard.press("j")
    await page.keyboard.press("j")
    await page.keyboard.press("j")  # the agent's second message (the phone number)
    await expect(page.locator(".qc-msg.qc-current")).to_contain_text("13800001234")
    # Greeting (auto 3 after its hit): 5 asks for a reason first.
    await page.keyboard.press("5")
    dialog = page.locator("#qc-override")
    await expect(dialog).to_be_visible()
    await page.get_by_label("原因（必填）").fill("开场已用“亲”问候，规则漏判")
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(page.locator("[data-item='greeting'] .qc-override-note")).to_contain_text(
        "规则漏判"
    )
    for _ in range(7):  # order_confirm … extreme: down to accuracy
        await page.keyboard.press("ArrowDown")
    await expect(page.locator(".qc-item.qc-current")).to_have_attribute("data-item", "accuracy")
    await page.keyboard.press("4")
    await page.keyboard.press("5")  # solved; now on the critical "abuse" item (auto: pass)
    await page.keyboard.press("1")  # pass, as the auto-check said: no reason needed
    await expect(page.locator(".qc-item.qc-current")).to_have_attribute("data-item", "privacy")
    await page.keyboard.press("0")  # leaked the buyer's phone: critical, fails
    await expect(page.locator("#qc-total")).to_contain_text("0（致命项不通过）")
    await page.keyboard.press("Control+Enter")
    await expect(page.locator("#qc-saved")).to_contain_text("已提交")
    async with sessions() as session:
        score = await session.scalar(
            select(QcScore).where(QcScore.conversation_id == conversation_id)
        )
        assert score is not None
        assert score.critical_failed is True
        assert score.total == 0
        assert score.items["greeting"]["override_reason"] == "开场已用“亲”问候，规则漏判"
        finding = await session.scalar(select(QcFinding).where(QcFinding.item == "privacy"))
        assert finding is not None
        assert finding.agent_id == agent_id
        assert "13800001234" in finding.evidence
        assert score.inspector_id == inspector.id
    await context.close()


async def _scored_finding(desk: Desk, sessions: SessionFactory, shop_id: str, agent_id: int) -> int:
    inspector = await user(sessions, shop_id, "zhijian", UserRole.QC_INSPECTOR)
    conversation_id = await closed_chat(desk, sessions, "小鱼", agent_id, ["不知道，你自己看吧"])
    async with sessions() as session:
        said = await session.scalar(select(Message.id).where(Message.author_id == agent_id))
    body: dict[str, Any] = {
        "items": {
            "accuracy": {"rating": 2, "comment": "没有回答买家的问题", "message_id": said},
            "solved": {"rating": 5},
            "privacy": {"rating": 1},
        }
    }
    await scoring.save_score(deps_of(desk), inspector, conversation_id, body, utcnow(), submit=True)
    async with sessions() as session:
        finding_id = await session.scalar(select(QcFinding.id).where(QcFinding.item == "accuracy"))
    assert finding_id is not None
    return finding_id


async def test_agent_sees_the_badge_and_disputes_a_finding(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    agent_id = await make_agent(sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    finding_id = await _scored_finding(desk, sessions, shop_id, agent_id)
    page = await signed_in("xiaomei", "agent-password-1")
    badge = page.locator("#qc-results-badge")
    await expect(badge).to_be_visible()
    assert int(await badge.inner_text()) >= 1
    await page.locator("#qc-results-link").click()
    await page.wait_for_url("**/console/qc/results")
    await page.locator(f"[data-finding-id='{finding_id}']").click()
    await expect(page.locator("#qr-finding-title")).to_contain_text("解答准确")
    await expect(page.locator(".qc-finding-msg")).to_contain_text("你自己看吧")
    await page.get_by_role("button", name="申诉", exact=True).click()
    await expect(page.locator("#qr-error")).to_contain_text("comment")  # required: nothing sent
    await page.get_by_label("申诉理由（必填）").fill("买家问的是库存，系统当时查不到")
    await page.get_by_role("button", name="申诉", exact=True).click()
    await expect(page.locator("#qr-result")).to_contain_text("已申诉")
    async with sessions() as session:
        finding = await session.get(QcFinding, finding_id)
        assert finding is not None
        assert finding.status is FindingStatus.DISPUTED


async def test_lead_runs_a_calibration_session_and_sees_alpha(
    desk: Desk, browser: Any, sessions: SessionFactory, shop_id: str
) -> None:
    agent_id = await make_agent(sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    conversations = [
        await closed_chat(desk, sessions, f"买家{n}", agent_id, [text])
        for n, text in enumerate(["您好，有货", "有", "您好亲，有货的，感谢光临"])
    ]
    day = utcnow().astimezone(SHOP_TZ).date()
    await sampling.sample_day(deps_of(desk), shop_id, day, utcnow())
    a = await user(sessions, shop_id, "zhijian-a", UserRole.QC_INSPECTOR)
    b = await user(sessions, shop_id, "zhijian-b", UserRole.QC_INSPECTOR)
    await user(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)

    context, page = await desk.new_page(browser)
    await open_as(desk, page, "zhuguan", "/console/qc/calibration")
    await page.get_by_label("标题").fill("十二月校准")
    for conversation_id in conversations:
        await page.locator(f".qcal-conv[value='{conversation_id}']").check()
    for inspector in (a, b):
        await page.locator(f".qcal-insp[value='{inspector.id}']").check()
    await page.get_by_role("button", name="创建校准").click()
    await expect(page.locator("#qcal-session-title")).to_have_text("十二月校准")
    async with sessions() as session:
        from csdesk.storage.qc_models import QcCalibrationSession

        session_id = await session.scalar(select(QcCalibrationSession.id))
    assert session_id is not None
    # The two inspectors score blind (a strict, b lenient on the manual items).
    for inspector, values in ((a, [2, 1, 3]), (b, [4, 2, 5])):
        for conversation_id, value in zip(conversations, values, strict=True):
            items = {
                key: {"rating": value if key in {"accuracy", "solved"} else None}
                for key in (
                    "greeting",
                    "order_confirm",
                    "closing",
                    "rating_invite",
                    "first_response",
                    "waiting",
                    "forbidden",
                    "extreme",
                    "accuracy",
                    "solved",
                )
            }
            items["abuse"] = {"rating": 1}
            items["privacy"] = {"rating": 1}
            await calibration.submit_blind_score(
                deps_of(desk), inspector, session_id, conversation_id, {"items": items}, utcnow()
            )
    await page.reload()
    await page.locator(f"[data-session-id='{session_id}']").click()
    await expect(page.locator("#qcal-progress")).to_contain_text("3/3")
    await page.get_by_role("button", name="结束并计算 α").click()
    alpha = page.locator("#qcal-alpha")
    await expect(page.locator("#qcal-result")).to_be_visible()
    text = await alpha.inner_text()
    assert text != "无法计算"
    float(text)
    await expect(page.locator("#qcal-drift")).to_contain_text("偏严")
    await context.close()


async def test_lead_publishes_a_script_version_with_a_new_forbidden_phrase(
    desk: Desk, browser: Any, sessions: SessionFactory, shop_id: str
) -> None:
    await user(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    context, page = await desk.new_page(browser)
    await open_as(desk, page, "zhuguan", "/console/qc/scripts")
    await page.get_by_label("岗位").select_option("presales")
    await expect(page.locator("#qs-version")).to_have_text("售前接待，第 1 版")
    await expect(page.locator("#qs-meta")).to_have_text("内置话术")
    # Rules and severities by name, not code (the code stays in the tooltip).
    abusive = page.locator('#qs-rules tr[data-rule="forbidden_phrase.abusive"]')
    await expect(abusive.locator("td").first).to_have_text("辱骂或顶撞买家（致命项）")
    await expect(abusive.locator(".qs-severity option:checked")).to_have_text("致命")
    phrases = page.locator("#qs-phrases")
    assert "爱买不买" in await phrases.input_value()
    await phrases.fill("x")  # no "= why": refused, naming the phrase list, nothing stored
    await page.get_by_role("button", name="发布新版本").click()
    await expect(page.locator("#qs-error")).to_contain_text("forbidden_phrases")
    await expect(page.locator("#qs-version")).to_have_text("售前接待，第 1 版")
    await phrases.fill("爱买不买 = 对买家不敬\n亲你烦不烦 = 不耐烦，会被投诉")
    await page.get_by_label("修改说明（随版本保存）").fill("新增禁用语")
    await page.get_by_role("button", name="发布新版本").click()
    await expect(page.locator("#qs-result")).to_contain_text("已发布第 2 版")
    await expect(page.locator("#qs-version")).to_have_text("售前接待，第 2 版")
    await expect(page.locator("#qs-meta")).to_have_text("新增禁用语")
    async with sessions() as session:
        from csdesk.storage.models import Shop

        config = await session.scalar(select(Shop.config).where(Shop.id == shop_id))
    assert config is not None
    listed = config["routing"]["console"]["forbidden_phrases"]
    assert listed["亲你烦不烦"] == "不耐烦，会被投诉"
    assert listed["不知道"] is None  # dropped from the shop's one list
    await context.close()


async def test_reports_name_roles_rules_and_outcomes_not_codes(
    desk: Desk, browser: Any, sessions: SessionFactory, shop_id: str
) -> None:
    agent_id = await make_agent(sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    finding_id = await _scored_finding(desk, sessions, shop_id, agent_id)
    lead = await user(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    async with sessions() as session:
        agent_row = await session.get(User, agent_id)
        assert agent_row is not None
        agent = as_current_user(agent_row)
    await disputes.dispute(deps_of(desk), agent, finding_id, "买家问的是库存", utcnow())
    await disputes.resolve(deps_of(desk), lead, finding_id, "uphold", "已复核", utcnow())
    context, page = await desk.new_page(browser)
    await open_as(desk, page, "zhuguan", "/console/qc/reports")
    await page.locator("#qrep-by").select_option("role")
    await page.get_by_role("button", name="查看").click()
    rates = page.locator('[data-table="rates"] tbody')
    await expect(rates).to_contain_text("售前接待")
    top_rules = page.locator('[data-table="top_rules"] tbody')
    await expect(top_rules).to_contain_text("服务禁用语")
    disputes_table = page.locator('[data-table="disputes"] tbody')
    for words in ("质检问题", "申诉数", "申诉率", "维持"):
        await expect(disputes_table).to_contain_text(words)
    shown = await page.locator("#qrep-tables").inner_text()
    for code in ("presales", "forbidden_phrase", "greeting_missing", "fatal", "major", "minor"):
        assert code not in shown, code
    assert "uphold" not in shown
    # The chart's legend names the role too (drawn on the server, in the page's language).
    legend = await page.evaluate(
        "async () => (await fetch(document.getElementById('qrep-chart').src)).text()"
    )
    assert "售前接待" in legend
    assert ">presales<" not in legend
    # The exports keep the stored codes (a spreadsheet's data), under the same headers.
    csv = await page.evaluate(
        """async () => {
            const link = document.querySelector('[data-table="rates"] a[href*="format=csv"]');
            return (await fetch(link.href)).text();
        }"""
    )
    assert "presales" in csv
    await context.close()
