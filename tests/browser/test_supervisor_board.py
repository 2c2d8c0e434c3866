"""The supervisor screens in a real browser: the live board (queues, agents, a new buyer
message without a reload, bulk and single reassignment), the roster and role swaps, and
guided mode with its recorded skips; an agent gets 403 pages.

Every wait is for a condition (Playwright's ``expect``); nothing sleeps.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.outbox import Outbox
from csdesk.actions.users import create_user
from csdesk.bus.memory import MemoryBus
from csdesk.clock import utcnow
from csdesk.ingest.processor import ClaimedEvent, EventBatch, process_events
from csdesk.ingest.schema import parse_event
from csdesk.routing.queues.memory import MemoryWorkQueue
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import (
    AgentStatus,
    ConversationStatus,
    MessageSender,
    ServiceRole,
    UserRole,
)
from csdesk.storage.models import AgentProfile, AuditLog, Buyer, Conversation, Message
from tests.browser.conftest import Desk, SignIn
from tests.helpers import accept, event_body, make_agent

pytestmark = pytest.mark.browser
AGENT_PASSWORD = "agent-password-1"  # what tests.helpers.make_agent sets
LEAD_PASSWORD = "lead-password-1"
SHOP_TZ = ZoneInfo("Asia/Shanghai")
LIVE_MS = 5_000
"""A live update must land well before the board's 30 s periodic re-read could fake it."""


async def make_supervisor(
    sessions: SessionFactory, shop_id: str, username: str = "wanglead"
) -> int:
    user = await create_user(
        sessions,
        shop_id=shop_id,
        username=username,
        role=UserRole.SUPERVISOR,
        password=LEAD_PASSWORD,
        display_name="王主管",
    )
    return user.id


async def buyer_says(desk: Desk, nick: str, text: str = "这个有货吗") -> None:
    await desk.event("message.received", {"buyer_nick": nick, "text": text})


async def chat_of(sessions: SessionFactory, nick: str) -> Conversation:
    async with sessions() as session:
        found = await session.scalar(
            select(Conversation)
            .join(Buyer, Buyer.id == Conversation.buyer_id)
            .where(Buyer.nick == nick, Conversation.kind == "chat")
        )
    assert found is not None, nick
    return found


async def open_board(page: Page) -> None:
    await page.goto("/console/supervisor")
    await expect(page.locator("html[data-board='ready']")).to_be_attached()


def item_row(page: Page, nick: str) -> Locator:
    return page.locator("#sv-items-body tr").filter(has_text=nick)


def role_cells(page: Page, role: str) -> Locator:
    return page.locator(f"#sv-roles-body tr[data-role='{role}'] td")


