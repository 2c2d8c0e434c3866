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
