"""The owner dashboard over real HTTP, one test per widget: data goes in as signed platform
events (and people's actions through the API), and each expected number is worked out here
from what the test posted, then compared with ``GET /api/v1/dashboard``. Runs on SQLite and
PostgreSQL, each with and without Redis."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from csdesk.actions.sweeps import activate_due_items
from csdesk.roles.config import RoutingConfig
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ServiceRole, UserRole
from tests.helpers import deps, order_data, post_event, settle
from tests.integration.test_role_workbench_api import agent, call, items, login_as, paid_order

P = ServiceRole
pytestmark = pytest.mark.usefixtures("shop_id")
PATH = "/api/v1/dashboard"
HOUR = timedelta(hours=1)
UNSHIPPED_DEADLINE = timedelta(hours=24)
"""The platform's default: an unshipped refund-only request auto-approves after 24 h."""
SHIPPED_DEADLINE = timedelta(days=5)


async def dashboard(client: TestClient[Any, Any], headers: dict[str, str]) -> dict[str, Any]:
    answer: dict[str, Any] = await call(client, "GET", PATH, headers)
    return answer


def fen(amount: str) -> int:
    yuan, _, cents = amount.partition(".")
    return int(yuan) * 100 + int(cents.ljust(2, "0"))


async def test_who_may_read_the_dashboard_and_its_contract_keys(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, mine = await agent(sessions, shop_id, "agent-1", [P.PRESALES])
    await call(client, "GET", PATH, mine, status=403)
    assert (await client.get(PATH)).status == 401
    for name, role in (
        ("sv", UserRole.SUPERVISOR),
        ("boss", UserRole.OWNER),
        ("root", UserRole.ADMIN),
    ):
        board = await dashboard(client, await login_as(sessions, shop_id, name, role))
        assert {"generated_at", "promotion", "refunds", "roles", "chasing"} <= set(board)
        assert {
            "pending",
            "pending_amount",
            "due_within_hour",
            "due_within_hour_amount",
        } <= set(board["refunds"])
        assert set(board["roles"]) == {r.value for r in ServiceRole}
        for figures in board["roles"].values():
            assert {"queued", "oldest_wait_s", "agents_on_shift", "agents_needed"} <= set(figures)
        assert set(board["chasing"]) >= {"chased", "paid_after_chase", "recovered_amount"}
        assert board["promotion"] is None


@dataclass(frozen=True)
class Posted:
    refund_id: str
    order_id: str
    amount: str
    kind: str
    deadline: datetime
    cancelled: bool = False


async def test_refund_figures(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    now = datetime.now(UTC)
    long_ago = now - timedelta(hours=30)
    # Requested this long ago, an unshipped refund-only request is due in deadline - age.
    ages = {
        "R-30M": timedelta(hours=23, minutes=30),  # due in 30 min
        "R-50M": timedelta(hours=23, minutes=10),  # due in 50 min
        "R-3H": timedelta(hours=21),  # due in 3 h
        "R-FAR": timedelta(minutes=1),  # due in about 24 h
        "R-LATE": timedelta(hours=25),  # overdue by an hour
        "R-GONE": timedelta(hours=23, minutes=45),  # due in 15 min, but cancelled
    }
    amounts = {
        "R-30M": "12.34",
        "R-50M": "100.05",
        "R-3H": "7.00",
        "R-FAR": "199.99",
        "R-LATE": "45.60",
        "R-GONE": "300.00",
    }
    posted: list[Posted] = []
    for refund_id, age in ages.items():
        order_id = f"T-{refund_id}"
        await paid_order(client, order_id, amount="500.00", occurred_at=long_ago)
        asked = now - age
        await post_event(
            client,
            "refund.requested",
            {
                "refund_id": refund_id,
                "order_id": order_id,
                "kind": "refund_only",
                "amount": amounts[refund_id],
                "reason": "不想要了",
            },
            occurred_at=asked,
        )
        posted.append(
            Posted(
                refund_id, order_id, amounts[refund_id], "refund_only", asked + UNSHIPPED_DEADLINE
            )
        )
    # A return of a shipped parcel: the long deadline.
    await paid_order(client, "T-RET", amount="500.00", occurred_at=long_ago)
    await post_event(client, "order.shipped", {"order_id": "T-RET"}, occurred_at=long_ago)
    await post_event(
        client,
        "refund.requested",
        {
            "refund_id": "R-RET",
            "order_id": "T-RET",
            "kind": "return_and_refund",
            "amount": "88.80",
            "reason": "尺码不合适",
        },
        occurred_at=now,
    )
    posted.append(Posted("R-RET", "T-RET", "88.80", "return_and_refund", now + SHIPPED_DEADLINE))
    await post_event(client, "refund.cancelled", {"refund_id": "R-GONE"})
    posted = [
        p if p.refund_id != "R-GONE" else Posted(**{**p.__dict__, "cancelled": True})
        for p in posted
    ]
    await settle(client)

    before = datetime.now(UTC)
    board = (await dashboard(client, boss))["refunds"]
    after = datetime.now(UTC)
    pending = [p for p in posted if not p.cancelled]
    # Nothing posted is due within a minute of either instant, so both give the same counts.
    for instant in (before, after):
        soon = [p for p in pending if instant <= p.deadline < instant + HOUR]
        soon4 = [p for p in pending if instant <= p.deadline < instant + 4 * HOUR]
        late = [p for p in pending if p.deadline < instant]
        assert board["due_within_hour"] == len(soon) == 2
        assert board["due_within_hour_amount"] == sum(fen(p.amount) for p in soon) / 100
        assert board["due_within_4h"] == len(soon4) == 3
        assert board["due_within_4h_amount"] == sum(fen(p.amount) for p in soon4) / 100
        assert board["overdue"] == len(late) == 1
        assert board["overdue_amount"] == sum(fen(p.amount) for p in late) / 100
    assert board["pending"] == len(pending) == 6
    assert board["pending_amount"] == pytest.approx(sum(fen(p.amount) for p in pending) / 100)
    assert board["pending_amount"] == round(board["pending_amount"], 2)
    for kind in ("refund_only", "return_and_refund"):
        of_kind = [p for p in pending if p.kind == kind]
        assert board["pending_by_kind"][kind] == {
            "pending": len(of_kind),
            "pending_amount": pytest.approx(sum(fen(p.amount) for p in of_kind) / 100),
        }
    assert board["decided_today"] == 0


async def test_refunds_decided_today(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, mine = await agent(sessions, shop_id, "refunder", [P.REFUND], chat_capacity=10)
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    amounts = {"R-A": "19.90", "R-B": "250.00", "R-C": "5.55"}
    for refund_id, amount in amounts.items():
        await paid_order(client, f"T-{refund_id}")
        await post_event(
            client,
            "refund.requested",
            {
                "refund_id": refund_id,
                "order_id": f"T-{refund_id}",
                "kind": "refund_only",
                "amount": amount,
                "reason": "不想要了",
            },
        )
    await settle(client)
    reviews = {c.refund_id: c for c in await items(sessions, kind="refund_review")}
    assert len(reviews) == 3
    by_refund = {}
    for review in reviews.values():
        view = await call(client, "GET", f"/api/v1/refund-items/{review.id}", mine)
        by_refund[view["refund"]["external_id"]] = review.id
    await call(client, "POST", f"/api/v1/refund-items/{by_refund['R-A']}/approve", mine, {})
    await call(
        client,
        "POST",
        f"/api/v1/refund-items/{by_refund['R-B']}/reject",
        mine,
        {"reason": "商品已使用"},
    )
    board = (await dashboard(client, boss))["refunds"]
    assert board["decided_today"] == 2
    assert board["decided_today_amount"] == (fen("19.90") + fen("250.00")) / 100
    assert (board["pending"], board["pending_amount"]) == (1, 5.55)


def erlang_c_agents(arrivals_per_hour: float, aht_s: float, within_s: float, target: float) -> int:
    """The textbook formula, with factorials (small numbers only): the fewest N > A with
    1 - C(N, A)·exp(-(N - A)·T/AHT) >= target."""
    traffic = arrivals_per_hour * aht_s / 3600
    n = math.floor(traffic) + 1
    while True:
        top = traffic**n / math.factorial(n) * n / (n - traffic)
        bottom = sum(traffic**k / math.factorial(k) for k in range(n)) + top
        wait = top / bottom
        if 1 - wait * math.exp(-(n - traffic) * within_s / aht_s) >= target:
            return n
        n += 1


async def test_role_figures(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    boss = await login_as(sessions, shop_id, "boss", UserRole.SUPERVISOR)
    online, online_headers = await agent(
        sessions, shop_id, "online-1", [P.PRESALES], chat_capacity=1
    )
    await agent(
        sessions, shop_id, "busy-1", [P.PRESALES, P.AFTERSALES_TRIAGE], status=AgentStatus.BUSY
    )
    await agent(sessions, shop_id, "away-1", [P.PRESALES], status=AgentStatus.OFFLINE)
    await agent(sessions, shop_id, "refund-1", [P.REFUND], status=AgentStatus.AWAY)
    texts = ["你好，这个保温杯还有货吗？", "请问这款杯子有现货吗", "这个杯子有货吗"] * 4
    posted_at: list[tuple[float, float]] = []
    for i, text in enumerate(texts):
        started = time.time()
        await post_event(client, "message.received", {"buyer_nick": f"buyer-{i}", "text": text})
        await settle(client)
        posted_at.append((started, time.time()))
    # An unpaid order schedules a chase 15 minutes out: not work yet, not an arrival; nor is
    # the chase of an order paid before anyone chased it.
    await post_event(client, "order.created", order_data("T-UNPAID"))
    await post_event(client, "order.created", order_data("T-PAID"))
    await post_event(client, "order.paid", {"order_id": "T-PAID"})
    await settle(client)

    started = time.time()
    board = (await dashboard(client, boss))["roles"]
    finished = time.time()
    presales = board["presales"]
    # The one online agent holds one chat; the busy one takes none: the rest wait.
    assert presales["queued"] == len(texts) - 1
    first_waiting_from, first_waiting_to = posted_at[1]
    assert started - first_waiting_to - 0.1 <= presales["oldest_wait_s"]
    assert presales["oldest_wait_s"] <= finished - first_waiting_from + 0.1
    assert presales["agents_on_shift"] == 2  # online and busy (挂起); not the offline one
    assert board["aftersales_triage"]["agents_on_shift"] == 1
    assert board["refund"]["agents_on_shift"] == 0  # away
    assert presales["arrivals_60m"] == len(texts)
    assert presales["aht_samples"] == 0  # nothing closed yet: the default handle time
    expected = erlang_c_agents(
        len(texts),
        presales["aht_s"],
        RoutingConfig().sla.first_response_s[P.PRESALES],
        presales["service_level_target"],
    )
    assert presales["agents_needed"] == expected
    assert presales["short"] is (expected > 2)
    for role in ("refund", "hotline", "payment_chasing"):
        assert (board[role]["queued"], board[role]["oldest_wait_s"]) == (0, 0.0)
        assert (board[role]["arrivals_60m"], board[role]["agents_needed"]) == (0, 0)

    # The online agent closes the chat in hand: the handle time is now measured.
    (held,) = [c for c in await items(sessions, role="presales") if c.assigned_agent_id == online]
    await call(
        client,
        "POST",
        f"/api/v1/conversations/{held.id}/close",
        online_headers,
        {"disposition": "sold"},
    )
    (closed,) = await items(sessions, id=held.id)
    assert closed.closed_at is not None
    assert closed.assigned_at is not None
    handled_s = (closed.closed_at - closed.assigned_at).total_seconds()
    presales = (await dashboard(client, boss))["roles"]["presales"]
    assert presales["aht_samples"] == 1
    assert presales["aht_s"] == pytest.approx(handled_s, abs=0.051)
    # The next waiting chat went to the agent whose hands were free.
    assert presales["queued"] == len(texts) - 2
    # Handle times under a second count as one (documented in reads.dashboard).
    assert presales["agents_needed"] == erlang_c_agents(
        len(texts),
        max(handled_s, 1.0),
        RoutingConfig().sla.first_response_s[P.PRESALES],
        presales["service_level_target"],
    )


async def test_chasing_figures(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    await agent(sessions, shop_id, "chaser", [P.PAYMENT_CHASING], chat_capacity=10)
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    orders = {"T-1": "299.00", "T-2": "88.50", "T-3": "50.00", "T-EARLY": "77.00"}
    for order_id, amount in orders.items():
        await post_event(client, "order.created", order_data(order_id, amount=amount))
    # Paid before anyone chased it: no chase, no credit.
    await post_event(client, "order.paid", {"order_id": "T-EARLY"})
    await settle(client)
    due = max(c.not_before for c in await items(sessions, kind="payment_chase") if c.not_before)
    await activate_due_items(deps(client), due + timedelta(seconds=1))
    for order_id in ("T-1", "T-2"):
        await post_event(client, "order.paid", {"order_id": order_id})
    await settle(client)

    chased = ["T-1", "T-2", "T-3"]
    paid = ["T-1", "T-2"]
    board = (await dashboard(client, boss))["chasing"]
    assert board["chased"] == len(chased)
    assert board["paid_after_chase"] == len(paid)
    assert board["recovered_amount"] == sum(fen(orders[o]) for o in paid) / 100


async def test_live_promotion(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    await call(
        client,
        "PUT",
        "/api/v1/shop/config",
        boss,
        {"config": {"promotion": "double11"}, "reason": "双十一"},
    )
    board = await dashboard(client, boss)
    profile = RoutingConfig().scoring.promotions["double11"]
    live = board["promotion"]
    assert live["name"] == "double11"
    assert live["role_points"] == {
        role.value: points for role, points in profile.role_points.items()
    }
    # Switched on by hand: no schedule says until when.
    assert (live["label"], live["until"], live["schedule_id"]) == ("双十一", None, None)
    assert live["chat_capacity_extra"] == profile.chat_capacity_extra