async def test_board_shows_queues_and_agents_and_follows_new_messages_live(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    xiaoli = await make_agent(sessions, shop_id, "xiaoli", [ServiceRole.PRESALES], chat_capacity=1)
    await make_agent(sessions, shop_id, "xiaowang", [ServiceRole.PRESALES], status=AgentStatus.BUSY)
    await make_supervisor(sessions, shop_id)
    for nick in ("小鱼", "阿杰", "阿强"):
        await buyer_says(desk, nick)
    assert (await chat_of(sessions, "小鱼")).assigned_agent_id == xiaoli

    page = await signed_in("wanglead", LEAD_PASSWORD)
    await open_board(page)
    # Per role: presales has two queued and one with an agent; nothing elsewhere.
    presales = role_cells(page, "presales")
    await expect(presales.nth(0)).to_have_text("2")  # queued
    await expect(presales.nth(2)).to_have_text("1")  # with an agent
    await expect(role_cells(page, "refund").nth(0)).to_have_text("0")
    # The queued items, by buyer; the one with an agent is not among them.
    await expect(item_row(page, "阿杰")).to_be_visible()
    await expect(item_row(page, "阿强")).to_be_visible()
    await expect(item_row(page, "小鱼")).to_have_count(0)
    await expect(page.get_by_role("button", name="排队中 (2)")).to_have_attribute(
        "aria-pressed", "true"
    )
    # Agents: status and load against capacity.
    agents = page.locator("#sv-agents-body")
    await expect(agents.locator("tr").filter(has_text="xiaoli")).to_contain_text("在线")
    await expect(agents.locator("tr").filter(has_text="xiaoli")).to_contain_text("1/1")
    await expect(agents.locator("tr").filter(has_text="xiaowang")).to_contain_text("忙碌")
    # The items with an agent: 小鱼, with xiaoli.
    await page.get_by_role("button", name="接待中 (1)").click()
    await expect(item_row(page, "小鱼")).to_contain_text("xiaoli 接待中")
    await expect(item_row(page, "阿杰")).to_have_count(0)

    # A new buyer message shows up without a reload, over the live connection.
    await page.get_by_role("button", name="排队中 (2)").click()
    await expect(page.locator("#sv-live[data-mode='live']")).to_be_attached()
    await page.evaluate("window.__sameDocument = true")
    await buyer_says(desk, "新来的买家", "在吗 想问下尺码")
    await expect(item_row(page, "新来的买家")).to_be_visible(timeout=LIVE_MS)
    await expect(presales.nth(0)).to_have_text("3", timeout=LIVE_MS)
    assert await page.evaluate("window.__sameDocument") is True


async def test_bulk_and_single_reassignment_change_the_server_state(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    # Online without room, and busy: nothing reaches them unless a supervisor says so.
    xiaoli = await make_agent(sessions, shop_id, "xiaoli", [ServiceRole.PRESALES], chat_capacity=0)
    xiaowang = await make_agent(
        sessions, shop_id, "xiaowang", [ServiceRole.PRESALES], status=AgentStatus.BUSY
    )
    await make_supervisor(sessions, shop_id)
    for nick in ("阿杰", "阿强", "小美"):
        await buyer_says(desk, nick)
    page = await signed_in("wanglead", LEAD_PASSWORD)
    await open_board(page)

    await expect(page.locator("#sv-selected")).to_have_text("已选 0 条")
    await page.get_by_role("button", name="对所选执行").click()
    await expect(page.locator("#sv-bulk-error")).to_have_text("请至少选择一条。")
    for nick in ("阿杰", "阿强"):
        await item_row(page, nick).get_by_role("checkbox").check()
    await expect(page.locator("#sv-selected")).to_have_text("已选 2 条")
    await page.get_by_label("操作", exact=True).select_option("assign")
    await page.locator("#sv-bulk-agent").select_option(str(xiaowang))
    await page.get_by_role("button", name="对所选执行").click()
    await expect(page.locator("#sv-bulk-result")).to_contain_text("完成 2 条，失败 0 条。")
    # The board follows: both left the queue; 小美 stays.
    await expect(item_row(page, "阿杰")).to_have_count(0)
    await expect(item_row(page, "阿强")).to_have_count(0)
    await expect(item_row(page, "小美")).to_be_visible()
    for nick in ("阿杰", "阿强"):
        moved = await chat_of(sessions, nick)
        assert (moved.status, moved.assigned_agent_id) == (ConversationStatus.ASSIGNED, xiaowang)
    assert (await chat_of(sessions, "小美")).status is ConversationStatus.QUEUED

    # One item, from its row: 小美 to xiaoli with a note.
    await item_row(page, "小美").get_by_role("button", name="改派").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("改派给").select_option(str(xiaoli))
    await dialog.get_by_label("备注（选填）").fill("熟悉这个买家")
    await dialog.get_by_role("button", name="改派").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#sv-bulk-result")).to_contain_text("小美：已改派给 xiaoli。")
    single = await chat_of(sessions, "小美")
    assert (single.status, single.assigned_agent_id) == (ConversationStatus.ASSIGNED, xiaoli)

    # From the items with an agent: transfer needs a handoff note; close takes an outcome.
    await page.get_by_role("button", name="接待中 (3)").click()
    await item_row(page, "阿杰").get_by_role("checkbox").check()
    await page.get_by_label("操作", exact=True).select_option("transfer")
    await page.get_by_label("转接到岗位").select_option("refund")
    await page.get_by_role("button", name="对所选执行").click()
    await expect(page.locator("#sv-bulk-error")).to_have_text("转接须填写转接备注。")
    await expect(page.get_by_label("转接备注（转接必填）")).to_be_focused()
    assert (await chat_of(sessions, "阿杰")).role == "presales"
    await page.get_by_label("转接备注（转接必填）").fill("买家要退款")
    await page.get_by_role("button", name="对所选执行").click()
    await expect(page.locator("#sv-bulk-result")).to_contain_text("完成 1 条，失败 0 条。")
    transferred = await chat_of(sessions, "阿杰")
    assert (transferred.role, transferred.status) == ("refund", ConversationStatus.QUEUED)

    await item_row(page, "小美").get_by_role("checkbox").check()
    await page.get_by_label("操作", exact=True).select_option("close")
    await page.get_by_label("处理结果").select_option("invalid")
    await page.get_by_role("button", name="对所选执行").click()
    await expect(item_row(page, "小美")).to_have_count(0)
    closed = await chat_of(sessions, "小美")
    assert (closed.status, closed.disposition) == (ConversationStatus.CLOSED, "invalid")


def shop_time(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHOP_TZ)


async def fill_shift(
    page: Page, n: int, agent_id: int, role: str, duty: str, start: str, end: str
) -> None:
    await page.get_by_label(f"班次 {n}：客服").select_option(str(agent_id))
    await page.get_by_label(f"班次 {n}：岗位").select_option(role)
    if duty:
        await page.get_by_label(f"班次 {n}：职责").select_option(duty)
    await page.get_by_label(f"班次 {n}：开始").fill(start)
    await page.get_by_label(f"班次 {n}：结束").fill(end)


async def test_roster_day_and_role_swap_persist(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    xiaoli = await make_agent(sessions, shop_id, "xiaoli", [ServiceRole.PRESALES])
    xiaowang = await make_agent(sessions, shop_id, "xiaowang", [ServiceRole.REFUND])
    await make_supervisor(sessions, shop_id)
    page = await signed_in("wanglead", LEAD_PASSWORD)
    today = datetime.now(UTC).astimezone(SHOP_TZ).date()

    await page.goto("/console/roster")
    await expect(page.locator("html[data-roster='ready']")).to_be_attached()
    await expect(page.locator("#ro-empty")).to_be_visible()
    # Two shifts: xiaoli all day (so the role swap below finds a shift covering now), and a
    # refund-review night shift; both end the next day.
    await page.get_by_role("button", name="添加班次").click()
    await fill_shift(page, 1, xiaoli, "presales", "", "00:00", "00:00")
    await page.get_by_role("button", name="添加班次").click()
    await fill_shift(page, 2, xiaowang, "refund", "review", "22:00", "06:00")
    for n in (0, 1):
        await expect(page.locator("tr.ro-shift").nth(n).locator(".ro-next-day")).to_be_visible()
    await expect(page.locator("#ro-dirty")).to_have_text("有未保存的修改")
    await page.get_by_role("button", name="保存这一天").click()
    await expect(page.locator("#ro-result")).to_contain_text("已保存：这一天共 2 个班次。")
    await expect(page.locator("#ro-dirty")).to_have_text("")

    response = await page.request.get(f"/api/v1/roster?week_of={today.isoformat()}")
    assert response.status == 200, await response.text()
    week = await response.json()
    (day,) = [d for d in week["days"] if d["day"] == today.isoformat()]
    saved = {
        (
            s["user_id"],
            s["service_role"],
            s["duty"],
            datetime.fromisoformat(s["starts_at"]),
            datetime.fromisoformat(s["ends_at"]),
        )
        for s in day["shifts"]
    }
    assert saved == {
        (xiaoli, "presales", None, shop_time(today, 0), shop_time(today + timedelta(days=1), 0)),
        (
            xiaowang,
            "refund",
            "review",
            shop_time(today, 22),
            shop_time(today + timedelta(days=1), 6),
        ),
    }
    # A reload shows the saved day.
    await page.reload()
    await expect(page.locator("tr.ro-shift")).to_have_count(2)

    # Role swap for the promotion: xiaoli moves to refund processing, with a reason.
    row = page.locator("#ro-now-body tr").filter(has_text="xiaoli")
    await row.get_by_role("button", name="换岗").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("售前接待").uncheck()
    await dialog.get_by_label("退款", exact=True).check()
    await dialog.get_by_label("职责: 退款").select_option("processing")
    await dialog.get_by_role("button", name="换岗").click()
    await expect(dialog.locator("#ro-swap-error")).to_have_text("请填写换岗原因。")
    await expect(dialog.get_by_label("原因（必填，记入审计）")).to_be_focused()
    async with sessions() as session:
        unchanged = await session.get(AgentProfile, xiaoli)
    assert unchanged is not None
    assert unchanged.service_roles == ["presales"]

    await dialog.get_by_label("原因（必填，记入审计）").fill("双十一退款积压")
    await dialog.get_by_role("button", name="换岗").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#ro-swap-result")).to_contain_text("xiaoli 现在的岗位")
    await expect(row.locator(".ro-now-roles")).to_have_text("退款（退款处理）")
    async with sessions() as session:
        profile = await session.get(AgentProfile, xiaoli)
        entry = await session.scalar(select(AuditLog).where(AuditLog.action == "agent.roles"))
    assert profile is not None
    assert profile.service_roles == ["refund"]
    assert entry is not None
    assert (entry.target_id, entry.reason) == (str(xiaoli), "双十一退款积压")
    assert entry.detail["after"]["duties"] == {"refund": ["processing"]}


async def skips(sessions: SessionFactory) -> list[tuple[Any, ...]]:
    async with sessions() as session:
        rows = await session.scalars(select(AuditLog).where(AuditLog.action == "guided.skip"))
        return [(row.actor_id, row.target_id, row.reason) for row in rows]


async def test_guided_mode_skip_needs_a_reason_and_shows_on_the_board(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    xiaoli = await make_agent(sessions, shop_id, "xiaoli", [ServiceRole.PRESALES], chat_capacity=1)
    await make_supervisor(sessions, shop_id)
    await buyer_says(desk, "一号")
    await buyer_says(desk, "二号")
    first = await chat_of(sessions, "一号")
    second = await chat_of(sessions, "二号")
    assert first.assigned_agent_id == xiaoli
    assert second.status is ConversationStatus.QUEUED

    lead = await signed_in("wanglead", LEAD_PASSWORD)
    await open_board(lead)
    await expect(lead.locator("#sv-skips-empty")).to_be_visible()
    await expect(lead.locator("#sv-live[data-mode='live']")).to_be_attached()
    await lead.evaluate("window.__sameDocument = true")

    page = await signed_in("xiaoli", AGENT_PASSWORD)
    await page.goto("/console/guided")
    await expect(page.locator("html[data-guided='ready']")).to_be_attached()
    # The item in hand opened by itself.
    await expect(page.locator("#gd-nick")).to_have_text("一号")
    await expect(page.locator("#gd-source")).to_have_text("你手上、尚未回复的一条。")
    await expect(page.locator("#gd-messages")).to_contain_text("这个有货吗")
    await expect(page.get_by_role("link", name="打开处理")).to_have_attribute(
        "href", f"/console/conversations/{first.id}"
    )

    # A note on the item without opening it: an empty one is refused in place; one naming
    # the supervisor is stored, shown once and tells them.
    note = page.get_by_label("内部备注（买家看不到）")
    await page.get_by_role("button", name="添加备注").click()
    await expect(page.locator("#gd-note-error")).to_have_text("请先写好备注。")
    await expect(note).to_be_focused()
    await note.fill("@wanglead 这位问大家电，我不熟")
    await page.get_by_role("button", name="添加备注").click()
    await expect(
        page.get_by_role("status").filter(has_text="备注已添加，已通知 王主管。")
    ).to_be_visible()
    await expect(page.locator("#gd-messages .from-note")).to_have_count(1)
    await expect(page.locator("#gd-messages .from-note")).to_contain_text("我不熟")
    await expect(note).to_have_value("")
    async with sessions() as session:
        notes = list(
            await session.scalars(
                select(Message.text).where(
                    Message.conversation_id == first.id, Message.sender == MessageSender.NOTE
                )
            )
        )
    assert notes == ["@wanglead 这位问大家电，我不熟"]

    # No reason: refused in place, nothing recorded, the item stays.
    await page.get_by_role("button", name="跳过", exact=True).click()
    await expect(page.locator("#gd-skip-error")).to_have_text("请填写跳过原因。")
    reason = page.get_by_label("跳过原因（必填，主管可见）")
    await expect(reason).to_be_focused()
    await expect(reason).to_have_attribute("aria-invalid", "true")
    assert await skips(sessions) == []
    assert (await chat_of(sessions, "一号")).assigned_agent_id == xiaoli

    # With a reason: recorded, and the next item opens by itself.
    await reason.fill("需要懂大家电的同事")
    await page.get_by_role("button", name="跳过", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text="已跳过 一号。")).to_be_visible()
    await expect(page.locator("#gd-nick")).to_have_text("二号")
    assert await skips(sessions) == [(xiaoli, str(first.id), "需要懂大家电的同事")]
    assert (await chat_of(sessions, "二号")).assigned_agent_id == xiaoli
    assert (await chat_of(sessions, "一号")).assigned_agent_id != xiaoli

    # The supervisor sees the skip, live: who, which item, why.
    skip_row = lead.locator("#sv-skips-body tr")
    await expect(skip_row).to_have_count(1, timeout=LIVE_MS)
    await expect(skip_row).to_contain_text("xiaoli")
    await expect(skip_row).to_contain_text(f"#{first.id}")
    await expect(skip_row).to_contain_text("需要懂大家电的同事")
    await expect(
        lead.locator("#sv-agents-body tr").filter(has_text="xiaoli").locator("td").last
    ).to_have_text("1")
    assert await lead.evaluate("window.__sameDocument") is True


async def test_agents_get_403_on_the_supervisor_pages(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaoli", [ServiceRole.PRESALES])
    await make_supervisor(sessions, shop_id)

    agent = await signed_in("xiaoli", AGENT_PASSWORD)
    for path, action in (
        ("/console/supervisor", "supervisor.board"),
        ("/console/roster", "roster.edit"),
    ):
        response = await agent.goto(path)
        assert response is not None
        assert response.status == 403, path
        await expect(agent.get_by_role("alert")).to_contain_text(
            "你的账号没有打开这个页面或执行这个操作的权限"
        )
        await expect(agent.get_by_role("alert")).not_to_contain_text(action)
    # Home: guided mode for the agent, no supervisor links.
    await agent.goto("/console/")
    await expect(agent.get_by_role("link", name="引导模式 / Guided mode")).to_be_visible()
    await expect(agent.get_by_role("link", name="主管看板 / Supervisor board")).to_have_count(0)

    lead = await signed_in("wanglead", LEAD_PASSWORD)
    await lead.goto("/console/")
    await lead.get_by_role("link", name="主管看板 / Supervisor board").click()
    await lead.wait_for_url("**/console/supervisor")
    await expect(lead.locator("html[data-board='ready']")).to_be_attached()
    await expect(lead.get_by_role("link", name="主管看板")).to_have_attribute(
        "aria-current", "page"
    )


async def test_board_shows_the_events_that_failed_after_acceptance(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_supervisor(sessions, shop_id)
    page = await signed_in("wanglead", LEAD_PASSWORD)
    await open_board(page)
    failed = page.locator("#sv-failed")
    await expect(failed).to_contain_text("失败事件")
    await expect(page.locator("#sv-failed-count")).to_have_text("0")
    await expect(failed).not_to_have_class(re.compile(r"\bis-alert\b"))

    events = [
        parse_event(
            event_body("call.inbound", {"call_id": "c1", "caller_phone": "1"}, event_id="bad-1")
        )
    ]
    ids = [a.row_id for a in await accept(sessions, events, utcnow()) if a.row_id is not None]

    async def broken(
        session: AsyncSession,
        event: ClaimedEvent,
        now: datetime,
        outbox: Outbox,
        batch: EventBatch | None = None,
    ) -> None:
        raise RuntimeError("broken payload")

    await process_events(sessions, MemoryBus(), MemoryWorkQueue(), broken, ids, utcnow())
    await page.get_by_role("button", name="刷新").click()
    await expect(page.locator("#sv-failed-count")).to_have_text("1")
    await expect(failed).to_have_class(re.compile(r"\bis-alert\b"))
