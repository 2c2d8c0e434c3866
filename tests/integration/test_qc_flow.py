"""QC end to end through HTTP on every backend: a chat closes through the real flow →
its auto-check hits are stored → the daily job samples it with its reason → an inspector
scores it including a critical item → the agent disputes → the QC lead reverses → the
score and its trail follow. Plus bad input (400 naming the field, nothing stored) and the
403s (an agent reading another agent's results)."""

from __future__ import annotations

import asyncio
import warnings
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from arq.worker import create_worker
from sqlalchemy import func, select

from csdesk.actions.qc.checks import enqueue_check
from csdesk.actions.users import create_user, issue_token
from csdesk.clock import SHOP_TZ, utcnow
from csdesk.jobs.base import JOBS_KEY
from csdesk.jobs.inline import InlineJobRunner
from csdesk.jobs.worker import WorkerSettings, worker_options
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.storage.models import Conversation
from csdesk.storage.qc_models import QcCheck, QcFinding, QcHit, QcSample, QcScore
from tests.helpers import make_agent, post_event, settle


async def run_jobs(client: TestClient[Any, Any], settings: Settings) -> None:
    """What was enqueued, run to the end: in-process, or by a real arq worker in burst mode."""
    runner = client.app[JOBS_KEY]
    if isinstance(runner, InlineJobRunner):
        await runner.join()
        return
    options = worker_options(settings) | {"burst": True, "handle_signals": False}
    worker = create_worker(WorkerSettings, **options)
    try:
        await worker.run_check()
    finally:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Call to deprecated close", DeprecationWarning)
            await worker.close()


class Api:
    def __init__(self, client: TestClient[Any, Any], token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, status: int = 200) -> Any:
        response = await self.client.get(path, headers=self.headers)
        assert response.status == status, await response.text()
        return await response.json()

    async def send(self, method: str, path: str, body: Any, status: int) -> Any:
        response = await self.client.request(method, path, json=body, headers=self.headers)
        assert response.status == status, await response.text()
        return await response.json()

    async def post(self, path: str, body: Any, status: int = 200) -> Any:
        return await self.send("POST", path, body, status)


async def person(
    sessions: SessionFactory, shop_id: str, username: str, role: UserRole
) -> tuple[int, str]:
    user = await create_user(
        sessions, shop_id=shop_id, username=username, role=role, password="password-123"
    )
    return user.id, await issue_token(sessions, username)


async def agent(sessions: SessionFactory, shop_id: str, username: str) -> tuple[int, str]:
    agent_id = await make_agent(sessions, shop_id, username, [ServiceRole.PRESALES])
    return agent_id, await issue_token(sessions, username)


async def count(sessions: SessionFactory, model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def checked_by_listener(
    client: TestClient[Any, Any], sessions: SessionFactory, settings: Settings, conversation_id: int
) -> None:
    """Wait (bounded) until the close's listener has enqueued the check and it has run."""
    for _ in range(50):
        await run_jobs(client, settings)
        async with sessions() as session:
            if await session.scalar(
                select(QcCheck.id).where(QcCheck.conversation_id == conversation_id)
            ):
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"conversation {conversation_id} was not checked after closing")


async def closed_chat(
    client: TestClient[Any, Any], sessions: SessionFactory, mei: Api, nick: str, reply: str
) -> int:
    """A buyer writes, the agent answers (sending anyway past the pre-send check), closes."""
    await post_event(client, "message.received", {"buyer_nick": nick, "text": "这个保温杯有货吗"})
    await settle(client)
    async with sessions() as session:
        conversation_id = await session.scalar(
            select(Conversation.id)
            .where(Conversation.kind == "chat")
            .order_by(Conversation.id.desc())
            .limit(1)
        )
    assert conversation_id is not None
    path = f"/api/v1/conversations/{conversation_id}"
    await mei.post(f"{path}/reply", {"text": reply, "send_anyway": True}, 201)
    await mei.post(f"{path}/close", {"disposition": "answered"})
    return conversation_id


