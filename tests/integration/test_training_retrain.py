"""Retraining, onboarding and reminders (培训), through HTTP and the real jobs: a script
version change gives the update course to every holder of the role, once; a new agent
gets the role's starter courses and is a trainee until passed; reminders before and after
the due date go out exactly once each under a moved clock, as a console notice and a live
event; bad input is refused naming the field; agents cannot read others' results."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from csdesk.actions import teams
from csdesk.actions.outbox import Deps
from csdesk.actions.team import AgentSetup, add_member
from csdesk.actions.teams import Membership
from csdesk.actions.training.reminders import send_reminders
from csdesk.actions.training.retraining import retrain_for_script
from csdesk.actions.users import issue_token
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.clock import utcnow
from csdesk.jobs.base import JOBS_KEY
from csdesk.jobs.registry import REGISTRY
from csdesk.keys import BUS_KEY
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import AgentStatus, ServiceRole, UserRole
from csdesk.storage.models import AgentProfile
from csdesk.storage.training_models import (
    TrainingAssignment,
    TrainingCourse,
    TrainingReminder,
)
from tests.helpers import actor, deps, make_agent, settle
from tests.integration.test_qc_flow import Api, person, run_jobs
from tests.integration.test_ratings import agent_api, rate, served_chat
from tests.integration.test_training_flow import COURSE


async def offline_agent(
    sessions: SessionFactory, shop_id: str, name: str, roles: list[ServiceRole]
) -> tuple[int, str]:
    agent_id = await make_agent(sessions, shop_id, name, roles, status=AgentStatus.OFFLINE)
    return agent_id, await issue_token(sessions, name)


async def test_script_change_assigns_the_update_course_once_to_every_holder(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    pre1, _ = await offline_agent(sessions, shop_id, "pre1", [ServiceRole.PRESALES])
    pre2, _ = await offline_agent(
        sessions, shop_id, "pre2", [ServiceRole.REFUND, ServiceRole.PRESALES]
    )
    refund_only, _ = await offline_agent(sessions, shop_id, "ref1", [ServiceRole.REFUND])
    _, lead_token = await person(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    _, trainer_token = await person(sessions, shop_id, "peixun", UserRole.TRAINER)
    lead, trainer = Api(client, lead_token), Api(client, trainer_token)
    scripts = (await lead.get("/api/v1/qc/scripts"))["items"]
    presales = next(s for s in scripts if s["role"] == "presales")
    version = presales["version"]

    # A timing change of presales only: the presales holders get its update course.
    await lead.post(
        "/api/v1/qc/scripts/presales", {"changes": {"first_response_s": 20}, "note": "提速"}, 201
    )
    catalog = (await trainer.get("/api/v1/training/courses"))["items"]
    (update,) = [c for c in catalog if c["origin"] == "script_update"]
    assert (update["script_role"], update["script_version"]) == ("presales", version + 1)
    assert update["categories"] == ["slow_first_response"]
    given = (await trainer.get(f"/api/v1/training/assignments?course_id={update['id']}"))["items"]
    assert sorted(a["agent"]["id"] for a in given) == sorted([pre1, pre2])
    assert {a["source"] for a in given} == {"script_update"}
    detail = await trainer.get(f"/api/v1/training/courses/{update['id']}")
    assert "30 秒 → <strong>20 秒</strong>" in detail["pages"][0]["html"]

    # Once: the same version again (a second writer, a re-run) gives nothing more.
    async with sessions.begin() as session:
        again = await retrain_for_script(
            session,
            None,
            shop_id=shop_id,
            role="presales",
            before={"version": version},
            after={"version": version + 1},
            now=utcnow(),
            by=None,
        )
    assert again == []
    await lead.get("/api/v1/qc/scripts")  # current versions read again: no new version
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(TrainingAssignment))
        courses = await session.scalar(select(func.count()).select_from(TrainingCourse))
    assert (count, courses) == (2, 1)

    # The trainer edits the generated course: a new version; the assignments keep v1.
    edited = dict(detail["shown"]["content"])
    edited["summary"] = "请逐条对照"
    await trainer.send("PUT", f"/api/v1/training/courses/{update['id']}", {"content": edited}, 200)
    given = (await trainer.get(f"/api/v1/training/assignments?course_id={update['id']}"))["items"]
    assert {a["version"] for a in given} == {1}

    # A new forbidden phrase is the shop's list: every role's holders retrain, once each.
    phrases = {**presales["script"]["forbidden_phrases"], "亲亲随便": "敷衍买家"}
    await lead.post("/api/v1/qc/scripts/presales", {"changes": {"forbidden_phrases": phrases}}, 201)
    async with sessions() as session:
        rows = list(
            await session.execute(
                select(TrainingCourse.script_role, TrainingAssignment.agent_id)
                .join(TrainingAssignment, TrainingAssignment.course_id == TrainingCourse.id)
                .where(TrainingCourse.script_version.is_not(None))
            )
        )
    by_role: dict[str, list[int]] = {}
    for role, agent_id in rows:
        by_role.setdefault(role or "", []).append(agent_id)
    assert sorted(by_role["presales"]) == sorted([pre1, pre2, pre1, pre2])  # two versions
    assert sorted(by_role["refund"]) == sorted([pre2, refund_only])
    assert all(len(set(v)) * (2 if k == "presales" else 1) == len(v) for k, v in by_role.items())


async def test_new_agent_gets_starter_courses_and_is_a_trainee_until_passed(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, trainer_token = await person(sessions, shop_id, "peixun", UserRole.TRAINER)
    trainer = Api(client, trainer_token)
    starter = {**COURSE, "starter": True, "roles": ["presales"]}
    course = await trainer.post("/api/v1/training/courses", starter, 201)
    await trainer.post(
        "/api/v1/training/courses",
        {
            **COURSE,
            "starter": True,
            "roles": ["refund"],
            "content": {**COURSE["content"], "title": "退款"},
        },
        201,
    )
    member = await add_member(
        sessions,
        shop_id=shop_id,
        username="newbie",
        role=UserRole.AGENT,
        password="agent-password-1",
        agent=AgentSetup(service_roles=(ServiceRole.PRESALES,)),
    )
    newbie = Api(client, await issue_token(sessions, "newbie"))
    my = await newbie.get("/api/v1/training/my")
    (onboarding,) = my["items"]
    assert (onboarding["course_id"], onboarding["source"]) == (course["id"], "onboarding")
    async with sessions() as session:
        profile = await session.get(AgentProfile, member.user_id)
        assert profile is not None
        assert profile.trainee is True
        assert profile.auto_suspend_at == 2  # fewer chats at once while in training
    await newbie.post(
        f"/api/v1/training/assignments/{onboarding['id']}/attempts",
        {"answers": {"q1": 1, "bad": [0, 1]}},
        201,
    )
    async with sessions() as session:
        profile = await session.get(AgentProfile, member.user_id)
        assert profile is not None
        assert profile.trainee is False
        assert profile.auto_suspend_at is None


async def test_reminders_before_and_after_the_due_date_exactly_once_each(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    mei_id, mei_token = await offline_agent(sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    mei = Api(client, mei_token)
    _, trainer_token = await person(sessions, shop_id, "peixun", UserRole.TRAINER)
    trainer = Api(client, trainer_token)
    course = await trainer.post("/api/v1/training/courses", COURSE, 201)
    given = await trainer.post(
        f"/api/v1/training/courses/{course['id']}/assign",
        {"agent_ids": [mei_id], "due_days": 3},
        201,
    )
    (assignment,) = given["assigned"]
    names = {entry.fn.__name__ for entry in REGISTRY.cron}
    assert "training_reminders" in names  # the one cron table both runners read

    bus = client.app[BUS_KEY]
    seen: list[BusEvent] = []
    ready = asyncio.Event()
    both = asyncio.Event()

    async def listen() -> None:
        async for event in bus.subscribe():
            if event.type == "test.probe":
                ready.set()
            elif event.type == ev.TRAINING_REMINDER:
                seen.append(event)
                if len(seen) >= 2:
                    both.set()

    task = asyncio.create_task(listen())
    async with asyncio.timeout(10):
        while not ready.is_set():
            await bus.publish([BusEvent("test.probe", shop_id, ())])
            try:
                await asyncio.wait_for(ready.wait(), 0.2)
            except TimeoutError:
                continue

    start = utcnow()
    moments = [
        (timedelta(hours=1), []),  # far from due
        (timedelta(days=2, hours=1), ["due_soon"]),  # within 24 h of due
        (timedelta(days=2, hours=2), ["due_soon"]),  # again: nothing more
        (timedelta(days=2, hours=20), ["due_soon"]),
        (timedelta(days=3, hours=1), ["due_soon", "overdue"]),  # past due
        (timedelta(days=3, hours=5), ["due_soon", "overdue"]),
        (timedelta(days=9), ["due_soon", "overdue"]),
    ]
    jobs = client.app[JOBS_KEY]
    for offset, expected in moments:
        # The cron job itself, run by this backend's runner (arq worker or in-process),
        # as of a moved clock.
        assert await jobs.enqueue("training_reminders", (start + offset).isoformat()) is True
        await run_jobs(client, settings)
        async with sessions() as session:
            kinds = sorted(await session.scalars(select(TrainingReminder.kind)))
        assert kinds == expected, offset
    # The action alone, run twice more at once: still once each.
    action_deps: Deps = deps(client)
    assert await send_reminders(action_deps, start + timedelta(days=4)) == 0
    async with asyncio.timeout(10):
        await both.wait()
    task.cancel()
    assert [e.payload["kind"] for e in seen] == ["due_soon", "overdue"]
    assert all(e.recipients == (ev.to_user(mei_id),) for e in seen)
    assert seen[0].payload["assignment_id"] == assignment["id"]

    # The console notice waits until seen.
    my = await mei.get("/api/v1/training/my")
    assert sorted(n["kind"] for n in my["notices"]) == ["due_soon", "overdue"]
    assert my["items"][0]["overdue"] is False  # by the real clock it is not due yet
    await mei.post("/api/v1/training/notices/seen", {})
    assert (await mei.get("/api/v1/training/my"))["notices"] == []


async def test_bad_input_is_refused_naming_the_field(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    mei_id, mei_token = await offline_agent(sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    lan_id, lan_token = await offline_agent(sessions, shop_id, "xiaolan", [ServiceRole.PRESALES])
    mei, lan = Api(client, mei_token), Api(client, lan_token)
    _, trainer_token = await person(sessions, shop_id, "peixun", UserRole.TRAINER)
    _, lead_token = await person(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    trainer, lead = Api(client, trainer_token), Api(client, lead_token)
    content = COURSE["content"]

    def with_content(**changes: Any) -> dict[str, Any]:
        return {**COURSE, "content": {**content, **changes}}

    one_question = content["questions"][0]
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("/api/v1/training/courses", {}, "content"),
        ("/api/v1/training/courses", with_content(title=""), "content.title"),
        ("/api/v1/training/courses", with_content(pages=[]), "content.pages"),
        ("/api/v1/training/courses", with_content(pages=[{"title": "x"}]), "content.pages[0].body"),
        (
            "/api/v1/training/courses",
            with_content(questions=[{**one_question, "answer": 7}]),
            "content.questions[0].answer",
        ),
        (
            "/api/v1/training/courses",
            with_content(questions=[{**one_question, "kind": "essay"}]),
            "content.questions[0].kind",
        ),
        ("/api/v1/training/courses", with_content(pass_mark=150), "content.pass_mark"),
        ("/api/v1/training/courses", {**COURSE, "categories": ["nope"]}, "categories"),
        ("/api/v1/training/courses", {**COURSE, "roles": ["boss"]}, "roles"),
        ("/api/v1/training/courses", {**COURSE, "due_days": 0}, "due_days"),
        ("/api/v1/training/courses", {**COURSE, "starter": True, "roles": []}, "roles"),
        ("/api/v1/training/rules", {"category": "nope", "course_id": 1}, "category"),
        ("/api/v1/training/rules", {"category": "forbidden_phrase"}, "course_id"),
        ("/api/v1/training/rules", {"category": "forbidden_phrase", "course_id": 999}, "course_id"),
    ]
    for path, body, field in cases:
        answer = await trainer.post(path, body, 400)
        assert answer["field"] == field, (body, answer)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(TrainingCourse)) == 0

    course = await trainer.post("/api/v1/training/courses", COURSE, 201)
    rule_body = {"category": "forbidden_phrase", "course_id": course["id"]}
    for change, field in (
        ({"threshold": 0}, "threshold"),
        ({"window_days": 999}, "window_days"),
        ({"due_days": "7"}, "due_days"),
        ({"active": "yes"}, "active"),
    ):
        answer = await trainer.post("/api/v1/training/rules", {**rule_body, **change}, 400)
        assert answer["field"] == field
    assign = f"/api/v1/training/courses/{course['id']}/assign"
    for body, field in (
        ({}, "agent_ids"),
        ({"agent_ids": []}, "agent_ids"),
        ({"agent_ids": [999999]}, "agent_ids"),
        ({"role": "boss"}, "role"),
        ({"shift_at": "tomorrow"}, "shift_at"),
        ({"agent_ids": [mei_id], "due_days": 500}, "due_days"),
        ({"agent_ids": [mei_id], "due_at": "2020-01-01T00:00:00+00:00"}, "due_at"),
    ):
        answer = await trainer.post(assign, body, 400)
        assert answer["field"] == field, body
    _, owner_token = await person(sessions, shop_id, "dianzhu", UserRole.OWNER)
    owner = Api(client, owner_token)
    answer = await owner.send(
        "PUT", "/api/v1/shop/config", {"config": {"training": {"boost_factor": 50}}}, 400
    )
    assert answer["field"] == "training.boost_factor"  # the shop rules check it alike
    for section, field in (
        ({"boost_days": 1000}, "training.boost_days"),
        ({"points": {"finding": {"minor": "x"}}}, "training.points.finding.minor"),
        ({"colour": 1}, "training.colour"),
    ):
        answer = await trainer.send("PUT", "/api/v1/training/settings", section, 400)
        assert answer["field"] == field

    # Answers: every question, known keys, options in range.
    given = await trainer.post(assign, {"role": "presales"}, 201)
    mine = next(a for a in given["assigned"] if a["agent"]["id"] == mei_id)
    attempt = f"/api/v1/training/assignments/{mine['id']}/attempts"
    for body, field in (
        ({}, "answers"),
        ({"answers": []}, "answers"),
        ({"answers": {"q1": 1}}, "answers.bad"),
        ({"answers": {"q1": 9, "bad": [0]}}, "answers.q1"),
        ({"answers": {"q1": [0, 1], "bad": [0]}}, "answers.q1"),
        ({"answers": {"q1": 1, "bad": [0], "zz": 1}}, "answers.zz"),
    ):
        answer = await mei.post(attempt, body, 400)
        assert answer["field"] == field, body
    assert (await mei.get(f"/api/v1/training/assignments/{mine['id']}"))["attempts"] == []

    # Awards: supervisors only, with points and a reason.
    await mei.post(
        "/api/v1/training/points/awards", {"agent_id": lan_id, "points": 5, "reason": "x"}, 403
    )
    for body, field in (
        ({"agent_id": mei_id, "points": 0, "reason": "好"}, "points"),
        ({"agent_id": mei_id, "points": 5, "reason": " "}, "reason"),
        ({"points": 5, "reason": "好"}, "agent_id"),
    ):
        answer = await lead.post("/api/v1/training/points/awards", body, 400)
        assert answer["field"] == field
    award = await lead.post(
        "/api/v1/training/points/awards",
        {"agent_id": mei_id, "points": 8, "reason": "双十一接待量第一"},
        201,
    )
    assert award["points"] == 8
    answer = await mei.get("/api/v1/training/points/ledger?month=2026-13", 400)
    assert answer["field"] == "month"
    answer = await mei.get("/api/v1/training/points/rankings?by=height", 400)
    assert answer["field"] == "by"

    # Agents read only their own results and ledger; supervisors read the team's.
    lans = next(a for a in given["assigned"] if a["agent"]["id"] == lan_id)
    await mei.get(f"/api/v1/training/assignments/{lans['id']}", 403)
    await mei.get(f"/api/v1/training/assignments?agent_id={lan_id}", 403)
    await mei.get(f"/api/v1/training/points/ledger?agent_id={lan_id}", 403)
    await mei.get(f"/api/v1/training/points/ledger/export?agent_id={lan_id}", 403)
    own = await mei.get("/api/v1/training/assignments")
    assert {a["agent"]["id"] for a in own["items"]} == {mei_id}
    await mei.get("/api/v1/training/courses", 403)
    await mei.get(f"/api/v1/training/courses/{course['id']}/effect", 403)
    await lan.post(f"/api/v1/training/assignments/{mine['id']}/attempts", {"answers": {}}, 403)
    team = await lead.get("/api/v1/training/assignments")
    assert {a["agent"]["id"] for a in team["items"]} == {mei_id, lan_id}
    await lead.get(f"/api/v1/training/points/ledger?agent_id={mei_id}")
    await lead.post(f"/api/v1/training/courses/{course['id']}/assign", {"role": "presales"}, 403)
    overdue = await lead.get("/api/v1/training/overdue")
    assert overdue["total"] == 0

    # Exports: CSV (with BOM for spreadsheets) and XLSX.
    csv = await client.get("/api/v1/training/points/ledger/export?format=csv", headers=mei.headers)
    assert csv.status == 200
    text = (await csv.read()).decode("utf-8-sig")
    assert "双十一接待量第一" in text
    xlsx = await client.get(
        "/api/v1/training/points/rankings/export?format=xlsx&by=team", headers=mei.headers
    )
    assert xlsx.status == 200
    assert (await xlsx.read())[:2] == b"PK"
    bad = await client.get(
        "/api/v1/training/points/rankings/export?format=pdf", headers=mei.headers
    )
    assert bad.status == 400
    assert (await bad.json())["field"] == "format"


async def test_a_rating_earns_points_and_a_revised_rating_replaces_them(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """``rating.received`` through signed HTTP: the current rating's points go to the agent
    who served; the buyer rating again takes the first rating's points back (a new line)."""
    mei_id, mei = await agent_api(client, sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    conversation = await served_chat(client, sessions, mei, "小鱼")
    start = utcnow()
    await rate(client, "小鱼", 1, "太慢了", event_id="r-1", at=start)
    await settle(client)
    await rate(client, "小鱼", 5, "问题解决了", event_id="r-2", at=start + timedelta(hours=2))
    await settle(client)
    ledger = await mei.get("/api/v1/training/points/ledger")
    ratings = sorted(
        (e["points"], e["reverses_id"] is not None)
        for e in ledger["entries"]
        if e["source"] == "rating"
    )
    assert ratings == [(-2, False), (2, False), (2, True)]  # -2, taken back +2, then +2
    assert ledger["balance"] == 2
    assert conversation.assigned_agent_id in (mei_id, None)


async def test_a_supervisor_reads_the_training_and_points_of_the_team_they_lead(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """Teams (班组): a supervisor who leads a team reads its members' courses, results and
    ledgers, not another team's (403); rankings by team are the shop's teams, by name."""
    mei_id, _ = await offline_agent(sessions, shop_id, "xiaomei", [ServiceRole.PRESALES])
    lan_id, _ = await offline_agent(sessions, shop_id, "xiaolan", [ServiceRole.REFUND])
    lead_id, lead_token = await person(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    owner_id, _ = await person(sessions, shop_id, "dianzhu", UserRole.OWNER)
    _, trainer_token = await person(sessions, shop_id, "peixun", UserRole.TRAINER)
    lead, trainer = Api(client, lead_token), Api(client, trainer_token)
    owner = await actor(sessions, owner_id)
    now = utcnow()
    team = await teams.create_team(sessions, owner, "售前一组", now)
    await teams.set_members(
        sessions, owner, team, [Membership(mei_id), Membership(lead_id, lead=True)], now
    )
    course = await trainer.post("/api/v1/training/courses", COURSE, 201)
    given = await trainer.post(
        f"/api/v1/training/courses/{course['id']}/assign", {"agent_ids": [mei_id, lan_id]}, 201
    )
    lans = next(a for a in given["assigned"] if a["agent"]["id"] == lan_id)
    seen = await lead.get("/api/v1/training/assignments")
    assert {a["agent"]["id"] for a in seen["items"]} == {mei_id}
    await lead.get(f"/api/v1/training/assignments?agent_id={lan_id}", 403)
    await lead.get(f"/api/v1/training/assignments/{lans['id']}", 403)
    await lead.get(f"/api/v1/training/points/ledger?agent_id={lan_id}", 403)
    await lead.get(f"/api/v1/training/points/ledger?agent_id={mei_id}")
    everyone = await trainer.get("/api/v1/training/assignments")
    assert {a["agent"]["id"] for a in everyone["items"]} == {mei_id, lan_id}
    ranking = await trainer.get("/api/v1/training/points/rankings?by=team")
    named = {g["key"]: g["name"] for g in ranking["groups"]}
    assert named[f"team:{team}"] == "售前一组"
    assert named["aftersales_team"] is None  # lan is in no team: her role's group
