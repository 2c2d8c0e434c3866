"""Training (培训) and points (积分制) end to end through HTTP on every backend: a trainer makes
a course with a quiz and a rule; two upheld ``forbidden_phrase`` findings assign the course
once (not while disputed); the agent fails, then passes the quiz; the boosted QC sample rate
applies for the shop's N days; a reversed dispute gives its points back; a seeded history
shows before/after rates equal to the rates counted here by hand."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from csdesk.actions.users import issue_token
from csdesk.clock import SHOP_TZ, utcnow
from csdesk.jobs.base import JOBS_KEY
from csdesk.reads.training_base import qc_boosts
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import (
    AgentStatus,
    Channel,
    ConversationStatus,
    ServiceRole,
    UserRole,
)
from csdesk.storage.models import Conversation, Shop
from csdesk.storage.qc_models import (
    FindingStatus,
    QcCheck,
    QcFinding,
    QcSample,
    QcScore,
    QcScriptVersion,
    ScoreStatus,
)
from csdesk.storage.training_models import (
    AssignmentSource,
    AssignmentStatus,
    PointsEntry,
    TrainingAssignment,
    TrainingCourseVersion,
)
from tests.helpers import make_agent
from tests.integration.test_qc_flow import (
    Api,
    agent,
    checked_by_listener,
    closed_chat,
    person,
    run_jobs,
)

COURSE: dict[str, Any] = {
    "content": {
        "title": "服务用语：不说禁用语",
        "summary": "为什么“不知道”“自己看”会被投诉，以及怎么说",
        "pages": [
            {"title": "禁用语", "body": "不要说**不知道**、**自己看**。\n\n- 说：我帮您查一下"},
            {
                "title": "替代说法",
                "body": "| 禁用语 | 建议 |\n|---|---|\n| 不知道 | 我帮您查一下 |",
            },
        ],
        "questions": [
            {
                "text": "买家问物流到哪了，你还不清楚，应该怎么说？",
                "kind": "single",
                "options": ["不知道", "我帮您查一下，马上回复您", "您自己看物流"],
                "answer": 1,
                "explanation": "先承接，再查询，再答复。",
            },
            {
                "key": "bad",
                "text": "以下哪些是禁用语？",
                "kind": "multiple",
                "options": ["不知道", "自己看", "请稍等"],
                "answer": [0, 1],
            },
        ],
        "pass_mark": 100,
    },
    "categories": ["forbidden_phrase"],
    "roles": ["presales"],
    "due_days": 5,
}
MANUAL_ITEMS = {"accuracy": {"rating": 4}, "solved": {"rating": 5}, "privacy": {"rating": 1}}


async def test_findings_to_course_to_boost_and_points(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    mei_id, mei_token = await agent(sessions, shop_id, "xiaomei")
    # Offline: every chat of this test goes to mei.
    lan_id = await make_agent(
        sessions, shop_id, "xiaolan", [ServiceRole.PRESALES], status=AgentStatus.OFFLINE
    )
    lan_token = await issue_token(sessions, "xiaolan")
    _, inspector_token = await person(sessions, shop_id, "zhijian", UserRole.QC_INSPECTOR)
    _, lead_token = await person(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    _, trainer_token = await person(sessions, shop_id, "peixun", UserRole.TRAINER)
    mei, lan = Api(client, mei_token), Api(client, lan_token)
    inspector, lead, trainer = (
        Api(client, inspector_token),
        Api(client, lead_token),
        Api(client, trainer_token),
    )
    async with sessions.begin() as session:  # a small fixed rate, so the boost shows
        shop = await session.get(Shop, shop_id)
        assert shop is not None
        shop.config = {"qc": {"sampling": {"kind": "percent", "percent": 10}}}

    # 1. The trainer makes the course and the rule (an agent may not).
    await mei.post("/api/v1/training/courses", COURSE, 403)
    course = await trainer.post("/api/v1/training/courses", COURSE, 201)
    assert course["version"] == 1
    rule = await trainer.post(
        "/api/v1/training/rules",
        {
            "category": "forbidden_phrase",
            "course_id": course["id"],
            "threshold": 2,
            "window_days": 14,
            "due_days": 5,
        },
        201,
    )
    assert rule["course_title"] == COURSE["content"]["title"]

    # 2. Three chats with forbidden phrases, auto-checked and scored: findings, and points.
    finding_ids = []
    for nick in ("小鱼", "小虾", "小蟹"):
        conversation_id = await closed_chat(client, sessions, mei, nick, "不知道，您自己看吧")
        await checked_by_listener(client, sessions, settings, conversation_id)
        await inspector.post(
            f"/api/v1/qc/conversations/{conversation_id}/score/submit",
            {"items": MANUAL_ITEMS},
            201,
        )
        mine = await mei.get(f"/api/v1/qc/findings?agent_id={mei_id}")
        forbidden = [
            f
            for f in mine["items"]
            if f["category"] == "forbidden_phrase" and f["id"] not in finding_ids
        ]
        assert len(forbidden) == 1
        finding_ids.append(forbidden[0]["id"])
    ledger = await mei.get("/api/v1/training/points/ledger")
    finding_lines = {e["ref"]: e for e in ledger["entries"] if e["source"] == "finding"}
    for finding_id in finding_ids:
        assert finding_lines[f"qc_finding:{finding_id}"]["points"] < 0
    balance_before = ledger["balance"]

    # 3. Disputed findings do not count; the first upheld is not enough (threshold 2)...
    for finding_id in finding_ids:
        await mei.post(
            f"/api/v1/qc/findings/{finding_id}/dispute", {"comment": "买家先这么说的"}, 201
        )

    async def assignments_of(api: Api, agent_id: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (
            await api.get(f"/api/v1/training/assignments?agent_id={agent_id}")
        )["items"]
        return items

    await client.app[JOBS_KEY].enqueue("training_rules_sweep")
    await run_jobs(client, settings)
    assert await assignments_of(trainer, mei_id) == []
    resolve = "/api/v1/qc/findings/{}/resolve"
    await lead.post(resolve.format(finding_ids[0]), {"resolution": "uphold", "comment": "成立"})
    assert await assignments_of(trainer, mei_id) == []
    # ...the second upheld assigns the rule's course, once.
    await lead.post(resolve.format(finding_ids[1]), {"resolution": "uphold", "comment": "成立"})
    (given,) = await assignments_of(trainer, mei_id)
    assert given["source"] == "rule"
    assert given["finding_ids"] == finding_ids[:2]
    assert given["course_id"] == course["id"]
    await client.app[JOBS_KEY].enqueue("training_rules_sweep")
    await run_jobs(client, settings)
    await lead.post(resolve.format(finding_ids[2]), {"resolution": "uphold", "comment": "成立"})
    assert len(await assignments_of(trainer, mei_id)) == 1  # no duplicate while open

    # 4. The agent: my courses; another agent may not read mine.
    my = await mei.get("/api/v1/training/my")
    assert [a["id"] for a in my["items"]] == [given["id"]]
    await lan.get(f"/api/v1/training/assignments/{given['id']}", 403)
    await lan.get(f"/api/v1/training/assignments?agent_id={mei_id}", 403)
    await lan.post(f"/api/v1/training/assignments/{given['id']}/attempts", {"answers": {}}, 403)
    detail = await mei.get(f"/api/v1/training/assignments/{given['id']}")
    assert "<strong>不知道</strong>" in detail["pages"][0]["html"]
    assert "<table>" in detail["pages"][1]["html"]
    assert all("answer" not in q for q in detail["questions"])

    # 5. A wrong answer fails at once (and does not give the right answers away)...
    attempt = f"/api/v1/training/assignments/{given['id']}/attempts"
    failed = await mei.post(attempt, {"answers": {"q1": 0, "bad": [0]}}, 201)
    assert failed["attempt"]["passed"] is False
    assert failed["attempt"]["score"] == 0
    assert all(q["expected"] is None for q in failed["attempt"]["result"]["questions"])
    assert failed["assignment"]["status"] == "assigned"
    # ...the right answers pass: the QC boost and the points follow.
    before_pass = utcnow()
    passed = await mei.post(attempt, {"answers": {"q1": 1, "bad": [1, 0]}}, 201)
    assert passed["attempt"]["passed"] is True
    assert passed["attempt"]["result"]["questions"][0]["explanation"] == "先承接，再查询，再答复。"
    assert passed["assignment"]["status"] == "passed"
    boost_until = datetime.fromisoformat(passed["assignment"]["boost_until"])
    assert before_pass + timedelta(days=14) <= boost_until <= utcnow() + timedelta(days=14)
    await mei.post(attempt, {"answers": {"q1": 1, "bad": [0, 1]}}, 409)
    ledger = await mei.get("/api/v1/training/points/ledger")
    (course_line,) = [e for e in ledger["entries"] if e["source"] == "course_passed"]
    assert course_line["points"] == 5

    # 6. The boosted rate: today's draw tops mei's share up as a training follow-up...
    today = utcnow().astimezone(SHOP_TZ).date().isoformat()
    await lead.post("/api/v1/qc/samples/run", {"day": today}, 200)
    async with sessions() as session:
        reasons = [
            [w["reason"] for w in row]
            for row in await session.scalars(
                select(QcSample.reasons).where(QcSample.agent_id == mei_id)
            )
        ]
        assert ["training_followup"] in reasons
        # ...within the N days, and not after them.
        inside = await qc_boosts(session, shop_id, boost_until - timedelta(days=1), boost_until)
        after = await qc_boosts(
            session, shop_id, boost_until + timedelta(hours=1), boost_until + timedelta(days=1)
        )
    assert inside == {mei_id: 2.0}
    assert after == {}

    # 7. A reversed dispute removes the finding's points (a second, opposite line).
    disputed = await mei.post(
        f"/api/v1/qc/findings/{finding_ids[0]}/dispute", {"comment": "x"}, 409
    )  # already upheld: the first three are settled; make a fourth to reverse
    assert "upheld" in disputed["error"]
    conversation_id = await closed_chat(client, sessions, mei, "小虫", "不知道")
    await checked_by_listener(client, sessions, settings, conversation_id)
    await inspector.post(
        f"/api/v1/qc/conversations/{conversation_id}/score/submit", {"items": MANUAL_ITEMS}, 201
    )
    mine = await mei.get(f"/api/v1/qc/findings?agent_id={mei_id}&status=open")
    fourth = next(f for f in mine["items"] if f["category"] == "forbidden_phrase")
    await mei.post(f"/api/v1/qc/findings/{fourth['id']}/dispute", {"comment": "引用买家"}, 201)
    await lead.post(resolve.format(fourth["id"]), {"resolution": "reverse", "comment": "不算"})
    ledger = await mei.get("/api/v1/training/points/ledger")
    lines = [e for e in ledger["entries"] if e["ref"] == f"qc_finding:{fourth['id']}"]
    assert sorted(e["source"] for e in lines) == ["dispute_reversal", "finding"]
    assert sum(e["points"] for e in lines) == 0
    reversal = next(e for e in lines if e["source"] == "dispute_reversal")
    assert reversal["reverses_id"] == next(e["id"] for e in lines if e["source"] == "finding")
    async with sessions() as session:
        total = await session.scalar(
            select(func.sum(PointsEntry.points)).where(PointsEntry.agent_id == mei_id)
        )
    assert ledger["balance"] == total
    # The ledger is the agent's own: another agent gets 403, a supervisor may read it.
    await lan.get(f"/api/v1/training/points/ledger?agent_id={mei_id}", 403)
    await lead.get(f"/api/v1/training/points/ledger?agent_id={mei_id}")
    assert balance_before < 0
    ranking = await lan.get("/api/v1/training/points/rankings?by=role")
    presales = next(g for g in ranking["groups"] if g["key"] == "presales")
    assert {r["agent"]["id"] for r in presales["rows"]} == {mei_id, lan_id}


def _standing(status: FindingStatus, respond_by: datetime, points: float, now: datetime) -> bool:
    """When a finding counts, written out here again (not imported) for the hand count."""
    if status in (FindingStatus.ACKNOWLEDGED, FindingStatus.UPHELD):
        return True
    if status is FindingStatus.AMENDED:
        return points > 0
    if status is FindingStatus.OPEN:
        return now > respond_by
    return False


async def test_effect_of_a_seeded_history_equals_a_hand_count(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """Scored chats of two agents around their passing of the course, findings of every
    status: the effect's rates per agent and pooled are the ones counted here."""
    _, trainer_token = await person(sessions, shop_id, "peixun", UserRole.TRAINER)
    trainer = Api(client, trainer_token)
    agents = [
        (await agent(sessions, shop_id, "ahua"))[0],
        (await agent(sessions, shop_id, "aming"))[0],
    ]
    course = await trainer.post("/api/v1/training/courses", COURSE, 201)
    now = utcnow()
    passed_at = {agents[0]: now - timedelta(days=10), agents[1]: now - timedelta(days=20)}
    rng = random.Random(2026)
    statuses = list(FindingStatus)
    chats: list[tuple[int, datetime, list[tuple[FindingStatus, datetime, float]]]] = []
    async with sessions.begin() as session:
        version_id = await session.scalar(
            select(TrainingCourseVersion.id).where(TrainingCourseVersion.course_id == course["id"])
        )
        assert version_id is not None
        script = QcScriptVersion(
            shop_id=shop_id, role="presales", version=1, script={}, scorecard={}, created_at=now
        )
        session.add(script)
        await session.flush()
        for agent_id, when in passed_at.items():
            session.add(
                TrainingAssignment(
                    shop_id=shop_id,
                    course_id=course["id"],
                    version_id=version_id,
                    agent_id=agent_id,
                    source=AssignmentSource.MANUAL,
                    assigned_at=when - timedelta(days=3),
                    due_at=when,
                    status=AssignmentStatus.PASSED,
                    attempts=1,
                    best_score=100,
                    passed_at=when,
                    boost_until=when + timedelta(days=14),
                )
            )
        for n in range(160):
            agent_id = agents[n % 2]
            closed_at = now - timedelta(days=rng.uniform(0, 55))
            conversation = Conversation(
                shop_id=shop_id,
                channel=Channel.CHAT,
                kind="chat",
                role="presales",
                status=ConversationStatus.CLOSED,
                opened_at=closed_at - timedelta(minutes=5),
                closed_at=closed_at,
                assigned_agent_id=agent_id,
            )
            session.add(conversation)
            await session.flush()
            session.add(
                QcCheck(
                    shop_id=shop_id,
                    conversation_id=conversation.id,
                    script_version_id=script.id,
                    role="presales",
                    agent_id=agent_id,
                    score=90,
                    closed_at=closed_at,
                    checked_at=closed_at,
                )
            )
            score = QcScore(
                shop_id=shop_id,
                conversation_id=conversation.id,
                agent_id=agent_id,
                script_version_id=script.id,
                status=ScoreStatus.SUBMITTED,
                items={},
                history=[],
                created_at=closed_at,
                updated_at=closed_at,
                submitted_at=closed_at + timedelta(days=1),
            )
            session.add(score)
            await session.flush()
            findings = []
            rate = 0.35 if closed_at < passed_at[agent_id] else 0.1
            for _ in range(rng.choice([0, 1, 1, 2])):
                if rng.random() > rate * 2:
                    continue
                status = rng.choice(statuses)
                respond_by = closed_at + timedelta(days=rng.choice([1, 7, 90]))
                if abs(respond_by - now) < timedelta(hours=1):
                    respond_by += timedelta(hours=2)  # not within the test's run of now
                points = rng.choice([0.0, 6.0])
                category = rng.choice(["forbidden_phrase", "forbidden_phrase", "closing_missing"])
                session.add(
                    QcFinding(
                        shop_id=shop_id,
                        score_id=score.id,
                        conversation_id=conversation.id,
                        agent_id=agent_id,
                        item="forbidden",
                        category=category,
                        severity="major",
                        points=points,
                        script_version_id=script.id,
                        status=status,
                        created_at=closed_at + timedelta(days=1),
                        respond_by=respond_by,
                    )
                )
                if category == "forbidden_phrase":
                    findings.append((status, respond_by, points))
            chats.append((agent_id, closed_at, findings))

    result = await trainer.get(f"/api/v1/training/courses/{course['id']}/effect")
    assert result["method"] == "newcombe_hybrid_score"
    window = timedelta(days=result["window_days"])
    at = now  # no answer window ends between this and the server's clock (see above)

    def counted(agent_id: int, start: datetime, end: datetime) -> tuple[int, int]:
        inside = [c for c in chats if c[0] == agent_id and start <= c[1] < end]
        hits = sum(1 for c in inside if any(_standing(s, r, p, at) for s, r, p in c[2]))
        return len(inside), hits

    pooled = {"before": [0, 0], "after": [0, 0]}
    for row in result["agents"]:
        agent_id = row["agent"]["id"]
        when = passed_at[agent_id]
        (comparison,) = row["comparisons"]
        assert comparison["category"] == "forbidden_phrase"
        before = counted(agent_id, when - window, when)
        after = counted(agent_id, when, min(when + window, now))
        assert (comparison["before"]["chats"], comparison["before"]["with_category"]) == before
        assert (comparison["after"]["chats"], comparison["after"]["with_category"]) == after
        assert comparison["before"]["rate"] == round(100 * before[1] / before[0], 2)
        assert comparison["after"]["rate"] == round(100 * after[1] / after[0], 2)
        for side, (n, k) in (("before", before), ("after", after)):
            pooled[side][0] += n
            pooled[side][1] += k
    assert sorted(r["agent"]["id"] for r in result["agents"]) == sorted(agents)
    (total,) = result["pooled"]
    for side in ("before", "after"):
        n, k = pooled[side]
        assert (total[side]["chats"], total[side]["with_category"]) == (n, k)
        assert total[side]["rate"] == round(100 * k / n, 2)
    low, high = total["interval"]
    assert low <= total["difference"] <= high
    assert total["verdict"] in {"fewer", "more", "no_clear_change", "not_enough_data"}
    if min(pooled["before"][0], pooled["after"][0]) >= result["min_chats"]:
        assert total["verdict"] != "not_enough_data"
    chart = await client.get(
        f"/api/v1/training/courses/{course['id']}/effect.svg", headers=trainer.headers
    )
    assert chart.status == 200
    assert chart.content_type == "image/svg+xml"
    assert f"n={pooled['before'][0]}" in await chart.text()