async def test_closed_chat_to_reversed_dispute(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    mei_id, mei_token = await agent(sessions, shop_id, "xiaomei")
    _, lan_token = await agent(sessions, shop_id, "xiaolan")
    inspector_id, inspector_token = await person(
        sessions, shop_id, "zhijian", UserRole.QC_INSPECTOR
    )
    _, lead_token = await person(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    mei, lan = Api(client, mei_token), Api(client, lan_token)
    inspector, lead = Api(client, inspector_token), Api(client, lead_token)

    # 1. The chat closes; the bus listener enqueues its auto-check (nobody calls it here).
    conversation_id = await closed_chat(client, sessions, mei, "小鱼", "爱买不买，有货")
    await checked_by_listener(client, sessions, settings, conversation_id)
    work = await inspector.get(f"/api/v1/qc/conversations/{conversation_id}")
    abusive = [h for h in work["hits"] if h["rule"] == "forbidden_phrase.abusive"]
    assert abusive
    assert abusive[0]["severity"] == "fatal"
    assert work["messages"][abusive[0]["message_index"]]["text"].startswith("爱买不买")
    assert work["auto_score"] == 0
    assert work["auto_ratings"]["abuse"] == 0  # the critical item starts failed
    async with sessions() as session:
        authors = set(
            await session.scalars(
                select(QcHit.author_id).where(QcHit.rule == "forbidden_phrase.abusive")
            )
        )
    assert authors == {mei_id}
    # Checking again changes nothing.
    hits_before = await count(sessions, QcHit)
    assert await enqueue_check(client.app[JOBS_KEY], conversation_id) in (True, False)
    await run_jobs(client, settings)
    assert await count(sessions, QcHit) == hits_before

    # 2. The daily job samples the shop's day: the fatal hit is always in, with its reason.
    today = utcnow().astimezone(SHOP_TZ).date().isoformat()
    assert await client.app[JOBS_KEY].enqueue("qc_daily_sample", today) is True
    await run_jobs(client, settings)
    queue = await inspector.get("/api/v1/qc/queue")
    (row,) = [r for r in queue["items"] if r["conversation_id"] == conversation_id]
    assert "fatal_hit" in [w["reason"] for w in row["reasons"]]
    assert row["spotlight"] is True
    assert row["inspector"]["id"] == inspector_id
    await lead.post("/api/v1/qc/samples/run", {"day": today}, 200)  # the day is drawn once
    assert await count(sessions, QcSample) == 1

    # 3. The inspector scores: bad input first (400 naming the field, nothing stored)...
    path = f"/api/v1/qc/conversations/{conversation_id}/score"
    bad = await inspector.post(f"{path}/submit", {"items": {"accuracy": {"rating": 9}}}, 400)
    assert bad["field"] == "items.accuracy.rating"
    bad = await inspector.post(f"{path}/submit", {"items": {"abuse": {"rating": 1}}}, 400)
    assert bad["field"] == "items.abuse.override_reason"  # auto-scored: no silent edit
    bad = await inspector.post(f"{path}/submit", {"items": {}}, 400)
    assert bad["field"].endswith(".rating")  # manual items must be rated to submit
    assert await count(sessions, QcScore) == 0
    # ...a draft, then the submit with the critical item failed.
    draft = await inspector.send("PUT", path, {"items": {"accuracy": {"rating": 4}}}, 200)
    assert draft["status"] == "draft"
    items = {
        "accuracy": {"rating": 4},
        "solved": {"rating": 5},
        "privacy": {"rating": 1},
        "abuse": {"rating": 0, "comment": "对买家说“爱买不买”"},
    }
    score = await inspector.post(
        f"{path}/submit", {"items": items, "bonus": 2, "comment": "态度问题"}, 201
    )
    assert score["status"] == "submitted"
    assert score["critical_failed"] is True
    assert score["total"] == 0
    again = await inspector.post(f"{path}/submit", {"items": items}, 409)
    assert "submitted" in again["error"]
    queue = await inspector.get("/api/v1/qc/queue?status=scored")
    assert [r["conversation_id"] for r in queue["items"]] == [conversation_id]

    # 4. The agent sees the finding against them; another agent may not.
    mine = await mei.get("/api/v1/qc/findings")
    fatal = [f for f in mine["items"] if f["item"] == "abuse"]
    assert len(fatal) == 1
    assert fatal[0]["severity"] == "fatal"
    assert fatal[0]["agent_id"] == mei_id
    assert mine["unseen"] >= 1
    finding_id = fatal[0]["id"]
    assert "爱买不买" in fatal[0]["evidence"]
    await lan.get(f"/api/v1/qc/findings?agent_id={mei_id}", 403)
    await lan.get(f"/api/v1/qc/findings/{finding_id}", 403)
    await lan.post(f"/api/v1/qc/findings/{finding_id}/dispute", {"comment": "不是我"}, 403)
    assert (await lan.get("/api/v1/qc/findings"))["items"] == []
    await mei.get(f"/api/v1/qc/scores/{score['id']}")
    detail = await mei.get(f"/api/v1/qc/findings/{finding_id}")
    assert detail["can_respond"] is True
    assert any(m["id"] == detail["message_id"] for m in detail["messages"])

    # 5. The agent disputes (a comment is required).
    bad = await mei.post(f"/api/v1/qc/findings/{finding_id}/dispute", {"comment": "  "}, 400)
    assert bad["field"] == "comment"
    disputed = await mei.post(
        f"/api/v1/qc/findings/{finding_id}/dispute", {"comment": "买家先辱骂，我是引用原话"}, 201
    )
    assert disputed["status"] == "disputed"
    await mei.post(f"/api/v1/qc/findings/{finding_id}/acknowledge", {}, 409)
    await mei.post(
        f"/api/v1/qc/findings/{finding_id}/resolve", {"resolution": "reverse", "comment": "x"}, 403
    )
    queue_of_lead = await lead.get("/api/v1/qc/disputes")
    assert [d["finding_id"] for d in queue_of_lead["items"]] == [finding_id]

    # 6. The QC lead reverses: the critical item gets its pass back, the score follows.
    bad = await lead.post(
        f"/api/v1/qc/findings/{finding_id}/resolve", {"resolution": "undo", "comment": "x"}, 400
    )
    assert bad["field"] == "resolution"
    resolved = await lead.post(
        f"/api/v1/qc/findings/{finding_id}/resolve",
        {"resolution": "reverse", "comment": "引用买家原话，不算"},
    )
    assert resolved["status"] == "reversed"
    assert resolved["dispute"]["resolution"] == "reverse"
    trail = await lead.get(f"/api/v1/qc/scores/{score['id']}")
    assert trail["critical_failed"] is False
    assert trail["total"] > 0
    assert trail["items"]["abuse"]["rating"] == 1
    assert [h["what"].split(":")[0] for h in trail["history"]] == ["submitted", "dispute reverse"]
    assert trail["history"][-1]["total_before"] == 0
    actions = [step["action"] for step in trail["trail"]]
    assert actions == ["qc.score.submit", "qc.finding.dispute", "qc.dispute.reverse"]
    assert (await lead.get("/api/v1/qc/disputes"))["items"] == []
    await lead.post(
        f"/api/v1/qc/findings/{finding_id}/resolve", {"resolution": "uphold", "comment": "x"}, 409
    )


async def test_forbidden_list_is_one_for_pre_send_and_auto_check(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    _, mei_token = await agent(sessions, shop_id, "xiaomei")
    _, lead_token = await person(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    _, inspector_token = await person(sessions, shop_id, "zhijian", UserRole.QC_INSPECTOR)
    mei, lead, inspector = (
        Api(client, mei_token),
        Api(client, lead_token),
        Api(client, inspector_token),
    )
    bad = await lead.post(
        "/api/v1/qc/scripts/presales", {"changes": {"forbidden_phrases": ["x"]}}, 400
    )
    assert bad["field"] == "script.forbidden_phrases"
    bad = await lead.post("/api/v1/qc/scripts/nobody", {"changes": {}}, 400)
    assert bad["field"] == "role"
    await inspector.post("/api/v1/qc/scripts/presales", {"changes": {}}, 403)
    published = await lead.post(
        "/api/v1/qc/scripts/presales",
        {
            "changes": {"forbidden_phrases": {"亲你烦不烦": "不耐烦，会被投诉"}},
            "note": "新增禁用语",
        },
        201,
    )
    assert published["version"] == 2
    # The pre-send check holds the new phrase at once...
    await post_event(client, "message.received", {"buyer_nick": "小鱼", "text": "在吗"})
    await settle(client)
    async with sessions() as session:
        conversation_id = await session.scalar(
            select(Conversation.id).where(Conversation.kind == "chat")
        )
    assert conversation_id is not None
    held = await mei.post(
        f"/api/v1/conversations/{conversation_id}/reply", {"text": "亲你烦不烦"}, 422
    )
    assert "亲你烦不烦" in held["error"]
    # ...a phrase dropped from the list is no longer held, and the auto-check agrees.
    await mei.post(f"/api/v1/conversations/{conversation_id}/reply", {"text": "不知道呢"}, 201)
    await mei.post(
        f"/api/v1/conversations/{conversation_id}/reply",
        {"text": "亲你烦不烦", "send_anyway": True},
        201,
    )
    await mei.post(f"/api/v1/conversations/{conversation_id}/close", {"disposition": "answered"})
    await enqueue_check(client.app[JOBS_KEY], conversation_id)
    await run_jobs(client, settings)
    work = await inspector.get(f"/api/v1/qc/conversations/{conversation_id}")
    forbidden = [h for h in work["hits"] if h["category"] == "forbidden_phrase"]
    said = [
        work["messages"][h["message_index"]]["text"][h["span"][0] : h["span"][1]] for h in forbidden
    ]
    assert said == ["亲你烦不烦"]
    assert work["script_version"]["key"] == "presales.v2"
    versions = {v["role"]: v for v in (await inspector.get("/api/v1/qc/scripts"))["items"]}
    assert versions["refund"]["script"]["forbidden_phrases"] == {"亲你烦不烦": "不耐烦，会被投诉"}


async def test_the_sweep_checks_what_no_job_did(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    _, mei_token = await agent(sessions, shop_id, "xiaomei")
    mei = Api(client, mei_token)
    conversation_id = await closed_chat(client, sessions, mei, "小鱼", "您好，有货的，感谢光临")
    from csdesk.actions.qc.checks import check_unchecked
    from tests.helpers import deps

    # Closed just now: left to its own job for half a minute...
    assert await check_unchecked(deps(client), utcnow()) == 0
    # ...then the sweep catches it.
    assert await check_unchecked(deps(client), utcnow() + timedelta(minutes=1)) == 1
    assert await check_unchecked(deps(client), utcnow() + timedelta(minutes=1)) == 0
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(QcFinding)) == 0
    assert conversation_id > 0


async def test_the_shop_sets_the_dispute_window_and_sampling_plan(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, owner_token = await person(sessions, shop_id, "dianzhu", UserRole.OWNER)
    owner = Api(client, owner_token)
    for qc, field in (
        ({"dispute_days": 0}, "qc.dispute_days"),
        ({"dispute_days": "7"}, "qc.dispute_days"),
        ({"sampling": {"kind": "dice"}}, "qc.sampling.kind"),
        ({"sampling": {"kind": "iso2859", "level": "IV"}}, "qc.sampling"),
        ({"sampling": {"roles": {"nobody": {"kind": "count"}}}}, "qc.sampling.roles.nobody"),
    ):
        bad = await owner.send("PUT", "/api/v1/shop/config", {"config": {"qc": qc}}, 400)
        assert bad["field"] == field, qc
    good = {"dispute_days": 3, "sampling": {"kind": "percent", "percent": 10}}
    await owner.send("PUT", "/api/v1/shop/config", {"config": {"qc": good}}, 200)
    saved = await owner.get("/api/v1/shop/config")
    assert saved["config"]["qc"] == good
