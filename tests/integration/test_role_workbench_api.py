"""The role workbenches over real HTTP: order review, payment chasing, refund review and
processing, the hotline. Work arrives as signed platform events; people act with bearer
tokens. Runs on SQLite and PostgreSQL, each with and without Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from csdesk.actions.catalog import ProductSpec, add_products
from csdesk.actions.sweeps import activate_due_items
from csdesk.actions.users import issue_token
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ConversationStatus, ServiceRole, UserRole
from csdesk.storage.models import Conversation, Order, Refund
from csdesk.web import roles_api, supervisor_api
from tests.helpers import deps, make_agent, order_data, post_event, settle, token_for

P = ServiceRole
CLOSED = ConversationStatus.CLOSED
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
pytestmark = pytest.mark.usefixtures("shop_id")
Headers = dict[str, str]


async def agent(
    sessions: SessionFactory,
    shop_id: str,
    name: str,
    roles: list[ServiceRole],
    **kw: Any,
) -> tuple[int, Headers]:
    user_id = await make_agent(sessions, shop_id, name, roles, **kw)
    return user_id, {"Authorization": f"Bearer {await issue_token(sessions, name)}"}


async def login_as(sessions: SessionFactory, shop_id: str, name: str, role: UserRole) -> Headers:
    return {"Authorization": f"Bearer {await token_for(sessions, shop_id, name, role)}"}


async def call(
    client: TestClient[Any, Any],
    method: str,
    path: str,
    headers: Headers,
    body: Any = None,
    *,
    status: int = 200,
) -> Any:
    response = await client.request(method, path, headers=headers, json=body)
    assert response.status == status, f"{method} {path}: {await response.text()}"
    return await response.json()


async def items(sessions: SessionFactory, **where: Any) -> list[Conversation]:
    async with sessions() as session:
        query = select(Conversation).order_by(Conversation.id)
        for key, value in where.items():
            query = query.where(getattr(Conversation, key) == value)
        return list(await session.scalars(query))


async def audit_actions(client: TestClient[Any, Any], boss: Headers) -> list[dict[str, Any]]:
    page = await call(client, "GET", "/api/v1/audit?limit=500", boss)
    rows: list[dict[str, Any]] = page["items"]
    return rows


async def paid_order(client: TestClient[Any, Any], order_id: str, **extra: Any) -> None:
    at = extra.pop("occurred_at", None)
    when = {"occurred_at": at} if at else {}
    await post_event(client, "order.created", order_data(order_id, **extra), **when)
    await post_event(client, "order.paid", {"order_id": order_id}, **when)
    await settle(client)


# -- order review -------------------------------------------------------------------------


async def test_order_review_fixes_the_gift_then_approves(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    async with sessions.begin() as session:
        await add_products(
            session,
            shop_id,
            [ProductSpec("PJ-1", "家用投影仪", "数码", 129900, gifts=("HDMI高清线",))],
        )
    reviewer, mine = await agent(sessions, shop_id, "reviewer", [P.ORDER_REVIEW])
    _, stranger = await agent(
        sessions, shop_id, "stranger", [P.ORDER_REVIEW], status=AgentStatus.OFFLINE
    )
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    qc = await login_as(sessions, shop_id, "inspector", UserRole.QC_INSPECTOR)
    await paid_order(
        client,
        "T-GIFT",
        amount="1299.00",
        items=[{"sku": "PJ-1", "title": "家用投影仪", "qty": 1, "price": "1299.00"}],
        gifts=["旅游券"],
    )
    (check,) = await items(sessions, kind="order_check")
    assert check.assigned_agent_id == reviewer
    path = f"/api/v1/order-checks/{check.id}"

    view = await call(client, "GET", path, mine)
    assert {f["code"] for f in view["flags"]} == {"gift_missing", "gift_unexpected"}
    assert view["promised_gifts"] == {"PJ-1": ["HDMI高清线"]}
    assert view["order"]["gifts"] == ["旅游券"]
    assert "****" in view["order"]["address"]  # contact data stays masked

    await call(client, "POST", f"{path}/approve", stranger, {}, status=403)
    await call(client, "POST", f"{path}/approve", qc, {}, status=403)
    await call(client, "GET", "/api/v1/order-checks/999999", mine, status=404)
    bad = await call(client, "POST", f"{path}/gifts", mine, {"gifts": "HDMI"}, status=400)
    assert bad["field"] == "gifts"
    no_reason = await call(client, "POST", f"{path}/hold", mine, {"reason": " "}, status=400)
    assert no_reason["field"] == "reason"

    fixed = await call(client, "POST", f"{path}/gifts", mine, {"gifts": ["HDMI高清线"]})
    assert fixed["flags"] == []
    assert fixed["conversation"]["status"] == "assigned"
    assert fixed["order"]["gifts"] == ["HDMI高清线"]

    done = await call(client, "POST", f"{path}/approve", mine, {"note": "赠品已改"})
    assert done["conversation"]["status"] == "closed"
    again = await call(client, "POST", f"{path}/approve", mine, {}, status=409)
    assert "already closed" in again["error"]

    (check,) = await items(sessions, kind="order_check")
    assert check.disposition == "order_approved"
    assert "gifts_fixed" in check.tags
    async with sessions() as session:
        order = await session.scalar(select(Order).where(Order.external_id == "T-GIFT"))
        assert order is not None
        assert order.gifts == ["HDMI高清线"]
    by_action = {row["action"]: row for row in await audit_actions(client, boss)}
    change = by_action["order.gifts_corrected"]
    assert change["actor_id"] == reviewer
    assert (change["detail"]["before"], change["detail"]["after"]) == (["旅游券"], ["HDMI高清线"])
    assert by_action["order_review.approve"]["detail"]["outstanding_flags"] == []


async def test_order_review_address_invoice_hold_and_supervisor_approval(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, mine = await agent(sessions, shop_id, "reviewer", [P.ORDER_REVIEW])
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await paid_order(client, "T-ADDR", address="待定", invoice_title="杭州某某科技有限公司")
    (check,) = await items(sessions, kind="order_check")
    path = f"/api/v1/order-checks/{check.id}"
    codes = {f["code"] for f in (await call(client, "GET", path, mine))["flags"]}
    assert "address_vague" in codes
    assert "invoice_requested" in codes

    still_bad = await call(client, "POST", f"{path}/address", mine, {"address": "北京"}, status=400)
    assert still_bad["field"] == "address"
    good = "浙江省杭州市西湖区文三路90号东部软件园3号楼"
    fixed = await call(client, "POST", f"{path}/address", mine, {"address": good})
    assert {f["code"] for f in fixed["flags"]} == {"invoice_requested"}
    empty = await call(client, "POST", f"{path}/invoice", mine, {"invoice_title": ""}, status=400)
    assert empty["field"] == "invoice_title"
    confirmed = await call(
        client, "POST", f"{path}/invoice", mine, {"invoice_title": "杭州某某科技有限公司"}
    )
    assert confirmed["flags"] == []

    held = await call(client, "POST", f"{path}/hold", mine, {"reason": "等买家确认门牌号"})
    assert held["conversation"]["status"] == "assigned"
    # Supervisors act on any item of the shop, not only their own.
    done = await call(client, "POST", f"{path}/approve", boss, {})
    assert done["conversation"]["status"] == "closed"

    (check,) = await items(sessions, kind="order_check")
    assert {"address_fixed", "invoice_confirmed", "on_hold"} <= set(check.tags)
    async with sessions() as session:
        order = await session.scalar(select(Order).where(Order.external_id == "T-ADDR"))
        assert order is not None
        assert order.address == good
    rows = await audit_actions(client, boss)
    by_action = {row["action"]: row for row in rows}
    assert by_action["order.address_corrected"]["detail"]["before"] == "待定"
    assert by_action["order_review.hold"]["reason"] == "等买家确认门牌号"
    assert by_action["order_review.approve"]["actor_username"] == "lead"
    assert "order.invoice_title_corrected" in by_action


# -- refunds ------------------------------------------------------------------------------


def refund_data(refund_id: str, order_id: str, kind: str = "refund_only") -> dict[str, Any]:
    return {
        "refund_id": refund_id,
        "order_id": order_id,
        "kind": kind,
        "amount": "199.00",
        "reason": "不想要了",
    }


async def test_refund_approved_in_time_then_intercepted_and_refunded(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    refunder, mine = await agent(sessions, shop_id, "refunder", [P.REFUND])
    _, stranger = await agent(sessions, shop_id, "other", [P.REFUND], status=AgentStatus.OFFLINE)
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await paid_order(client, "T-R1")
    await post_event(client, "refund.requested", refund_data("R-1", "T-R1"))
    await settle(client)
    (review,) = await items(sessions, kind="refund_review")
    assert review.assigned_agent_id == refunder
    path = f"/api/v1/refund-items/{review.id}"

    view = await call(client, "GET", path, mine)
    assert view["refund"]["status"] == "requested"
    assert view["refund"]["overdue"] is False
    assert 0 < view["refund"]["seconds_left"] <= 24 * 3600
    assert view["duties"] == ["review", "processing"]

    await call(client, "POST", f"{path}/approve", stranger, {}, status=403)
    missing = await call(client, "POST", f"{path}/reject", mine, {}, status=400)
    assert missing["field"] == "reason"
    wrong_kind = await call(client, "POST", f"{path}/refunded", mine, {}, status=409)
    assert "refund_review" in wrong_kind["error"]

    approved = await call(client, "POST", f"{path}/approve", mine, {})
    assert approved["refund"]["status"] == "approved"
    assert approved["conversation"]["status"] == "closed"
    await call(client, "POST", f"{path}/approve", mine, {}, status=409)

    # The payout goes to processing; the same agent holds both duties here.
    (processing,) = await items(sessions, kind="refund_processing")
    assert processing.assigned_agent_id == refunder
    ppath = f"/api/v1/refund-items/{processing.id}"
    no_parcel = await call(client, "POST", f"{ppath}/return-received", mine, {}, status=409)
    assert "no return parcel" in no_parcel["error"]
    intercepted = await call(client, "POST", f"{ppath}/intercept", mine, {"note": "仓库已确认"})
    assert intercepted["conversation"]["status"] == "assigned"
    await call(client, "POST", f"{ppath}/intercept", mine, {}, status=409)
    refunded = await call(client, "POST", f"{ppath}/refunded", mine, {})
    assert refunded["refund"]["status"] == "refunded"
    assert refunded["refund"]["resolved_at"] is not None
    assert refunded["conversation"]["status"] == "closed"

    async with sessions() as session:
        refund = await session.scalar(select(Refund).where(Refund.external_id == "R-1"))
        assert refund is not None
        assert refund.resolved_at is not None
    (review,) = await items(sessions, kind="refund_review")
    assert review.disposition == "refund_approved"
    assert "after_deadline" not in review.tags
    by_action = {row["action"]: row for row in await audit_actions(client, boss)}
    assert by_action["refund.approve"]["detail"]["after_deadline"] is False
    assert by_action["refund.intercept"]["reason"] == "仓库已确认"
    assert "refund.refunded" in by_action


async def test_refund_after_the_deadline_is_flagged_and_cannot_be_rejected(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, mine = await agent(sessions, shop_id, "refunder", [P.REFUND])
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    await paid_order(client, "T-LATE", occurred_at=two_days_ago)
    await post_event(
        client, "refund.requested", refund_data("R-LATE", "T-LATE"), occurred_at=two_days_ago
    )
    await settle(client)
    (review,) = await items(sessions, kind="refund_review")
    path = f"/api/v1/refund-items/{review.id}"

    view = await call(client, "GET", path, mine)
    assert view["refund"]["overdue"] is True
    assert view["refund"]["seconds_left"] < 0
    refused = await call(client, "POST", f"{path}/reject", mine, {"reason": "已发货"}, status=409)
    assert "auto-approved" in refused["error"]

    approved = await call(client, "POST", f"{path}/approve", mine, {})
    assert approved["refund"]["status"] == "approved"
    (review,) = await items(sessions, kind="refund_review")
    assert review.disposition == "refund_approved_after_deadline"
    assert "after_deadline" in review.tags
    (entry,) = [r for r in await audit_actions(client, boss) if r["action"] == "refund.approve"]
    assert entry["detail"]["after_deadline"] is True
    assert entry["detail"]["auto_approved_by_platform_at"] == view["refund"]["deadline_at"]


async def test_return_received_then_refund_done(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    refunder, mine = await agent(sessions, shop_id, "refunder", [P.REFUND])
    await paid_order(client, "T-RET")
    await post_event(client, "order.shipped", {"order_id": "T-RET"})
    await post_event(client, "refund.requested", refund_data("R-RET", "T-RET", "return_and_refund"))
    await settle(client)
    (review,) = await items(sessions, kind="refund_review")
    path = f"/api/v1/refund-items/{review.id}"
    intercept = await call(client, "POST", f"{path}/intercept", mine, {}, status=409)
    assert "too late" in intercept["error"]

    # The parcel is back before anyone reviewed: the reviewer confirms it, then approves.
    received = await call(client, "POST", f"{path}/return-received", mine, {})
    assert received["refund"]["status"] == "return_received"
    await call(client, "POST", f"{path}/return-received", mine, {}, status=409)
    await call(client, "POST", f"{path}/approve", mine, {})
    (processing,) = await items(sessions, kind="refund_processing")
    assert processing.assigned_agent_id == refunder

    # The platform's own event arriving later opens no second processing item.
    await post_event(client, "return.received", {"refund_id": "R-RET"})
    await settle(client)
    assert len(await items(sessions, kind="refund_processing")) == 1

    done = await call(client, "POST", f"/api/v1/refund-items/{processing.id}/refunded", mine, {})
    assert done["refund"]["status"] == "refunded"
    assert done["conversation"]["status"] == "closed"


async def test_rejecting_a_refund_of_an_angry_buyer_books_a_call(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, mine = await agent(sessions, shop_id, "refunder", [P.REFUND])
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await paid_order(client, "T-ANGRY", nick="急躁买家")
    await post_event(client, "refund.requested", refund_data("R-ANGRY", "T-ANGRY"))
    await settle(client)
    (review,) = await items(sessions, kind="refund_review")
    await post_event(
        client, "message.received", {"buyer_nick": "急躁买家", "text": "再不退款我就投诉 给差评"}
    )
    await settle(client)
    # The complaint itself booked a call; once that one is done, a rejection books another.
    booked = [c.id for c in await items(sessions, kind="proactive_call")]
    if booked:
        body = {"action": "close", "conversation_ids": booked, "disposition": "called"}
        await call(client, "POST", "/api/v1/supervisor/conversations/bulk", boss, body)
    rejected = await call(
        client, "POST", f"/api/v1/refund-items/{review.id}/reject", mine, {"reason": "已超过7天"}
    )
    assert rejected["refund"]["status"] == "rejected"
    (new_call,) = [
        c for c in await items(sessions, kind="proactive_call") if c.status is not CLOSED
    ]
    assert new_call.buyer_id == review.buyer_id
    assert new_call.role == "hotline"


# -- payment chasing ------------------------------------------------------------------------


async def test_chase_list_outcomes_and_recovered_amount(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    chaser, mine = await agent(sessions, shop_id, "chaser", [P.PAYMENT_CHASING])
    _, other = await agent(
        sessions, shop_id, "other", [P.PAYMENT_CHASING], status=AgentStatus.OFFLINE
    )
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await post_event(client, "order.created", order_data("T-C1", amount="299.00"))
    await settle(client)
    (chase,) = await items(sessions, kind="payment_chase")
    assert chase.not_before is not None
    await activate_due_items(deps(client), chase.not_before + timedelta(seconds=1))

    (row,) = (await call(client, "GET", "/api/v1/chases/mine", mine))["chases"]
    assert (row["id"], row["status"]) == (chase.id, "assigned")
    assert "测试店" in row["script"]
    assert "保温杯" in row["script"]
    # The chat message names the buyer, the order and its amount.
    for part in ("测试店", "买家小王", "T-C1", "¥299.00", "保温杯"):
        assert part in row["chat_script"]
    assert isinstance(row["quiet_now"], bool)
    assert (await call(client, "GET", "/api/v1/chases/mine", other))["chases"] == []
    bad = await call(
        client, "POST", f"/api/v1/chases/{chase.id}/outcome", mine, {"outcome": "maybe"}, status=400
    )
    assert bad["field"] == "outcome"
    await call(
        client,
        "POST",
        f"/api/v1/chases/{chase.id}/outcome",
        other,
        {"outcome": "no_answer"},
        status=403,
    )
    attempt = await call(
        client, "POST", f"/api/v1/chases/{chase.id}/outcome", mine, {"outcome": "no_answer"}
    )
    assert attempt["next_chase_at"] is not None
    assert attempt["conversation"]["status"] == "scheduled"
    # Waiting for the next attempt, the chase is still this chaser's (the buyer's claim).
    (row,) = (await call(client, "GET", "/api/v1/chases/mine", mine))["chases"]
    assert row["status"] == "scheduled"
    assert row["attempts"] == 1
    # The next attempt was scheduled past the quiet hours: that is when contact is allowed.
    assert row["allowed_at"] == row["next_chase_at"] == attempt["next_chase_at"]
    again = await call(
        client, "POST", f"/api/v1/chases/{chase.id}/outcome", mine, {"outcome": "busy"}, status=409
    )
    assert "scheduled" in again["error"]

    await post_event(client, "order.paid", {"order_id": "T-C1"})
    await settle(client)
    kpi = await call(client, "GET", "/api/v1/chases/kpi?days=7", boss)
    (credited,) = kpi["chasers"]
    assert credited["agent_id"] == chaser
    assert (credited["paid"], credited["recovered_fen"]) == (1, 29900)
    assert kpi["total_recovered_fen"] == 29900
    assert (await call(client, "GET", "/api/v1/chases/kpi", mine))["total_recovered_fen"] == 29900
    assert (await call(client, "GET", "/api/v1/chases/kpi", other))["chasers"] == []
    bad_days = await call(client, "GET", "/api/v1/chases/kpi?days=0", boss, status=400)
    assert bad_days["field"] == "days"

    # A buyer who says no is not chased again.
    await post_event(client, "order.created", order_data("T-C2", nick="不买了", amount="99.00"))
    await settle(client)
    second = next(c for c in await items(sessions, kind="payment_chase") if c.id != chase.id)
    assert second.not_before is not None
    await activate_due_items(deps(client), second.not_before + timedelta(seconds=1))
    declined = await call(
        client, "POST", f"/api/v1/chases/{second.id}/outcome", mine, {"outcome": "declined"}
    )
    assert declined["next_chase_at"] is None
    assert declined["conversation"]["status"] == "closed"
    (second,) = [c for c in await items(sessions, kind="payment_chase") if c.id == second.id]
    assert second.disposition == "chase_declined"


# -- hotline --------------------------------------------------------------------------------


async def test_caller_card_is_masked_and_needs_the_hotline_role(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, hotline = await agent(sessions, shop_id, "hotline", [P.HOTLINE], status=AgentStatus.OFFLINE)
    _, presales = await agent(sessions, shop_id, "presales", [P.PRESALES])
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await paid_order(client, "T-CALL", nick="来电买家")

    card = await call(client, "GET", "/api/v1/hotline/caller?phone=138-0000-1234", hotline)
    assert card["phone"] == "138****1234"
    (buyer,) = card["buyers"]
    assert buyer["nick"] == "来电买家"
    assert [o["external_id"] for o in buyer["orders"]] == ["T-CALL"]
    assert "13800001234" not in str(card)
    nobody = await call(client, "GET", "/api/v1/hotline/caller?phone=13999999999", hotline)
    assert nobody["buyers"] == []
    await call(client, "GET", "/api/v1/hotline/caller?phone=13800001234", presales, status=403)
    bad = await call(client, "GET", "/api/v1/hotline/caller?phone=abc", hotline, status=400)
    assert bad["field"] == "phone"
    lookups = [r for r in await audit_actions(client, boss) if r["action"] == "hotline.lookup"]
    assert len(lookups) == 2


async def test_notice_campaign_calls_each_matching_buyer_once(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, hotline = await agent(sessions, shop_id, "hotline", [P.HOTLINE], status=AgentStatus.OFFLINE)
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    presale = "双十一预售"
    await paid_order(client, "T-A1", nick="买家甲", campaign=presale)
    await paid_order(client, "T-A2", nick="买家甲", campaign=presale, amount="599.00")
    await paid_order(client, "T-B1", nick="买家乙", campaign=presale)
    await paid_order(client, "T-C1", nick="买家丙", campaign=presale)
    await post_event(client, "order.shipped", {"order_id": "T-C1"})  # shipped: not affected
    await paid_order(client, "T-D1", nick="买家丁")  # not in the presale
    await settle(client)
    body = {
        "name": "预售延迟发货",
        "reason": "双十一预售商品7天内无法发货, 致电说明",
        "filter": {"campaign": presale},
    }

    await call(client, "POST", "/api/v1/hotline/campaigns", hotline, body, status=403)
    everyone = await call(
        client, "POST", "/api/v1/hotline/campaigns", boss, {**body, "filter": {}}, status=400
    )
    assert everyone["field"] == "filter"
    no_name = await call(
        client, "POST", "/api/v1/hotline/campaigns", boss, {**body, "name": ""}, status=400
    )
    assert no_name["field"] == "name"
    preview = await call(
        client, "POST", "/api/v1/hotline/campaigns", boss, {**body, "dry_run": True}
    )
    assert (preview["orders_matched"], preview["buyers"], preview["created"]) == (3, 2, 0)

    created = await call(client, "POST", "/api/v1/hotline/campaigns", boss, body, status=201)
    assert (created["buyers"], created["created"]) == (2, 2)
    calls = await items(sessions, kind="notice_call")
    assert len(calls) == 2
    async with sessions() as session:
        about = {
            c.id: await session.scalar(select(Order.external_id).where(Order.id == c.order_id))
            for c in calls
        }
    # Each buyer is called about their biggest matching order.
    assert sorted(str(v) for v in about.values()) == ["T-A2", "T-B1"]
    assert all("notice:预售延迟发货" in c.tags for c in calls)
    twice = await call(client, "POST", "/api/v1/hotline/campaigns", boss, body, status=201)
    assert (twice["created"], twice["already_open"]) == (0, 2)

    listed = await call(client, "GET", "/api/v1/hotline/outbound?kind=notice_call", hotline)
    assert sorted(i["id"] for i in listed["kinds"]["notice_call"]) == [c.id for c in calls]
    first, second = calls
    # Nobody is on the phone yet: an agent cannot log a call that is not theirs.
    await call(
        client,
        "POST",
        f"/api/v1/hotline/calls/{first.id}/outcome",
        hotline,
        {"outcome": "reached"},
        status=409,
    )
    bad = await call(
        client,
        "POST",
        f"/api/v1/hotline/calls/{first.id}/outcome",
        boss,
        {"outcome": "ok"},
        status=400,
    )
    assert bad["field"] == "outcome"
    for item, outcome in ((first, "reached"), (second, "no_answer")):
        done = await call(
            client, "POST", f"/api/v1/hotline/calls/{item.id}/outcome", boss, {"outcome": outcome}
        )
        assert done["conversation"]["status"] == "closed"

    progress = await call(client, "GET", "/api/v1/hotline/campaigns/预售延迟发货", boss)
    assert progress["total"] == 2
    assert progress["open"] == 0
    assert progress["by_outcome"] == {"call_reached": 1, "call_no_answer": 1}
    assert sorted(c["buyer_nick"] for c in progress["calls"]) == ["买家乙", "买家甲"]
    runs = await call(client, "GET", "/api/v1/hotline/campaigns", boss)
    assert [r["created"] for r in runs["campaigns"]] == [0, 2]
    await call(client, "GET", "/api/v1/hotline/campaigns/nothing", boss, status=404)


@SQLITE_ONLY
async def test_openapi_documents_every_role_and_supervisor_route(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    boss = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    document = await call(client, "GET", "/api/openapi.json", boss)
    documented = {(path, m.upper()) for path, ops in document["paths"].items() for m in ops}
    routed = {
        (route.resource.canonical, route.method)
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
    }
    assert documented == routed
    ours = {
        (route.path, route.method)
        for module in (roles_api, supervisor_api)
        for route in module.routes
        if isinstance(route, web.RouteDef)
    }
    assert len(ours) > 25
    assert ours <= documented
