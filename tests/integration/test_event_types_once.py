"""The platform event types exist once (``csdesk.platform_events``): the validator accepts
exactly them, and the served OpenAPI document and ``docs/events.md`` list exactly them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from csdesk.ingest import schema
from csdesk.platform_events import EVENT_TYPES
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from tests.helpers import token_for

EVENTS_DOC = Path(__file__).parents[2] / "docs" / "events.md"


def test_the_validator_accepts_the_one_list() -> None:
    assert schema.EVENT_TYPES is EVENT_TYPES


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_openapi_event_enum_is_the_one_list(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    token = await token_for(sessions, shop_id, "reader", UserRole.AGENT)
    response = await client.get("/api/openapi.json", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    document = await response.json()
    body = document["paths"]["/api/v1/events"]["post"]["requestBody"]
    enum = body["content"]["application/json"]["schema"]["properties"]["type"]["enum"]
    assert enum == list(EVENT_TYPES)


def _table_types(markdown: str, heading: str) -> list[str]:
    """The backticked first-column entries of the table under ``## heading``."""
    section = markdown.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_.]+)` \|", section, flags=re.MULTILINE)


@pytest.mark.parametrize("heading", ["`data` per type", "What each does"])
def test_docs_list_every_event_type(heading: str) -> None:
    assert _table_types(EVENTS_DOC.read_text(encoding="utf-8"), heading) == list(EVENT_TYPES)
