"""The supervisor's API over real HTTP: the live board, reassigning and bulk moves, the
roster editor, role swaps, and guided mode with its recorded skips. Runs on SQLite and
PostgreSQL, each with and without Redis."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import shifts, workbench
from csdesk.actions.outbox import Outbox
from csdesk.actions.users import create_user
from csdesk.bus.memory import MemoryBus
from csdesk.clock import SHOP_TZ, utcnow
from csdesk.ingest.processor import ClaimedEvent, EventBatch, NotReadyError, process_events
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
from csdesk.storage.models import Buyer, Conversation, Message, User
from tests.helpers import accept, actor, deps, event_body, post_event, settle
from tests.integration.test_role_workbench_api import (
    agent,
    audit_actions,
    call,
    items,
    login_as,
)

P = ServiceRole
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
pytestmark = pytest.mark.usefixtures("shop_id")
BULK = "/api/v1/supervisor/conversations/bulk"


async def message(
    client: TestClient[Any, Any], nick: str, text: str, *, ago: timedelta = timedelta(0)
) -> None:
    await post_event(
        client,
        "message.received",
        {"buyer_nick": nick, "text": text},
        occurred_at=datetime.now(UTC) - ago,
    )
    await settle(client)


async def chat_of(sessions: SessionFactory, nick: str) -> Conversation:
    (found,) = [c for c in await items(sessions, kind="chat") if await _nick(sessions, c) == nick]
    return found


async def _nick(sessions: SessionFactory, conversation: Conversation) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(Buyer.nick).where(Buyer.id == conversation.buyer_id))


# -- the board ------------------------------------------------------------------------------


async def test_board_numbers_match_the_floor(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    presales, mine = await agent(sessions, shop_id, "pre", [P.PRESALES], chat_capacity=2)
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await message(client, "等了五分钟", "有货吗", ago=timedelta(minutes=5))
    await message(client, "已回复", "在吗", ago=timedelta(minutes=5))
    await message(client, "排队中", "这个有优惠吗")
    await message(client, "要退款", "东西坏了 我要退款", ago=timedelta(minutes=10))
    waited = await chat_of(sessions, "等了五分钟")
    answered = await chat_of(sessions, "已回复")
    queued = await chat_of(sessions, "排队中")
    refund = await chat_of(sessions, "要退款")
    assert waited.assigned_agent_id == answered.assigned_agent_id == presales
    assert queued.status is refund.status is ConversationStatus.QUEUED
    await workbench.reply(
        deps(client), await actor(sessions, presales), answered.id, "在的亲", utcnow()
    )

    await call(client, "GET", "/api/v1/supervisor/board", mine, status=403)
    bad = await call(client, "GET", "/api/v1/supervisor/board?silent_s=-1", boss, status=400)
    assert bad["field"] == "silent_s"
    board = await call(client, "GET", "/api/v1/supervisor/board?silent_s=0", boss)
    pre, ref = board["roles"]["presales"], board["roles"]["refund"]
    assert (pre["queued"], pre["with_agent"], pre["agent_silent"], pre["unanswered"]) == (
        1,
        2,
        1,
        1,
    )
    assert (ref["queued"], ref["with_agent"], ref["agent_silent"], ref["unanswered"]) == (
        1,
        0,
        0,
        1,
    )
    assert board["unanswered_window_s"] == 180
    # Longest waiting first: the refund (10 min), then the unanswered presales chat (5 min).
    assert [u["conversation_id"] for u in board["unanswered"]] == [refund.id, waited.id]
    assert board["unanswered"][1]["buyer_nick"] == "等了五分钟"
    assert board["unanswered"][1]["waiting_s"] >= 300
    assert [s["conversation_id"] for s in board["agent_silent"]] == [waited.id]
    (row,) = board["agents"]
    assert row["agent_id"] == presales
    assert (row["status"], row["service_roles"]) == ("online", ["presales"])
    assert (row["load"]["chat"], row["capacity"]["chat"], row["silent"]) == (2, 2, 1)

    # A generous silence threshold: nobody is silent yet.
    calm = await call(client, "GET", "/api/v1/supervisor/board?silent_s=3600", boss)
    assert calm["roles"]["presales"]["agent_silent"] == 0


async def test_board_counts_the_events_that_failed_after_acceptance(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """An event that fails after its 202 reaches no agent; the board says how many wait
    for a fix (processed and still-received ones do not count)."""
    boss = await login_as(sessions, shop_id, "boss", UserRole.SUPERVISOR)
    assert (await call(client, "GET", "/api/v1/supervisor/board", boss))["failed_events"] == 0
    events = [
        parse_event(
            event_body(
                "call.inbound", {"call_id": f"c{n}", "caller_phone": "1"}, event_id=f"bad-{n}"
            )
        )
        for n in range(4)
    ]
    ids = [a.row_id for a in await accept(sessions, events, utcnow()) if a.row_id is not None]

    async def handle(
        session: AsyncSession,
        event: ClaimedEvent,
        now: datetime,
        outbox: Outbox,
        batch: EventBatch | None = None,
    ) -> None:
        if event.event_id in ("bad-0", "bad-2"):
            raise RuntimeError("broken payload")
        if event.event_id == "bad-3":
            raise NotReadyError("order not yet recorded")

    counts = await process_events(sessions, MemoryBus(), MemoryWorkQueue(), handle, ids, utcnow())
    assert (counts["processed"], counts["failed"], counts["not_ready"]) == (1, 2, 1)
    board = await call(client, "GET", "/api/v1/supervisor/board", boss)
    assert board["failed_events"] == 2


async def test_board_lists_the_open_items_to_act_on(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    presales, _ = await agent(sessions, shop_id, "pre", [P.PRESALES], chat_capacity=1)
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await message(client, "先来的", "有货吗", ago=timedelta(minutes=4))
    await message(client, "排队的", "在吗")
    await message(client, "退款的", "东西坏了 我要退款")
    held = await chat_of(sessions, "先来的")
    queued = await chat_of(sessions, "排队的")
    refund = await chat_of(sessions, "退款的")
    assert held.assigned_agent_id == presales
    assert queued.status is refund.status is ConversationStatus.QUEUED

    board = await call(client, "GET", "/api/v1/supervisor/board?silent_s=0", boss)
    rows = {row["conversation_id"]: row for row in board["items"]}
    assert set(rows) == {held.id, queued.id, refund.id}
    # Queued first (best first), then the items with an agent.
    assert [row["status"] for row in board["items"]] == ["queued", "queued", "assigned"]
    assert (rows[held.id]["buyer_nick"], rows[held.id]["assigned_agent_id"]) == ("先来的", presales)
    assert (rows[held.id]["silent"], rows[held.id]["unanswered"]) == (True, True)
    assert rows[held.id]["with_agent_s"] is not None
    assert (rows[queued.id]["buyer_nick"], rows[queued.id]["role"]) == ("排队的", "presales")
    assert (rows[queued.id]["silent"], rows[queued.id]["unanswered"]) == (False, False)
    assert rows[queued.id]["with_agent_s"] is None
    assert rows[refund.id]["role"] == "refund"
    assert [s["buyer_nick"] for s in board["agent_silent"]] == ["先来的"]

    await call(
        client,
        "POST",
        BULK,
        boss,
        {"action": "close", "conversation_ids": [queued.id], "disposition": "spam"},
    )
    board = await call(client, "GET", "/api/v1/supervisor/board", boss)
    assert {row["conversation_id"] for row in board["items"]} == {held.id, refund.id}


# -- moving work ----------------------------------------------------------------------------


async def test_reassign_to_a_named_agent_and_back_to_the_queue(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    first, first_headers = await agent(sessions, shop_id, "first", [P.PRESALES])
    second, _ = await agent(sessions, shop_id, "second", [P.PRESALES])
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await create_user(
        sessions, shop_id=shop_id, username="not-agent", role=UserRole.TRAINER, password=None
    )
    await message(client, "换人买家", "有货吗")
    item = await chat_of(sessions, "换人买家")
    holder = item.assigned_agent_id
    assert holder in (first, second)
    other = second if holder == first else first
    path = f"/api/v1/supervisor/conversations/{item.id}/reassign"

    await call(client, "POST", path, first_headers, {"agent_id": other}, status=403)
    missing = await call(client, "POST", path, boss, {}, status=400)
    assert missing["field"] == "agent_id"
    async with sessions() as session:
        trainer = await session.scalar(select(User.id).where(User.username == "not-agent"))
    bad = await call(client, "POST", path, boss, {"agent_id": trainer}, status=400)
    assert bad["field"] == "agent_id"
    await call(client, "POST", path, boss, {"agent_id": holder}, status=409)
    await call(
        client,
        "POST",
        "/api/v1/supervisor/conversations/999999/reassign",
        boss,
        {"agent_id": other},
        status=404,
    )

    moved = await call(client, "POST", path, boss, {"agent_id": other, "note": "熟悉这个买家"})
    assert moved["conversation"]["assigned_agent_id"] == other
    board = await call(client, "GET", "/api/v1/supervisor/board", boss)
    loads = {a["agent_id"]: a["load"]["chat"] for a in board["agents"]}
    assert loads == {other: 1, holder: 0}

    # Back to the queue while the only other presales agent is away: it waits there.
    await workbench.set_agent_status(deps(client), shop_id, holder, AgentStatus.OFFLINE, utcnow())
    await call(client, "POST", path, boss, {"agent_id": holder}, status=409)  # offline
    back = await call(client, "POST", path, boss, {"agent_id": None})
    assert back["conversation"]["status"] == "queued"
    assert back["conversation"]["assigned_agent_id"] is None
    await call(client, "POST", path, boss, {"agent_id": None}, status=409)  # queued already
    queues = await call(client, "GET", "/api/v1/queues", boss)
    assert queues["roles"]["presales"]["depth"] == 1
    moves = [r for r in await audit_actions(client, boss) if r["action"] == "conversation.reassign"]
    assert [(m["detail"]["from_agent_id"], m["detail"]["to_agent_id"]) for m in moves] == [
        (other, None),
        (holder, other),
    ]


async def test_bulk_close_transfer_and_assign(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    # Online but with no room: nothing reaches this agent unless a supervisor says so.
    helper, _ = await agent(sessions, shop_id, "helper", [P.PRESALES], chat_capacity=0)
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    for nick in ("甲", "乙", "丙"):
        await message(client, nick, "在吗")
    one, two, three = (c.id for c in await items(sessions, kind="chat"))

    for body, field in (
        ({"action": "close", "conversation_ids": [one]}, "disposition"),
        ({"action": "archive", "conversation_ids": [one]}, "action"),
        ({"action": "close", "conversation_ids": "1", "disposition": "x"}, "conversation_ids"),
        (
            {"action": "close", "conversation_ids": list(range(1, 200)), "disposition": "x"},
            "conversation_ids",
        ),
        ({"action": "transfer", "conversation_ids": [one], "to_role": "nowhere"}, "to_role"),
        ({"action": "transfer", "conversation_ids": [one], "to_role": "refund"}, "note"),
        ({"action": "assign", "conversation_ids": [one]}, "agent_id"),
    ):
        refused = await call(client, "POST", BULK, boss, body, status=400)
        assert refused["field"] == field

    closed = await call(
        client,
        "POST",
        BULK,
        boss,
        {"action": "close", "conversation_ids": [one, two, 999999], "disposition": "spam"},
    )
    assert (closed["done"], closed["failed"]) == (2, 1)
    assert [r["status"] for r in closed["results"]] == [200, 200, 404]
    again = await call(
        client,
        "POST",
        BULK,
        boss,
        {"action": "close", "conversation_ids": [one], "disposition": "spam"},
    )
    assert again["results"][0]["status"] == 409

    moved = await call(
        client,
        "POST",
        BULK,
        boss,
        {"action": "transfer", "conversation_ids": [three], "to_role": "refund", "note": "要退款"},
    )
    assert moved["results"][0]["conversation"]["role"] == "refund"
    # The buyer is told, as when an agent transfers (the supervisor's note stays internal).
    async with sessions() as session:
        told = list(
            await session.scalars(
                select(Message.text).where(
                    Message.conversation_id == three, Message.sender == MessageSender.AUTO
                )
            )
        )
    assert told == ["您好，已为您转接至退款专员，请稍候"]
    assigned = await call(
        client,
        "POST",
        BULK,
        boss,
        {"action": "assign", "conversation_ids": [three], "agent_id": helper},
    )
    assert assigned["results"][0]["conversation"]["assigned_agent_id"] == helper
    by_id = {c.id: c for c in await items(sessions, kind="chat")}
    assert by_id[one].disposition == by_id[two].disposition == "spam"
    assert by_id[three].status is ConversationStatus.ASSIGNED
    queues = await call(client, "GET", "/api/v1/queues", boss)
    assert queues["roles"]["presales"]["depth"] == queues["roles"]["refund"]["depth"] == 0


# -- roster and roles -----------------------------------------------------------------------


def at(day: date, hour: int) -> str:
    return (
        datetime.combine(day, datetime.min.time(), tzinfo=SHOP_TZ) + timedelta(hours=hour)
    ).isoformat()


async def test_roster_editor_validates_each_field_and_replaces_the_day(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    night, night_headers = await agent(sessions, shop_id, "night", [P.REFUND])
    day_agent, _ = await agent(sessions, shop_id, "day", [P.REFUND])
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await create_user(
        sessions, shop_id=shop_id, username="trainer", role=UserRole.TRAINER, password=None
    )
    monday = date(2030, 1, 7)
    path = f"/api/v1/roster/days/{monday.isoformat()}"
    good = [
        {
            "user_id": night,
            "service_role": "refund",
            "duty": "review",
            "starts_at": at(monday, 0),
            "ends_at": at(monday, 8),
        },
        {
            "user_id": day_agent,
            "service_role": "refund",
            "duty": "processing",
            "starts_at": at(monday, 8),
            "ends_at": at(monday, 16),
        },
    ]
    async with sessions() as session:
        trainer = await session.scalar(select(User.id).where(User.username == "trainer"))

    def broken(n: int, **change: Any) -> dict[str, Any]:
        shifts_ = [dict(s) for s in good]
        shifts_[n].update(change)
        return {"shifts": shifts_}

    for body, field in (
        ({}, "shifts"),
        ({"shifts": "all day"}, "shifts"),
        (broken(0, starts_at=at(monday, 25)), "shifts[0].starts_at"),
        (broken(0, starts_at="2030-01-07T01:00:00"), "shifts[0].starts_at"),
        (broken(0, ends_at=at(monday, 0)), "shifts[0].ends_at"),
        (broken(1, ends_at=at(monday, 40)), "shifts[1].ends_at"),
        (broken(0, duty="night"), "shifts[0].duty"),
        (broken(1, service_role="cashier"), "shifts[1].service_role"),
        (broken(0, user_id=trainer), "shifts[0].user_id"),
        (broken(1, user_id=night, duty="review", starts_at=at(monday, 7)), "shifts[1].starts_at"),
    ):
        refused = await call(client, "PUT", path, boss, body, status=400)
        assert refused["field"] == field, refused
    bad_day = await call(
        client, "PUT", "/api/v1/roster/days/2030-13-01", boss, {"shifts": []}, status=400
    )
    assert bad_day["field"] == "day"
    await call(client, "PUT", path, night_headers, {"shifts": good}, status=403)

    saved = await call(client, "PUT", path, boss, {"shifts": good})
    assert len(saved["shift_ids"]) == 2
    assert saved["warnings"] == ["refund review uncovered 08:00-24:00 (shop time)"]
    week = await call(client, "GET", "/api/v1/roster?week_of=2030-01-09", boss)
    assert week["week_start"] == "2030-01-07"
    assert [len(d["shifts"]) for d in week["days"]] == [2, 0, 0, 0, 0, 0, 0]
    first = week["days"][0]["shifts"][0]
    assert (first["username"], first["duty"], first["local_start"]) == ("night", "review", "00:00")
    own = await call(client, "GET", "/api/v1/roster?week_of=2030-01-07", night_headers)
    assert [s["user_id"] for d in own["days"] for s in d["shifts"]] == [night]

    # Replacing the day replaces, it does not add.
    await call(client, "PUT", path, boss, {"shifts": good[:1]})
    week = await call(client, "GET", "/api/v1/roster?week_of=2030-01-07", boss)
    assert len(week["days"][0]["shifts"]) == 1


async def test_role_swap_changes_duties_now_and_sticks(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    swapped, headers = await agent(sessions, shop_id, "swap", [P.REFUND])
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    now = utcnow()
    start, end = now - timedelta(hours=1), now + timedelta(hours=6)
    day = start.astimezone(SHOP_TZ).date()
    shift = {
        "user_id": swapped,
        "service_role": "refund",
        "duty": "review",
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
    }
    await call(client, "PUT", f"/api/v1/roster/days/{day.isoformat()}", boss, {"shifts": [shift]})
    path = f"/api/v1/supervisor/agents/{swapped}/roles"
    body = {
        "roles": [{"service_role": "refund", "duty": "processing"}, {"service_role": "presales"}],
        "reason": "大促: 审核转处理, 兼售前",
    }

    await call(client, "POST", path, headers, body, status=403)
    for change, field in (
        ({"reason": ""}, "reason"),
        ({"roles": []}, "roles"),
        ({"roles": [{"service_role": "refund", "duty": "night"}]}, "roles[0].duty"),
        ({"roles": [{"service_role": "boss"}]}, "roles[0].service_role"),
    ):
        refused = await call(client, "POST", path, boss, {**body, **change}, status=400)
        assert refused["field"] == field
    await call(client, "POST", "/api/v1/supervisor/agents/999999/roles", boss, body, status=404)

    result = await call(client, "POST", path, boss, body)
    assert result["service_roles"] == ["presales", "refund"]
    assert result["duties"] == {"refund": ["processing"]}
    assert len(result["shift_ids"]) == 2
    board = await call(client, "GET", "/api/v1/supervisor/board", boss)
    (row,) = board["agents"]
    assert row["duties"] == {"refund": ["processing"]}
    assert row["service_roles"] == ["presales", "refund"]
    # The roster holds the swap: going on shift again takes the new roles, not the old plan.
    status = await shifts.change_status(
        deps(client), shop_id, swapped, AgentStatus.ONLINE, utcnow()
    )
    assert status.from_roster
    assert status.service_roles == ("presales", "refund")
    (entry,) = [r for r in await audit_actions(client, boss) if r["action"] == "agent.roles"]
    assert entry["reason"] == body["reason"]
    assert entry["detail"]["before"]["duties"] == {"refund": ["review"]}
    assert entry["detail"]["after"]["duties"] == {"refund": ["processing"]}


# -- guided mode ----------------------------------------------------------------------------


async def test_guided_mode_next_and_a_recorded_skip(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    guided, mine = await agent(sessions, shop_id, "guided", [P.PRESALES], chat_capacity=1)
    _, away = await agent(sessions, shop_id, "away", [P.PRESALES], status=AgentStatus.OFFLINE)
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    for nick in ("一号", "二号", "三号"):
        await message(client, nick, "在吗")
    first, second, third = await items(sessions, kind="chat")
    assert first.assigned_agent_id == guided
    assert second.status is third.status is ConversationStatus.QUEUED

    held = await call(client, "POST", "/api/v1/guided/next", mine, {})
    assert (held["source"], held["conversation"]["id"]) == ("held", first.id)
    no_reason = await call(
        client, "POST", "/api/v1/guided/skip", mine, {"conversation_id": first.id}, status=400
    )
    assert no_reason["field"] == "reason"
    not_mine = await call(
        client,
        "POST",
        "/api/v1/guided/skip",
        mine,
        {"conversation_id": second.id, "reason": "不会"},
        status=409,
    )
    assert "not assigned to you" in not_mine["error"]
    skipped = await call(
        client,
        "POST",
        "/api/v1/guided/skip",
        mine,
        {"conversation_id": first.id, "reason": "需要懂大家电的同事"},
    )
    assert skipped["conversation"]["status"] == "queued"

    taken = await call(client, "POST", "/api/v1/guided/next", mine, {})
    assert taken["source"] == "queue"
    assert taken["conversation"]["id"] == second.id  # the best queued item, not the skipped one
    assert taken["conversation"]["assigned_agent_id"] == guided
    again = await call(client, "POST", "/api/v1/guided/next", mine, {})
    assert (again["source"], again["conversation"]["id"]) == ("held", second.id)
    await call(client, "POST", "/api/v1/guided/next", away, {}, status=409)  # offline
    await call(client, "POST", "/api/v1/guided/next", boss, {}, status=409)  # no agent profile

    board = await call(client, "GET", "/api/v1/supervisor/board", boss)
    (skip,) = board["skips"]
    assert (skip["agent_id"], skip["conversation_id"]) == (guided, first.id)
    assert skip["reason"] == "需要懂大家电的同事"
    assert {a["agent_id"]: a["skips_24h"] for a in board["agents"]}[guided] == 1


# -- CSRF -----------------------------------------------------------------------------------

LOGIN_FORM_CSRF = re.compile(r'action="/login".*?name="csrf_token" value="([^"]+)"', re.DOTALL)
PAGE_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@SQLITE_ONLY
async def test_cookie_writes_need_the_csrf_token(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    await create_user(
        sessions, shop_id=shop_id, username="lead", role=UserRole.SUPERVISOR, password="pw-123456"
    )
    page = await (await client.get("/login")).text()
    match = LOGIN_FORM_CSRF.search(page)
    assert match is not None
    form = {"csrf_token": match.group(1), "username": "lead", "password": "pw-123456"}
    assert (await client.post("/login", data=form, allow_redirects=False)).status == 303
    console = PAGE_CSRF.search(await (await client.get("/console/")).text())
    assert console is not None

    body = {"action": "close", "conversation_ids": [1]}
    refused = await client.post(BULK, json=body)
    assert refused.status == 403
    assert "CSRF" in (await refused.json())["error"]
    passed = await client.post(BULK, json=body, headers={"X-CSRF-Token": console.group(1)})
    assert passed.status == 400  # past the CSRF check: the disposition is missing
    assert (await client.get("/api/v1/supervisor/board")).status == 200
