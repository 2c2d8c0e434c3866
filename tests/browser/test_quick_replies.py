"""The quick-reply library in Chromium: an agent adds a personal phrase with an image, puts
it on a hotkey and sends it with that key; the library counts the send. A supervisor edits
a team phrase of the built-in library, which agents then get.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.async_api import Page, expect

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from tests.browser.conftest import Desk, SignIn
from tests.helpers import make_agent

pytestmark = pytest.mark.browser
P = ServiceRole
AGENT_PASSWORD = "agent-password-1"


def size_chart() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "#3a7").save(buffer, format="PNG")
    return buffer.getvalue()


async def open_library(page: Page) -> None:
    await page.get_by_role("link", name="快捷短语库").first.click()
    await page.wait_for_url("**/console/quick-replies")
    await expect(page.locator("html[data-library='ready']")).to_be_attached()


async def test_agent_adds_a_personal_phrase_with_an_image_and_sends_it_with_its_hotkey(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    page = await signed_in("xiaomei", AGENT_PASSWORD)
    await open_library(page)

    # A personal phrase with a picture (checked by the server from its bytes).
    form = page.locator("#ql-add")
    await form.get_by_label("快捷代码").fill("cm1")
    await form.get_by_label("内容", exact=True).fill("亲，这是尺码表，请看图~")
    await form.get_by_label("图片（可选）").set_input_files(
        {"name": "尺码表.png", "mimeType": "image/png", "buffer": size_chart()}
    )
    await page.get_by_role("button", name="保存短语").click()
    await expect(page.locator("#ql-status")).to_have_text("/cm1 已保存。")
    mine = page.get_by_role("region", name="我的短语")
    row = mine.locator("tr[data-code='cm1']")
    await expect(row).to_contain_text("亲，这是尺码表，请看图~")
    thumb = row.locator("img.ql-thumb")
    await expect(thumb).to_have_attribute("src", re.compile(r"^/api/v1/media/\d+$"))
    assert await thumb.evaluate("img => img.complete && img.naturalWidth") == 40

    # On Alt+2.
    await row.get_by_label("/cm1 的热键").select_option("2")
    await expect(page.locator("#ql-status")).to_have_text("/cm1 已设为 Alt+2。")
    await expect(page.locator("#ql-hotkeys li[data-slot='2']")).to_contain_text("/cm1")

    # A buyer asks; Alt+2 fills the reply with the phrase and its image; Enter sends both.
    await page.get_by_role("link", name="工作台", exact=True).click()
    await expect(page.locator("html[data-workbench='ready']")).to_be_attached()
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "这件衣服有哪些尺码？"})
    await expect(page.locator("#chat-title")).to_have_text("小鱼")
    box = page.get_by_label("回复买家")
    await box.focus()
    await box.press("Alt+2")
    await expect(box).to_have_value("亲，这是尺码表，请看图~")
    await expect(page.locator("#attachment img")).to_be_visible()
    await expect(page.locator("#attachment")).to_contain_text("尺码表.png")
    await box.press("Enter")
    sent = page.locator("#messages .msg-agent")
    await expect(sent).to_have_count(1)
    await expect(sent.locator(".msg-text")).to_have_text("亲，这是尺码表，请看图~")
    picture = sent.locator("img.msg-image")
    await expect(picture).to_be_visible()
    assert await picture.evaluate("img => img.complete && img.naturalWidth") == 40
    await expect(page.locator("#attachment")).to_be_hidden()
    await expect(box).to_have_value("")

    # The library counts it (not edited).
    await open_library(page)
    counted = page.get_by_role("region", name="我的短语").locator("tr[data-code='cm1'] .ql-uses")
    await expect(counted).to_contain_text("共 1 次 · 近30天 1 次")
    await expect(counted).to_contain_text("其中 0 次修改后发送")


async def test_supervisor_edits_a_team_phrase_and_agents_get_it(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await create_user(
        sessions, shop_id=shop_id, username="lead", role=UserRole.SUPERVISOR, password="lead-pass-1"
    )
    lead = await signed_in("lead", "lead-pass-1")
    await open_library(lead)
    welcome = lead.get_by_role("region", name="欢迎语")
    await welcome.get_by_role("button", name="编辑 /hy", exact=True).click()
    dialog = lead.get_by_role("dialog", name="编辑短语")
    await dialog.get_by_label("内容").fill("亲，欢迎光临双十一主会场！有什么可以帮您？")
    await dialog.get_by_role("button", name="保存").click()
    await expect(lead.locator("#ql-status")).to_have_text("/hy 已保存。")
    await expect(welcome.locator("tr[data-code='hy']")).to_contain_text("双十一主会场")

    agent = await signed_in("xiaomei", AGENT_PASSWORD)
    await open_library(agent)
    team_row = agent.get_by_role("region", name="欢迎语").locator("tr[data-code='hy']")
    await expect(team_row).to_contain_text("双十一主会场")
    # Agents read team phrases but do not edit them.
    await expect(team_row.get_by_role("button", name="编辑 /hy", exact=True)).to_have_count(0)
