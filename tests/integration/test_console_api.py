"""The agent workbench over real HTTP: shift, my conversations, replies, transfers, closing,
the buyer panel with masked PII and audited reveals, access by URL, CSRF, i18n.

People sign in through the login form (cookie sessions, CSRF header from the page), as the
console's scripts do. Tests touching the database in backend-specific ways (JSON paths,
aggregates of datetimes, the roster) run on every backend; input checks on SQLite only.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import ClientResponse, ClientSession, CookieJar
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from sqlalchemy import select

from csdesk.actions import sweeps, workbench
from csdesk.actions.agents import AgentProfileSpec, ShiftSpec, set_agent_profile, set_roster
from csdesk.actions.shops import ensure_shop
from csdesk.actions.users import create_user
from csdesk.app import create_app
from csdesk.clock import utcnow
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ConversationStatus, ServiceRole, UserRole
from csdesk.storage.models import AgentProfile, Conversation, Shop
from tests.helpers import actor, deps, order_data, post_event, settle

P = ServiceRole
PASSWORD = "agent-password-1"
LOGIN_CSRF = re.compile(r'action="/login".*?name="csrf_token" value="([^"]+)"', re.DOTALL)
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
pytestmark = pytest.mark.usefixtures("shop_id")


@pytest.fixture
async def client(settings: Settings, aiohttp_client: AiohttpClient) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(settings))


class Person:
    """One browser: its own cookie jar, signed in through the form, CSRF from the page."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        base = str(client.make_url("/")).rstrip("/")
        self.http = ClientSession(base_url=base, cookie_jar=CookieJar(unsafe=True))
        self.csrf = ""

    async def sign_in(self, username: str, password: str = PASSWORD) -> None:
        page = await (await self.http.get("/login")).text()
        match = LOGIN_CSRF.search(page)
        assert match is not None
        form = {"csrf_token": match.group(1), "username": username, "password": password}
        response = await self.http.post("/login", data=form, allow_redirects=False)
        assert response.status == 303, await response.text()
        workbench_page = await self.http.get("/console/workbench")
        assert workbench_page.status == 200
        csrf = META_CSRF.search(await workbench_page.text())
        assert csrf is not None
        self.csrf = csrf.group(1)

    async def get(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.http.get(path, **kwargs)

    async def json(self, path: str, status: int = 200) -> Any:
        response = await self.http.get(path)
        assert response.status == status, await response.text()
        return await response.json()

    async def post(self, path: str, body: Any, *, csrf: bool = True) -> ClientResponse:
        headers = {"Content-Type": "application/json"}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return await self.http.post(path, data=json.dumps(body), headers=headers)


PersonFactory = Callable[[str], Awaitable[Person]]


@pytest.fixture
async def person(client: TestClient[Any, Any]) -> AsyncIterator[PersonFactory]:
    people: list[Person] = []

    async def signed_in(username: str) -> Person:
        someone = Person(client)
        people.append(someone)
        password = "password-123" if username.startswith("lead") else PASSWORD
        await someone.sign_in(username, password)
        return someone

    yield signed_in
    for someone in people:
        await someone.http.close()


async def add_agent(
    sessions: SessionFactory,
    shop_id: str,
    username: str,
    roles: list[ServiceRole],
    *,
    status: AgentStatus = AgentStatus.ONLINE,
    display_name: str | None = None,
) -> int:
    user = await create_user(
        sessions,
        shop_id=shop_id,
        username=username,
        role=UserRole.AGENT,
        password=PASSWORD,
        display_name=display_name,
    )
    async with sessions.begin() as session:
        await set_agent_profile(
            session,
            shop_id,
            AgentProfileSpec(user_id=user.id, service_roles=tuple(roles), status=status),
        )
    return user.id


async def add_lead(sessions: SessionFactory, shop_id: str, username: str = "lead") -> int:
    user = await create_user(
        sessions,
        shop_id=shop_id,
        username=username,
        role=UserRole.SUPERVISOR,
        password="password-123",
    )
    return user.id


async def buyer_says(client: TestClient[Any, Any], nick: str, text: str, **kw: Any) -> None:
    await post_event(client, "message.received", {"buyer_nick": nick, "text": text, **kw})
    await settle(client)


async def only_conversation(sessions: SessionFactory, **where: Any) -> Conversation:
    async with sessions() as session:
        query = select(Conversation).where(Conversation.kind == "chat")
        for key, value in where.items():
            query = query.where(getattr(Conversation, key) == value)
        (conversation,) = (await session.scalars(query)).all()
        return conversation


# ---- shift ----------------------------------------------------------------------------------


async def test_going_on_shift_takes_the_roster_roles_and_off_shift_requeues(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    rostered = await add_agent(
        sessions, shop_id, "xiaomei", [P.PRESALES], status=AgentStatus.OFFLINE
    )
    await add_agent(sessions, shop_id, "xiaoli", [P.PRESALES], status=AgentStatus.OFFLINE)
    now = utcnow()
    async with sessions.begin() as session:
        await set_roster(
            session,
            shop_id,
            [
                ShiftSpec(
                    rostered, P.REFUND, now - timedelta(minutes=30), now + timedelta(hours=4)
                ),
                # Later today: not a role held now.
                ShiftSpec(rostered, P.HOTLINE, now + timedelta(hours=5), now + timedelta(hours=9)),
            ],
            window_start=now - timedelta(hours=1),
            window_end=now + timedelta(hours=6),
        )
    mei = await person("xiaomei")
    state = await mei.json("/api/v1/workbench")
    assert state["me"]["status"] == "offline"
    assert state["me"]["roster_roles"] == ["refund"]
    assert state["conversations"] == []
    assert state["timezone"] == "Asia/Shanghai"

    response = await mei.post("/api/v1/workbench/status", {"status": "online"})
    assert response.status == 200, await response.text()
    change = await response.json()
    assert change["service_roles"] == ["refund"]
    assert change["from_roster"] is True

    await buyer_says(client, "小鱼", "东西坏了 我要退款")
    state = await mei.json("/api/v1/workbench")
    (row,) = state["conversations"]
    assert row["role"] == "refund"
    assert row["buyer"]["nick"] == "小鱼"
    assert row["last_message"]["text"] == "东西坏了 我要退款"
    assert row["waiting_since"] is not None
    assert row["sla_s"] == 30

    # Off shift: the unanswered chat goes back to the queue.
    response = await mei.post("/api/v1/workbench/status", {"status": "offline"})
    assert (await response.json())["requeued"] == [row["id"]]
    conversation = await only_conversation(sessions)
    assert conversation.status is ConversationStatus.QUEUED
    assert (await mei.json("/api/v1/workbench"))["conversations"] == []

    # No roster shift now: the profile's roles stay.
    li = await person("xiaoli")
    change = await (await li.post("/api/v1/workbench/status", {"status": "busy"})).json()
    assert change["service_roles"] == ["presales"]
    assert change["from_roster"] is False
    async with sessions() as session:
        profile = await session.scalar(select(AgentProfile).where(AgentProfile.user_id != rostered))
        assert profile is not None
        assert profile.status is AgentStatus.BUSY


async def live_console(someone: Person) -> Any:
    """The person's websocket to /api/v1/live, past the welcome (a new queue)."""
    ws = await someone.http.ws_connect("/api/v1/live")
    await ws.send_json({"op": "hello", "queue_id": None, "last_event_id": -1})
    async with asyncio.timeout(30):
        welcome = await ws.receive_json()
    assert welcome["op"] == "welcome"
    return ws


async def live_events_until(ws: Any, event_type: str) -> list[dict[str, Any]]:
    """Event frames up to and including the first of ``event_type``."""
    frames = []
    while True:
        async with asyncio.timeout(30):
            frame = await ws.receive_json()
        assert frame["op"] == "event", frame
        frames.append(frame)
        if frame["type"] == event_type:
            return frames


async def test_auto_suspend_at_n_chats_and_back_online_below_it_announced_live(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    agent = await add_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    mei = await person("xiaomei")
    ws = await live_console(mei)
    path = "/api/v1/workbench/settings"
    for bad in ({}, *({"auto_suspend_at": value} for value in (-1, 51, "2", True, 1.5))):
        response = await mei.post(path, bad)
        assert response.status == 400, bad
        assert (await response.json())["field"] == "auto_suspend_at"
    response = await mei.post(path, {"auto_suspend_at": 2})
    assert response.status == 200, await response.text()
    assert await response.json() == {
        "status": "online",
        "auto_suspend_at": 2,
        "auto_suspend_default": None,
        "auto_suspended": False,
        "assigned": [],
    }

    # The second chat reaches N: busy (挂起), announced right after that assignment.
    await buyer_says(client, "小鱼", "这个有货吗")
    await buyer_says(client, "阿杰", "这个有货吗")
    frames = await live_events_until(ws, "agent.status")
    assert [f["type"] for f in frames if f["type"] != "message.created"] == [
        "conversation.assigned",
        "conversation.assigned",
        "agent.status",
    ]
    announced = frames[-1]["payload"]
    assert announced["agent_id"] == agent
    assert announced["status"] == "busy"
    assert announced["auto_suspended"] is True
    assert (announced["auto_suspend_at"], announced["open_chats"]) == (2, 2)
    state = await mei.json("/api/v1/workbench")
    assert state["me"]["status"] == "busy"
    assert state["me"]["auto_suspended"] is True
    first, second = (c["id"] for c in state["conversations"])

    # No new chats while suspended; the current ones go on.
    await buyer_says(client, "阿花", "这个有货吗")
    third = await only_conversation(sessions, status=ConversationStatus.QUEUED)
    reply = await mei.post(f"/api/v1/conversations/{first}/reply", {"text": "有的亲"})
    assert reply.status == 201

    # Below N again: online, the queued chat comes at once, and N is reached again.
    response = await mei.post(f"/api/v1/conversations/{first}/close", {"disposition": "sold"})
    assert response.status == 200
    frames = await live_events_until(ws, "conversation.assigned")
    resumed = [f["payload"] for f in frames if f["type"] == "agent.status"]
    assert [(p["status"], p["auto_suspended"]) for p in resumed] == [("online", False)]
    assert frames[-1]["payload"]["conversation"]["id"] == third.id
    frames = await live_events_until(ws, "agent.status")
    assert frames[-1]["payload"]["status"] == "busy"
    assert (await mei.json("/api/v1/workbench"))["me"]["status"] == "busy"

    # Busy by the agent's own choice is never undone by the count.
    response = await mei.post("/api/v1/workbench/status", {"status": "busy"})
    assert (await response.json())["status"] == "busy"
    response = await mei.post(f"/api/v1/conversations/{second}/close", {"disposition": "sold"})
    assert response.status == 200
    me = (await mei.json("/api/v1/workbench"))["me"]
    assert (me["status"], me["auto_suspended"]) == ("busy", False)
    # Going online at the limit is busy at once; turning the limit off lets the agent be.
    response = await mei.post(path, {"auto_suspend_at": 1})
    assert (await response.json())["status"] == "busy"  # manual busy: unchanged
    response = await mei.post("/api/v1/workbench/status", {"status": "online"})
    assert (await response.json())["status"] == "busy"
    response = await mei.post(path, {"auto_suspend_at": 0})
    assert (await response.json())["status"] == "online"
    await ws.close()


@SQLITE_ONLY
async def test_auto_suspend_follows_the_shop_default_unless_the_agent_set_one(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    async with sessions.begin() as session:
        shop = await session.get(Shop, shop_id)
        assert shop is not None
        shop.config = {"assignment": {"auto_suspend_at": 1}}
    await add_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    mei = await person("xiaomei")
    assert (await mei.json("/api/v1/workbench"))["me"]["auto_suspend_default"] == 1
    await buyer_says(client, "小鱼", "这个有货吗")
    await buyer_says(client, "阿杰", "这个有货吗")
    me = (await mei.json("/api/v1/workbench"))["me"]
    assert (me["status"], me["auto_suspended"], me["auto_suspend_at"]) == ("busy", True, None)
    queued = await only_conversation(sessions, status=ConversationStatus.QUEUED)
    # The agent's own setting wins: at 2 the agent is below it, online, and takes the queue.
    response = await mei.post("/api/v1/workbench/settings", {"auto_suspend_at": 2})
    assert response.status == 200
    answer = await response.json()
    assert answer["assigned"] == [queued.id]
    assert (answer["status"], answer["auto_suspended"]) == ("busy", True)  # 2 chats again

    # A chat that leaves the agent elsewhere (the platform closed it): the sweep notices.
    await buyer_says(client, "阿花", "这个有货吗")
    async with sessions.begin() as session:
        chat = await session.get(Conversation, queued.id)
        assert chat is not None
        chat.status = ConversationStatus.CLOSED
        chat.closed_at = utcnow()
    assert await sweeps.resume_auto_suspended(deps(client), utcnow()) == 1
    me = (await mei.json("/api/v1/workbench"))["me"]
    assert (me["status"], me["auto_suspended"]) == ("busy", True)  # took 阿花: 2 again
    assert await sweeps.resume_auto_suspended(deps(client), utcnow()) == 0
    names = {c["buyer"]["nick"] for c in (await mei.json("/api/v1/workbench"))["conversations"]}
    assert names == {"小鱼", "阿花"}


@SQLITE_ONLY
async def test_status_input_and_people_without_a_profile(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await add_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await add_lead(sessions, shop_id)
    mei = await person("xiaomei")
    response = await mei.post("/api/v1/workbench/status", {"status": "sleeping"})
    assert response.status == 400
    assert (await response.json())["field"] == "status"
    response = await mei.post("/api/v1/workbench/status", ["online"])
    assert response.status == 400
    assert "JSON object" in (await response.json())["error"]
    lead = await person("lead")
    assert (await lead.json("/api/v1/workbench"))["me"]["has_profile"] is False
    response = await lead.post("/api/v1/workbench/status", {"status": "online"})
    assert response.status == 409
    assert "no agent profile" in (await response.json())["error"]


# ---- replies --------------------------------------------------------------------------------


async def test_reply_needs_csrf_and_every_variable_filled(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await add_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await buyer_says(client, "小鱼", "这个有货吗")
    conversation = await only_conversation(sessions)
    mei = await person("xiaomei")
    path = f"/api/v1/conversations/{conversation.id}/reply"

    response = await mei.post(path, {"text": "有的亲"}, csrf=False)
    assert response.status == 403
    assert "CSRF" in (await response.json())["error"]

    response = await mei.post(path, {"text": "亲，物流单号{物流单号}，预计{预计发货}发货"})
    assert response.status == 400
    problem = await response.json()
    assert problem["field"] == "text"
    assert "{物流单号}" in problem["error"]
    assert "{预计发货}" in problem["error"]

    for bad in ({"text": "   "}, {"text": 5}, {}, {"text": "x" * 2001}):
        response = await mei.post(path, bad)
        assert response.status == 400, bad
        assert (await response.json())["field"] == "text"

    response = await mei.post(path, {"text": "亲，有货的，今天下单今天发"})
    assert response.status == 201, await response.text()
    sent = (await response.json())["message"]
    assert sent["sender"] == "agent"
    assert sent["author_name"] == "xiaomei"

    page = await mei.json(f"/api/v1/conversations/{conversation.id}/messages")
    assert [m["sender"] for m in page["items"]] == ["buyer", "agent"]
    assert page["items"][-1]["id"] == sent["id"]
    (row,) = (await mei.json("/api/v1/workbench"))["conversations"]
    assert row["waiting_since"] is None
    assert row["last_message"]["text"] == "亲，有货的，今天下单今天发"


async def test_a_reply_with_a_forbidden_phrase_is_held_until_sent_anyway(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await add_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await add_lead(sessions, shop_id)
    await buyer_says(client, "小鱼", "这个有货吗")
    conversation = await only_conversation(sessions)
    mei = await person("xiaomei")
    path = f"/api/v1/conversations/{conversation.id}/reply"
    transcript = f"/api/v1/conversations/{conversation.id}/messages"
    text = "我也不知道，你自己看物流吧"

    response = await mei.post(path, {"text": text})
    assert response.status == 422
    held = await response.json()
    assert held["held"] == "forbidden_phrases"
    assert held["field"] == "text"
    assert [hit["phrase"] for hit in held["hits"]] == ["不知道", "自己看"]
    assert all(hit["reason"] for hit in held["hits"])
    assert "不知道" in held["error"]
    # Written in Traditional characters and full-width punctuation, it is the same phrase.
    response = await mei.post(path, {"text": "這個沒辦法！"})
    assert response.status == 422
    assert [hit["phrase"] for hit in (await response.json())["hits"]] == ["没办法"]
    response = await mei.post(path, {"text": text, "send_anyway": "yes"})
    assert response.status == 400
    assert (await response.json())["field"] == "send_anyway"
    assert [m["sender"] for m in (await mei.json(transcript))["items"]] == ["buyer"]
    assert (await mei.json("/api/v1/workbench"))["conversations"][0]["waiting_since"]

    response = await mei.post(path, {"text": text, "send_anyway": True})
    assert response.status == 201, await response.text()
    sent = (await response.json())["message"]
    assert [m["text"] for m in (await mei.json(transcript))["items"]] == ["这个有货吗", text]
    lead = await person("lead")
    overrides = [
        item
        for item in (await lead.json("/api/v1/audit"))["items"]
        if item["action"] == "reply.forbidden_override"
    ]
    assert len(overrides) == 1
    assert overrides[0]["actor_username"] == "xiaomei"
    assert overrides[0]["target_type"] == "message"
    assert overrides[0]["target_id"] == str(sent["id"])
    assert overrides[0]["detail"] == {
        "conversation_id": conversation.id,
        "phrases": ["不知道", "自己看"],
    }

    # The list is the shop's: it can drop a default phrase and add its own.
    async with sessions.begin() as session:
        shop = await session.get(Shop, shop_id)
        assert shop is not None
        shop.config = {
            "routing": {"console": {"forbidden_phrases": {"不知道": None, "随便": "敷衍买家"}}}
        }
    assert (await mei.post(path, {"text": "这个我不知道呢"})).status == 201
    response = await mei.post(path, {"text": "随便您"})
    assert response.status == 422
    assert (await response.json())["hits"] == [{"phrase": "随便", "reason": "敷衍买家"}]


@SQLITE_ONLY
async def test_transcript_loads_page_by_page(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    agent = await add_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await buyer_says(client, "小鱼", "在吗")
    conversation = await only_conversation(sessions)
    for n in range(44):
        await workbench.reply(
            deps(client), await actor(sessions, agent), conversation.id, f"第{n}条", utcnow()
        )
    mei = await person("xiaomei")
    base = f"/api/v1/conversations/{conversation.id}/messages"
    newest = await mei.json(base)
    assert len(newest["items"]) == 30
    assert newest["has_more"] is True
    assert newest["items"][-1]["text"] == "第43条"
    older = await mei.json(f"{base}?before_id={newest['items'][0]['id']}")
    assert older["has_more"] is False
    assert len(older["items"]) == 15
    assert older["items"][0]["sender"] == "buyer"
    ids = [m["id"] for m in older["items"] + newest["items"]]
    assert ids == sorted(ids)
    after = await mei.json(f"{base}?after_id={newest['items'][-3]['id']}&limit=1")
    assert [m["text"] for m in after["items"]] == ["第42条"]
    assert after["has_newer"] is True
    for query in ("before_id=x", "limit=0", "limit=101", "before_id=1&after_id=1"):
        response = await mei.get(f"{base}?{query}")
        assert response.status == 400, query
        assert "error" in await response.json()


# ---- access by URL ---------------------------------------------------------------------------


async def test_agents_open_only_their_own_conversations_supervisors_any(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await add_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await buyer_says(client, "小鱼", "这个有货吗")
    conversation = await only_conversation(sessions)
    await add_agent(sessions, shop_id, "xiaoli", [P.REFUND])
    await add_lead(sessions, shop_id)
    li = await person("xiaoli")
    api_paths = [
        f"/api/v1/conversations/{conversation.id}",
        f"/api/v1/conversations/{conversation.id}/messages",
        f"/api/v1/conversations/{conversation.id}/buyer",
    ]
    for path in api_paths:
        response = await li.get(path)
        assert response.status == 403, path
        assert "conversations.read" in (await response.json())["error"]
    page = await li.get(f"/console/conversations/{conversation.id}")
    assert page.status == 403
    assert "text/html" in page.headers["Content-Type"]
    response = await li.post(f"/api/v1/conversations/{conversation.id}/reply", {"text": "你好"})
    assert response.status == 409
    assert "someone else" in (await response.json())["error"]

    lead = await person("lead")
    for path in api_paths:
        assert (await lead.get(path)).status == 200, path
    detail = await lead.json(api_paths[0])
    assert detail["can_reply"] is False
    assert detail["assigned_agent"]["display_name"] == "xiaomei"
    page = await lead.get(f"/console/conversations/{conversation.id}")
    assert page.status == 200
    assert f'"conversation_id": {conversation.id}' in await page.text()

    mei = await person("xiaomei")
    assert (await mei.json(api_paths[0]))["can_reply"] is True
    for missing in ("/api/v1/conversations/999999", "/api/v1/conversations/abc"):
        response = await mei.get(missing)
        assert response.status == 404
        assert "not found" in (await response.json())["error"]
    assert (await mei.get("/console/conversations/999999")).status == 404

    # Another shop's conversation looks like an unknown one, even to a supervisor.
    await ensure_shop(sessions, "other-shop", "别的店")
    await post_event(
        client, "message.received", {"buyer_nick": "外人", "text": "在吗"}, shop_id="other-shop"
    )
    await settle(client)
    foreign = await only_conversation(sessions, shop_id="other-shop")
    assert (await lead.get(f"/api/v1/conversations/{foreign.id}")).status == 404


# ---- buyer panel and PII ---------------------------------------------------------------------


async def test_buyer_panel_masks_contact_data_and_reveal_is_audited(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await add_agent(sessions, shop_id, "xiaomei", [P.AFTERSALES_TRIAGE, P.PRESALES, P.REFUND])
    await post_event(client, "order.created", order_data("T-9001", nick="小鱼", amount="299.00"))
    await post_event(client, "order.paid", {"order_id": "T-9001"})
    await post_event(client, "order.shipped", {"order_id": "T-9001", "tracking_no": "SF1234567890"})
    await buyer_says(client, "小鱼", "快递到哪了 怎么还没到")
    conversation = await only_conversation(sessions)
    mei = await person("xiaomei")

    panel_response = await mei.get(f"/api/v1/conversations/{conversation.id}/buyer")
    raw = await panel_response.text()
    assert "13800001234" not in raw
    assert "文一西路969号" not in raw
    assert "王小明" not in raw
    panel = json.loads(raw)
    assert panel["buyer"]["nick"] == "小鱼"
    assert panel["buyer"]["tier"] == "normal"
    (order,) = panel["orders"]
    assert order["external_id"] == "T-9001"
    assert order["status"] == "shipped"
    assert order["receiver_phone"] == "138****1234"
    assert order["address"] == "浙江省杭州市****"
    assert order["receiver_name"] == "王**"
    assert order["tracking_no"] == "SF1234567890"
    assert order["focus"] is True
    assert panel["protection"]["owner_name"] == "xiaomei"

    detail = await mei.json(f"/api/v1/conversations/{conversation.id}")
    assert detail["variables"]["买家昵称"] == "小鱼"
    assert detail["variables"]["订单号"] == "T-9001"
    assert detail["variables"]["物流单号"] == "SF1234567890"
    assert re.fullmatch(r"\d{1,2}月\d{1,2}日", detail["variables"]["预计发货"])

    reveal = f"/api/v1/buyers/{panel['buyer']['id']}/reveal"
    body = {"field": "phone", "order_id": order["id"]}
    response = await mei.post(reveal, body)
    assert response.status == 400
    assert (await response.json())["field"] == "reason"
    response = await mei.post(reveal, {**body, "reason": "核对收货信息"}, csrf=False)
    assert response.status == 403
    response = await mei.post(reveal, {**body, "reason": "核对收货信息"})
    assert response.status == 200, await response.text()
    assert (await response.json())["value"] == "13800001234"
    # The buyer record itself has no phone (orders carry it): that is a 404, not a blank.
    response = await mei.post(reveal, {"field": "phone", "reason": "回电"})
    assert response.status == 404

    await add_agent(sessions, shop_id, "xiaoli", [P.REFUND])
    li = await person("xiaoli")
    response = await li.post(reveal, {**body, "reason": "好奇"})
    assert response.status == 403
    assert "pii.reveal" in (await response.json())["error"]

    await add_lead(sessions, shop_id)
    lead = await person("lead")
    response = await lead.post(
        reveal, {"field": "address", "order_id": order["id"], "reason": "改地址"}
    )
    assert (await response.json())["value"] == "浙江省杭州市余杭区文一西路969号"
    audit = await lead.json("/api/v1/audit")
    reveals = [item for item in audit["items"] if item["action"] == "pii.reveal"]
    assert [(r["actor_username"], r["reason"], r["detail"]["field"]) for r in reveals] == [
        ("lead", "改地址", "address"),
        ("xiaomei", "核对收货信息", "phone"),
    ]
    assert reveals[1]["detail"]["order_id"] == order["id"]


@SQLITE_ONLY
async def test_reveal_input_is_checked(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await add_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await post_event(client, "order.created", order_data("T-1", nick="小鱼"))
    await buyer_says(client, "小鱼", "在吗")
    panel_buyer = (await only_conversation(sessions)).buyer_id
    mei = await person("xiaomei")
    path = f"/api/v1/buyers/{panel_buyer}/reveal"
    cases = [
        ({"field": "email", "reason": "x"}, 400, "field"),
        ({"field": "phone", "reason": "x", "order_id": "1"}, 400, "order_id"),
        ({"field": "phone", "reason": "x", "order_id": 99999}, 404, None),
        ({"field": "phone", "reason": "x" * 201}, 400, "reason"),
    ]
    for body, status, field in cases:
        response = await mei.post(path, body)
        assert response.status == status, body
        assert (await response.json()).get("field") == field
    assert (
        await mei.post("/api/v1/buyers/424242/reveal", {"field": "phone", "reason": "x"})
    ).status == 404


# ---- transfer and close ----------------------------------------------------------------------


async def test_transfer_needs_a_note_and_hands_the_chat_over(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await add_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await buyer_says(client, "小鱼", "这个有货吗")
    conversation = await only_conversation(sessions)
    refunder = await add_agent(sessions, shop_id, "xiaoli", [P.REFUND])
    mei = await person("xiaomei")
    path = f"/api/v1/conversations/{conversation.id}/transfer"
    roles = await mei.json("/api/v1/workbench/roles")
    refund = next(r for r in roles["roles"] if r["key"] == "refund")
    assert refund["online"] == 1

    for body, field in (
        ({"to_role": "refund", "note": "  "}, "note"),
        ({"to_role": "refund"}, "note"),
        ({"to_role": "warehouse", "note": "买家要退款"}, "to_role"),
    ):
        response = await mei.post(path, body)
        assert response.status == 400, body
        assert (await response.json())["field"] == field

    response = await mei.post(path, {"to_role": "refund", "note": "买家要退款，已核实订单"})
    assert response.status == 200, await response.text()
    assert (await response.json())["assigned_agent_id"] == refunder
    moved = await only_conversation(sessions)
    assert moved.role == "refund"
    assert moved.assigned_agent_id == refunder
    assert (await mei.json("/api/v1/workbench"))["conversations"] == []
    assert (await mei.get(f"/api/v1/conversations/{conversation.id}")).status == 403
    li = await person("xiaoli")
    page = await li.json(f"/api/v1/conversations/{conversation.id}/messages")
    assert any("买家要退款，已核实订单" in m["text"] for m in page["items"])  # the note went along


async def test_the_buyer_is_told_of_a_transfer_in_the_target_roles_words(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await add_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await buyer_says(client, "小鱼", "这个有货吗")
    await buyer_says(client, "阿杰", "这个有货吗")
    await add_agent(sessions, shop_id, "xiaoli", [P.REFUND, P.AFTERSALES_TRIAGE])
    mei = await person("xiaomei")
    first, second = (await mei.json("/api/v1/workbench"))["conversations"]

    path = f"/api/v1/conversations/{first['id']}/transfer"
    response = await mei.post(path, {"to_role": "refund", "note": "买家要退款，订单未发货"})
    assert response.status == 200, await response.text()
    li = await person("xiaoli")
    items = (await li.json(f"/api/v1/conversations/{first['id']}/messages"))["items"]
    told = [m for m in items if m["sender"] == "auto"]
    assert [m["text"] for m in told] == ["您好，已为您转接至退款专员，请稍候"]
    assert told[0]["author_id"] is None
    # The handoff note stays internal: it is a system record, not what the buyer reads.
    assert all("订单未发货" not in m["text"] for m in told)
    assert any("订单未发货" in m["text"] for m in items if m["sender"] == "system")
    # Being told "please wait" is not an answer: the chat still waits for the new agent.
    (row,) = (await li.json("/api/v1/workbench"))["conversations"]
    assert row["waiting_since"] is not None
    assert row["last_message"]["sender"] == "buyer"

    # Wording is per role and the shop's to change; an empty text tells the buyer nothing.
    async with sessions.begin() as session:
        shop = await session.get(Shop, shop_id)
        assert shop is not None
        shop.config = {"routing": {"console": {"transfer_notices": {"aftersales_triage": ""}}}}
    path = f"/api/v1/conversations/{second['id']}/transfer"
    response = await mei.post(path, {"to_role": "aftersales_triage", "note": "质量问题"})
    assert response.status == 200, await response.text()
    items = (await li.json(f"/api/v1/conversations/{second['id']}/messages"))["items"]
    assert [m for m in items if m["sender"] == "auto"] == []


async def test_private_notes_stay_internal_and_mentions_notify_who_is_named(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    mei_id = await add_agent(sessions, shop_id, "xiaomei", [P.PRESALES], display_name="小美")
    lead_id = await add_lead(sessions, shop_id)
    li_id = await add_agent(sessions, shop_id, "xiaoli", [P.REFUND])
    await buyer_says(client, "小鱼", "这个有货吗")
    conversation = await only_conversation(sessions)
    mei, lead, li = await person("xiaomei"), await person("lead"), await person("xiaoli")
    lead_ws, li_ws = await live_console(lead), await live_console(li)
    path = f"/api/v1/conversations/{conversation.id}/notes"
    for bad in ({}, {"text": "  "}, {"text": "x" * 2001}):
        response = await mei.post(path, bad)
        assert response.status == 400, bad
        assert (await response.json())["field"] == "text"

    text = "@lead 买家说要投诉，@xiaoli请看下退款 @nobody @xiaomei"
    response = await mei.post(path, {"text": text})
    assert response.status == 201, await response.text()
    answer = await response.json()
    assert answer["message"]["sender"] == "note"
    assert answer["message"]["author_name"] == "小美"
    assert [m["username"] for m in answer["mentioned"]] == ["lead", "xiaoli"]  # not the author

    # Each person named gets note.mentioned, addressed to them alone.
    frames = await live_events_until(lead_ws, "note.mentioned")
    told = frames[-1]["payload"]
    assert told["conversation_id"] == conversation.id
    assert told["message"]["text"] == text
    assert told["message"]["mentions"] == [lead_id, li_id]
    assert told["by"] == {"id": mei_id, "display_name": "小美"}
    assert told["buyer_nick"] == "小鱼"
    assert told["can_open"] is True  # a supervisor reads any conversation
    frames = await live_events_until(li_ws, "note.mentioned")
    assert [f["type"] for f in frames] == ["note.mentioned"]  # nothing else of mei's chat
    assert frames[-1]["payload"]["can_open"] is False  # another agent's chat: told, not shown

    # In the transcript for staff, marked as a note; not an answer to the buyer.
    items = (await mei.json(f"/api/v1/conversations/{conversation.id}/messages"))["items"]
    assert [m["sender"] for m in items] == ["buyer", "note"]
    assert items[-1]["author_id"] == mei_id
    (row,) = (await mei.json("/api/v1/workbench"))["conversations"]
    assert row["waiting_since"] is not None
    assert row["last_message"]["sender"] == "buyer"
    detail = await mei.json(f"/api/v1/conversations/{conversation.id}")
    assert detail["can_note"] is True

    # Agents note only their own conversations; supervisors any, and can mention back.
    assert (await li.post(path, {"text": "看过了"})).status == 403
    mei_ws = await live_console(mei)
    response = await lead.post(path, {"text": "@xiaomei 先安抚买家，别承诺赔偿"})
    assert response.status == 201
    frames = await live_events_until(mei_ws, "note.mentioned")
    created = [f["payload"]["message"] for f in frames if f["type"] == "message.created"]
    assert [m["sender"] for m in created] == ["note"]  # the holder's transcript updates live
    assert frames[-1]["payload"]["can_open"] is True
    assert (await lead.post("/api/v1/conversations/424242/notes", {"text": "x"})).status == 404
    for ws in (lead_ws, li_ws, mei_ws):
        await ws.close()


async def test_close_with_disposition_and_tags(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await add_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    await buyer_says(client, "小鱼", "这个有货吗")
    conversation = await only_conversation(sessions)
    mei = await person("xiaomei")
    path = f"/api/v1/conversations/{conversation.id}/close"
    for body, field in (
        ({"tags": ["x"]}, "disposition"),
        ({"disposition": "sold", "tags": "vip"}, "tags"),
        ({"disposition": "sold", "tags": [str(n) for n in range(11)]}, "tags"),
    ):
        response = await mei.post(path, body)
        assert response.status == 400, body
        assert (await response.json())["field"] == field
    response = await mei.post(path, {"disposition": "sold", "tags": ["保温杯", " 复购 ", "保温杯"]})
    assert response.status == 200, await response.text()
    closed = await only_conversation(sessions)
    assert closed.status is ConversationStatus.CLOSED
    assert closed.disposition == "sold"
    assert closed.tags == ["保温杯", "复购"]
    again = await mei.post(path, {"disposition": "sold"})
    assert again.status == 409
    assert "closed" in (await again.json())["error"]
    # Still the agent's own: readable after closing.
    assert (await mei.json(f"/api/v1/conversations/{conversation.id}"))["status"] == "closed"


# ---- quick replies ---------------------------------------------------------------------------


@SQLITE_ONLY
async def test_quick_replies_follow_the_roles_held(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await add_agent(sessions, shop_id, "xiaomei", [P.REFUND])
    await add_lead(sessions, shop_id)
    mei = await person("xiaomei")
    library = await mei.json("/api/v1/quick-replies")
    groups = {group["name"] for group in library["groups"]}
    assert {"欢迎语", "结束语", "退款", "售后"} <= groups
    assert "催付" not in groups
    assert library["variables"] == ["买家昵称", "订单号", "物流单号", "预计发货"]
    codes = [p["code"] for g in library["groups"] for p in g["phrases"]]
    assert len(codes) == len(set(codes))
    lead = await person("lead")
    assert "催付" in {g["name"] for g in (await lead.json("/api/v1/quick-replies"))["groups"]}


# ---- pages and language ----------------------------------------------------------------------


@SQLITE_ONLY
async def test_workbench_page_language_switch_and_inert_names(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await add_agent(
        sessions,
        shop_id,
        "xiaomei",
        [P.PRESALES],
        display_name="</script><script>alert(1)</script>",
    )
    mei = await person("xiaomei")
    page = await mei.get("/console/workbench")
    text = await page.text()
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "我的会话" in text
    assert "转接" in text
    assert "<script>alert(1)" not in text  # escaped in the page and in the boot JSON
    assert 'lang="zh-CN"' in text

    response = await mei.http.post(
        "/console/lang", data={"lang": "en", "next": "/console/workbench"}, allow_redirects=False
    )
    assert response.status == 403  # no CSRF token
    response = await mei.http.post(
        "/console/lang",
        data={"lang": "en", "next": "/console/workbench", "csrf_token": mei.csrf},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/console/workbench"
    english = await (await mei.get("/console/workbench")).text()
    assert "My conversations" in english
    assert "Transfer" in english
    assert '"Refreshing every few seconds"' in english  # script strings follow the locale
    assert '"presales": "Presales"' in english

    response = await mei.http.post(
        "/console/lang",
        data={"lang": "fr", "next": "https://evil.example/", "csrf_token": mei.csrf},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/console/"
    assert "My conversations" in await (await mei.get("/console/workbench")).text()


@SQLITE_ONLY
async def test_openapi_lists_the_workbench_routes(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await add_agent(sessions, shop_id, "xiaomei", [P.PRESALES])
    mei = await person("xiaomei")
    document = await mei.json("/api/openapi.json")
    documented = {(path, m.upper()) for path, ops in document["paths"].items() for m in ops}
    routed = {
        (route.resource.canonical, route.method)
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
    }
    assert documented == routed
    assert ("/api/v1/buyers/{buyer_id}/reveal", "POST") in documented
