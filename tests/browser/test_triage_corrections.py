"""Correcting triage from the workbench in Chromium: an agent relabels a chat's intent
(改判意图) and the header follows; a transfer to after-sales, a role with several intents,
asks which one the buyer had and keeps the answer as the shop's labelled example; the
shop-rules page then lists both corrections for the owner."""

from __future__ import annotations

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.storage.triage_models import TriageCorrection
from tests.browser.conftest import Desk, SignIn
from tests.browser.test_workbench_keys import PASSWORD, chat_of
from tests.helpers import make_agent

pytestmark = pytest.mark.browser
P = ServiceRole


async def corrections(sessions: SessionFactory) -> dict[int, tuple[str, str]]:
    async with sessions() as session:
        rows = (await session.scalars(select(TriageCorrection))).all()
        return {row.conversation_id: (row.intent, row.source) for row in rows}


async def test_an_agent_relabels_and_transfers_with_the_buyers_intent(
    desk: Desk, signed_in: SignIn, sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await make_agent(sessions, shop_id, "xiaoli", [P.AFTERSALES_TRIAGE])
    # Both read as pre-sales questions by the shipped triage.
    await desk.event("message.received", {"buyer_nick": "小鱼", "text": "以旧换新补贴呢"})
    await desk.event("message.received", {"buyer_nick": "阿杰", "text": "以旧换新那个钱啥时候给"})
    page = await signed_in("xiaomei", PASSWORD)
    await expect(page.locator("#conversation-list .conv-row")).to_have_count(2)
    await page.locator("#conversation-list .conv-row", has_text="小鱼").click()
    await expect(page.locator("#chat-title")).to_have_text("小鱼")
    await expect(page.locator("#chat-meta")).to_contain_text("售前接待")

    # 改判意图: the chat stays, its header says the new intent, the label is kept.
    await page.get_by_role("button", name="改判意图").click()
    dialog = page.get_by_role("dialog", name="改判意图")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("意图").select_option("refund")
    await dialog.get_by_role("button", name="保存").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#chat-meta")).to_contain_text("退款")
    fish = await chat_of(sessions, "小鱼")
    assert fish.intent == "refund"
    assert fish.role == "presales"
    assert (await corrections(sessions))[fish.id] == ("refund", "relabel")

    # Transfer to after-sales: several intents there, so the dialog asks which one.
    await page.locator("#conversation-list .conv-row", has_text="阿杰").click()
    await expect(page.locator("#chat-title")).to_have_text("阿杰")
    await page.locator("#transfer-btn").click()
    transfer = page.get_by_role("dialog", name="转接会话")
    intent = transfer.get_by_label("买家真正要的是（用于分诊学习）")
    await expect(intent).to_be_hidden()
    await transfer.get_by_text("售后接待", exact=True).click()
    await expect(intent).to_be_visible()
    await intent.select_option("exchange")
    await transfer.get_by_label("转接备注（必填）").fill("以旧换新，转售后处理")
    await transfer.get_by_role("button", name="转接", exact=True).click()
    await expect(transfer).to_be_hidden()
    jie = await chat_of(sessions, "阿杰")
    assert (jie.role, jie.intent) == ("aftersales_triage", "exchange")
    assert (await corrections(sessions))[jie.id] == ("exchange", "transfer")

    # The owner sees both on the shop-rules page.
    await create_user(
        sessions, shop_id=shop_id, username="boss", role=UserRole.OWNER, password="boss-pass-1"
    )
    owner = await signed_in("boss", "boss-pass-1")
    await owner.goto(desk.url("/console/shop-config"))
    section = owner.locator("#triage-model")
    await expect(section.locator("#tm-corrections")).to_have_text("2")
    await section.get_by_text("最近的纠正").click()
    await expect(section.locator(".sc-corrections li")).to_have_count(2)
    await expect(section.locator(".sc-corrections")).to_contain_text("以旧换新补贴呢")
