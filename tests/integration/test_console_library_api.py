"""The console's quick-reply library, images, cards, collision hold, snooze, transfer to a
colleague, suggestions, buyer notes and teams, over real HTTP with bearer tokens.

Library counts (SQL aggregates over booleans) run on every backend; the rest on SQLite.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from PIL import Image
from sqlalchemy import select

from csdesk.actions.catalog import ProductSpec, add_products
from csdesk.actions.users import issue_token
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ServiceRole, UserRole
from csdesk.storage.models import AuditLog, Buyer, Conversation
from tests.helpers import make_agent, order_data, post_event, settle, token_for

P = ServiceRole
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
pytestmark = pytest.mark.usefixtures("shop_id")


def png(width: int = 8, height: int = 6, color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (4, 4)).save(buffer, format="GIF")
    return buffer.getvalue()


class Api:
    def __init__(self, client: TestClient[Any, Any], token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = await self.client.request(method, path, json=body, headers=self.headers)
        text = await response.text()
        assert response.status == status, f"{method} {path}: {response.status} {text}"
        return await response.json() if text else None

    async def get(self, path: str, status: int = 200) -> Any:
        return await self.call("GET", path, status=status)

    async def post(self, path: str, body: Any = None, status: int = 200) -> Any:
        return await self.call("POST", path, body if body is not None else {}, status)

    async def upload(self, data: bytes, content_type: str, name: str = "x.png") -> Any:
        return await self.client.post(
            f"/api/v1/media?name={name}",
            data=io.BytesIO(data),
            headers={**self.headers, "Content-Type": content_type},
        )


async def agent_api(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, name: str, roles: list[P]
) -> tuple[Api, int]:
    agent_id = await make_agent(sessions, shop_id, name, roles)
    return Api(client, await issue_token(sessions, name)), agent_id


async def chat_of(sessions: SessionFactory, nick: str) -> Conversation:
    async with sessions() as session:
        found = await session.scalar(
            select(Conversation)
            .join(Buyer, Buyer.id == Conversation.buyer_id)
            .where(Buyer.nick == nick, Conversation.kind == "chat")
        )
        assert found is not None
        return found


async def buyer_writes(client: TestClient[Any, Any], nick: str, text: str) -> None:
    await post_event(client, "message.received", {"buyer_nick": nick, "text": text})
    await settle(client)


# -- the library ------------------------------------------------------------------------------


async def test_personal_phrase_with_image_hotkey_and_counted_sends(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent, _ = await agent_api(client, sessions, shop_id, "xiaomei", [P.PRESALES])
    lead = Api(client, await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR))

    # A fresh shop reads the built-in library, not stored yet (ids null).
    library = await agent.get("/api/v1/quick-replies")
    assert library["stored"] is False
    assert any(
        p["code"] == "hy" and p["id"] is None for g in library["groups"] for p in g["phrases"]
    )

    # An image, checked by its bytes; then a personal phrase with it, on Alt+3.
    uploaded = await agent.upload(png(), "image/png", "尺码表.png")
    assert uploaded.status == 201, await uploaded.text()
    image = await uploaded.json()
    assert image["content_type"] == "image/png"
    assert image["width"] == 8
    assert image["name"] == "尺码表.png"
    created = await agent.post(
        "/api/v1/quick-replies",
        {"code": "CM1", "text": "亲，尺码表请看图~", "image_id": image["id"]},
        status=201,
    )
    await agent.call(
        "PUT", "/api/v1/quick-replies/hotkeys/3", {"quick_reply": {"id": created["id"]}}
    )
    library = await agent.get("/api/v1/quick-replies")
    mine = [g for g in library["groups"] if g["scope"] == "personal"]
    assert [g["name"] for g in mine] == ["我的短语"]
    (phrase,) = mine[0]["phrases"]
    assert phrase["code"] == "cm1"
    assert phrase["hotkey"] == 3
    assert phrase["image"]["id"] == image["id"]
    assert library["hotkeys"] == [{"slot": 3, "phrase_id": created["id"]}]
    # Personal phrases are nobody else's business: the supervisor neither sees nor edits it.
    lead_library = await lead.get("/api/v1/quick-replies/library")
    assert all(g["scope"] == "shop" for g in lead_library["groups"])
    await lead.call("PATCH", f"/api/v1/quick-replies/{created['id']}", {"text": "x"}, status=404)

    # Sent twice, once edited: counted per phrase, the image goes with the message.
    await buyer_writes(client, "小鱼", "这件衣服有什么尺码")
    conversation = await chat_of(sessions, "小鱼")
    sent = await agent.post(
        f"/api/v1/conversations/{conversation.id}/reply",
        {
            "text": "亲，尺码表请看图~",
            "image_id": image["id"],
            "quick_reply": {"id": created["id"]},
        },
        status=201,
    )
    message = sent["message"]
    assert message["kind"] == "image"
    assert message["attachments"][0]["type"] == "image"
    assert message["attachments"][0]["url"] == f"/api/v1/media/{image['id']}"
    await agent.post(
        f"/api/v1/conversations/{conversation.id}/reply",
        {
            "text": "亲，尺码表请看图，M码合适~",
            "quick_reply": {"id": created["id"], "edited": True},
        },
        status=201,
    )
    # A built-in phrase (by its code) is counted too: the shop's library is stored then.
    await agent.post(
        f"/api/v1/conversations/{conversation.id}/reply",
        {"text": "亲，您好！", "quick_reply": {"code": "hy"}},
        status=201,
    )
    library = await agent.get("/api/v1/quick-replies/library")
    assert library["stored"] is True
    counted = {p["code"]: p for g in library["groups"] for p in g["phrases"]}
    assert counted["cm1"]["use_count"] == 2
    assert counted["cm1"]["uses_30d"] == 2
    assert counted["cm1"]["edited_30d"] == 1
    assert counted["hy"]["use_count"] == 1
    assert counted["hy"]["id"] is not None
    # A phrase deleted since it was picked: the reply still goes out, uncounted.
    await agent.post(
        f"/api/v1/conversations/{conversation.id}/reply",
        {"text": "亲，稍等~", "quick_reply": {"id": 987654}},
        status=201,
    )
    transcript = await agent.get(f"/api/v1/conversations/{conversation.id}/messages")
    with_image = [m for m in transcript["items"] if m["kind"] == "image"]
    assert [m["attachments"][0]["id"] for m in with_image] == [image["id"]]


@SQLITE_ONLY
async def test_supervisors_edit_team_groups_agents_may_not(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent, _ = await agent_api(client, sessions, shop_id, "xiaomei", [P.REFUND])
    lead = Api(client, await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR))
    await agent.post(
        "/api/v1/quick-replies/groups", {"name": "双十一", "scope": "shop"}, status=403
    )
    group = await lead.post(
        "/api/v1/quick-replies/groups",
        {"name": "双十一", "scope": "shop", "roles": ["refund"]},
        status=201,
    )
    phrase = await lead.post(
        "/api/v1/quick-replies",
        {"code": "s11", "text": "亲，双十一期间退款会在48小时内处理~", "group_id": group["id"]},
        status=201,
    )
    await lead.post(
        "/api/v1/quick-replies",
        {"code": "s11", "text": "重复", "group_id": group["id"]},
        status=409,
    )
    await lead.post(
        "/api/v1/quick-replies",
        {"code": "有空格 的", "text": "x", "group_id": group["id"]},
        status=400,
    )
    await agent.call("PATCH", f"/api/v1/quick-replies/{phrase['id']}", {"text": "改"}, status=403)
    # The refund agent sees the refund group; a presales agent does not.
    refund_view = await agent.get("/api/v1/quick-replies")
    assert "双十一" in {g["name"] for g in refund_view["groups"]}
    presales, _ = await agent_api(client, sessions, shop_id, "xiaoli", [P.PRESALES])
    assert "双十一" not in {
        g["name"] for g in (await presales.get("/api/v1/quick-replies"))["groups"]
    }
    await lead.call("PATCH", f"/api/v1/quick-replies/{phrase['id']}", {"text": "亲，已为您加急~"})
    await lead.call("DELETE", f"/api/v1/quick-replies/groups/{group['id']}")
    async with sessions() as session:
        actions = set(
            await session.scalars(
                select(AuditLog.action).where(AuditLog.action.like("quick_reply.%"))
            )
        )
    assert {
        "quick_reply.group_added",
        "quick_reply.added",
        "quick_reply.changed",
        "quick_reply.group_deleted",
    } <= actions


@SQLITE_ONLY
async def test_images_are_checked_by_their_bytes_and_served_inert(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent, _ = await agent_api(client, sessions, shop_id, "xiaomei", [P.PRESALES])
    # Claimed PNG, really HTML: refused whatever the header or name says.
    fake = await agent.upload(b"<html><script>alert(1)</script></html>", "image/png", "a.png")
    assert fake.status == 400
    assert (await fake.json())["field"] == "file"
    # A GIF named .png is stored as what it is.
    real = await agent.upload(gif(), "image/png", "../../etc/passwd.png")
    assert real.status == 201
    stored = await real.json()
    assert stored["content_type"] == "image/gif"
    assert stored["name"] == "passwd.gif"
    # Too large: 413 before anything is read into the database.
    big = await agent.upload(b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 1), "image/png")
    assert big.status == 413
    # A decompression bomb (a huge canvas in a tiny file) is refused.
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, format="PNG")
    refused = await agent.upload(bomb.getvalue(), "image/png")
    assert refused.status == 400
    served = await client.get(stored["url"], headers=agent.headers)
    assert served.status == 200
    assert await served.read() == gif()
    assert served.headers["Content-Type"] == "image/gif"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith('inline; filename="passwd.gif"')
    assert "default-src 'none'" in served.headers["Content-Security-Policy"]
    assert "sandbox" in served.headers["Content-Security-Policy"]
    download = await client.get(stored["url"] + "?download=1", headers=agent.headers)
    assert download.headers["Content-Disposition"].startswith("attachment;")
    # Without a login: 401; another shop's id reads as unknown.
    assert (await client.get(stored["url"])).status == 401
    assert (await client.get("/api/v1/media/987654", headers=agent.headers)).status == 404


# -- collision --------------------------------------------------------------------------------


@SQLITE_ONLY
async def test_a_reply_is_held_when_the_buyer_wrote_after_the_draft_began(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent, _ = await agent_api(client, sessions, shop_id, "xiaomei", [P.PRESALES])
    await buyer_writes(client, "小鱼", "在吗")
    conversation = await chat_of(sessions, "小鱼")
    page = await agent.get(f"/api/v1/conversations/{conversation.id}/messages")
    seen = page["items"][-1]["id"]
    await buyer_writes(client, "小鱼", "算了，我要退款")
    held = await agent.post(
        f"/api/v1/conversations/{conversation.id}/reply",
        {"text": "在的亲，这款有货", "seen_message_id": seen},
        status=422,
    )
    assert held["held"] == "buyer_wrote"
    assert [m["text"] for m in held["messages"]] == ["算了，我要退款"]
    after = await agent.get(f"/api/v1/conversations/{conversation.id}/messages")
    assert [m["text"] for m in after["items"] if m["sender"] == "agent"] == []
    # Confirmed: sent with the newest line as seen.
    sent = await agent.post(
        f"/api/v1/conversations/{conversation.id}/reply",
        {"text": "好的亲，我帮您看一下", "seen_message_id": held["messages"][-1]["id"]},
        status=201,
    )
    assert sent["message"]["text"] == "好的亲，我帮您看一下"
    await agent.post(
        f"/api/v1/conversations/{conversation.id}/reply",
        {"text": "x", "seen_message_id": True},
        status=400,
    )


# -- cards ------------------------------------------------------------------------------------


@SQLITE_ONLY
async def test_cards_are_filled_from_the_stored_order_and_sent_as_messages(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent, _ = await agent_api(client, sessions, shop_id, "xiaomei", list(P))
    owner = Api(client, await token_for(sessions, shop_id, "boss", UserRole.OWNER))
    await post_event(client, "order.created", order_data("T-9001", nick="小鱼", amount="129.00"))
    await post_event(client, "order.created", order_data("T-9002", nick="阿杰", amount="59.00"))
    await settle(client)
    await buyer_writes(client, "小鱼", "帮我看下订单")
    conversation = await chat_of(sessions, "小鱼")
    panel = await agent.get(f"/api/v1/conversations/{conversation.id}/buyer")
    (order,) = panel["orders"]
    sent = await agent.post(
        f"/api/v1/conversations/{conversation.id}/cards",
        {"card": "order_check", "order_id": order["id"]},
        status=201,
    )
    message = sent["message"]
    assert message["kind"] == "card"
    (card,) = message["attachments"]
    assert card["type"] == "card"
    assert card["card"] == "order_check"
    assert card["title"] == "订单核对"
    fields = {f["label"]: f["value"] for f in card["fields"]}
    assert fields["订单号"] == "T-9001"
    assert fields["商品"] == "保温杯 ×1"
    assert fields["金额"] == "¥129.00"
    assert fields["电话"] == "138****1234"  # masked, never the clear number
    assert "13800001234" not in message["text"]
    assert "文一西路969号" not in message["text"]
    assert message["text"].startswith("【订单核对】\n订单号：T-9001")
    # 催付 for an unpaid order; another buyer's order is refused; a paid one cannot be chased.
    chase = await agent.post(
        f"/api/v1/conversations/{conversation.id}/cards",
        {"card": "payment_reminder", "order_id": order["id"]},
        status=201,
    )
    assert chase["message"]["attachments"][0]["fields"][2] == {
        "label": "应付金额",
        "value": "¥129.00",
    }
    async with sessions() as session:
        from csdesk.storage.models import Order

        other = await session.scalar(select(Order.id).where(Order.external_id == "T-9002"))
    await agent.post(
        f"/api/v1/conversations/{conversation.id}/cards",
        {"card": "order_check", "order_id": other},
        status=404,
    )
    await post_event(client, "order.paid", {"order_id": "T-9001"})
    await settle(client)
    await agent.post(
        f"/api/v1/conversations/{conversation.id}/cards",
        {"card": "payment_reminder", "order_id": order["id"]},
        status=409,
    )
    # Products and coupons: from the catalog and the shop's rules.
    async with sessions.begin() as session:
        (product_id,) = await add_products(
            session, shop_id, [ProductSpec("CUP-9", "保温杯 大容量", "杯壶", 15900, ("杯套",))]
        )
    catalog = await agent.get("/api/v1/workbench/catalog?q=保温")
    assert [p["id"] for p in catalog["products"]] == [product_id]
    assert catalog["coupons"] == []
    item = await agent.post(
        f"/api/v1/conversations/{conversation.id}/cards",
        {"card": "product", "product_id": product_id},
        status=201,
    )
    assert item["message"]["attachments"][0]["fields"][1] == {"label": "价格", "value": "¥159.00"}
    await agent.post(
        f"/api/v1/conversations/{conversation.id}/cards",
        {"card": "coupon", "coupon_code": "C20"},
        status=404,
    )
    config = await owner.get("/api/v1/shop/config")
    overrides = dict(config.get("config") or {})
    routing = dict(overrides.get("routing") or {})
    routing["console"] = {
        "coupons": [
            {"code": "C20", "title": "满199减20", "amount_fen": 2000, "min_spend_fen": 19900}
        ]
    }
    overrides["routing"] = routing
    await owner.call("PUT", "/api/v1/shop/config", {"config": overrides, "reason": "双十一优惠券"})
    coupon = await agent.post(
        f"/api/v1/conversations/{conversation.id}/cards",
        {"card": "coupon", "coupon_code": "C20"},
        status=201,
    )
    assert coupon["message"]["attachments"][0]["fields"][2] == {
        "label": "使用条件",
        "value": "满¥199.00可用",
    }
    await agent.post(
        f"/api/v1/conversations/{conversation.id}/cards", {"card": "bogus"}, status=400
    )


# -- keys, transfer, suggestions, notes -------------------------------------------------------


@SQLITE_ONLY
async def test_snooze_sinks_until_the_buyer_writes(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent, _ = await agent_api(client, sessions, shop_id, "xiaomei", [P.PRESALES])
    await buyer_writes(client, "小鱼", "在吗")
    conversation = await chat_of(sessions, "小鱼")
    answer = await agent.post(f"/api/v1/conversations/{conversation.id}/snooze", {"minutes": 30})
    assert answer["snoozed_until"] is not None
    rows = (await agent.get("/api/v1/workbench"))["conversations"]
    assert rows[0]["snoozed_until"] == answer["snoozed_until"]
    await buyer_writes(client, "小鱼", "人呢？")
    rows = (await agent.get("/api/v1/workbench"))["conversations"]
    assert rows[0]["snoozed_until"] is None
    await agent.post(
        f"/api/v1/conversations/{conversation.id}/snooze", {"minutes": 999}, status=400
    )


@SQLITE_ONLY
async def test_transfer_picker_shows_each_agent_and_hands_to_a_named_colleague(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent, me = await agent_api(client, sessions, shop_id, "xiaomei", [P.PRESALES])
    colleague = await make_agent(sessions, shop_id, "xiaoli", [P.REFUND], chat_capacity=3)
    await make_agent(sessions, shop_id, "xiaozhang", [P.REFUND], status=AgentStatus.AWAY)
    await buyer_writes(client, "小鱼", "在吗")
    conversation = await chat_of(sessions, "小鱼")
    assert conversation.assigned_agent_id == me
    board = await agent.get("/api/v1/workbench/roles")
    agents = {a["id"]: a for a in board["agents"]}
    assert agents[colleague]["open"] == 0
    assert agents[colleague]["capacity"] == 3
    assert agents[colleague]["status"] == "online"
    away = [a for a in board["agents"] if a["status"] == "away"]
    assert away
    assert away[0]["display_name"]
    await agent.post(
        f"/api/v1/conversations/{conversation.id}/transfer",
        {"to_role": "refund", "note": "要退款", "to_agent_id": away[0]["id"]},
        status=409,
    )
    moved = await agent.post(
        f"/api/v1/conversations/{conversation.id}/transfer",
        {"to_role": "refund", "note": "买家要退款", "to_agent_id": colleague},
    )
    assert moved["assigned_agent_id"] == colleague
    after = await chat_of(sessions, "小鱼")
    assert after.assigned_agent_id == colleague
    assert after.role == "refund"


@SQLITE_ONLY
async def test_suggestion_follows_the_intent_and_notes_show_in_the_buyer_panel(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent, _ = await agent_api(client, sessions, shop_id, "xiaomei", list(P))
    await create_lead(sessions, shop_id)
    await post_event(client, "order.created", order_data("T-7001", nick="小鱼"))
    await post_event(client, "order.paid", {"order_id": "T-7001"})
    await buyer_writes(client, "小鱼", "我的快递什么时候发货啊")
    conversation = await chat_of(sessions, "小鱼")
    detail = await agent.get(f"/api/v1/conversations/{conversation.id}")
    suggestion = detail["suggestion"]
    assert suggestion is not None, detail["intent"]
    assert suggestion["reason"]["intent"] == detail["intent"]
    # Paid, not shipped: the phrase whose variables all have values (预计发货), not 物流单号.
    assert "{物流单号}" not in suggestion["phrase"]["text"]
    assert suggestion["reason"]["missing"] == []
    # Notes from this and earlier conversations of the buyer, with their authors.
    await agent.post(
        f"/api/v1/conversations/{conversation.id}/notes",
        {"text": "买家很着急，@lead 请关注"},
        status=201,
    )
    panel = await agent.get(f"/api/v1/conversations/{conversation.id}/buyer")
    (note,) = panel["notes"]
    assert note["text"] == "买家很着急，@lead 请关注"
    assert note["this_conversation"] is True
    people = await agent.get("/api/v1/workbench/colleagues")
    assert "lead" in {p["username"] for p in people["colleagues"]}


async def create_lead(sessions: SessionFactory, shop_id: str) -> None:
    from csdesk.actions.users import create_user

    await create_user(
        sessions, shop_id=shop_id, username="lead", role=UserRole.SUPERVISOR, password="lead-pass-1"
    )


# -- teams ------------------------------------------------------------------------------------


@SQLITE_ONLY
async def test_teams_with_supervisors(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    owner = Api(client, await token_for(sessions, shop_id, "boss", UserRole.OWNER))
    lead = Api(client, await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR))
    agent_id = await make_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    users = {u["username"]: u["id"] for u in (await owner.get("/api/v1/admin/users"))["users"]}
    team = await owner.post("/api/v1/admin/teams", {"name": "售前一组"}, status=201)
    await owner.post("/api/v1/admin/teams", {"name": "售前一组"}, status=409)
    await lead.post("/api/v1/admin/teams", {"name": "x"}, status=403)
    await owner.call(
        "PUT",
        f"/api/v1/admin/teams/{team['id']}/members",
        {"members": [{"user_id": agent_id, "lead": True}]},
        status=400,
    )
    await owner.call(
        "PUT",
        f"/api/v1/admin/teams/{team['id']}/members",
        {"members": [{"user_id": agent_id}, {"user_id": users["lead"], "lead": True}]},
    )
    (listed,) = (await lead.get("/api/v1/admin/teams"))["teams"]
    assert listed["name"] == "售前一组"
    assert [(m["username"], m["lead"]) for m in listed["members"]] == [
        ("lead", True),
        ("xiaomei", False),
    ]
    await owner.call("PATCH", f"/api/v1/admin/teams/{team['id']}", {"name": "售前A组"})
    await owner.call("DELETE", f"/api/v1/admin/teams/{team['id']}")
    assert (await lead.get("/api/v1/admin/teams"))["teams"] == []
