"""Erasing a buyer's personal data on request (PIPL), over real HTTP and the real CLI.

The buyer's name, phone and address leave the buyer and order rows and the platform
events; inside the transcripts (the buyer's messages and the agent's replies) they are
masked; the conversations, orders and refunds stay and are still counted; the erasure is
audited without the erased values. Owners and admins only; another shop's admin cannot
reach the buyer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from csdesk.actions.shops import ensure_shop
from csdesk.actions.users import issue_token
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.storage.models import AuditLog, Buyer, Conversation, Message, Order, PlatformEvent
from tests.helpers import make_agent, order_data, post_event, settle, token_for

NICK = "买家小王"
PHONE = "13800001234"
ADDRESS = "浙江省杭州市余杭区文一西路969号"
NAME = "王小明"
BUYER_SAYS = "地址改成 北京市朝阳区建国路88号3栋201室，电话 139-1234-5678，订单 O-ERASE-1"
ROOT = Path(__file__).resolve().parents[2]


async def _setup(client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str) -> int:
    await make_agent(sessions, shop_id, "xiaomei", list(ServiceRole))
    agent = {"Authorization": f"Bearer {await issue_token(sessions, 'xiaomei')}"}
    await post_event(client, "order.created", order_data("O-ERASE-1", nick=NICK))
    await post_event(client, "message.received", {"buyer_nick": NICK, "text": BUYER_SAYS})
    await post_event(
        client,
        "refund.requested",
        {
            "refund_id": "R-ERASE-1",
            "order_id": "O-ERASE-1",
            "kind": "refund_only",
            "amount": "199.00",
            "reason": f"不要了，有事打 {PHONE}",
        },
    )
    await settle(client)
    async with sessions() as session:
        conversation_id = await session.scalar(
            select(Conversation.id).where(Conversation.kind == "chat")
        )
    reply = await client.post(
        f"/api/v1/conversations/{conversation_id}/reply",
        json={"text": f"{NAME}您好，已改到{ADDRESS}，如有问题打{PHONE}联系您", "send_anyway": True},
        headers=agent,
    )
    assert reply.status == 201, await reply.text()
    async with sessions() as session:
        buyer_id = await session.scalar(select(Buyer.id).where(Buyer.nick == NICK))
    assert buyer_id is not None
    return buyer_id


async def _texts(sessions: SessionFactory) -> str:
    async with sessions() as session:
        messages = list(await session.scalars(select(Message.text)))
        payloads = list(await session.scalars(select(PlatformEvent.payload)))
        orders = list(await session.scalars(select(Order)))
        buyers = list(await session.scalars(select(Buyer)))
    rows = [
        *messages,
        *(json.dumps(p, ensure_ascii=False) for p in payloads),
        *(f"{o.receiver_name}{o.receiver_phone}{o.address}" for o in orders),
        *(f"{b.nick}{b.name}{b.phone}{b.address}" for b in buyers),
    ]
    return "\n".join(rows)


async def _counts(sessions: SessionFactory, buyer_id: int) -> tuple[int, int, int]:
    async with sessions() as session:
        conversations = await session.scalar(
            select(func.count()).where(Conversation.buyer_id == buyer_id)
        )
        messages = await session.scalar(select(func.count()).select_from(Message))
        orders = await session.scalar(select(func.count()).where(Order.buyer_id == buyer_id))
    return int(conversations or 0), int(messages or 0), int(orders or 0)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_admin_erases_a_buyer_over_the_api(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    buyer_id = await _setup(client, sessions, shop_id)
    before_counts = await _counts(sessions, buyer_id)
    before = await _texts(sessions)
    for value in (NICK, PHONE, ADDRESS, NAME, "13912345678".replace("139", "139-"), "建国路88号"):
        assert value.replace("-", "") in before.replace("-", ""), value

    admin = {
        "Authorization": f"Bearer {await token_for(sessions, shop_id, 'root', UserRole.ADMIN)}"
    }
    supervisor = {
        "Authorization": f"Bearer {await token_for(sessions, shop_id, 'lead', UserRole.SUPERVISOR)}"
    }
    await ensure_shop(sessions, "other-shop", "别的店")
    stranger = {
        "Authorization": f"Bearer {await token_for(sessions, 'other-shop', 'them', UserRole.ADMIN)}"
    }
    path = f"/api/v1/buyers/{buyer_id}/erase"
    assert (await client.post(path, json={"reason": "x"}, headers=supervisor)).status == 403
    assert (await client.post(path, json={"reason": "x"}, headers=stranger)).status == 404
    missing = await client.post(path, json={}, headers=admin)
    assert missing.status == 400
    assert (await missing.json())["field"] == "reason"

    response = await client.post(path, json={"reason": "工单 PIPL-2026-001"}, headers=admin)
    assert response.status == 200, await response.text()
    result = await response.json()
    assert result["nick"] == f"已删除买家-{buyer_id}"
    assert result["conversations_kept"] >= 1
    assert result["messages_masked"] >= 2

    after = await _texts(sessions)
    for value in (NICK, PHONE, ADDRESS, NAME, "13912345678", "139-1234-5678", "建国路88号"):
        assert value not in after, value
    assert "[已删除的电话]" in after
    assert "[已删除的地址]" in after
    assert "O-ERASE-1" in after  # the order number stays: the transcript still reads
    assert await _counts(sessions, buyer_id) == before_counts
    async with sessions() as session:
        buyer = await session.get(Buyer, buyer_id)
        assert buyer is not None
        assert (buyer.name, buyer.phone, buyer.address) == (None, None, None)
        [entry] = list(
            await session.scalars(select(AuditLog).where(AuditLog.action == "pii.erase"))
        )
    assert entry.reason == "工单 PIPL-2026-001"
    assert NICK not in json.dumps(entry.detail, ensure_ascii=False)
    # Still countable: the buyer's history (what reports and the console read) counts them.
    history = await client.get(f"/api/v1/buyers/{buyer_id}/history", headers=admin)
    assert (await history.json())["counts"]["conversations"] == before_counts[0]
    again = await client.post(path, json={"reason": "again"}, headers=admin)
    assert again.status == 404


def _cli(data: Path, *args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    from tests.processes import csdesk_env

    return subprocess.run(
        [sys.executable, "-m", "csdesk", *args],
        text=True,
        capture_output=True,
        env=csdesk_env(data, CSDESK_DATABASE_URL=database_url),
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_operator_erases_a_buyer_from_the_command_line(
    client: TestClient[Any, Any],
    sessions: SessionFactory,
    shop_id: str,
    database_url: str,
    tmp_path: Path,
) -> None:
    buyer_id = await _setup(client, sessions, shop_id)
    unknown = _cli(
        tmp_path, "buyer", "erase", "nobody", "--shop", shop_id, database_url=database_url
    )
    assert unknown.returncode == 2
    assert unknown.stderr.strip().count("\n") == 0
    assert "not found" in unknown.stderr

    done = _cli(
        tmp_path, "buyer", "erase", NICK, "--shop", shop_id, "--json", database_url=database_url
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["buyer_id"] == buyer_id
    after = await _texts(sessions)
    assert NICK not in after
    assert PHONE not in after
    async with sessions() as session:
        entry = await session.scalar(select(AuditLog).where(AuditLog.action == "pii.erase"))
    assert entry is not None
    assert entry.actor_id is None
    assert entry.detail["via"] == "cli"
