"""QC reports through HTTP: finding rates per slice, top rules, throughput, disputes; the
SVG chart; CSV and XLSX exports that open; bad input named; agents refused."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook

from csdesk.actions.qc.checks import enqueue_check
from csdesk.jobs.base import JOBS_KEY
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from tests.integration.test_qc_flow import Api, agent, closed_chat, person, run_jobs

TWO_BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@TWO_BACKENDS
async def test_reports_and_exports(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, settings: Settings
) -> None:
    _, mei_token = await agent(sessions, shop_id, "xiaomei")
    _, inspector_token = await person(sessions, shop_id, "zhijian", UserRole.QC_INSPECTOR)
    _, lead_token = await person(sessions, shop_id, "zhuguan", UserRole.SUPERVISOR)
    mei, inspector, lead = (
        Api(client, mei_token),
        Api(client, inspector_token),
        Api(client, lead_token),
    )
    conversations = [
        await closed_chat(client, sessions, mei, f"买家{n}", text)
        for n, text in enumerate(["不知道", "您好，有货的，感谢光临，欢迎评价"])
    ]
    for conversation_id in conversations:
        await enqueue_check(client.app[JOBS_KEY], conversation_id)
    await run_jobs(client, settings)
    manual = {"accuracy": {"rating": 3}, "solved": {"rating": 5}, "privacy": {"rating": 1}}
    for conversation_id in conversations:
        await inspector.post(
            f"/api/v1/qc/conversations/{conversation_id}/score/submit", {"items": manual}, 201
        )
    findings = (await mei.get("/api/v1/qc/findings"))["items"]
    await mei.post(f"/api/v1/qc/findings/{findings[0]['id']}/dispute", {"comment": "不同意"}, 201)

    report = await lead.get("/api/v1/qc/reports?by=agent")
    (rate,) = report["tables"]["rates"]["rows"]
    assert rate[0] == "xiaomei"
    assert rate[1] == len(findings)
    assert rate[2] == 2  # scored conversations
    assert rate[3] == round(len(findings) / 2, 3)
    rules = {row[0]: row[3] for row in report["tables"]["top_rules"]["rows"]}
    assert rules["forbidden_phrase"] >= 1
    assert report["tables"]["throughput"]["rows"] == [
        ["zhijian", 2, pytest.approx(2 / 14, abs=0.01)]
    ]
    disputes = dict(report["tables"]["disputes"]["rows"])
    assert disputes["disputed"] == 1
    assert disputes["pending"] == 1
    by_category = await lead.get("/api/v1/qc/reports?by=category")
    assert "accuracy" in {row[0] for row in by_category["tables"]["rates"]["rows"]}

    chart = await client.get("/api/v1/qc/reports/chart.svg?by=agent", headers=lead.headers)
    assert chart.content_type == "image/svg+xml"
    svg = ET.fromstring(await chart.text())
    assert svg.tag.endswith("svg")
    assert "xiaomei" in await chart.text()

    exported = await client.get(
        "/api/v1/qc/reports/export?table=rates&format=csv&by=agent", headers=lead.headers
    )
    assert exported.status == 200
    rows = list(csv.reader(io.StringIO((await exported.read()).decode("utf-8-sig"))))
    assert rows[0] == ["agent", "findings", "scored", "rate"]
    assert rows[1][0] == "xiaomei"
    xlsx = await client.get(
        "/api/v1/qc/reports/export?table=top_rules&format=xlsx", headers=lead.headers
    )
    assert xlsx.status == 200
    assert "attachment" in xlsx.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(await xlsx.read())).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("rule", "category", "severity", "hits", "per_checked")
    assert len(values) == 1 + len(report["tables"]["top_rules"]["rows"])

    for query, field in (
        ("by=weather", "by"),
        ("start=yesterday", "start"),
        ("start=2026-01-02&end=2026-01-01", "start"),
        ("start=2025-01-01&end=2026-01-01", "start"),
    ):
        assert (await lead.get(f"/api/v1/qc/reports?{query}", 400))["field"] == field
    bad = await lead.get("/api/v1/qc/reports/export?table=everything", 400)
    assert bad["field"] == "table"
    bad = await lead.get("/api/v1/qc/reports/export?table=rates&format=pdf", 400)
    assert bad["field"] == "format"
    await mei.get("/api/v1/qc/reports", 403)
    await inspector.get("/api/v1/qc/reports", 403)
