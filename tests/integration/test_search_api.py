"""Conversation search over real HTTP: by nick, order number, the full phone number (never
a part of it; shown masked), message text and date; an agent finds their own
conversations and those of buyers they served, not a colleague's other buyers."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from tests.helpers import make_agent, order_data, post_event, settle, token_for


async def _search(
    client: TestClient[Any, Any], token: str, status: int = 200, **params: str
) -> Any:
    response = await client.get(
        "/api/v1/search", params=params, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == status, await response.text()
    return await response.json()


async def test_search_by_nick_order_phone_text_and_date(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    lead = await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await post_event(client, "order.created", order_data("T-2001", nick="小鱼"))
    await post_event(
        client,
        "message.received",
        {"buyer_nick": "小鱼", "text": "保温杯有黑色吗", "order_id": "T-2001"},
    )
    await post_event(client, "message.received", {"buyer_nick": "阿杰", "text": "你好 在吗"})
    await settle(client)

    def nicks(answer: Any) -> set[str]:
        return {row["buyer"]["nick"] for row in answer["results"] if row["buyer"]}

    assert nicks(await _search(client, lead, q="小鱼")) == {"小鱼"}
    assert nicks(await _search(client, lead, q="T-2001")) == {"小鱼"}
    assert nicks(await _search(client, lead, q="黑色")) == {"小鱼"}
    assert nicks(await _search(client, lead, q="13800001234")) == {"小鱼"}
    assert (
        nicks(await _search(client, lead, q="1380000")) == set()
    )  # a part of a number finds nobody
    (row,) = [r for r in (await _search(client, lead, q="小鱼"))["results"] if r["kind"] == "chat"]
    assert row["order"] in (None, "T-2001")
    assert nicks(await _search(client, lead, since="2000-01-01")) == {"小鱼", "阿杰"}
    assert nicks(await _search(client, lead, q="小鱼", until="2000-01-01")) == set()
    bad = await _search(client, lead, status=400, q="x")
    assert bad["field"] == "q"
    assert (await _search(client, lead, status=400, since="soon"))["field"] == "since"


async def test_an_agent_finds_their_own_and_their_buyers(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    await make_agent(sessions, shop_id, "xiaomei", [ServiceRole.PRESALES], chat_capacity=1)
    await post_event(client, "message.received", {"buyer_nick": "小鱼", "text": "有货吗"})
    await settle(client)
    await make_agent(sessions, shop_id, "xiaoli", [ServiceRole.PRESALES])
    await post_event(client, "message.received", {"buyer_nick": "阿杰", "text": "有货吗"})
    await settle(client)
    from csdesk.actions.users import issue_token

    mei = await issue_token(sessions, "xiaomei")
    li = await issue_token(sessions, "xiaoli")
    assert {r["buyer"]["nick"] for r in (await _search(client, mei, q="有货"))["results"]} == {
        "小鱼"
    }
    assert {r["buyer"]["nick"] for r in (await _search(client, li, q="有货"))["results"]} == {
        "阿杰"
    }
    qc = await token_for(sessions, shop_id, "inspector", UserRole.QC_INSPECTOR)
    assert len((await _search(client, qc, q="有货"))["results"]) == 2
    trainer = await token_for(sessions, shop_id, "teacher", UserRole.TRAINER)
    await _search(client, trainer, status=403, q="有货")


async def test_a_buyer_record_has_the_whole_history(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    from csdesk.actions.users import issue_token

    await make_agent(sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    lead = await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await post_event(client, "order.created", order_data("T-3001", nick="小鱼", amount="88.00"))
    await post_event(client, "order.paid", {"order_id": "T-3001"})
    await post_event(
        client,
        "refund.requested",
        {
            "refund_id": "R-1",
            "order_id": "T-3001",
            "kind": "refund_only",
            "amount": "88.00",
            "reason": "不想要了",
        },
    )
    await post_event(client, "message.received", {"buyer_nick": "小鱼", "text": "有货吗"})
    await settle(client)
    found = (await _search(client, lead, q="小鱼"))["results"]
    buyer_id = found[0]["buyer"]["id"]
    response = await client.get(
        f"/api/v1/buyers/{buyer_id}/history", headers={"Authorization": f"Bearer {lead}"}
    )
    assert response.status == 200, await response.text()
    history = await response.json()
    assert history["buyer"]["nick"] == "小鱼"
    assert history["buyer"]["phone"] in (None, "138****1234")
    types = {event["type"] for event in history["timeline"]}
    assert types == {"conversation", "order", "refund"}
    (order,) = [e for e in history["timeline"] if e["type"] == "order"]
    assert (order["order"], order["amount"]) == ("T-3001", "88.00")
    chat = next(e for e in history["timeline"] if e.get("kind") == "chat")
    assert chat["agent"] == "xiaomei"
    assert "protection" in history
    stamps = [event["at"] for event in history["timeline"]]
    assert stamps == sorted(stamps, reverse=True)

    # The agent who served the buyer sees the record; a colleague who did not, nothing.
    mei = await issue_token(sessions, "xiaomei")
    seen = await client.get(
        f"/api/v1/buyers/{buyer_id}/history", headers={"Authorization": f"Bearer {mei}"}
    )
    assert seen.status == 200
    await make_agent(sessions, shop_id, "xiaoli", [ServiceRole.PRESALES])
    li = await issue_token(sessions, "xiaoli")
    hidden = await client.get(
        f"/api/v1/buyers/{buyer_id}/history", headers={"Authorization": f"Bearer {li}"}
    )
    assert hidden.status == 404
