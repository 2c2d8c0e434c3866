"""Test helpers that go through the product's own paths (signed HTTP, real actions)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from csdesk.actions.agents import AgentProfileSpec, set_agent_profile
from csdesk.actions.events import Accepted, accept_events
from csdesk.actions.outbox import Deps
from csdesk.actions.users import as_current_user, create_user, issue_token
from csdesk.auth.current import CurrentUser
from csdesk.ingest.schema import PlatformEventIn
from csdesk.ingest.signature import sign
from csdesk.keys import BUS_KEY, PROCESSOR_KEY, SESSIONS_KEY
from csdesk.routing.queues import QUEUE_KEY
from csdesk.storage.engine import SessionFactory, engine_of
from csdesk.storage.enums import AgentStatus, ServiceRole, UserRole
from csdesk.storage.held import HeldConnection
from csdesk.storage.models import User
from tests.conftest import TEST_SHOP, WEBHOOK_SECRET

_ids = itertools.count(1)


def event_body(
    event_type: str,
    data: dict[str, Any],
    *,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
    shop_id: str = TEST_SHOP,
) -> bytes:
    return json.dumps(
        {
            "event_id": event_id or f"evt-{next(_ids)}",
            "type": event_type,
            "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
            "shop_id": shop_id,
            "data": data,
        },
        ensure_ascii=False,
    ).encode()


async def accept(
    sessions: SessionFactory, events: Sequence[PlatformEventIn], now: datetime
) -> list[Accepted]:
    """Accept events as the acceptor does, on a connection of its own (not over HTTP)."""
    connection = HeldConnection(engine_of(sessions))
    try:
        return await accept_events(connection, events, now)
    finally:
        await connection.close()


async def post_raw(
    client: TestClient[Any, Any], body: bytes, *, signature: str | None = None
) -> ClientResponse:
    headers = {
        "Content-Type": "application/json",
        "X-Csdesk-Signature": signature if signature is not None else sign(body, WEBHOOK_SECRET),
    }
    return await client.post("/api/v1/events", data=body, headers=headers)


async def post_event(
    client: TestClient[Any, Any], event_type: str, data: dict[str, Any], **kwargs: Any
) -> ClientResponse:
    response = await post_raw(client, event_body(event_type, data, **kwargs))
    assert response.status in (200, 202), await response.text()
    return response


async def settle(client: TestClient[Any, Any]) -> None:
    """Until the web process has applied every event it accepted."""
    await client.app[PROCESSOR_KEY].wait_idle()


async def actor(sessions: SessionFactory, user_id: int) -> CurrentUser:
    """A stored user as an action sees the one signed in (``actor`` of the actions)."""
    async with sessions() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return as_current_user(user)


def deps(client: TestClient[Any, Any]) -> Deps:
    return Deps(client.app[SESSIONS_KEY], client.app[BUS_KEY], client.app[QUEUE_KEY])


async def make_agent(
    sessions: SessionFactory,
    shop_id: str,
    username: str,
    roles: Sequence[ServiceRole],
    *,
    status: AgentStatus = AgentStatus.ONLINE,
    chat_capacity: int = 5,
    hotline_capacity: int = 1,
    skills: Sequence[str] = (),
) -> int:
    user = await create_user(
        sessions,
        shop_id=shop_id,
        username=username,
        role=UserRole.AGENT,
        password="agent-password-1",
    )
    async with sessions.begin() as session:
        await set_agent_profile(
            session,
            shop_id,
            AgentProfileSpec(
                user_id=user.id,
                service_roles=tuple(roles),
                skills=tuple(skills),
                chat_capacity=chat_capacity,
                hotline_capacity=hotline_capacity,
                status=status,
            ),
        )
    return user.id


async def token_for(sessions: SessionFactory, shop_id: str, username: str, role: UserRole) -> str:
    await create_user(
        sessions, shop_id=shop_id, username=username, role=role, password="password-123"
    )
    return await issue_token(sessions, username)


def order_data(
    order_id: str, *, nick: str = "买家小王", amount: str = "199.00", **extra: Any
) -> dict[str, Any]:
    return {
        "buyer_nick": nick,
        "order_id": order_id,
        "amount": amount,
        "items": [{"sku": "CUP-1", "title": "保温杯", "qty": 1, "price": amount}],
        "address": "浙江省杭州市余杭区文一西路969号",
        "receiver_name": "王小明",
        "receiver_phone": "13800001234",
        **extra,
    }
