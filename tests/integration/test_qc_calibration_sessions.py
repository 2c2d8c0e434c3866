"""Calibration sessions through HTTP: blind while open, α (the krippendorff package) and
drift once closed; improvement proposals from findings to done; bad input named."""

from __future__ import annotations

from typing import Any

import krippendorff
import numpy as np
import pytest
from aiohttp.test_utils import TestClient

from csdesk.actions.qc.checks import enqueue_check
from csdesk.jobs.base import JOBS_KEY
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from tests.integration.test_qc_flow import Api, agent, closed_chat, person, run_jobs

SQL_ONLY = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def card(manual: int, *, crit: int = 1) -> dict[str, Any]:
    ratings = {
        "greeting": 5,
        "order_confirm": None,
        "closing": 5,
        "rating_invite": 5,
        "first_response": 5,
        "waiting": 5,
        "forbidden": 5,
        "extreme": 5,
        "accuracy": manual,
        "solved": manual,
        "abuse": crit,
        "privacy": 1,
    }
    return {key: {"rating": value} for key, value in ratings.items()}


@SQL_ONLY
async def test_blind_session_then_alpha_and_drift(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    _, mei_token = await agent(sessions, shop_id, "xiaomei")
    mei = Api(client, mei_token)
    conversations = [
        await closed_chat(client, sessions, mei, f"买家{n}", text)
        for n, text in enumerate(["您好，有货", "有", "您好，有货的，感谢光临"])
    ]
    for conversation_id in conversations:
        await enqueue_check(client.app[JOBS_KEY], conversation_id)
    await run_jobs(client, settings)
    a_id, a_token = await person(sessions, shop_id, "zhijian-a", UserRole.QC_INSPECTOR)
    b_id, b_token = await person(sessions, shop_id, "zhijian-b", UserRole.QC_INSPECTOR)
    c_id, c_token = await person(sessions, shop_id, "zhijian-c", UserRole.QC_INSPECTOR)
    _, lead_token = await person(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    lead = Api(client, lead_token)
    inspectors = {
        a_id: Api(client, a_token),
        b_id: Api(client, b_token),
        c_id: Api(client, c_token),
    }

    for body, field in (
        ({"title": "", "conversation_ids": conversations, "inspector_ids": [a_id, b_id]}, "title"),
        (
            {"title": "t", "conversation_ids": "1", "inspector_ids": [a_id, b_id]},
            "conversation_ids",
        ),
        (
            {"title": "t", "conversation_ids": conversations, "inspector_ids": [a_id]},
            "inspector_ids",
        ),
        (
            {"title": "t", "conversation_ids": [999999], "inspector_ids": [a_id, b_id]},
            "conversation_ids[0]",
        ),
    ):
        assert (await lead.post("/api/v1/qc/calibrations", body, 400))["field"] == field
    await inspectors[a_id].post(
        "/api/v1/qc/calibrations",
        {"title": "t", "conversation_ids": conversations, "inspector_ids": [a_id, b_id]},
        403,
    )
    created = await lead.post(
        "/api/v1/qc/calibrations",
        {
            "title": "十二月校准",
            "conversation_ids": conversations,
            "inspector_ids": list(inspectors),
        },
        201,
    )
    path = f"/api/v1/qc/calibrations/{created['id']}"
    # Rater a is strict, b in line, c lenient on the manual items.
    manual = {a_id: [2, 1, 3], b_id: [3, 2, 4], c_id: [5, 3, 5]}
    for inspector_id, api in inspectors.items():
        bad = await api.post(
            f"{path}/scores", {"conversation_id": conversations[0], "items": {}}, 400
        )
        assert bad["field"].startswith("items.")
        for conversation_id, value in zip(conversations, manual[inspector_id], strict=True):
            await api.post(
                f"{path}/scores", {"conversation_id": conversation_id, "items": card(value)}, 201
            )
    # Blind while open: each inspector sees only their own scores.
    seen = await inspectors[a_id].get(path)
    assert {s["inspector_id"] for s in seen["scores"]} == {a_id}
    assert seen["result"] == {}
    await inspectors[a_id].post(f"{path}/close", {}, 403)
    closed = await lead.post(f"{path}/close", {})
    assert closed["status"] == "closed"
    overall = closed["result"]["overall"]
    detail = await inspectors[a_id].get(path)
    assert len(detail["scores"]) == 9  # everyone's, once closed
    totals = np.array(
        [
            [
                next(
                    s["total"]
                    for s in detail["scores"]
                    if s["inspector_id"] == i and s["conversation_id"] == c
                )
                for c in conversations
            ]
            for i in inspectors
        ]
    )
    expected = krippendorff.alpha(reliability_data=totals, level_of_measurement="interval")
    assert overall["alpha"] == pytest.approx(expected, abs=1e-9)
    accuracy = closed["result"]["items"]["accuracy"]["alpha"]
    ordinal = krippendorff.alpha(
        reliability_data=np.array([manual[i] for i in inspectors], dtype=float),
        level_of_measurement="ordinal",
    )
    assert accuracy == pytest.approx(ordinal, abs=1e-9)
    assert closed["result"]["items"]["greeting"]["alpha"] is None  # no variation: undefined
    verdicts = {d["rater"]: d["verdict"] for d in closed["result"]["drift"]}
    assert verdicts == {str(a_id): "too_strict", str(b_id): "in_line", str(c_id): "too_lenient"}
    await inspectors[b_id].post(
        f"{path}/scores", {"conversation_id": conversations[0], "items": card(3)}, 409
    )
    history = await lead.get("/api/v1/qc/drift")
    assert {h["inspector"]["id"] for h in history["inspectors"]} == set(inspectors)
