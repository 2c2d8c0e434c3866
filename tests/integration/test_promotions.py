"""Promotion mode end to end, on SQLite and PostgreSQL, each with and without Redis: a
schedule switches the profile on and off by itself (the switch job run as the deployment
runs it, at a moved clock), the queued items' scores and queue keys follow, the dashboard
says what is live and until when, switches by hand are audited, and a live profile's
capacities and role swaps change who takes what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient

from csdesk.routing.queues import QUEUE_KEY
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus, ServiceRole, UserRole
from tests.helpers import post_event, settle
from tests.integration.test_role_workbench_api import agent, audit_actions, call, items, login_as
from tests.run_jobs import MovedClock, run_job

pytestmark = pytest.mark.usefixtures("shop_id")
Headers = dict[str, str]
SHOP_TZ = ZoneInfo("Asia/Shanghai")
SCHEDULES = "/api/v1/promotions/schedules"


@pytest.fixture
async def boss(sessions: SessionFactory, shop_id: str) -> Headers:
    return await login_as(sessions, shop_id, "boss", UserRole.OWNER)


def shop_time(at: datetime) -> str:
    """What the schedule form sends: minutes, in shop time, no offset."""
    return at.astimezone(SHOP_TZ).strftime("%Y-%m-%dT%H:%M")


def to_minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


async def refund_item(client: TestClient[Any, Any], boss: Headers) -> dict[str, Any]:
    """The one queued refund item as GET /api/v1/queues shows it."""
    queues = await call(client, "GET", "/api/v1/queues", boss)
    (item,) = queues["roles"]["refund"]["items"]
    return dict(item)


def static_points(item: dict[str, Any]) -> float:
    return round(sum(float(r["points"]) for r in item["breakdown"] if r["factor"] != "aging"), 6)


def promotion_reasons(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in item["breakdown"] if r["factor"] == "promotion"]


async def index_key(client: TestClient[Any, Any], shop_id: str, item_id: int) -> float:
    entries = dict(await client.app[QUEUE_KEY].peek(shop_id, "refund"))
    return float(entries[item_id])


async def test_a_scheduled_promotion_switches_on_and_off_by_itself_and_scoring_follows(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, boss: Headers
) -> None:
    # A buyer's refund request waits in the refund queue (nobody on shift to take it).
    await post_event(client, "message.received", {"buyer_nick": "要退款的买家", "text": "我要退款"})
    await settle(client)
    before = await refund_item(client, boss)
    assert promotion_reasons(before) == []
    key_before = await index_key(client, shop_id, before["id"])

    t0 = datetime.now(UTC)
    starts, ends = to_minute(t0 + timedelta(minutes=10)), to_minute(t0 + timedelta(minutes=70))
    entry = await call(
        client,
        "POST",
        SCHEDULES,
        boss,
        {"profile": "double11", "starts_at": shop_time(starts), "ends_at": shop_time(ends)},
        status=201,
    )
    assert entry["status"] == "scheduled"
    assert datetime.fromisoformat(entry["starts_at"]) == starts
    assert entry["label"] == "双十一"

    clock = MovedClock(starts - timedelta(seconds=30))
    await run_job(client, clock, "switch_promotions")
    assert (await call(client, "GET", "/api/v1/dashboard", boss))["promotion"] is None
    assert promotion_reasons(await refund_item(client, boss)) == []

    # The start comes: on by itself.
    clock.at = starts + timedelta(seconds=5)
    await run_job(client, clock, "switch_promotions")
    live = (await call(client, "GET", "/api/v1/dashboard", boss))["promotion"]
    assert (live["name"], live["label"]) == ("double11", "双十一")
    assert datetime.fromisoformat(live["until"]) == ends
    assert datetime.fromisoformat(live["since"]) == clock.at
    assert live["schedule_id"] == entry["id"]
    assert live["role_points"]["refund"] == 10.0
    during = await refund_item(client, boss)
    assert static_points(during) == pytest.approx(static_points(before) + 10.0)
    (reason,) = promotion_reasons(during)
    assert reason == {"factor": "promotion", "points": 10.0, "reason": "大促 double11: 退款 +10"}
    assert await index_key(client, shop_id, before["id"]) == pytest.approx(key_before + 10.0)
    view = await call(client, "GET", "/api/v1/promotions", boss)
    assert view["live"]["name"] == "double11"
    assert view["schedules"][0]["status"] == "live"

    # Running the job again changes nothing.
    clock.at = starts + timedelta(minutes=30)
    await run_job(client, clock, "switch_promotions")
    assert static_points(await refund_item(client, boss)) == static_points(during)

    # The end comes: off by itself, and the score is what it was.
    clock.at = ends + timedelta(seconds=5)
    await run_job(client, clock, "switch_promotions")
    assert (await call(client, "GET", "/api/v1/dashboard", boss))["promotion"] is None
    after = await refund_item(client, boss)
    assert promotion_reasons(after) == []
    assert static_points(after) == pytest.approx(static_points(before))
    assert await index_key(client, shop_id, before["id"]) == pytest.approx(key_before)
    view = await call(client, "GET", "/api/v1/promotions", boss)
    assert view["live"] is None
    (ended,) = view["schedules"]
    assert ended["status"] == "ended"
    assert datetime.fromisoformat(ended["switched_off_at"]) == clock.at

    # Who changed what: the owner scheduled it, the schedule switched it both ways.
    rows = await audit_actions(client, boss)
    scheduled = [r for r in rows if r["action"] == "promotion.schedule"]
    switched = [r for r in rows if r["action"] == "promotion.switch"]
    assert len(scheduled) == 1
    assert scheduled[0]["actor_id"] is not None
    assert {(r["detail"]["from"], r["detail"]["to"]) for r in switched} == {
        (None, "double11"),
        ("double11", None),
    }
    assert len(switched) == 2
    assert {r["detail"]["by"] for r in switched} == {"schedule"}
    assert all(r["actor_id"] is None for r in switched)


async def test_switching_by_hand_and_through_the_shop_rules_rescores(
    client: TestClient[Any, Any], shop_id: str, boss: Headers
) -> None:
    await post_event(client, "message.received", {"buyer_nick": "要退款的买家", "text": "我要退款"})
    await settle(client)
    base = static_points(await refund_item(client, boss))

    answer = await call(
        client, "PUT", "/api/v1/promotions/live", boss, {"profile": "618", "reason": "提前开始"}
    )
    assert answer["live"]["name"] == "618"
    assert answer["live"]["until"] is None
    assert answer["rescored"] == 1
    assert static_points(await refund_item(client, boss)) == pytest.approx(base + 8.0)

    # The shop's rules say double11: the same re-scoring follows.
    config = (await call(client, "GET", "/api/v1/shop/config", boss))["config"]
    await call(
        client, "PUT", "/api/v1/shop/config", boss, {"config": {**config, "promotion": "double11"}}
    )
    assert static_points(await refund_item(client, boss)) == pytest.approx(base + 10.0)

    await call(client, "PUT", "/api/v1/promotions/live", boss, {"profile": None})
    assert static_points(await refund_item(client, boss)) == pytest.approx(base)
    rows = await audit_actions(client, boss)
    # By hand: on (618) and off (from double11, which the shop's rules set, audited there).
    hand = [r["detail"] for r in rows if r["action"] == "promotion.switch"]
    assert {(d["from"], d["to"], d["by"]) for d in hand} == {
        (None, "618", hand[0]["by"]),
        ("double11", None, hand[0]["by"]),
    }
    assert all(isinstance(d["by"], int) for d in hand)
    assert any(r["action"] == "shop.config" for r in rows)


async def test_bad_schedules_are_refused_naming_the_field(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, boss: Headers
) -> None:
    now = datetime.now(UTC)
    start, end = shop_time(now + timedelta(hours=1)), shop_time(now + timedelta(hours=5))
    good = {"profile": "double11", "starts_at": start, "ends_at": end}
    await call(client, "POST", SCHEDULES, boss, good, status=201)
    cases: list[tuple[dict[str, Any], str]] = [
        ({**good, "profile": "blackfriday"}, "profile"),
        ({**good, "profile": None}, "profile"),
        ({**good, "starts_at": "明天晚上八点"}, "starts_at"),
        ({**good, "starts_at": ""}, "starts_at"),
        ({**good, "ends_at": start}, "ends_at"),
        (
            {
                **good,
                "starts_at": shop_time(now - timedelta(hours=9)),
                "ends_at": shop_time(now - timedelta(hours=8)),
            },
            "ends_at",
        ),
        ({**good, "ends_at": shop_time(now + timedelta(days=40))}, "ends_at"),
        ({**good, "profile": "618"}, "starts_at"),  # overlaps the one scheduled above
        ({**good, "note": 5}, "note"),
    ]
    for body, field in cases:
        answer = await client.post(SCHEDULES, headers=boss, json=body)
        assert answer.status == 400, body
        assert (await answer.json())["field"] == field, (body, await answer.json())
    answer = await client.put("/api/v1/promotions/live", headers=boss, json={"profile": "nope"})
    assert (answer.status, (await answer.json())["field"]) == (400, "profile")
    # A profile a schedule names cannot be dropped from the shop's rules.
    config = {"routing": {"scoring": {"promotions": {"mine": {"label": "店庆"}}}}}
    await call(client, "PUT", "/api/v1/shop/config", boss, {"config": config})
    mine = {
        "profile": "mine",
        "starts_at": shop_time(now + timedelta(days=2)),
        "ends_at": shop_time(now + timedelta(days=3)),
    }
    await call(client, "POST", SCHEDULES, boss, mine, status=201)
    answer = await client.put("/api/v1/shop/config", headers=boss, json={"config": {}})
    assert answer.status == 400
    assert (await answer.json())["field"] == "routing.scoring.promotions.mine"
    # Supervisors read; agents may not.
    supervisor = await login_as(sessions, shop_id, "sv", UserRole.SUPERVISOR)
    assert len((await call(client, "GET", "/api/v1/promotions", supervisor))["schedules"]) == 2
    await call(client, "POST", SCHEDULES, supervisor, good, status=403)
    _, mine_agent = await agent(sessions, shop_id, "agent-1", [ServiceRole.PRESALES])
    await call(client, "GET", "/api/v1/promotions", mine_agent, status=403)


async def test_cancelling_a_live_schedule_ends_it_now(
    client: TestClient[Any, Any], boss: Headers
) -> None:
    now = datetime.now(UTC)
    entry = await call(
        client,
        "POST",
        SCHEDULES,
        boss,
        {
            "profile": "juhuasuan",
            "starts_at": shop_time(now - timedelta(minutes=5)),
            "ends_at": shop_time(now + timedelta(hours=2)),
        },
        status=201,
    )
    await run_job(client, MovedClock(now), "switch_promotions")
    assert (await call(client, "GET", "/api/v1/dashboard", boss))["promotion"]["label"] == "聚划算"
    cancelled = await call(
        client, "POST", f"{SCHEDULES}/{entry['id']}/cancel", boss, {"reason": "活动取消"}
    )
    assert cancelled["status"] == "cancelled"
    assert (await call(client, "GET", "/api/v1/dashboard", boss))["promotion"] is None
    await call(client, "POST", f"{SCHEDULES}/{entry['id']}/cancel", boss, {}, status=409)
    await call(client, "POST", f"{SCHEDULES}/99999/cancel", boss, {}, status=404)


async def test_a_live_profile_gives_every_agent_more_chats(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, boss: Headers
) -> None:
    """双十一: two more chats per agent; the queued ones go to the new room at once."""
    presales, _ = await agent(
        sessions, shop_id, "presales-1", [ServiceRole.PRESALES], chat_capacity=1
    )
    for n in range(4):
        await post_event(
            client, "message.received", {"buyer_nick": f"问价买家{n}", "text": "这款多少钱"}
        )
    await settle(client)
    chats = await items(sessions, role="presales")
    assert [c.status for c in chats].count(ConversationStatus.QUEUED) == 3
    await call(client, "PUT", "/api/v1/promotions/live", boss, {"profile": "double11"})
    chats = await items(sessions, role="presales")
    assert [c.assigned_agent_id for c in chats].count(presales) == 3  # 1 + 2 more
    assert [c.status for c in chats].count(ConversationStatus.QUEUED) == 1
    # Off again: nobody loses a chat they hold, and no new one comes until below 1.
    await call(client, "PUT", "/api/v1/promotions/live", boss, {"profile": None})
    chats = await items(sessions, role="presales")
    assert [c.assigned_agent_id for c in chats].count(presales) == 3


async def test_a_live_profile_shares_simple_after_sales_questions(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, boss: Headers
) -> None:
    """双十一: with nobody in pre-sales free, a how-to question goes to anyone on shift
    with room; without the promotion it waits for pre-sales."""
    await call(client, "PUT", "/api/v1/promotions/live", boss, {"profile": "double11"})
    refunder, _ = await agent(sessions, shop_id, "refund-1", [ServiceRole.REFUND], chat_capacity=2)
    await post_event(
        client, "message.received", {"buyer_nick": "装机的买家", "text": "这个怎么安装"}
    )
    await post_event(client, "message.received", {"buyer_nick": "问价的买家", "text": "这款多少钱"})
    await settle(client)
    by_intent = {c.intent: c for c in await items(sessions)}
    howto = by_intent["howto"]
    assert howto.role == "presales"
    assert (howto.status, howto.assigned_agent_id) == (ConversationStatus.ASSIGNED, refunder)
    # A pre-sales question proper still waits for pre-sales.
    others = [c for c in by_intent.values() if c.intent != "howto"]
    assert [(c.status, c.assigned_agent_id) for c in others] == [(ConversationStatus.QUEUED, None)]


async def test_refund_reviewers_also_process_while_the_profile_says_so(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, boss: Headers
) -> None:
    """Who may take a refund processing item first: the processing duty; with 双十一 live,
    the reviewers on shift too (the placement reads these holders)."""
    from csdesk.routing import facts as loaded
    from tests.integration.test_refund_duties import _on_duty

    reviewer, _ = await agent(sessions, shop_id, "shenhe", [ServiceRole.REFUND])
    processor, _ = await agent(sessions, shop_id, "chuli", [ServiceRole.REFUND])
    await _on_duty(sessions, shop_id, {reviewer: "review", processor: "processing"})

    async def holders() -> tuple[set[int], set[int]]:
        now = datetime.now(UTC)
        async with sessions() as session:
            ctx = await loaded.load_shop_context(session, shop_id)
            found = [
                await loaded.duty_holders(
                    session, shop_id, kind, now, reviewers_process=ctx.refund_reviewers_process
                )
                for kind in ("refund_processing", "refund_review")
            ]
        return set(found[0]), set(found[1])

    assert await holders() == ({processor}, {reviewer})
    await call(client, "PUT", "/api/v1/promotions/live", boss, {"profile": "double11"})
    assert await holders() == ({processor, reviewer}, {reviewer})
    await call(client, "PUT", "/api/v1/promotions/live", boss, {"profile": "juhuasuan"})
    assert await holders() == ({processor}, {reviewer})  # 聚划算 swaps nothing


async def test_a_live_profiles_sla_targets_drive_the_staffing_need(
    client: TestClient[Any, Any], boss: Headers
) -> None:
    """The shop's own profile answers pre-sales within 10 s: the dashboard's Erlang C
    target (answer_within_s) follows while it is live."""
    config = {
        "routing": {
            "scoring": {
                "promotions": {"flash": {"label": "闪购", "first_response_s": {"presales": 10}}}
            }
        }
    }
    await call(client, "PUT", "/api/v1/shop/config", boss, {"config": config})
    roles = (await call(client, "GET", "/api/v1/dashboard", boss))["roles"]
    assert roles["presales"]["answer_within_s"] == 30
    await call(client, "PUT", "/api/v1/promotions/live", boss, {"profile": "flash"})
    dashboard = await call(client, "GET", "/api/v1/dashboard", boss)
    assert dashboard["promotion"]["label"] == "闪购"
    assert dashboard["roles"]["presales"]["answer_within_s"] == 10
    assert dashboard["roles"]["refund"]["answer_within_s"] == 30
