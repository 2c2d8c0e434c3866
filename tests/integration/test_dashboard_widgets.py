"""The owner dashboard's new widgets over real HTTP, one test per widget, on SQLite and
PostgreSQL, each with and without Redis. Data goes in as signed platform events (and
people's actions through the API); each expected number is worked out here from what the
test posted, then compared with ``GET /api/v1/dashboard``; and the drill-down of each
figure (``GET /api/v1/dashboard/rows/{metric}``) must list exactly the rows counted."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from csdesk.actions.sweeps import activate_due_items
from csdesk.reads.dashboard import load_scope, shop_dashboard
from csdesk.reads.dashboard_metrics import METRICS, PENDING_REFUND_METRICS, measure
from csdesk.staffing.erlang import agents_needed
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ServiceRole, UserRole
from csdesk.storage.models import Buyer, Conversation, Message, Order
from tests.helpers import deps, order_data, post_event, settle
from tests.integration.test_dashboard_api import dashboard, fen
from tests.integration.test_role_workbench_api import agent, call, items, login_as, paid_order

P = ServiceRole
pytestmark = pytest.mark.usefixtures("shop_id")
ROWS = "/api/v1/dashboard/rows"
Headers = dict[str, str]


async def drill(
    client: TestClient[Any, Any],
    headers: Headers,
    metric: str,
    *,
    group: str | None = None,
    flag: int | None = None,
) -> dict[str, Any]:
    query = []
    if group is not None:
        query.append(f"group={group}")
    if flag is not None:
        query.append(f"flag={flag}")
    path = f"{ROWS}/{metric}" + (f"?{'&'.join(query)}" if query else "")
    answer: dict[str, Any] = await call(client, "GET", path, headers)
    assert answer["count"] == len(answer["rows"])  # nothing cut off in these small shops
    return answer


def column(answer: dict[str, Any], name: str) -> list[Any]:
    return sorted(row[name] for row in answer["rows"])


async def refund(
    client: TestClient[Any, Any],
    refund_id: str,
    amount: str,
    reason: str,
    *,
    kind: str = "refund_only",
    shipped: bool = False,
    asked: datetime | None = None,
) -> None:
    order_id = f"T-{refund_id}"
    long_ago = datetime.now(UTC) - timedelta(hours=30)
    await paid_order(client, order_id, amount="999.00", occurred_at=long_ago)
    if shipped:
        await post_event(client, "order.shipped", {"order_id": order_id}, occurred_at=long_ago)
    extra = {"occurred_at": asked} if asked else {}
    await post_event(
        client,
        "refund.requested",
        {
            "refund_id": refund_id,
            "order_id": order_id,
            "kind": kind,
            "amount": amount,
            "reason": reason,
        },
        **extra,
    )


async def test_pending_refunds_by_reason_and_kind(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    posted = [
        ("R-1", "10.00", "不想要了", "refund_only", False),
        ("R-2", "20.50", "不想要了", "refund_only", False),
        ("R-3", "35.00", "尺码不合适", "return_and_refund", True),
        ("R-4", "99.90", "质量问题", "return_and_refund", True),
        ("R-5", "5.00", "质量问题", "refund_only", True),
        ("R-6", "300.00", "拍错了", "refund_only", False),  # cancelled below
    ]
    for refund_id, amount, reason, kind, shipped in posted:
        await refund(client, refund_id, amount, reason, kind=kind, shipped=shipped)
    await post_event(client, "refund.cancelled", {"refund_id": "R-6"})
    await settle(client)
    pending = [p for p in posted if p[0] != "R-6"]

    board = (await dashboard(client, boss))["refunds"]
    by_reason: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for refund_id, amount, reason, _, _ in pending:
        by_reason[reason].append((refund_id, amount))
    totals = {reason: sum(fen(a) for _, a in rows) for reason, rows in by_reason.items()}
    expected = [
        {"reason": reason, "pending": len(by_reason[reason]), "pending_amount": fen_ / 100}
        for reason, fen_ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    assert board["pending_by_reason"] == expected
    for reason, rows in by_reason.items():
        listed = await drill(client, boss, "refunds.by_reason", group=reason)
        assert column(listed, "refund") == sorted(r for r, _ in rows)
        assert listed["amount"] == sum(fen(a) for _, a in rows) / 100
    for kind in ("refund_only", "return_and_refund"):
        of_kind = [p for p in pending if p[3] == kind]
        assert board["pending_by_kind"][kind]["pending"] == len(of_kind)
        listed = await drill(client, boss, "refunds.by_kind", group=kind)
        assert column(listed, "refund") == sorted(p[0] for p in of_kind)
    everything = await drill(client, boss, "refunds.pending")
    assert column(everything, "refund") == sorted(p[0] for p in pending)
    assert board["pending"] == everything["count"] == len(pending)
    # The dashboard reads the six pending-refund figures in one statement: the same as
    # each metric's own query.
    now = datetime.now(UTC)
    view = await shop_dashboard(sessions, shop_id, now)
    async with sessions() as session:
        scope, _ = await load_scope(session, shop_id, now)
        for key in PENDING_REFUND_METRICS:
            assert view.measured[key] == await measure(session, METRICS[key](scope)), key


async def test_due_windows_and_decided_today_drill_down(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, mine = await agent(sessions, shop_id, "refunder", [P.REFUND], chat_capacity=10)
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    now = datetime.now(UTC)
    # Unshipped refund-only requests auto-approve 24 h after they were asked.
    ages = {
        "R-20M": timedelta(hours=23, minutes=40),
        "R-2H": timedelta(hours=22),
        "R-NEW": timedelta(minutes=1),
        "R-LATE": timedelta(hours=26),
    }
    for refund_id, age in ages.items():
        await refund(client, refund_id, "12.00", "不想要了", asked=now - age)
    await refund(client, "R-DONE", "66.60", "拍错了")
    await settle(client)
    reviews = await items(sessions, kind="refund_review")
    done = [c for c in reviews if c.status.value != "closed"]
    by_refund = {}
    for review in done:
        view = await call(client, "GET", f"/api/v1/refund-items/{review.id}", mine)
        by_refund[view["refund"]["external_id"]] = review.id
    await call(client, "POST", f"/api/v1/refund-items/{by_refund['R-DONE']}/approve", mine, {})

    board = (await dashboard(client, boss))["refunds"]
    listed = {
        key: column(await drill(client, boss, key), "refund")
        for key in ("refunds.due_1h", "refunds.due_4h", "refunds.overdue", "refunds.decided_today")
    }
    assert listed["refunds.due_1h"] == ["R-20M"]
    assert board["due_within_hour"] == 1
    assert listed["refunds.due_4h"] == ["R-20M", "R-2H"]
    assert board["due_within_4h"] == 2
    assert listed["refunds.overdue"] == ["R-LATE"]
    assert board["overdue"] == 1
    assert listed["refunds.decided_today"] == ["R-DONE"]
    assert board["decided_today"] == 1
    assert board["decided_today_amount"] == 66.6


async def test_warehouse_intercepts(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, mine = await agent(sessions, shop_id, "refunder", [P.REFUND], chat_capacity=10)
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    for refund_id in ("R-OK", "R-SHIPPED", "R-WAIT", "R-NONE"):
        await refund(client, refund_id, "50.00", "拍错了")
    await settle(client)
    reviews = {}
    for review in await items(sessions, kind="refund_review"):
        view = await call(client, "GET", f"/api/v1/refund-items/{review.id}", mine)
        reviews[view["refund"]["external_id"]] = review.id
    # Ask the warehouse to stop three parcels; approve, so processing items open.
    for refund_id in ("R-OK", "R-SHIPPED", "R-WAIT"):
        path = f"/api/v1/refund-items/{reviews[refund_id]}"
        await call(client, "POST", f"{path}/intercept", mine, {})
        await call(client, "POST", f"{path}/approve", mine, {})
    processing = {}
    for item in await items(sessions, kind="refund_processing"):
        view = await call(client, "GET", f"/api/v1/refund-items/{item.id}", mine)
        processing[view["refund"]["external_id"]] = item.id
    # R-OK: the parcel never left, the money went back: the intercept worked.
    await call(client, "POST", f"/api/v1/refund-items/{processing['R-OK']}/refunded", mine, {})
    # R-SHIPPED: the warehouse shipped it anyway.
    await post_event(client, "order.shipped", {"order_id": "T-R-SHIPPED"})
    await settle(client)

    board = (await dashboard(client, boss))["refunds"]
    assert board["intercepts_requested"] == 3
    assert board["intercepts_succeeded"] == 1
    asked = await drill(client, boss, "refunds.intercepts")
    assert column(asked, "refund") == ["R-OK", "R-SHIPPED", "R-WAIT"]
    worked = await drill(client, boss, "refunds.intercepts", flag=1)
    assert column(worked, "refund") == ["R-OK"]


async def test_sla_breaches_per_role(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    boss = await login_as(sessions, shop_id, "boss", UserRole.SUPERVISOR)
    now = datetime.now(UTC)
    # Nobody on shift: every chat waits. The pre-sales reply is due 30 s after the
    # buyer wrote (roles.config SlaConfig): those who wrote 5 minutes ago are overdue.
    for i in range(3):
        await post_event(
            client,
            "message.received",
            {"buyer_nick": f"old-{i}", "text": "这个保温杯还有货吗"},
            occurred_at=now - timedelta(minutes=5),
        )
    for i in range(2):
        await post_event(
            client, "message.received", {"buyer_nick": f"new-{i}", "text": "这个保温杯还有货吗"}
        )
    await settle(client)
    queued = await items(sessions, role="presales")
    read_at = datetime.now(UTC)
    board = (await dashboard(client, boss))["roles"]
    overdue = sorted(c.id for c in queued if c.due_at is not None and c.due_at < read_at)
    assert len(overdue) == 3
    assert board["presales"]["sla_breaches"] == len(overdue)
    listed = await drill(client, boss, "queues.sla_breaches", group="presales")
    assert column(listed, "id") == overdue
    assert board["refund"]["sla_breaches"] == 0
    waiting = await drill(client, boss, "queues.queued", group="presales")
    assert column(waiting, "id") == sorted(c.id for c in queued)
    assert board["presales"]["queued"] == len(queued) == 5


async def test_agents_on_shift_and_needed_drill_down(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    staff = {
        "on-pre": ([P.PRESALES], AgentStatus.ONLINE),
        "busy-both": ([P.PRESALES, P.REFUND], AgentStatus.BUSY),
        "off-pre": ([P.PRESALES], AgentStatus.OFFLINE),
        "on-refund": ([P.REFUND], AgentStatus.ONLINE),
    }
    ids = {}
    for name, (roles, status) in staff.items():
        ids[name], _ = await agent(sessions, shop_id, name, roles, status=status)
    # Arrivals for pre-sales: Erlang C needs someone.
    for i in range(4):
        await post_event(client, "message.received", {"buyer_nick": f"ask-{i}", "text": ASK})
    await settle(client)
    board = (await dashboard(client, boss))["roles"]
    at_work = (AgentStatus.ONLINE, AgentStatus.BUSY)
    for role in (P.PRESALES, P.REFUND, P.HOTLINE):
        counted = sorted(
            ids[n] for n, (roles, status) in staff.items() if role in roles and status in at_work
        )
        assert board[role.value]["agents_on_shift"] == len(counted)
        listed = await drill(client, boss, "staffing.on_shift", group=role.value)
        assert column(listed, "id") == counted
    assert board["presales"]["agents_on_shift"] == 2

    needed = await drill(client, boss, "staffing.needed", group="presales")
    (row,) = needed["rows"]
    figures = board["presales"]
    assert row["arrivals_60m"] == figures["arrivals_60m"] == 4
    assert row["agents_needed"] == figures["agents_needed"] >= 1
    assert row["agents_on_shift"] == figures["agents_on_shift"]
    # Erlang C from the listed inputs gives the listed answer.
    expected = agents_needed(
        row["arrivals_60m"],
        max(row["aht_s"], 1.0),
        row["answer_within_s"],
        row["service_level_target"],
    )
    assert row["agents_needed"] == expected.agents
    assert row["traffic_erlangs"] == pytest.approx(expected.traffic_erlangs, abs=1e-3)
    every = await drill(client, boss, "staffing.needed")
    assert sorted(r["role"] for r in every["rows"]) == sorted(board)
    response = await client.get(f"{ROWS}/staffing.needed?format=xlsx", headers=boss)
    sheet = load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    assert len(list(sheet.iter_rows(values_only=True))) == 1 + len(board)
    await call(client, "GET", f"{ROWS}/staffing.needed?group=nobody", boss, status=400)


async def test_chasing_per_chaser(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    chaser_a, _ = await agent(sessions, shop_id, "chaser-a", [P.PAYMENT_CHASING], chat_capacity=2)
    chaser_b, _ = await agent(sessions, shop_id, "chaser-b", [P.PAYMENT_CHASING], chat_capacity=2)
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    orders = {"T-1": "100.00", "T-2": "20.00", "T-3": "33.30", "T-4": "7.00"}
    for n, (order_id, amount) in enumerate(orders.items()):
        await post_event(
            client, "order.created", order_data(order_id, nick=f"buyer-{n}", amount=amount)
        )
    await settle(client)
    due = max(c.not_before for c in await items(sessions, kind="payment_chase") if c.not_before)
    await activate_due_items(deps(client), due + timedelta(seconds=1))
    for order_id in ("T-1", "T-3", "T-4"):
        await post_event(client, "order.paid", {"order_id": order_id})
    await settle(client)

    chases = await items(sessions, kind="payment_chase")
    assert {c.assigned_agent_id for c in chases} == {chaser_a, chaser_b}
    paid_orders = {"T-1", "T-3", "T-4"}
    external = {}
    for chase in chases:
        assert chase.order_id is not None
        external[chase.id] = await _order_external(sessions, chase.order_id)
    expected = {}
    for who in (chaser_a, chaser_b):
        mine = [c for c in chases if c.assigned_agent_id == who]
        paid = [c for c in mine if external[c.id] in paid_orders]
        expected[who] = {
            "chased": len(mine),
            "paid_after_chase": len(paid),
            "recovered_amount": sum(fen(orders[external[c.id]]) for c in paid) / 100,
        }
    board = (await dashboard(client, boss))["chasing"]
    got = {row["agent_id"]: row for row in board["per_chaser"]}
    assert set(got) == {chaser_a, chaser_b}
    for who, figures in expected.items():
        assert {k: got[who][k] for k in figures} == figures
        listed = await drill(client, boss, "chasing.per_chaser", group=str(who))
        assert column(listed, "id") == sorted(c.id for c in chases if c.assigned_agent_id == who)
        paid_list = await drill(client, boss, "chasing.per_chaser", group=str(who), flag=1)
        assert len(paid_list["rows"]) == figures["paid_after_chase"]
    assert board["chased"] == sum(f["chased"] for f in expected.values())


async def _order_external(sessions: SessionFactory, order_id: int) -> str:
    async with sessions() as session:
        order = await session.get(Order, order_id)
        assert order is not None
        return order.external_id


ASK = "这个保温杯还有货吗"


def noon_zone() -> str:
    """A fixed-offset zone where it is between 10:00 and 14:00 now."""
    offset = (12 - datetime.now(UTC).hour + 12) % 24 - 12  # -12..11 hours east of UTC
    offset = max(-12, min(offset, 12))
    # POSIX-style names invert the sign: Etc/GMT-8 is UTC+8.
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


async def test_inquiry_conversion(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    before_asking = datetime.now(UTC)
    askers = ["paid-after", "paid-before", "never-paid", "paid-twice"]
    for nick in askers:
        await post_event(client, "message.received", {"buyer_nick": nick, "text": ASK})
    # A buyer who only wrote to after-sales did not ask (询单 is a pre-sales chat).
    await post_event(
        client, "message.received", {"buyer_nick": "after-sales", "text": "快递到哪了"}
    )
    await settle(client)
    asked_by = datetime.now(UTC)
    payments = {
        "paid-before": [before_asking - timedelta(hours=3)],  # paid, then asked: not converted
        "paid-after": [asked_by + timedelta(seconds=1)],
        "paid-twice": [asked_by + timedelta(seconds=1), asked_by + timedelta(seconds=2)],
        "after-sales": [asked_by + timedelta(seconds=1)],
    }
    for nick, moments in payments.items():
        for n, at in enumerate(moments):
            order_id = f"T-{nick}-{n}"
            await post_event(
                client, "order.created", order_data(order_id, nick=nick), occurred_at=at
            )
            await post_event(client, "order.paid", {"order_id": order_id}, occurred_at=at)
    await settle(client)
    converted = sorted(n for n in askers if any(at >= asked_by for at in payments.get(n, [])))

    kpi = (await dashboard(client, boss))["kpis"]["inquiry_conversion"]
    assert kpi["days"] == 3
    assert (kpi["askers"], kpi["converted"]) == (len(askers), len(converted)) == (4, 2)
    assert kpi["rate"] == round(len(converted) / len(askers), 4)
    assert column(await drill(client, boss, "kpi.inquiry_conversion"), "buyer") == sorted(askers)
    paid = await drill(client, boss, "kpi.inquiry_conversion", flag=1)
    assert column(paid, "buyer") == converted

    # Four days on, these asks fall out of a 3-day window but stay in a 7-day one.
    later = datetime.now(UTC) + timedelta(days=4)
    view = await shop_dashboard(sessions, shop_id, later)
    assert (view.kpis.inquiry.count, view.kpis.inquiry.hits) == (0, 0)
    await call(
        client,
        "PUT",
        "/api/v1/shop/config",
        boss,
        {"config": {"dashboard": {"conversion_days": 7}}, "reason": "大促周期"},
    )
    assert (await dashboard(client, boss))["kpis"]["inquiry_conversion"]["days"] == 7
    view = await shop_dashboard(sessions, shop_id, later)
    assert (view.kpis.inquiry.count, view.kpis.inquiry.hits) == (len(askers), len(converted))
    bad = await call(
        client,
        "PUT",
        "/api/v1/shop/config",
        boss,
        {"config": {"dashboard": {"conversion_days": 0}}, "reason": "x"},
        status=400,
    )
    assert bad["field"] == "dashboard.conversion_days"


async def test_first_response_and_three_minute_rate(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    # Count every hour of the day, and keep the shop's midnight far from now (a zone where
    # it is about noon), so the test means the same at any time it runs (the 08:00-24:00
    # window itself is checked in tests/unit/test_dashboard_pure.py).
    await call(
        client,
        "PUT",
        "/api/v1/shop/config",
        boss,
        {
            "config": {"routing": {"sla": {"counted_from": "00:00"}, "timezone": noon_zone()}},
            "reason": "全天统计",
        },
    )
    _, mine = await agent(sessions, shop_id, "xiaoli", [P.PRESALES], chat_capacity=10)
    now = datetime.now(UTC)
    # slow: wrote 5 minutes ago (twice: one round), answered now; fast: answered at once;
    # waiting: not answered yet, still inside its 3 minutes (not counted yet).
    await post_event(
        client,
        "message.received",
        {"buyer_nick": "slow", "text": ASK},
        occurred_at=now - timedelta(minutes=5),
    )
    await post_event(
        client,
        "message.received",
        {"buyer_nick": "slow", "text": "在吗"},
        occurred_at=now - timedelta(minutes=4),
    )
    await post_event(client, "message.received", {"buyer_nick": "fast", "text": ASK})
    await post_event(client, "message.received", {"buyer_nick": "waiting", "text": ASK})
    await settle(client)
    chats = {c.id: c for c in await items(sessions, kind="chat")}
    assert len(chats) == 3
    async with sessions() as session:
        nick_of = {
            str(nick): int(conversation_id)
            for conversation_id, nick in await session.execute(
                select(Conversation.id, Buyer.nick).join(Buyer, Buyer.id == Conversation.buyer_id)
            )
        }
    for nick in ("slow", "fast"):
        await call(
            client,
            "POST",
            f"/api/v1/conversations/{nick_of[nick]}/reply",
            mine,
            {"text": "亲，在的，有货哦"},
            status=201,
        )
    # fast writes again and is answered again: a second round.
    await post_event(client, "message.received", {"buyer_nick": "fast", "text": "几天发货"})
    await settle(client)
    await call(
        client,
        "POST",
        f"/api/v1/conversations/{nick_of['fast']}/reply",
        mine,
        {"text": "48小时内"},
        status=201,
    )

    async with sessions() as session:
        rows = list(
            await session.execute(
                select(Message.conversation_id, Message.sender, Message.sent_at, Message.id)
                .where(Message.sender.in_(("buyer", "agent")))
                .order_by(Message.conversation_id, Message.sent_at, Message.id)
            )
        )
        answered_chats = list(
            await session.scalars(
                select(Conversation).where(Conversation.first_response_at.is_not(None))
            )
        )
    read_at = datetime.now(UTC)
    # Rounds, worked out here: a buyer message after nothing or after an agent's reply.
    rounds: list[tuple[int, bool]] = []
    for conversation_id in chats:
        talk = [r for r in rows if r.conversation_id == conversation_id]
        for i, message in enumerate(talk):
            if message.sender.value != "buyer":
                continue
            if i and talk[i - 1].sender.value == "buyer":
                continue
            reply = next((r.sent_at for r in talk[i + 1 :] if r.sender.value == "agent"), None)
            answered = reply is not None and (reply - message.sent_at) <= timedelta(minutes=3)
            if answered or message.sent_at <= read_at - timedelta(minutes=3):
                rounds.append((message.id, answered))
    kpis = (await dashboard(client, boss))["kpis"]
    rate = kpis["response_rate_3m"]
    assert (rate["rounds"], rate["answered"]) == (len(rounds), sum(a for _, a in rounds)) == (3, 2)
    listed = await drill(client, boss, "kpi.response_rate_3m")
    assert column(listed, "id") == sorted(m for m, _ in rounds)
    ok = await drill(client, boss, "kpi.response_rate_3m", flag=1)
    assert column(ok, "id") == sorted(m for m, a in rounds if a)

    waits = [
        (c.first_response_at - c.opened_at).total_seconds()
        for c in answered_chats
        if c.first_response_at is not None
    ]
    first = kpis["first_response"]
    assert first["answered"] == len(waits) == 2
    assert first["mean_s"] == pytest.approx(sum(waits) / len(waits), abs=0.06)
    listed = await drill(client, boss, "kpi.first_response")
    assert column(listed, "id") == sorted(c.id for c in answered_chats)


async def test_exports_hold_the_drilled_rows(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    for n, amount in enumerate(("10.00", "22.20", "3.30")):
        await refund(client, f"R-{n}", amount, "不想要了")
    await settle(client)
    listed = await drill(client, boss, "refunds.pending")
    response = await client.get(f"{ROWS}/refunds.pending?format=xlsx", headers=boss)
    assert response.status == 200
    sheet = load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0][:3] == ["编号", "退款编号", "订单号"]
    assert sorted(str(row[1]) for row in table[1:]) == column(listed, "refund")
    response = await client.get(f"{ROWS}/refunds.pending?format=csv", headers=boss)
    text = (await response.read()).decode("utf-8-sig")
    assert sorted(line.split(",")[1] for line in text.strip().splitlines()[1:]) == column(
        listed, "refund"
    )
    await call(client, "GET", f"{ROWS}/no.such", boss, status=404)
    await call(client, "GET", f"{ROWS}/refunds.pending?group=x", boss, status=400)
    _, agent_headers = await agent(sessions, shop_id, "a1", [P.PRESALES], status=AgentStatus.ONLINE)
    await call(client, "GET", f"{ROWS}/refunds.pending", agent_headers, status=403)
