"""Alerts end to end, on SQLite and PostgreSQL, each with and without Redis: thresholds
crossed by data posted through the events API, the evaluation and delivery jobs run as the
deployment runs them (in-process, or an arq worker) at a moved clock, and a local fake
DingTalk / WeCom robot that checks the signature as the real one does."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pytest_aiohttp import AiohttpServer

from csdesk.alerts.robots import timestamp_ms
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from tests.fake_robot import FakeRobot
from tests.helpers import post_event, settle
from tests.integration.test_live import events_until, open_console
from tests.integration.test_role_workbench_api import agent, call, login_as, paid_order
from tests.run_jobs import MovedClock, run_job

pytestmark = pytest.mark.usefixtures("shop_id")
Headers = dict[str, str]
CONFIG = "/api/v1/alerts/config"
LIST = "/api/v1/alerts"
OFF = {
    "queue_depth": 0,
    "queue_wait_s": 0,
    "refund_due_count": 0,
    "agent_silent_s": 0,
    "staffing_short": 0,
}


_nicks = itertools.count(1)


@pytest.fixture
def robot() -> FakeRobot:
    return FakeRobot()


@pytest.fixture
async def robot_server(robot: FakeRobot, aiohttp_server: AiohttpServer) -> TestServer:
    return await aiohttp_server(robot.app(), host="127.0.0.1")


def dingtalk_url(server: TestServer, robot: FakeRobot) -> str:
    return str(server.make_url(f"/robot/send?access_token={robot.access_token}"))


def wecom_url(server: TestServer, robot: FakeRobot) -> str:
    return str(server.make_url(f"/cgi-bin/webhook/send?key={robot.wecom_key}"))


@pytest.fixture
async def boss(sessions: SessionFactory, shop_id: str) -> Headers:
    return await login_as(sessions, shop_id, "boss", UserRole.OWNER)


Configure = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def configure(
    client: TestClient[Any, Any], boss: Headers, robot: FakeRobot, robot_server: TestServer
) -> Configure:
    async def save(**settings: Any) -> dict[str, Any]:
        body = {
            "enabled": True,
            "dingtalk_url": dingtalk_url(robot_server, robot),
            "dingtalk_secret": robot.secret,
            "thresholds": OFF,
            **settings,
        }
        saved: dict[str, Any] = await call(client, "PUT", CONFIG, boss, body)
        return saved

    return save


async def queue_up(
    client: TestClient[Any, Any], buyers: int, *, at: datetime | None = None
) -> None:
    """Pre-sales questions nobody can take (no agent online): the pre-sales queue grows."""
    for _ in range(buyers):
        await post_event(
            client,
            "message.received",
            {"buyer_nick": f"排队买家{next(_nicks)}", "text": "这款有货吗"},
            occurred_at=at,
        )
    await settle(client)


async def alerts(
    client: TestClient[Any, Any], who: Headers, query: str = ""
) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (await call(client, "GET", LIST + query, who))["alerts"]
    return listed


async def test_a_threshold_crossing_sends_one_signed_dingtalk_message_and_no_second_in_the_window(
    client: TestClient[Any, Any], boss: Headers, robot: FakeRobot, configure: Configure
) -> None:
    await configure(thresholds={**OFF, "queue_depth": 2}, dedupe_window_s=1800)
    t0 = datetime.now(UTC)
    clock = MovedClock(t0)
    await queue_up(client, 2)
    await run_job(client, clock, "evaluate_alerts")
    assert robot.requests == 0  # 2 queued is not over 2

    await queue_up(client, 1)
    await run_job(client, clock, "evaluate_alerts")
    assert robot.refused == []
    assert len(robot.accepted) == 1
    (message,) = robot.texts()
    assert "售前接待队列 3 条排队（阈值 2）" in message
    # Signed for the moment the job acted at; the receiver checked timestamp and sign.
    assert robot.accepted[0]["timestamp"] == timestamp_ms(t0)

    # Still over the threshold, within the dedupe window: nothing more goes out.
    for minutes in (1, 10, 29):
        clock.at = t0 + timedelta(minutes=minutes)
        await run_job(client, clock, "evaluate_alerts")
    assert len(robot.accepted) == 1
    assert robot.requests == 1

    (raised,) = await alerts(client, boss)
    assert (raised["key"], raised["kind"], raised["severity"]) == (
        "queue:presales",
        "queue",
        "warning",
    )
    assert raised["detail"]["queued"] == 3
    assert datetime.fromisoformat(raised["last_seen_at"]) == t0 + timedelta(minutes=29)
    (delivery,) = raised["deliveries"]
    assert (delivery["channel"], delivery["status"], delivery["attempts"]) == (
        "dingtalk",
        "sent",
        1,
    )

    # The window over and the queue still deep: raised again (a reminder), once.
    clock.at = t0 + timedelta(minutes=31)
    await run_job(client, clock, "evaluate_alerts")
    await run_job(client, clock, "evaluate_alerts")
    assert len(robot.accepted) == 2
    assert len(await alerts(client, boss)) == 2


async def test_a_failing_robot_is_retried_with_backoff_and_the_failure_is_visible(
    client: TestClient[Any, Any], boss: Headers, robot: FakeRobot, configure: Configure
) -> None:
    await configure(thresholds={**OFF, "queue_depth": 1})
    robot.fail_next = 1
    t0 = datetime.now(UTC)
    clock = MovedClock(t0)
    await queue_up(client, 2)
    await run_job(client, clock, "evaluate_alerts")
    assert (robot.requests, robot.accepted) == (1, [])

    # Visible in the API (also through the "failed or retrying" filter) ...
    (raised,) = await alerts(client, boss, "?failed=1")
    (delivery,) = raised["deliveries"]
    assert delivery["status"] == "pending"
    assert delivery["attempts"] == 1
    assert delivery["last_error"] == "HTTP 500"
    assert datetime.fromisoformat(delivery["next_attempt_at"]) == t0 + timedelta(seconds=30)
    assert [entry["ok"] for entry in delivery["log"]] == [False]
    summary = (await call(client, "GET", LIST, boss))["deliveries"]
    assert summary["pending"] == 1
    assert summary["sent"] == 0
    # ... and on the console's alert list.
    page = await client.get("/console/alerts", headers=boss)
    assert page.status == 200
    assert "HTTP 500" in await page.text()

    # Not due yet: the retry job leaves it.
    clock.at = t0 + timedelta(seconds=20)
    await run_job(client, clock, "deliver_alerts")
    assert robot.requests == 1
    # Due: tried again, and this time the robot takes it.
    clock.at = t0 + timedelta(seconds=31)
    await run_job(client, clock, "deliver_alerts")
    assert robot.requests == 2
    assert len(robot.accepted) == 1
    (raised,) = await alerts(client, boss)
    (delivery,) = raised["deliveries"]
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("sent", 2, None)
    assert [entry["ok"] for entry in delivery["log"]] == [False, True]
    assert await alerts(client, boss, "?failed=1") == []


async def test_a_robot_that_keeps_failing_gives_up_after_six_attempts(
    client: TestClient[Any, Any], boss: Headers, robot: FakeRobot, configure: Configure
) -> None:
    await configure(thresholds={**OFF, "queue_depth": 1})
    robot.fail_next = 100
    robot.fail_status = 503
    t0 = datetime.now(UTC)
    clock = MovedClock(t0)
    await queue_up(client, 2)
    await run_job(client, clock, "evaluate_alerts")
    for wait_s in (30, 60, 300, 900, 1800):
        clock.at += timedelta(seconds=wait_s)
        await run_job(client, clock, "deliver_alerts")
    assert robot.requests == 6
    (raised,) = await alerts(client, boss, "?failed=1")
    (delivery,) = raised["deliveries"]
    assert (delivery["status"], delivery["attempts"], delivery["next_attempt_at"]) == (
        "failed",
        6,
        None,
    )
    assert delivery["last_error"] == "HTTP 503"
    clock.at += timedelta(hours=2)
    await run_job(client, clock, "deliver_alerts")
    assert robot.requests == 6  # given up: never again
    assert (await call(client, "GET", LIST, boss))["deliveries"]["failed"] == 1


async def test_a_wrong_secret_is_refused_by_the_robot_and_shown(
    client: TestClient[Any, Any], boss: Headers, robot: FakeRobot, configure: Configure
) -> None:
    await configure(dingtalk_secret="SEC-not-the-robots-secret")
    answer = await call(client, "POST", "/api/v1/alerts/test", boss, {}, status=202)
    assert answer["kind"] == "test"
    clock = MovedClock(datetime.now(UTC))
    await run_job(client, clock, "deliver_alerts")  # whatever the test's own job left
    assert robot.accepted == []
    assert "sign not match" in robot.refused
    (raised,) = await alerts(client, boss)
    (delivery,) = raised["deliveries"]
    assert delivery["last_error"] == "errcode 310000: sign not match"
    assert delivery["status"] == "pending"  # retried: the owner may fix the secret meanwhile


async def test_the_fake_robot_refuses_what_dingtalk_refuses(
    robot: FakeRobot, robot_server: TestServer
) -> None:
    """The receiver itself: a bad sign and a timestamp over an hour old are refused."""
    from csdesk.alerts.robots import Channel, request_url

    url = dingtalk_url(robot_server, robot)
    body = b'{"msgtype": "markdown", "markdown": {"title": "t", "text": "x"}}'
    headers = {"Content-Type": "application/json"}
    now = datetime.now(UTC)
    async with aiohttp.ClientSession() as http:
        for target, expected in (
            (request_url(Channel.DINGTALK, url, robot.secret, now), 0),
            (request_url(Channel.DINGTALK, url, "SEC-other", now), 310000),
            (request_url(Channel.DINGTALK, url, robot.secret, now - timedelta(minutes=61)), 310000),
            (request_url(Channel.DINGTALK, url, robot.secret, now + timedelta(minutes=61)), 310000),
            (url, 310000),  # unsigned
        ):
            async with http.post(target, data=body, headers=headers) as response:
                assert (await response.json())["errcode"] == expected, target
    assert robot.refused == [
        "sign not match",
        "invalid timestamp",
        "invalid timestamp",
        "sign not match",
    ]
    assert len(robot.accepted) == 1


async def test_send_a_test_reaches_dingtalk_and_wecom(
    client: TestClient[Any, Any],
    boss: Headers,
    robot: FakeRobot,
    robot_server: TestServer,
    configure: Configure,
) -> None:
    await configure(wecom_url=wecom_url(robot_server, robot))
    answer = await call(client, "POST", "/api/v1/alerts/test", boss, {}, status=202)
    assert sorted(d["channel"] for d in answer["deliveries"]) == ["dingtalk", "wecom"]
    await run_job(client, MovedClock(datetime.now(UTC)), "deliver_alerts")
    assert sorted(m["robot"] for m in robot.accepted) == ["dingtalk", "wecom"]
    assert all("测试告警" in text for text in robot.texts("dingtalk") + robot.texts("wecom"))
    (raised,) = await alerts(client, boss)
    assert raised["test"] is True
    assert {d["status"] for d in raised["deliveries"]} == {"sent"}


async def test_rate_limit_logs_what_it_does_not_send(
    client: TestClient[Any, Any], boss: Headers, robot: FakeRobot, configure: Configure
) -> None:
    await configure(max_per_hour=2)
    for _ in range(3):
        await call(client, "POST", "/api/v1/alerts/test", boss, {}, status=202)
    await run_job(client, MovedClock(datetime.now(UTC)), "deliver_alerts")
    assert len(robot.accepted) == 2
    listed = await alerts(client, boss)
    statuses = sorted(a["deliveries"][0]["status"] for a in listed)
    assert statuses == ["rate_limited", "sent", "sent"]
    limited = next(a for a in listed if a["deliveries"][0]["status"] == "rate_limited")
    assert "2 messages an hour" in limited["deliveries"][0]["last_error"]


async def test_each_condition_from_posted_data(
    client: TestClient[Any, Any],
    sessions: SessionFactory,
    shop_id: str,
    boss: Headers,
    robot: FakeRobot,
    configure: Configure,
) -> None:
    """Refunds about to auto-approve, a silent agent and a staffing shortfall, each from
    events posted through the API and read back as the evaluation reads them."""
    await configure(
        thresholds={**OFF, "refund_due_count": 1, "agent_silent_s": 300, "staffing_short": 1}
    )
    t0 = datetime.now(UTC)
    # A refund-only request of an unshipped order auto-approves 24 h after it was asked.
    await paid_order(client, "T-DUE", amount="300.00", occurred_at=t0 - timedelta(hours=30))
    await post_event(
        client,
        "refund.requested",
        {
            "refund_id": "R-DUE",
            "order_id": "T-DUE",
            "kind": "refund_only",
            "amount": "88.50",
            "reason": "不想要了",
        },
        occurred_at=t0 - timedelta(hours=23, minutes=20),
    )
    # One pre-sales agent online takes the first chat and never answers it.
    await agent(sessions, shop_id, "xiaomei", [ServiceRole.PRESALES], chat_capacity=1)
    await post_event(client, "message.received", {"buyer_nick": "等回复的买家", "text": "在吗"})
    # After-sales triage has work and nobody on shift.
    await post_event(
        client, "message.received", {"buyer_nick": "问物流的买家", "text": "快递到哪了"}
    )
    await settle(client)
    clock = MovedClock(t0 + timedelta(minutes=6))
    await run_job(client, clock, "evaluate_alerts")
    by_key = {a["key"]: a for a in await alerts(client, boss)}
    (silent_key,) = [k for k in by_key if k.startswith("agent_silent:")]
    assert "refund_due" in by_key
    assert by_key["refund_due"]["detail"] == {"count": 1, "amount": 88.5, "refund_due_count": 1}
    assert by_key[silent_key]["detail"]["waiting"] == 1
    assert 300 <= by_key[silent_key]["detail"]["silent_s"] <= 360
    staffing = by_key["staffing:aftersales_triage"]["detail"]
    assert (staffing["agents_on_shift"], staffing["agents_needed"]) == (0, 1)
    assert "staffing:presales" not in by_key  # one arrival an hour: the one agent is enough
    assert len(robot.accepted) == len(by_key)


async def test_a_live_notice_reaches_supervisors_over_the_websocket(
    client: TestClient[Any, Any],
    sessions: SessionFactory,
    shop_id: str,
    configure: Configure,
) -> None:
    await configure(thresholds={**OFF, "queue_depth": 1})
    token = (await login_as(sessions, shop_id, "sv", UserRole.SUPERVISOR))["Authorization"]
    ws, _ = await open_console(client, token.removeprefix("Bearer "))
    try:
        await queue_up(client, 2)
        await run_job(client, MovedClock(datetime.now(UTC)), "evaluate_alerts")
        frames = await asyncio.wait_for(
            events_until(ws, lambda f: f["type"] == "alert.raised"), timeout=10
        )
        payload = frames[-1]["payload"]["alert"]
        assert payload["key"] == "queue:presales"
        assert payload["title"] == "售前接待队列积压"
        follow = await asyncio.wait_for(
            events_until(ws, lambda f: f["type"] == "alert.delivery"), timeout=10
        )
        assert follow[-1]["payload"]["delivery"]["status"] == "sent"
    finally:
        await ws.close()


async def test_who_may_do_what_and_the_secret_never_shows(
    client: TestClient[Any, Any],
    sessions: SessionFactory,
    shop_id: str,
    boss: Headers,
    robot: FakeRobot,
    configure: Configure,
) -> None:
    saved = await configure()
    assert saved["dingtalk_secret_set"] is True
    assert robot.secret not in str(saved)
    _, mine = await agent(sessions, shop_id, "agent-1", [ServiceRole.PRESALES])
    supervisor = await login_as(sessions, shop_id, "sv", UserRole.SUPERVISOR)
    await call(client, "GET", LIST, mine, status=403)
    await call(client, "GET", CONFIG, mine, status=403)
    shown = await call(client, "GET", CONFIG, supervisor)
    assert shown["dingtalk_secret_set"] is True
    assert robot.secret not in str(shown)
    await call(client, "GET", LIST, supervisor)
    await call(client, "PUT", CONFIG, supervisor, {"enabled": False}, status=403)
    await call(client, "POST", "/api/v1/alerts/test", supervisor, {}, status=403)
    # Saving without the secret keeps it; clearing the robot clears it.
    kept = await call(
        client, "PUT", CONFIG, boss, {"enabled": True, "dingtalk_url": saved["dingtalk_url"]}
    )
    assert kept["dingtalk_secret_set"] is True
    cleared = await call(client, "PUT", CONFIG, boss, {"enabled": True, "dingtalk_url": None})
    assert cleared["dingtalk_secret_set"] is False
    rows = (await call(client, "GET", "/api/v1/audit?limit=50", boss))["items"]
    changes = [r for r in rows if r["action"] == "alerts.config"]
    assert len(changes) == 3
    assert robot.secret not in str(changes)
    # With no robot left, a test has nowhere to go: refused, naming the field.
    answer = await client.post("/api/v1/alerts/test", headers=boss, json={})
    assert answer.status == 400
    assert (await answer.json())["field"] == "dingtalk_url"


async def test_bad_settings_are_refused_naming_the_field(
    client: TestClient[Any, Any],
    boss: Headers,
    robot: FakeRobot,
    robot_server: TestServer,
) -> None:
    good = dingtalk_url(robot_server, robot)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"dingtalk_url": "http://robot.example.com/robot/send?access_token=x"}, "dingtalk_url"),
        ({"dingtalk_url": "https://oapi.dingtalk.com/robot/send"}, "dingtalk_url"),
        ({"dingtalk_url": 42}, "dingtalk_url"),
        ({"wecom_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}, "wecom_url"),
        ({"dingtalk_secret": "SEC abc", "dingtalk_url": good}, "dingtalk_secret"),
        ({"dingtalk_secret": "SECabc"}, "dingtalk_url"),
        ({"thresholds": {"queue_depth": -1}}, "thresholds.queue_depth"),
        ({"thresholds": {"queue_depth": "lots"}}, "thresholds.queue_depth"),
        (
            {"thresholds": {"queue_depth_by_role": {"finance": 3}}},
            "thresholds.queue_depth_by_role.finance",
        ),
        ({"thresholds": {"nope": 1}}, "thresholds.nope"),
        ({"thresholds": "high"}, "thresholds"),
        ({"dedupe_window_s": 10}, "dedupe_window_s"),
        ({"max_per_hour": 0}, "max_per_hour"),
        ({"enabled": "yes"}, "enabled"),
        ({"colour": "red"}, "colour"),
    ]
    cases.append(({}, "enabled"))  # the settings are replaced whole: say on or off
    for body, field in cases:
        if body and "enabled" not in body:
            body = {"enabled": True, **body}
        answer = await client.put(CONFIG, headers=boss, json=body)
        assert answer.status == 400, body
        assert (await answer.json())["field"] == field, body
    # Nothing was saved by any of them.
    assert (await call(client, "GET", CONFIG, boss))["configured"] is False


async def test_alerts_older_than_ninety_days_are_purged(
    client: TestClient[Any, Any], boss: Headers, configure: Configure
) -> None:
    await configure()
    await call(client, "POST", "/api/v1/alerts/test", boss, {}, status=202)
    clock = MovedClock(datetime.now(UTC))
    await run_job(client, clock, "deliver_alerts")
    clock.at += timedelta(days=89)
    await run_job(client, clock, "purge_old_alerts")
    assert len(await alerts(client, boss)) == 1
    clock.at += timedelta(days=2)
    await run_job(client, clock, "purge_old_alerts")
    assert await alerts(client, boss) == []
    assert (await call(client, "GET", LIST, boss))["deliveries"]["sent"] == 0
