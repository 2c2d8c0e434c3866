"""``GET /api/v1/live`` end to end: real websockets, events from signed HTTP and real
actions, on SQLite and PostgreSQL, each with and without Redis (two web processes sharing
PostgreSQL/SQLite and Redis where a test needs a second one).

Negative checks never wait for "nothing arrived": after the event a console must not get,
something it must get is published, and the first thing it receives has to be that.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import WSCloseCode, WSMsgType, WSServerHandshakeError, web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from csdesk.actions import workbench
from csdesk.actions.shops import ensure_shop
from csdesk.actions.users import create_user, issue_token
from csdesk.app import create_app
from csdesk.bus.base import BusEvent
from csdesk.clock import utcnow
from csdesk.keys import BUS_KEY, SESSIONS_KEY
from csdesk.realtime import HUB_KEY, LIVE_CONFIG_KEY, LiveConfig, close_live_sockets, hub_ctx
from csdesk.realtime.connection import CLOSE_TAKEN_OVER
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ServiceRole, UserRole
from csdesk.web import live
from tests.helpers import actor, deps, make_agent, post_event, settle, token_for

P = ServiceRole
WS = Any  # aiohttp's ClientWebSocketResponse, generic over its decoder
RECEIVE_GUARD_S = 30.0
"""Only so a broken build fails instead of hanging; no test depends on how fast things are."""
REDIS_BACKENDS = ["sqlite+redis", "postgres+redis"]
OTHER_SHOP = "other-shop"


def live_app(settings: Settings, config: LiveConfig | None = None) -> web.Application:
    """``create_app`` with the live wiring; adds it only while app.py does not yet."""
    app = create_app(settings)
    wired = any(
        route.resource is not None and route.resource.canonical == "/api/v1/live"
        for route in app.router.routes()
    )
    if not wired:
        app.cleanup_ctx.append(hub_ctx)
        app.on_shutdown.append(close_live_sockets)
        app.router.add_routes(live.routes)
    if config is not None:
        app[LIVE_CONFIG_KEY] = config
    return app


@pytest.fixture
async def client(settings: Settings, aiohttp_client: AiohttpClient) -> TestClient[Any, Any]:
    return await aiohttp_client(live_app(settings))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def connect(client: TestClient[Any, Any], token: str) -> WS:
    return await client.ws_connect("/api/v1/live", headers=bearer(token))


async def next_frame(ws: WS) -> dict[str, Any]:
    # Around the whole receive: the server's heartbeat pings would restart receive(timeout).
    async with asyncio.timeout(RECEIVE_GUARD_S):
        message = await ws.receive()
    assert message.type is WSMsgType.TEXT, f"got {message.type.name}: {message.data!r}"
    frame: dict[str, Any] = json.loads(message.data)
    return frame


async def close_code(ws: WS) -> int:
    """The code the server closed ``ws`` with (it must close it next)."""
    async with asyncio.timeout(RECEIVE_GUARD_S):
        message = await ws.receive()
    assert message.type is WSMsgType.CLOSE, f"got {message.type.name}: {message.data!r}"
    code: int = message.data
    return code


async def hello(ws: WS, queue_id: str | None = None, last_event_id: int = -1) -> dict[str, Any]:
    await ws.send_json({"op": "hello", "queue_id": queue_id, "last_event_id": last_event_id})
    return await next_frame(ws)


async def open_console(client: TestClient[Any, Any], token: str) -> tuple[WS, str]:
    ws = await connect(client, token)
    welcome = await hello(ws)
    assert welcome == {
        "op": "welcome",
        "queue_id": welcome["queue_id"],
        "last_event_id": -1,
        "resumed": False,
    }
    return ws, welcome["queue_id"]


async def events_until(ws: WS, done: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Event frames up to and including the first one ``done`` accepts."""
    frames: list[dict[str, Any]] = []
    while True:
        frame = await next_frame(ws)
        assert frame["op"] == "event", frame
        frames.append(frame)
        if done(frame):
            return frames


def text_is(text: str) -> Callable[[dict[str, Any]], bool]:
    def check(frame: dict[str, Any]) -> bool:
        return bool(
            frame["type"] == "message.created" and frame["payload"]["message"]["text"] == text
        )

    return check


