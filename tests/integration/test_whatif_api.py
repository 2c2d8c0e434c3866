"""What-if runs over HTTP on SQLite and PostgreSQL, each with and without Redis: a run is
asked for (202, queued), its job simulates the shop's own last week (in-process, or a real
arq worker), the run ends done at 100 % with a result whose numbers add up (served +
abandoned = arrivals per role) beside its baseline; bad input is a 400 naming the field;
agents are refused, and another shop's lead cannot read the run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from csdesk.actions import whatif as whatif_actions
from csdesk.actions.outbox import Deps
from csdesk.actions.shops import ensure_shop
from csdesk.jobs.base import JOBS_KEY
from csdesk.jobs.inline import InlineJobRunner
from csdesk.keys import BUS_KEY
from csdesk.routing.queues import QUEUE_KEY
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.storage.models import User
from tests.helpers import actor, post_event, settle
from tests.integration.test_role_workbench_api import agent, call, login_as
from tests.run_jobs import MovedClock, run_job, run_worker

pytestmark = pytest.mark.usefixtures("shop_id")
Headers = dict[str, str]
PATH = "/api/v1/whatif"


@pytest.fixture
async def boss(sessions: SessionFactory, shop_id: str) -> Headers:
    return await login_as(sessions, shop_id, "boss", UserRole.OWNER)


async def last_week(client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str) -> None:
    """Chats stored the way the desk stores them (platform events), and a small roster."""
    await agent(sessions, shop_id, "售前小王", [ServiceRole.PRESALES])
    await agent(sessions, shop_id, "退款小李", [ServiceRole.REFUND, ServiceRole.AFTERSALES_TRIAGE])
    for n in range(12):
        await post_event(
            client,
            "message.received",
            {"buyer_nick": f"买家{n}", "text": "这款有现货吗？什么时候发货"},
        )
    for n in range(6):
        await post_event(
            client, "message.received", {"buyer_nick": f"退款买家{n}", "text": "我要退款"}
        )
    await settle(client)


async def run_jobs(client: TestClient[Any, Any]) -> None:
    runner = client.app[JOBS_KEY]
    if isinstance(runner, InlineJobRunner):
        await runner.join()
        return
    await run_worker(client, lambda: datetime.now(UTC))


async def test_a_run_goes_from_queued_to_done_with_a_consistent_result(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, boss: Headers
) -> None:
    await last_week(client, sessions, shop_id)
    asked = {
        "roster_changes": [{"role": "refund", "delta": 2, "from_hour": 20}],
        "scale": 3,
        "hours": 6,
        "policy": "csdesk",
        "seed": 5,
    }
    run = await call(client, "POST", PATH, boss, asked, status=202)
    assert run["status"] == "queued"
    assert run["progress"] == 0
    assert run["parameters"] == {**asked, "scale": 3.0, "promotion": None}
    assert run["requested_by"] == "boss"

    await run_jobs(client)

    listed = await call(client, "GET", PATH, boss)
    (row,) = [r for r in listed["runs"] if r["id"] == run["id"]]
    assert (row["status"], row["progress"]) == ("done", 100)
    assert "result" not in row
    done = await call(client, "GET", f"{PATH}/{run['id']}", boss)
    assert done["status"] == "done"
    assert done["error"] is None
    result = done["result"]
    for name in ("baseline", "adjusted"):
        outcome = result[name]
        assert outcome["seed"] == 5
        assert outcome["policy"] == "csdesk"
        assert outcome["roles"], "the shop's chats arrive in the simulation"
        for row in outcome["roles"].values():
            assert row["served"] + row["abandoned"] == row["arrivals"]
            assert row["wait_p50_s"] <= row["wait_p90_s"]
        assert outcome["charts"]["depth_svg"].startswith("<svg")
        # The shop's own roster: one presales agent, one holding refund and triage.
        assert outcome["scenario"]["roster"] == {"presales": 1, "aftersales_triage+refund": 1}
        assert outcome["scenario"]["hours"] == 6
    # Last week's chats, × 3 in the adjusted run: the same day, more buyers.
    base = result["baseline"]["scenario"]["expected_arrivals"]
    more = result["adjusted"]["scenario"]["expected_arrivals"]
    assert base["chat:presale"] == pytest.approx(12 / 7, abs=0.1)
    assert more["chat:presale"] == pytest.approx(3 * base["chat:presale"], abs=0.1)


async def test_a_run_without_changes_has_no_baseline(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, boss: Headers
) -> None:
    await last_week(client, sessions, shop_id)
    run = await call(client, "POST", PATH, boss, {"hours": 2}, status=202)
    await run_jobs(client)
    done = await call(client, "GET", f"{PATH}/{run['id']}", boss)
    assert done["status"] == "done"
    assert done["result"]["baseline"] is None
    assert done["result"]["adjusted"]["scenario"]["roster_changes"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "hours"),
        ({"hours": 2, "scale": 99}, "scale"),
        ({"hours": 0}, "hours"),
        ({"hours": 2, "policy": "random"}, "policy"),
        (
            {"hours": 2, "roster_changes": [{"role": "refund", "delta": 2, "from_hour": 25}]},
            "roster_changes[0].from_hour",
        ),
        (
            {"hours": 2, "roster_changes": [{"role": "chef", "delta": 2, "from_hour": 20}]},
            "roster_changes[0].role",
        ),
        ({"hours": 2, "promotion": "no_such_profile"}, "promotion"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    client: TestClient[Any, Any], boss: Headers, body: dict[str, Any], field: str
) -> None:
    answer = await call(client, "POST", PATH, boss, body, status=400)
    assert answer["field"] == field
    assert (await call(client, "GET", PATH, boss))["runs"] == []


async def test_agents_are_refused_and_another_shop_cannot_read_a_run(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, boss: Headers
) -> None:
    _, agent_headers = await agent(sessions, shop_id, "坐席", [ServiceRole.PRESALES])
    await call(client, "POST", PATH, agent_headers, {"hours": 1}, status=403)
    await call(client, "GET", PATH, agent_headers, status=403)
    run = await call(client, "POST", PATH, boss, {"hours": 1}, status=202)
    await call(client, "GET", f"{PATH}/{run['id']}", agent_headers, status=403)

    await ensure_shop(sessions, "other-shop", "别的店")
    other = await login_as(sessions, "other-shop", "other-boss", UserRole.OWNER)
    await call(client, "GET", f"{PATH}/{run['id']}", other, status=404)
    assert (await call(client, "GET", PATH, other))["runs"] == []
    await run_jobs(client)


async def test_a_shop_may_have_three_runs_waiting_at_once(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, boss: Headers
) -> None:
    # Three runs asked for (by the action, without their jobs: they stay queued).
    lead = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    async with sessions() as session:
        lead_id = await session.scalar(select(User.id).where(User.username == "lead"))
    assert lead_id is not None
    deps = Deps(sessions, client.app[BUS_KEY], client.app[QUEUE_KEY])
    who = await actor(sessions, lead_id)
    for _ in range(whatif_actions.MAX_ACTIVE):
        await whatif_actions.request_run(deps, who, {"hours": 1}, datetime.now(UTC))
    answer = await call(client, "POST", PATH, boss, {"hours": 1}, status=409)
    assert str(whatif_actions.MAX_ACTIVE) in answer["error"]
    listed = await call(client, "GET", PATH, lead)
    assert [r["status"] for r in listed["runs"]] == ["queued"] * whatif_actions.MAX_ACTIVE


async def test_a_run_whose_job_was_lost_is_taken_up_by_the_sweep(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, boss: Headers
) -> None:
    lead = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    async with sessions() as session:
        lead_id = await session.scalar(select(User.id).where(User.username == "lead"))
    assert lead_id is not None
    deps = Deps(sessions, client.app[BUS_KEY], client.app[QUEUE_KEY])
    asked_at = datetime.now(UTC)
    run = await whatif_actions.request_run(
        deps, await actor(sessions, lead_id), {"hours": 1}, asked_at
    )
    # A minute later it is not lost yet; three minutes later it is.
    await run_job(client, MovedClock(asked_at + timedelta(minutes=1)), "whatif_sweep")
    assert (await call(client, "GET", f"{PATH}/{run['id']}", lead))["status"] == "queued"
    await run_job(client, MovedClock(asked_at + timedelta(minutes=3)), "whatif_sweep")
    await run_jobs(client)
    done = await call(client, "GET", f"{PATH}/{run['id']}", boss)
    assert (done["status"], done["progress"]) == ("done", 100)
