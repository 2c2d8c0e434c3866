"""The OpenAPI document lists exactly the app's /api/ routes (it cannot drift)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from tests.helpers import token_for


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_openapi_lists_every_api_route(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    assert (await client.get("/api/openapi.json")).status == 401
    token = await token_for(sessions, shop_id, "reader", UserRole.AGENT)
    response = await client.get("/api/openapi.json", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    document = await response.json()
    assert document["openapi"].startswith("3.")
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    routed = {
        (route.resource.canonical, route.method)
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
    }
    assert documented == routed


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_each_operation_states_the_refusals_it_gives(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """A route that reads a body answers 400 for a bad one (the error middleware), and a
    route behind a login answers 401 without one: the document says so for each."""
    token = await token_for(sessions, shop_id, "reader", UserRole.AGENT)
    response = await client.get("/api/openapi.json", headers={"Authorization": f"Bearer {token}"})
    document = await response.json()
    for path, ops in document["paths"].items():
        for method, operation in ops.items():
            answers = set(operation["responses"])
            if "requestBody" in operation:
                assert "400" in answers, (method, path)
            if operation.get("security") != [{"signature": []}] and path != "/api/openapi.json":
                assert "401" in answers, (method, path)
            for code in answers & {"400", "403", "404", "409"}:
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema["required"] == ["error"], (method, path, code)
