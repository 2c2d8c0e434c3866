"""Every QC endpoint that takes input answers malformed input with 400 naming the field, and
nothing is stored (issue 11's acceptance: "every new endpoint ... naming the field, nothing
stored"), and an agent reads no other agent's results (403); the CLI's exit 2 is
``test_qc_cli.py``. One table, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from csdesk.clock import SHOP_TZ, utcnow
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from csdesk.storage.models import AuditLog, Shop
from csdesk.storage.qc_models import (
    QcCalibrationScore,
    QcCalibrationSession,
    QcDispute,
    QcFinding,
    QcProposal,
    QcSample,
    QcScore,
    QcScriptVersion,
)
from tests.integration.test_qc_flow import Api, agent, checked_by_listener, closed_chat, person

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
STORED = (
    QcScore,
    QcFinding,
    QcDispute,
    QcScriptVersion,
    QcSample,
    QcCalibrationSession,
    QcCalibrationScore,
    QcProposal,
    AuditLog,
)


async def stored(sessions: SessionFactory) -> dict[str, Any]:
    async with sessions() as session:
        counts: dict[str, Any] = {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in STORED
        }
        counts["shop.config"] = await session.scalar(select(Shop.config))
    return counts


async def test_every_qc_endpoint_names_the_bad_field_and_stores_nothing(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    mei_id, mei_token = await agent(sessions, shop_id, "xiaomei")
    inspector_id, inspector_token = await person(
        sessions, shop_id, "zhijian", UserRole.QC_INSPECTOR
    )
    lead_id, lead_token = await person(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    mei, inspector, lead = (
        Api(client, mei_token),
        Api(client, inspector_token),
        Api(client, lead_token),
    )

    # A scored conversation with a disputed finding, a proposal and a calibration session:
    # something for every endpoint to refuse to change.
    conversation_id = await closed_chat(client, sessions, mei, "小鱼", "不知道")
    await checked_by_listener(client, sessions, settings, conversation_id)
    today = utcnow().astimezone(SHOP_TZ).date().isoformat()
    await lead.post("/api/v1/qc/samples/run", {"day": today})
    score_path = f"/api/v1/qc/conversations/{conversation_id}/score"
    items = {
        "accuracy": {"rating": 2, "comment": "答非所问"},
        "solved": {"rating": 5},
        "privacy": {"rating": 1},
    }
    score = await inspector.post(f"{score_path}/submit", {"items": items}, 201)
    (finding,) = [
        f for f in (await mei.get("/api/v1/qc/findings"))["items"] if f["item"] == "accuracy"
    ]
    finding_path = f"/api/v1/qc/findings/{finding['id']}"
    await mei.post(f"{finding_path}/dispute", {"comment": "买家问的是库存"}, 201)
    proposal = await inspector.post(
        "/api/v1/qc/proposals", {"title": "统一结束语", "finding_ids": [finding["id"]]}, 201
    )
    calibration = await lead.post(
        "/api/v1/qc/calibrations",
        {
            "title": "校准",
            "conversation_ids": [conversation_id],
            "inspector_ids": [inspector_id, lead_id],
        },
        201,
    )
    before = await stored(sessions)

    long = "长" * 1001
    cases: list[tuple[Api, str, str, Any, str]] = [
        (inspector, "GET", "/api/v1/qc/queue?status=later", None, "status"),
        (inspector, "GET", "/api/v1/qc/queue?agent_id=abc", None, "agent_id"),
        (inspector, "GET", "/api/v1/qc/queue?agent_id=0", None, "agent_id"),
        (inspector, "GET", "/api/v1/qc/queue?day=2026-13-01", None, "day"),
        (lead, "GET", "/api/v1/qc/findings?status=nope", None, "status"),
        (lead, "GET", "/api/v1/qc/findings?agent_id=-1", None, "agent_id"),
        (inspector, "PUT", score_path, {"items": "all good"}, "items"),
        (
            inspector,
            "PUT",
            score_path,
            {"items": {"accuracy": {"rating": "4"}}},
            "items.accuracy.rating",
        ),
        (
            inspector,
            "PUT",
            score_path,
            {"items": {"accuracy": {"rating": 99}}},
            "items.accuracy.rating",
        ),
        (inspector, "PUT", score_path, {"items": {"accuracy": {}}}, "items.accuracy.rating"),
        (inspector, "POST", f"{score_path}/submit", {"items": {"accuracy": 4}}, "items.accuracy"),
        (mei, "POST", f"{finding_path}/dispute", {"comment": 5}, "comment"),
        (mei, "POST", f"{finding_path}/dispute", {"comment": long}, "comment"),
        (
            lead,
            "POST",
            f"{finding_path}/resolve",
            {"resolution": "amend", "comment": "改"},
            "rating",
        ),
        (
            lead,
            "POST",
            f"{finding_path}/resolve",
            {"resolution": "amend", "comment": "改", "rating": True},
            "rating",
        ),
        (
            lead,
            "POST",
            f"{finding_path}/resolve",
            {"resolution": "amend", "comment": "改", "rating": 99},
            "rating",
        ),
        (
            lead,
            "POST",
            f"{finding_path}/resolve",
            {"resolution": "uphold", "comment": 1},
            "comment",
        ),
        (
            lead,
            "POST",
            f"{finding_path}/resolve",
            {"resolution": "undo", "comment": "x"},
            "resolution",
        ),
        (lead, "POST", "/api/v1/qc/scripts/presales", {"changes": []}, "changes"),
        (lead, "POST", "/api/v1/qc/scripts/presales", {}, "changes"),
        (lead, "POST", "/api/v1/qc/scripts/presales", {"changes": {}, "note": "长" * 501}, "note"),
        (lead, "POST", "/api/v1/qc/scripts/nobody", {"changes": {}}, "role"),
        (lead, "POST", "/api/v1/qc/samples/run", {}, "day"),
        (lead, "POST", "/api/v1/qc/samples/run", {"day": "yesterday"}, "day"),
        (lead, "POST", "/api/v1/qc/samples/run", {"day": "2999-01-01"}, "day"),
        (
            lead,
            "POST",
            "/api/v1/qc/calibrations",
            {"title": "t", "conversation_ids": "1", "inspector_ids": [1]},
            "conversation_ids",
        ),
        (
            inspector,
            "POST",
            f"/api/v1/qc/calibrations/{calibration['id']}/scores",
            {"items": {}},
            "conversation_id",
        ),
        (
            inspector,
            "POST",
            f"/api/v1/qc/calibrations/{calibration['id']}/scores",
            # every item of the card must be rated (null: N/A); the first missing is named
            {"conversation_id": conversation_id, "items": {"accuracy": {"rating": 9}}},
            "items.greeting.rating",
        ),
        (
            inspector,
            "POST",
            "/api/v1/qc/proposals",
            {"title": "t", "finding_ids": []},
            "finding_ids",
        ),
        (
            inspector,
            "POST",
            "/api/v1/qc/proposals",
            {"title": "", "finding_ids": [finding["id"]]},
            "title",
        ),
        (lead, "POST", f"/api/v1/qc/proposals/{proposal['id']}/status", {"status": 3}, "status"),
        (
            lead,
            "POST",
            f"/api/v1/qc/proposals/{proposal['id']}/status",
            {"status": "later"},
            "status",
        ),
        (lead, "GET", "/api/v1/qc/reports?by=mood", None, "by"),
        (lead, "GET", "/api/v1/qc/reports?start=2026-02-30", None, "start"),
        (lead, "GET", "/api/v1/qc/reports/chart.svg?end=soon", None, "end"),
        (lead, "GET", "/api/v1/qc/reports/export?table=rates&format=pdf", None, "format"),
    ]
    problems = []
    for who, method, path, body, field in cases:
        response = await client.request(method, path, json=body, headers=who.headers)
        answer = await response.json() if response.content_type == "application/json" else {}
        if response.status != 400 or answer.get("field") != field:
            problems.append(f"{method} {path} {body!r}: {response.status} {answer}")
    assert problems == [], "\n".join(problems)
    assert await stored(sessions) == before
    # A body that is not a JSON object is refused the same way.
    response = await client.request(
        "POST",
        f"{finding_path}/dispute",
        data=b"[1, 2]",
        headers={**mei.headers, "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert await stored(sessions) == before
    assert mei_id > 0

    # Another agent reads none of it (403), and neither agent uses the inspector's tools.
    _, lan_token = await agent(sessions, shop_id, "xiaolan")
    lan = Api(client, lan_token)
    await lan.get(f"/api/v1/qc/scores/{score['id']}", 403)
    await lan.get(finding_path, 403)
    await lan.get(f"/api/v1/qc/findings?agent_id={mei_id}", 403)
    await lan.post(f"{finding_path}/acknowledge", {}, 403)
    for api in (mei, lan):
        await api.get("/api/v1/qc/queue", 403)
        await api.get(f"/api/v1/qc/conversations/{conversation_id}", 403)
        await api.get("/api/v1/qc/reports", 403)
    assert (await lan.get("/api/v1/qc/findings"))["items"] == []
