"""``rating.received`` through signed HTTP on every backend: what it rates (the buyer's latest
conversation, its agent and role), a buyer rating again (the latest counts, all are kept),
nothing to rate (stored unlinked, the event ``processed`` with a note), bad input (400 naming
the field, nothing stored), low ratings always in the QC inspector's queue (before and after
the day's draw), and the dashboard's satisfaction and complaint figures, worked out here
from what the test posted."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from csdesk.actions.users import issue_token
from csdesk.clock import SHOP_TZ, utcnow
from csdesk.demo import rating_event
from csdesk.jobs.base import JOBS_KEY
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.storage.models import Buyer, Conversation, PlatformEvent
from csdesk.storage.qc_models import QcSample
from csdesk.storage.rating_models import ServiceRating
from tests.helpers import event_body, make_agent, order_data, post_event, post_raw, settle
from tests.integration.test_qc_flow import Api, checked_by_listener, person, run_jobs

RATING = "rating.received"


async def ratings(sessions: SessionFactory) -> list[ServiceRating]:
    async with sessions() as session:
        return list(await session.scalars(select(ServiceRating).order_by(ServiceRating.id)))


async def count(sessions: SessionFactory, model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def chat_of(sessions: SessionFactory, nick: str) -> Conversation:
    async with sessions() as session:
        conversation = await session.scalar(
            select(Conversation)
            .join(Buyer, Buyer.id == Conversation.buyer_id)
            .where(Buyer.nick == nick, Conversation.kind == "chat")
            .order_by(Conversation.id.desc())
            .limit(1)
        )
    assert conversation is not None, nick
    return conversation


async def served_chat(
    client: TestClient[Any, Any],
    sessions: SessionFactory,
    agent: Api,
    nick: str,
    text: str = "这个保温杯有货吗",
    *,
    close: bool = True,
) -> Conversation:
    """A buyer writes; the agent answers and (by default) closes."""
    await post_event(client, "message.received", {"buyer_nick": nick, "text": text})
    await settle(client)
    conversation = await chat_of(sessions, nick)
    path = f"/api/v1/conversations/{conversation.id}"
    await agent.post(f"{path}/reply", {"text": "您好，有货的，感谢光临，请给个五星好评"}, 201)
    if close:
        await agent.post(f"{path}/close", {"disposition": "answered"})
    return await chat_of(sessions, nick)


async def agent_api(
    client: TestClient[Any, Any],
    sessions: SessionFactory,
    shop_id: str,
    name: str,
    roles: list[ServiceRole],
    **kw: Any,
) -> tuple[int, Api]:
    agent_id = await make_agent(sessions, shop_id, name, roles, **kw)
    return agent_id, Api(client, await issue_token(sessions, name))


async def rate(
    client: TestClient[Any, Any],
    nick: str,
    score: int,
    comment: str | None = None,
    *,
    event_id: str,
    at: datetime | None = None,
) -> None:
    data: dict[str, Any] = {"buyer_nick": nick, "score": score}
    if comment is not None:
        data["comment"] = comment
    await post_event(client, RATING, data, event_id=event_id, occurred_at=at)


async def test_bad_ratings_name_the_field_and_store_nothing(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"buyer_nick": "小鱼", "score": 0}, "data.score"),
        ({"buyer_nick": "小鱼", "score": 6}, "data.score"),
        ({"buyer_nick": "小鱼", "score": -1}, "data.score"),
        ({"buyer_nick": "小鱼", "score": 4.5}, "data.score"),
        ({"buyer_nick": "小鱼", "score": 5.0}, "data.score"),
        ({"buyer_nick": "小鱼", "score": "5"}, "data.score"),
        ({"buyer_nick": "小鱼", "score": True}, "data.score"),
        ({"buyer_nick": "小鱼", "score": None}, "data.score"),
        ({"buyer_nick": "小鱼", "score": 10**20}, "data.score"),
        ({"buyer_nick": "小鱼"}, "data.score"),
        ({"score": 5}, "data.buyer_nick"),
        ({"buyer_nick": "  ", "score": 5}, "data.buyer_nick"),
        ({"buyer_nick": 7, "score": 5}, "data.buyer_nick"),
        ({"buyer_nick": "x" * 65, "score": 5}, "data.buyer_nick"),
        ({"buyer_nick": "小鱼", "score": 5, "comment": "好" * 501}, "data.comment"),
        ({"buyer_nick": "小鱼", "score": 5, "comment": 5}, "data.comment"),
        ({"buyer_nick": "小鱼", "score": 5, "comment": ["很好"]}, "data.comment"),
    ]
    for data, field in cases:
        response = await post_raw(client, event_body(RATING, data))
        assert response.status == 400, (data, await response.text())
        assert (await response.json())["field"] == field, data
    assert await count(sessions, PlatformEvent) == 0
    assert await count(sessions, ServiceRating) == 0
    # The longest comment allowed, and none at all, are fine.
    await rate(client, "小鱼", 5, "好" * 500, event_id="ok-1")
    await rate(client, "小鱼", 3, event_id="ok-2")
    await settle(client)
    assert [(r.score, r.comment and len(r.comment)) for r in await ratings(sessions)] == [
        (5, 500),
        (3, None),
    ]


async def test_a_rating_rates_the_latest_conversation_and_the_latest_rating_counts(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    mei_id, mei = await agent_api(client, sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    _, lead_token = await person(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    lead = Api(client, lead_token)
    older = await served_chat(client, sessions, mei, "小鱼")
    chat = await served_chat(client, sessions, mei, "小鱼", "还有别的颜色吗")
    assert chat.id != older.id
    # After the chat, an unpaid order: its payment chase is scheduled, not a conversation
    # the buyer had, so the rating still rates the chat.
    await post_event(client, "order.created", order_data("T-1", nick="小鱼"))
    await settle(client)

    first_at = utcnow()
    await rate(client, "小鱼", 5, "很满意", event_id="rate-1", at=first_at)
    await settle(client)
    event = await lead.get("/api/v1/events/rate-1")
    assert event["status"] == "processed"
    assert "note" not in event
    (row,) = await ratings(sessions)
    async with sessions() as session:
        event_row = await session.scalar(
            select(PlatformEvent.id).where(PlatformEvent.event_id == "rate-1")
        )
    assert (row.conversation_id, row.agent_id, row.role) == (chat.id, mei_id, "presales")
    assert (row.score, row.comment, row.is_current) == (5, "很满意", True)
    assert row.source_event_id == event_row
    assert row.buyer_id == chat.buyer_id

    # The buyer rates again: the latest counts, the first is kept, replaced.
    second_at = utcnow()
    await rate(client, "小鱼", 2, "又坏了", event_id="rate-2", at=second_at)
    await settle(client)
    # A rating given between the two arrives last: kept, not current, and it says so.
    between = first_at + (second_at - first_at) / 2
    await rate(client, "小鱼", 4, event_id="rate-3", at=between)
    await settle(client)
    first, second, late = await ratings(sessions)
    assert [r.conversation_id for r in (first, second, late)] == [chat.id] * 3
    assert (first.is_current, second.is_current, late.is_current) == (False, True, False)
    assert "replaced" in (first.note or "")
    late_event = await lead.get("/api/v1/events/rate-3")
    assert late_event["status"] == "processed"
    assert f"rating {second.id}" in late_event["note"]
    board = await lead.get("/api/v1/dashboard")
    assert board["satisfaction"]["ratings"] == 1
    assert board["satisfaction"]["by_score"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 0}
    # The same event again changes nothing; the same id with another body is refused.
    again = {"buyer_nick": "小鱼", "score": 2, "comment": "又坏了"}
    response = await post_raw(
        client, event_body(RATING, again, event_id="rate-2", occurred_at=second_at)
    )
    assert response.status == 200, await response.text()
    altered = {"buyer_nick": "小鱼", "score": 1}
    response = await post_raw(
        client, event_body(RATING, altered, event_id="rate-2", occurred_at=second_at)
    )
    assert response.status == 409, await response.text()
    await settle(client)
    after = await ratings(sessions)
    assert [r.score for r in after] == [5, 2, 4]


async def test_a_rating_with_nothing_to_rate_is_kept_unlinked(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, lead_token = await person(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    lead = Api(client, lead_token)
    await rate(client, "路人甲", 1, "没人理我", event_id="stranger")
    # Known to the shop by an order only: no conversation before the rating.
    await post_event(client, "order.created", order_data("T-9", nick="只下单"))
    await settle(client)
    await rate(client, "只下单", 4, event_id="order-only")
    await settle(client)
    stranger = await lead.get("/api/v1/events/stranger")
    assert stranger["status"] == "processed"
    assert "unknown to the shop" in stranger["note"]
    order_only = await lead.get("/api/v1/events/order-only")
    assert order_only["status"] == "processed"
    assert "no conversation" in order_only["note"]
    first, second = await ratings(sessions)
    assert (first.buyer_nick, first.buyer_id, first.conversation_id) == ("路人甲", None, None)
    assert (second.buyer_nick, second.conversation_id, second.agent_id) == ("只下单", None, None)
    assert second.buyer_id is not None
    assert first.is_current
    assert second.is_current
    # Unlinked ratings still count in the shop's satisfaction.
    board = await lead.get("/api/v1/dashboard")
    assert board["satisfaction"]["ratings"] == 2
    assert board["satisfaction"]["satisfied"] == 1
    assert board["satisfaction"]["dissatisfied"] == 1


async def test_low_ratings_are_always_inspected(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    _, mei = await agent_api(client, sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    inspector_id, inspector_token = await person(
        sessions, shop_id, "zhijian", UserRole.QC_INSPECTOR
    )
    inspector = Api(client, inspector_token)
    _, owner_token = await person(sessions, shop_id, "dianzhu", UserRole.OWNER)
    # No random sample at all: whatever is picked is picked for a spotlight reason.
    await Api(client, owner_token).send(
        "PUT",
        "/api/v1/shop/config",
        {"config": {"qc": {"sampling": {"kind": "count", "count": 0}}}},
        200,
    )
    bad = await served_chat(client, sessions, mei, "差评买家")
    good = await served_chat(client, sessions, mei, "好评买家")
    later = await served_chat(client, sessions, mei, "后评买家")
    for conversation in (bad, good, later):
        await checked_by_listener(client, sessions, settings, conversation.id)
    await rate(client, "差评买家", 1, "回复太慢，态度敷衍", event_id="r-bad")
    await rate(client, "好评买家", 5, event_id="r-good")
    await settle(client)

    today = utcnow().astimezone(SHOP_TZ).date().isoformat()
    assert await client.app[JOBS_KEY].enqueue("qc_daily_sample", today) is True
    await run_jobs(client, settings)
    queue = (await inspector.get("/api/v1/qc/queue"))["items"]
    assert [r["conversation_id"] for r in queue] == [bad.id]
    (row,) = queue
    assert row["spotlight"] is True
    assert [w["reason"] for w in row["reasons"]] == ["low_rating"]
    assert "回复太慢" in row["reasons"][0]["detail"]
    assert row["inspector"]["id"] == inspector_id

    # The day is drawn; a low rating that comes afterwards still reaches the queue at once.
    await rate(client, "后评买家", 2, "问了三遍才回", event_id="r-later")
    await rate(client, "好评买家", 4, event_id="r-good-again")  # not low: nothing changes
    await settle(client)
    queue = (await inspector.get("/api/v1/qc/queue"))["items"]
    assert sorted(r["conversation_id"] for r in queue) == sorted([bad.id, later.id])
    (late_row,) = [r for r in queue if r["conversation_id"] == later.id]
    assert late_row["day"] == today
    assert late_row["spotlight"] is True
    assert [w["reason"] for w in late_row["reasons"]] == ["low_rating"]
    assert late_row["inspector"]["id"] == inspector_id
    # Rated low again: the pick is not doubled, its reason not repeated.
    await rate(client, "差评买家", 1, "回复太慢，态度敷衍", event_id="r-bad-again")
    await settle(client)
    assert await count(sessions, QcSample) == 2
    queue = (await inspector.get("/api/v1/qc/queue"))["items"]
    (bad_row,) = [r for r in queue if r["conversation_id"] == bad.id]
    assert len(bad_row["reasons"]) == 1


async def test_dashboard_satisfaction_and_complaints(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, mei = await agent_api(
        client,
        sessions,
        shop_id,
        "xiaomei",
        [ServiceRole.PRESALES, ServiceRole.AFTERSALES_TRIAGE],
        chat_capacity=20,
    )
    _, boss_token = await person(sessions, shop_id, "dianzhu", UserRole.OWNER)
    boss = Api(client, boss_token)
    empty = await boss.get("/api/v1/dashboard")
    nothing = {
        "ratings": 0,
        "satisfied": 0,
        "dissatisfied": 0,
        "rate": None,
        "mean_score": None,
        "by_score": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    }
    assert empty["satisfaction"] == {**nothing, "last_7_days": nothing}
    assert empty["complaints"]["rate"] is None
    assert empty["complaints"]["handling_rate"] is None

    chats = {
        "买家一": ("这个保温杯有货吗", True),
        "买家二": ("尺码偏大还是偏小", False),
        "买家三": ("你们服务太差了 我要投诉", True),
        "买家四": ("再不处理我就给差评", False),
        "买家五": ("今天下单什么时候发货", True),
    }
    complaint_nicks = {"买家三", "买家四"}
    for nick, (text, close) in chats.items():
        await served_chat(client, sessions, mei, nick, text, close=close)
    scores = {"买家一": 5, "买家二": 4, "买家三": 1, "买家五": 2}
    for n, (nick, score) in enumerate(scores.items()):
        await rate(client, nick, score, event_id=f"today-{n}")
    await settle(client)
    # 买家五 changes their mind (counts once, with 5), and a rating of yesterday does not
    # count today.
    await rate(client, "买家五", 5, event_id="today-again")
    await rate(
        client, "买家一", 1, event_id="yesterday", at=datetime.now(UTC) - timedelta(days=1, hours=1)
    )
    await settle(client)
    counted = {**scores, "买家五": 5}

    board = await boss.get("/api/v1/dashboard")
    satisfaction = board["satisfaction"]
    values = list(counted.values())
    assert satisfaction["ratings"] == len(values)
    assert satisfaction["satisfied"] == sum(1 for v in values if v >= 4)
    assert satisfaction["dissatisfied"] == sum(1 for v in values if v <= 2)
    assert satisfaction["rate"] == round(sum(1 for v in values if v >= 4) / len(values), 4)
    assert satisfaction["mean_score"] == round(sum(values) / len(values), 2)
    assert satisfaction["by_score"] == {str(s): values.count(s) for s in range(1, 6)}

    # The last 7 days also hold yesterday's rating (given before 买家一's chat opened: it
    # rates no conversation and counts unlinked).
    week = satisfaction["last_7_days"]
    week_values = [*values, 1]
    assert week["ratings"] == len(week_values)
    assert week["by_score"] == {str(s): week_values.count(s) for s in range(1, 6)}
    assert week["mean_score"] == round(sum(week_values) / len(week_values), 2)

    complaints = board["complaints"]
    closed_complaints = sum(1 for n in complaint_nicks if chats[n][1])
    expected = {
        "conversations": len(chats),
        "complaints": len(complaint_nicks),
        "rate": round(len(complaint_nicks) / len(chats), 4),
        "handled": closed_complaints,
        "handling_rate": round(closed_complaints / len(complaint_nicks), 4),
    }
    assert complaints == {**expected, "last_7_days": expected}
    # The contract's keys are all still there, as they were.
    assert {"generated_at", "promotion", "refunds", "roles", "chasing"} <= set(board)


async def test_the_demo_buyers_rate_their_closed_chats(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, mei = await agent_api(client, sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    rng = random.Random(1)
    assert await rating_event(client.app, rng, shop_id) is None
    await served_chat(client, sessions, mei, "小鱼", close=False)
    assert await rating_event(client.app, rng, shop_id) is None  # open: nothing to rate yet
    await served_chat(client, sessions, mei, "小鲤", close=True)
    made = await rating_event(client.app, rng, shop_id)
    assert made is not None
    kind, data = made
    assert kind == RATING
    assert data["buyer_nick"] == "小鲤"
    assert data["score"] in range(1, 6)
    # Sent as the demo sends it (the acceptor, as POST /api/v1/events does), it is stored
    # against the chat, and the buyer is not asked again.
    await post_event(client, kind, data, event_id="demo-rating")
    await settle(client)
    (row,) = await ratings(sessions)
    assert row.conversation_id == (await chat_of(sessions, "小鲤")).id
    assert await rating_event(client.app, rng, shop_id) is None