def conversation_event(event_type: str) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame["type"] == event_type


async def buyer_says(client: TestClient[Any, Any], nick: str, text: str, **kw: Any) -> None:
    await post_event(client, "message.received", {"buyer_nick": nick, "text": text}, **kw)


# ---- handshake ---------------------------------------------------------------------------


async def test_login_required_before_upgrade(client: TestClient[Any, Any]) -> None:
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/api/v1/live")
    assert refused.value.status == 401
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/api/v1/live", headers=bearer("not-a-token"))
    assert refused.value.status == 401


async def test_foreign_origin_refused_same_origin_accepted(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    token = await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    for origin in ("http://evil.example", "null", f"http://{client.host}:1"):
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect("/api/v1/live", headers={**bearer(token), "Origin": origin})
        assert refused.value.status == 403, origin
    ws = await client.ws_connect(
        "/api/v1/live", headers={**bearer(token), "Origin": f"http://{client.host}:{client.port}"}
    )
    assert (await hello(ws))["op"] == "welcome"
    await ws.close()


async def test_plain_get_is_not_an_upgrade(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    token = await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    response = await client.get("/api/v1/live", headers=bearer(token))
    assert response.status == 400
    assert "WebSocket" in (await response.json())["error"]


async def test_console_session_cookie_authenticates(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    await create_user(
        sessions, shop_id=shop_id, username="xiaomei", role=UserRole.AGENT, password="pw-123456"
    )
    page = await client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert match is not None
    form = {"csrf_token": match.group(1), "username": "xiaomei", "password": "pw-123456"}
    assert (await client.post("/login", data=form, allow_redirects=False)).status == 303
    ws = await client.ws_connect(
        "/api/v1/live", headers={"Origin": f"http://{client.host}:{client.port}"}
    )
    assert (await hello(ws))["op"] == "welcome"
    await ws.close()


# ---- delivery ----------------------------------------------------------------------------


async def test_agent_gets_own_assignment_not_anothers(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    seller = await make_agent(sessions, shop_id, "seller", [P.PRESALES])
    refunder = await make_agent(sessions, shop_id, "refunder", [P.REFUND])
    seller_ws, _ = await open_console(client, await issue_token(sessions, "seller"))
    refunder_ws, _ = await open_console(client, await issue_token(sessions, "refunder"))

    await buyer_says(client, "b1", "这个保温杯有货吗")
    assigned = await next_frame(seller_ws)
    assert assigned["type"] == "conversation.assigned"
    assert assigned["id"] == 0
    assert assigned["payload"]["conversation"]["assigned_agent_id"] == seller
    # The chat is assigned before its first message is published, so that reaches the
    # agent too, then the follow-up.
    first_message = await next_frame(seller_ws)
    assert first_message["id"] == 1
    assert first_message["type"] == "message.created"
    assert first_message["payload"]["message"]["text"] == "这个保温杯有货吗"
    await buyer_says(client, "b1", "还有别的颜色吗")
    message = await next_frame(seller_ws)
    assert message["id"] == 2
    assert message["payload"]["message"]["text"] == "还有别的颜色吗"

    # The refunder's first event is its own refund, not the seller's chat.
    await buyer_says(client, "b2", "东西坏了 直接给我退款吧")
    first = await next_frame(refunder_ws)
    assert first["op"] == "event"
    assert first["id"] == 0
    assert first["type"] == "conversation.assigned"
    assert first["payload"]["conversation"]["assigned_agent_id"] == refunder
    assert first["payload"]["conversation"]["role"] == "refund"
    await seller_ws.close()
    await refunder_ws.close()


async def test_queued_goes_to_agents_on_shift_in_that_role_only(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    # Away: nobody takes the items, so they queue and the role hears about it.
    for name, role in (("p1", P.PRESALES), ("p2", P.PRESALES), ("r1", P.REFUND)):
        await make_agent(sessions, shop_id, name, [role], status=AgentStatus.AWAY)
    p1, _ = await open_console(client, await issue_token(sessions, "p1"))
    p2, _ = await open_console(client, await issue_token(sessions, "p2"))
    r1, _ = await open_console(client, await issue_token(sessions, "r1"))

    await buyer_says(client, "b1", "这个有优惠吗")
    for ws in (p1, p2):
        frame = await next_frame(ws)
        assert frame["type"] == "conversation.queued"
        assert frame["payload"]["conversation"]["role"] == "presales"
    await buyer_says(client, "b2", "我要退款 东西坏了")
    frame = await next_frame(r1)
    assert frame["type"] == "conversation.queued"
    assert frame["payload"]["conversation"]["role"] == "refund"
    assert frame["id"] == 0
    for ws in (p1, p2, r1):
        await ws.close()


async def test_going_on_shift_in_a_role_starts_its_events(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    agent = await make_agent(sessions, shop_id, "r1", [P.REFUND], status=AgentStatus.AWAY)
    ws, _ = await open_console(client, await issue_token(sessions, "r1"))
    await workbench.set_agent_status(
        deps(client), shop_id, agent, AgentStatus.AWAY, utcnow(), service_roles=[P.PRESALES]
    )
    status = await next_frame(ws)
    assert (status["type"], status["payload"]["agent_id"]) == ("agent.status", agent)
    await buyer_says(client, "b1", "这个有优惠吗")
    queued = await next_frame(ws)
    assert queued["type"] == "conversation.queued"
    assert queued["payload"]["conversation"]["role"] == "presales"
    await ws.close()


async def test_supervisor_gets_supervisor_events(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    ws, _ = await open_console(
        client, await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    )
    await buyer_says(client, "b1", "在吗 有货吗")
    frames = [await next_frame(ws), await next_frame(ws)]
    assert {f["type"] for f in frames} == {"conversation.queued", "message.created"}
    await ws.close()


async def test_shops_are_isolated(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    await ensure_shop(sessions, OTHER_SHOP, "别家店")
    ours, _ = await open_console(
        client, await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    )
    theirs, _ = await open_console(
        client, await token_for(sessions, OTHER_SHOP, "other-lead", UserRole.OWNER)
    )
    await buyer_says(client, "b1", "我们店的消息")
    await events_until(ours, text_is("我们店的消息"))
    await buyer_says(client, "b1", "别家店的消息", shop_id=OTHER_SHOP)
    frames = await events_until(theirs, text_is("别家店的消息"))
    assert all("我们店" not in json.dumps(f, ensure_ascii=False) for f in frames)
    await buyer_says(client, "b1", "我们店的第二条")
    frames = await events_until(ours, text_is("我们店的第二条"))
    assert all("别家店" not in json.dumps(f, ensure_ascii=False) for f in frames)
    await ours.close()
    await theirs.close()


# ---- protocol errors -------------------------------------------------------------------


async def test_malformed_messages_get_an_error_and_the_socket_stays(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    ws = await connect(client, await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR))
    cases: list[tuple[str | bytes, str]] = [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"queue_id": null}', "op: missing"),
        ('{"op": "subscribe"}', "op: unknown 'subscribe'"),
        ('{"op": "ack", "last_event_id": 3}', "ack: send hello first"),
        ('{"op": "hello", "queue_id": 7, "last_event_id": -1}', "hello: queue_id"),
        ('{"op": "hello", "queue_id": "abc"}', "hello: last_event_id is required"),
        ('{"op": "hello", "queue_id": "abc", "last_event_id": true}', "must be an integer"),
        ('{"op": "hello", "queue_id": "abc", "last_event_id": -2}', "-1 or more"),
        (b"\x00\x01", "binary frames are not supported"),
    ]
    for raw, problem in cases:
        if isinstance(raw, bytes):
            await ws.send_bytes(raw)
        else:
            await ws.send_str(raw)
        frame = await next_frame(ws)
        assert frame["op"] == "error", raw
        assert problem in frame["error"], (raw, frame)
    welcome = await hello(ws)
    assert welcome["op"] == "welcome"
    for raw, problem in [
        ('{"op": "hello", "queue_id": null, "last_event_id": -1}', "hello: already sent"),
        ('{"op": "ack", "last_event_id": 5}', "was not sent yet"),
    ]:
        await ws.send_str(raw)
        frame = await next_frame(ws)
        assert frame["op"] == "error"
        assert problem in frame["error"], frame
    await ws.close()


# ---- resume --------------------------------------------------------------------------------


async def _reconnect_mid_burst(
    first: TestClient[Any, Any],
    second: TestClient[Any, Any],
    sessions: SessionFactory,
    shop_id: str,
    burst: int = 200,
) -> None:
    """Drop the socket in the middle of a burst of buyer messages and resume through
    ``second`` while the burst goes on: every event arrives exactly once, ids contiguous, in
    the order the buyer wrote."""
    agent = await make_agent(sessions, shop_id, "a1", [P.PRESALES])
    token = await issue_token(sessions, "a1")
    ws, queue_id = await open_console(first, token)
    await buyer_says(first, "老顾客", "在吗")
    # A new chat's first message is published before the assignment: the agent loads it.
    opening = await events_until(ws, conversation_event("conversation.assigned"))
    conversation_id = opening[-1]["payload"]["conversation"]["id"]

    dropped, third_quarter = asyncio.Event(), asyncio.Event()

    async def buyer() -> None:
        for n in range(burst):
            if n == burst // 2:
                await dropped.wait()  # the second quarter goes out while no socket is open
            if n == burst * 3 // 4:
                third_quarter.set()  # the rest flows while the console resumes
            await buyer_says(first, "老顾客", f"burst-{n}")

    posting = asyncio.create_task(buyer())
    before = opening + await events_until(ws, text_is(f"burst-{burst // 4}"))
    await ws.close()
    dropped.set()
    await third_quarter.wait()

    ws2 = await connect(second, token)
    last = before[-1]["id"]
    welcome = await hello(ws2, queue_id, last)
    assert welcome == {
        "op": "welcome",
        "queue_id": queue_id,
        "last_event_id": last,
        "resumed": True,
    }
    after = await events_until(ws2, text_is(f"burst-{burst - 1}"))
    await posting
    # Nothing is repeated after the burst either: the next event is the sentinel.
    await workbench.reply(
        deps(first), await actor(sessions, agent), conversation_id, "sentinel", utcnow()
    )
    after += await events_until(ws2, text_is("sentinel"))
    await ws2.close()

    frames = before + after
    assert [f["id"] for f in frames] == list(range(len(frames)))
    texts = [
        f["payload"]["message"]["text"]
        for f in frames
        if f["type"] == "message.created" and f["payload"]["message"]["text"].startswith("burst-")
    ]
    assert texts == [f"burst-{n}" for n in range(burst)]


async def test_reconnect_mid_burst_resumes_exactly(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    await _reconnect_mid_burst(client, client, sessions, shop_id)


@pytest.mark.parametrize("backend", REDIS_BACKENDS, indirect=True)
async def test_reconnect_to_another_web_process_resumes_exactly(
    client: TestClient[Any, Any],
    settings: Settings,
    aiohttp_client: AiohttpClient,
    sessions: SessionFactory,
    shop_id: str,
) -> None:
    other = await aiohttp_client(live_app(settings))
    await _reconnect_mid_burst(client, other, sessions, shop_id)
    assert client.app[HUB_KEY].queue_ids == frozenset()
    assert len(other.app[HUB_KEY].queue_ids) == 1


@pytest.mark.parametrize("backend", REDIS_BACKENDS, indirect=True)
async def test_handoff_while_events_flood_in(
    client: TestClient[Any, Any],
    settings: Settings,
    aiohttp_client: AiohttpClient,
    sessions: SessionFactory,
    shop_id: str,
) -> None:
    """The handoff race itself: events keep coming (straight onto the bus, far faster than
    the HTTP path makes them) while the console moves to the other process."""
    other = await aiohttp_client(live_app(settings))
    agent = await make_agent(sessions, shop_id, "a1", [P.PRESALES])
    token = await issue_token(sessions, "a1")
    ws, queue_id = await open_console(client, token)
    total, started = 600, asyncio.Event()

    async def flood() -> None:
        for n in range(0, total, 5):
            await client.app[BUS_KEY].publish(
                [
                    BusEvent(
                        "message.created",
                        shop_id,
                        (f"user:{agent}",),
                        {"conversation_id": 1, "message": {"text": f"flood-{k}"}},
                    )
                    for k in range(n, n + 5)
                ]
            )
            if n == 100:
                started.set()
            await asyncio.sleep(0.001)

    flooding = asyncio.create_task(flood())
    await started.wait()
    before = await events_until(ws, lambda f: True)
    await ws.close()
    ws2 = await connect(other, token)
    assert (await hello(ws2, queue_id, before[-1]["id"]))["resumed"] is True
    after = await events_until(ws2, text_is(f"flood-{total - 1}"))
    await flooding
    await ws2.close()
    frames = before + after
    assert [f["id"] for f in frames] == list(range(total))
    assert [f["payload"]["message"]["text"] for f in frames] == [f"flood-{k}" for k in range(total)]


@pytest.mark.parametrize("backend", REDIS_BACKENDS, indirect=True)
async def test_resume_elsewhere_closes_the_old_socket(
    client: TestClient[Any, Any],
    settings: Settings,
    aiohttp_client: AiohttpClient,
    sessions: SessionFactory,
    shop_id: str,
) -> None:
    other = await aiohttp_client(live_app(settings))
    token = await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    old, queue_id = await open_console(client, token)
    await buyer_says(client, "b1", "第一条")
    received = [await next_frame(old), await next_frame(old)]  # message.created, queued
    new = await connect(other, token)
    welcome = await hello(new, queue_id, received[-1]["id"])
    assert welcome["resumed"] is True
    assert await close_code(old) == CLOSE_TAKEN_OVER
    await buyer_says(client, "b1", "第二条")
    frames = await events_until(new, text_is("第二条"))
    assert frames[0]["id"] == received[-1]["id"] + 1
    await new.close()


@pytest.mark.parametrize("backend", REDIS_BACKENDS, indirect=True)
async def test_queue_of_a_stopped_process_resets(
    client: TestClient[Any, Any],
    settings: Settings,
    aiohttp_client: AiohttpClient,
    sessions: SessionFactory,
    shop_id: str,
) -> None:
    """A rolling restart: events published after the old process stopped reached no queue,
    so resuming elsewhere must not pretend nothing was missed."""
    other = await aiohttp_client(live_app(settings))
    token = await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    ws, queue_id = await open_console(client, token)
    stopping = asyncio.create_task(client.server.close())
    assert await close_code(ws) == WSCloseCode.GOING_AWAY
    await stopping
    ws = await connect(other, token)
    assert await hello(ws, queue_id, -1) == {
        "op": "reset",
        "reason": "the server that held the queue stopped",
    }
    assert (await next_frame(ws))["op"] == "welcome"
    await ws.close()


async def test_resume_on_same_process_with_ack(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    token = await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    ws, queue_id = await open_console(client, token)
    await buyer_says(client, "b1", "一")
    await buyer_says(client, "b1", "二")
    frames = await events_until(ws, text_is("二"))
    acked = frames[-1]["id"]
    await ws.send_json({"op": "ack", "last_event_id": acked})
    await ws.close()
    await buyer_says(client, "b1", "三")
    await settle(client)

    ws = await connect(client, token)
    assert (await hello(ws, queue_id, acked))["resumed"] is True
    frames = await events_until(ws, text_is("三"))
    assert frames[0]["id"] == acked + 1
    await ws.close()
    # Acknowledged events are gone: resuming from before them is a reset.
    ws = await connect(client, token)
    reset = await hello(ws, queue_id, acked - 1)
    assert reset["op"] == "reset"
    assert "too far behind" in reset["reason"]
    welcome = await next_frame(ws)
    assert welcome["op"] == "welcome"
    assert welcome["resumed"] is False
    await ws.close()


async def test_unknown_or_expired_queue_gets_reset_and_a_new_queue(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    token = await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    ws = await connect(client, token)
    reset = await hello(ws, "no-such-queue", 4)
    assert reset == {"op": "reset", "reason": "unknown or expired queue"}
    assert (await next_frame(ws))["op"] == "welcome"
    await ws.close()

    ws, queue_id = await open_console(client, token)
    await ws.close()
    hub = client.app[HUB_KEY]
    for _ in range(1000):  # the server sees the close a loop turn after the client does
        await hub.expire_idle(utcnow() + timedelta(days=1))
        if queue_id not in hub.queue_ids:
            break
        await asyncio.sleep(0.001)
    assert queue_id not in hub.queue_ids
    ws = await connect(client, token)
    reset = await hello(ws, queue_id, -1)
    assert reset["op"] == "reset"
    welcome = await next_frame(ws)
    assert welcome["op"] == "welcome"
    assert welcome["queue_id"] != queue_id
    assert welcome["resumed"] is False
    await ws.close()


async def test_someone_elses_queue_reads_as_unknown(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    ws, queue_id = await open_console(
        client, await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    )
    intruder = await connect(client, await token_for(sessions, shop_id, "peer", UserRole.AGENT))
    assert await hello(intruder, queue_id, -1) == {
        "op": "reset",
        "reason": "unknown or expired queue",
    }
    await intruder.close()
    await ws.close()


async def test_console_too_far_behind_gets_reset(
    settings: Settings, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(live_app(settings, LiveConfig(max_queue_events=5)))
    sessions = client.app[SESSIONS_KEY]
    shop_id = (await ensure_shop(sessions, "test-shop", "测试店")).id
    token = await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    ws, queue_id = await open_console(client, token)
    await ws.close()
    for n in range(4):  # a queued chat and a message each: 8 events, over the bound of 5
        await buyer_says(client, f"b{n}", f"消息{n}")
    await settle(client)
    ws = await connect(client, token)
    reset = await hello(ws, queue_id, -1)
    assert reset["op"] == "reset"
    assert "too far behind" in reset["reason"]
    assert (await next_frame(ws))["op"] == "welcome"
    await ws.close()


@pytest.mark.parametrize("backend", ["sqlite", "sqlite+redis"], indirect=True)
async def test_a_stuck_console_holds_up_nobody_and_resumes(
    settings: Settings, aiohttp_client: AiohttpClient
) -> None:
    """A console that stops reading: the others keep getting events; once its socket backs
    up past ``max_pending_frames`` it is closed (1013) and resumes with nothing lost."""
    config = LiveConfig(max_pending_frames=20, max_queue_events=5000)
    client = await aiohttp_client(live_app(settings, config))
    sessions = client.app[SESSIONS_KEY]
    shop_id = (await ensure_shop(sessions, "test-shop", "测试店")).id
    fast, _ = await open_console(
        client, await token_for(sessions, shop_id, "fast", UserRole.SUPERVISOR)
    )
    slow_token = await token_for(sessions, shop_id, "slow", UserRole.SUPERVISOR)
    slow, slow_queue = await open_console(client, slow_token)
    # ~22 MB in all: far more than loopback socket buffers hold for a reader that stopped.
    total, batch, filler = 1500, 10, "客" * 5000
    fast_frames: list[dict[str, Any]] = []
    for start in range(0, total, batch):
        await client.app[BUS_KEY].publish(
            [
                BusEvent("sla.warning", shop_id, ("supervisors",), {"n": n, "filler": filler})
                for n in range(start, start + batch)
            ]
        )
        fast_frames += [await next_frame(fast) for _ in range(batch)]
    assert [f["payload"]["n"] for f in fast_frames] == list(range(total))

    slow_frames: list[dict[str, Any]] = []
    while True:
        async with asyncio.timeout(RECEIVE_GUARD_S):
            message = await slow.receive()
        if message.type is not WSMsgType.TEXT:
            break
        slow_frames.append(json.loads(message.data))
    assert (message.type, message.data) == (WSMsgType.CLOSE, WSCloseCode.TRY_AGAIN_LATER)
    assert len(slow_frames) < total
    resumed = await connect(client, slow_token)
    assert (await hello(resumed, slow_queue, slow_frames[-1]["id"]))["resumed"] is True
    slow_frames += await events_until(resumed, lambda f: f["payload"]["n"] == total - 1)
    assert [f["id"] for f in slow_frames] == list(range(total))
    assert [f["payload"]["n"] for f in slow_frames] == list(range(total))
    await resumed.close()
    await fast.close()


# ---- shutdown ------------------------------------------------------------------------------


async def test_shutdown_closes_sockets_going_away(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    ws, _ = await open_console(
        client, await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    )
    idle = await connect(client, await token_for(sessions, shop_id, "peer", UserRole.AGENT))
    stopping = asyncio.create_task(client.server.close())
    for socket in (ws, idle):
        assert await close_code(socket) == WSCloseCode.GOING_AWAY
    await stopping
