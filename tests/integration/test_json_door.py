"""Every JSON endpoint refuses, with 400 naming the field, what its handler could not read
or a database could not store: a body that is not UTF-8, not a JSON object, too deep, or
holding NUL or a lone surrogate; access is checked before the body is read."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole
from tests.integration.test_role_workbench_api import agent, call, login_as

pytestmark = pytest.mark.usefixtures("shop_id")

NO_BODY = frozenset(
    {
        ("POST", "/api/v1/guided/next"),
        ("POST", "/api/v1/events/{event_id}/retry"),
        ("POST", "/api/v1/deliveries/{delivery_id}/retry"),
        ("POST", "/api/v1/admin/webhooks/{subscription_id}/test"),
        ("POST", "/api/v1/alerts/test"),
        ("POST", "/api/v1/quick-replies/library/store"),
        ("POST", "/api/v1/shop/triage-model/retrain"),
        ("POST", "/api/v1/shop/triage-model/rollback"),
    }
)
"""Routes that read no body: nothing to refuse."""
UPLOADS = frozenset(
    {("POST", "/api/v1/media"), ("POST", "/api/v1/training/courses/{course_id}/assets")}
)
"""Routes that read a multipart form, not JSON: a bad upload is their own tests' concern."""
AGENT_ONLY = frozenset(
    {
        "/api/v1/qc/findings/1/dispute",
        "/api/v1/qc/findings/1/acknowledge",
        "/api/v1/training/assignments/1/attempts",
    }
)
"""Routes only the agent concerned may call: an owner is refused before the body is read."""
PATH_VALUES = {"day": "2026-11-11", "name": "双十一"}


def _json_writes(client: TestClient[Any, Any]) -> list[tuple[str, str]]:
    routes = []
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if (
            path.startswith("/api/")
            and route.method in {"POST", "PUT"}
            and path != "/api/v1/events"
            and (route.method, path) not in NO_BODY | UPLOADS
        ):
            concrete = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m[1], "1"), path)
            routes.append((route.method, concrete))
    return sorted(routes)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"\xff\xfe{}", "body"),
        (b"[1, 2]", "body"),
        (b'"text"', "body"),
        (b"{", "body"),
        (b"[" * 5000 + b"]" * 5000, "body"),
    ],
)
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_every_json_endpoint_answers_a_bad_body_with_400(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, body: bytes, field: str
) -> None:
    owner = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    _, mine = await agent(sessions, shop_id, "agent", [ServiceRole.PRESALES])
    writes = _json_writes(client)
    assert len(writes) > 20
    answers = {}
    for method, path in writes:
        headers = {**(mine if path in AGENT_ONLY else owner), "Content-Type": "application/json"}
        response = await client.request(method, path, data=body, headers=headers)
        answer = await response.json()
        answers[(method, path)] = (response.status, answer.get("field"))
    wrong = {route: answer for route, answer in answers.items() if answer != (400, field)}
    assert wrong == {}


async def test_nul_and_lone_surrogates_in_a_reply_are_refused_naming_the_field(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, me = await agent(sessions, shop_id, "agent", [ServiceRole.PRESALES])
    for text in ("在\x00吗", "x\ud800y"):
        response = await client.post(
            "/api/v1/conversations/1/reply",
            data=json.dumps({"text": text}).encode(),
            headers={**me, "Content-Type": "application/json"},
        )
        assert response.status == 400
        answer = await response.json()
        assert answer["field"] == "text"


async def test_an_agent_hears_403_on_the_shop_config_whatever_the_body(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    _, me = await agent(sessions, shop_id, "agent", [ServiceRole.PRESALES])
    for body in (b"\xff\xfe", b"[]", b'{"config": {}}'):
        response = await client.put(
            "/api/v1/shop/config", data=body, headers={**me, "Content-Type": "application/json"}
        )
        assert response.status == 403, await response.text()


async def test_wrong_types_in_known_fields_are_400_naming_them(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    owner = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    answer = await call(
        client, "PUT", "/api/v1/shop/config", owner, {"config": {"promotion": {}}}, status=400
    )
    assert answer["field"] == "promotion"
    _, me = await agent(sessions, shop_id, "agent", [ServiceRole.PRESALES])
    answer = await call(
        client,
        "POST",
        "/api/v1/conversations/1/transfer",
        me,
        {"to_role": {"x": 1}, "note": "n"},
        status=400,
    )
    assert answer["field"] == "to_role"


async def test_unknown_api_paths_answer_json_404(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    owner = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    response = await client.get("/api/v1/no-such-thing", headers=owner)
    assert response.status == 404
    assert response.content_type == "application/json"
    assert "error" in await response.json()
    wrong_method = await client.delete("/api/v1/queues", headers=owner)
    assert wrong_method.status == 405
    assert (await wrong_method.json())["error"]
    assert "GET" in wrong_method.headers["Allow"]


async def test_console_pages_answer_refusals_with_the_html_error_page(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """The same middleware answers the console in HTML: an unknown item is the 404 page,
    a bad id too, never a traceback or JSON."""
    lead = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    for path in ("/console/refund-items/999999", "/console/refund-items/x"):
        response = await client.get(path, headers=lead)
        assert response.status == 404, path
        assert response.content_type == "text/html"
        assert "not found" in await response.text()


async def test_ids_beyond_64_bits_are_400_not_a_database_error(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    lead = await login_as(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    answer = await call(
        client,
        "POST",
        "/api/v1/supervisor/conversations/bulk",
        lead,
        {"action": "requeue", "conversation_ids": [2**64]},
        status=400,
    )
    assert answer["field"] == "conversation_ids"
    answer = await call(
        client,
        "POST",
        "/api/v1/guided/skip",
        lead,
        {"conversation_id": 10**29, "reason": "r"},
        status=400,
    )
    assert answer["field"] == "conversation_id"
