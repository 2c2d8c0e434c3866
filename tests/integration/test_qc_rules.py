"""QC rules beyond the main flow: the in-app check equals ``csdesk qc check`` on the same
transcript; the answer window closes; trainers read findings but do not answer them;
improvement proposals from findings to done; bad input named."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from csdesk.actions.qc import disputes
from csdesk.actions.qc.checks import enqueue_check
from csdesk.auth.current import CurrentUser
from csdesk.clock import utcnow
from csdesk.errors import ConflictError
from csdesk.jobs.base import JOBS_KEY
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import MessageSender, UserRole
from csdesk.storage.models import Message
from tests.helpers import deps
from tests.integration.test_qc_flow import Api, agent, closed_chat, person, run_jobs

TWO_BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
REPLY = "不知道呢，这款是全网最低价，爱买不买"


async def scored(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, settings: Settings
) -> tuple[int, Api, Api, int]:
    mei_id, mei_token = await agent(sessions, shop_id, "xiaomei")
    _, inspector_token = await person(sessions, shop_id, "zhijian", UserRole.QC_INSPECTOR)
    mei, inspector = Api(client, mei_token), Api(client, inspector_token)
    conversation_id = await closed_chat(client, sessions, mei, "小鱼", REPLY)
    await enqueue_check(client.app[JOBS_KEY], conversation_id)
    await run_jobs(client, settings)
    manual = {"accuracy": {"rating": 1}, "solved": {"rating": 5}, "privacy": {"rating": 1}}
    await inspector.post(
        f"/api/v1/qc/conversations/{conversation_id}/score/submit", {"items": manual}, 201
    )
    return conversation_id, mei, inspector, mei_id


@TWO_BACKENDS
async def test_the_in_app_check_equals_the_cli(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    conversation_id, _mei, inspector, _ = await scored(client, sessions, shop_id, settings)
    work = await inspector.get(f"/api/v1/qc/conversations/{conversation_id}")
    async with sessions() as session:
        rows = list(
            await session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.sender.in_([MessageSender.BUYER, MessageSender.AGENT]),
                )
                .order_by(Message.sent_at, Message.id)
            )
        )
    transcript = {
        "role": work["conversation"]["role"],
        "messages": [
            {"from": m.sender.value, "at": m.sent_at.isoformat(), "text": m.text} for m in rows
        ],
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csdesk",
        "qc",
        "check",
        "--json",
        "-",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CSDESK_DATA_DIR": str(settings.data_dir)},
    )
    stdout, stderr = await process.communicate(json.dumps(transcript).encode())
    assert process.returncode == 0, stderr.decode()
    cli = json.loads(stdout)
    in_app = [
        (h["category"], h["rule"], h["severity"], h["message_index"], h["span"], h["points"])
        for h in work["hits"]
    ]
    from_cli = [
        (h["category"], h["rule"], h["severity"], h["message_index"], h["span"], h["points"])
        for h in cli["hits"]
    ]
    assert sorted(in_app) == sorted(from_cli)
    assert cli["score"] == work["auto_score"]
    assert {"forbidden_phrase", "extreme_words"} <= {h[0] for h in in_app}


@TWO_BACKENDS
async def test_the_answer_window_closes_and_trainers_only_read(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    _, mei, _inspector, mei_id = await scored(client, sessions, shop_id, settings)
    _, trainer_token = await person(sessions, shop_id, "peixun", UserRole.TRAINER)
    trainer = Api(client, trainer_token)
    findings = (await trainer.get(f"/api/v1/qc/findings?agent_id={mei_id}"))["items"]
    assert findings
    finding_id = findings[0]["id"]
    await trainer.get(f"/api/v1/qc/findings/{finding_id}")
    await trainer.post(f"/api/v1/qc/findings/{finding_id}/acknowledge", {}, 403)
    late = utcnow() + timedelta(days=8)  # the default window is 7 days
    me = CurrentUser(mei_id, shop_id, "xiaomei", "xiaomei", UserRole.AGENT, via_token=True)
    with pytest.raises(ConflictError, match="window closed"):
        await disputes.dispute(deps(client), me, finding_id, "晚了", late)
    acknowledged = await mei.post(f"/api/v1/qc/findings/{finding_id}/acknowledge", {})
    assert acknowledged["status"] == "acknowledged"


@TWO_BACKENDS
async def test_proposals_from_findings_to_done(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    _, mei, inspector, mei_id = await scored(client, sessions, shop_id, settings)
    _, lead_token = await person(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    lead = Api(client, lead_token)
    ids = [f["id"] for f in (await inspector.get("/api/v1/qc/findings"))["items"]]
    for body, field in (
        ({"title": "", "finding_ids": ids}, "title"),
        ({"title": "t", "finding_ids": []}, "finding_ids"),
        ({"title": "t", "finding_ids": [2**64]}, "finding_ids"),
        ({"title": "t", "finding_ids": [999999]}, "finding_ids"),
    ):
        assert (await inspector.post("/api/v1/qc/proposals", body, 400))["field"] == field
    await mei.post("/api/v1/qc/proposals", {"title": "t", "finding_ids": ids}, 403)
    raised = await inspector.post(
        "/api/v1/qc/proposals", {"title": "禁用语培训", "finding_ids": ids}, 201
    )
    path = f"/api/v1/qc/proposals/{raised['id']}/status"
    await inspector.post(path, {"status": "done"}, 403)
    assert (await lead.post(path, {"status": "later"}, 400))["field"] == "status"
    assert (await lead.post(path, {"status": "in_progress"}))["status"] == "in_progress"
    done = await lead.post(path, {"status": "done"})
    assert done["status"] == "done"
    assert done["done_at"] is not None
    await lead.post(path, {"status": "open"}, 409)
    assert [p["id"] for p in (await lead.get("/api/v1/qc/proposals"))["items"]] == [raised["id"]]
    await mei.get("/api/v1/qc/proposals", 403)
    assert mei_id > 0
