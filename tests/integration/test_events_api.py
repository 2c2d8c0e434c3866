"""``POST /api/v1/events`` and ``GET /api/v1/events/{id}`` per contract, every bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from csdesk.ingest.signature import sign
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from csdesk.storage.models import Conversation, Message, Order, PlatformEvent
from tests.conftest import WEBHOOK_SECRET
from tests.helpers import event_body, order_data, post_event, post_raw, settle, token_for

pytestmark = pytest.mark.usefixtures("shop_id")


async def _count(sessions: SessionFactory, model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_accepted_event_is_processed_and_visible(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    response = await post_raw(
        client,
        event_body(
            "message.received", {"buyer_nick": "tb_小鱼", "text": "这个有货吗"}, event_id="m-1"
        ),
    )
    assert response.status == 202
    assert await response.json() == {"accepted": True, "event_id": "m-1"}
    await settle(client)
    token = await token_for(sessions, shop_id, "boss", UserRole.SUPERVISOR)
    status = await client.get("/api/v1/events/m-1", headers={"Authorization": f"Bearer {token}"})
    assert status.status == 200
    body = await status.json()
    assert body["event_id"] == "m-1"
    assert body["type"] == "message.received"
    assert body["status"] == "processed"
    assert body["received_at"]
    assert await _count(sessions, Message) == 1


async def test_repeated_event_id_changes_nothing(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    body = event_body("order.created", order_data("T-1"), event_id="dup-1")
    first = await post_raw(client, body)
    assert first.status == 202
    await settle(client)
    snapshot = (
        await _count(sessions, Order),
        await _count(sessions, Conversation),
        await _count(sessions, PlatformEvent),
    )
    # Same id, even with a different body: a platform retry must never apply twice.
    again = await post_raw(client, event_body("order.created", order_data("T-2"), event_id="dup-1"))
    assert again.status == 200
    assert await again.json() == {"duplicate": True, "event_id": "dup-1"}
    await settle(client)
    assert (
        await _count(sessions, Order),
        await _count(sessions, Conversation),
        await _count(sessions, PlatformEvent),
    ) == snapshot


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("event_id"), "event_id"),
        (lambda b: b.update(event_id=""), "event_id"),
        (lambda b: b.update(event_id="has space"), "event_id"),
        (lambda b: b.update(type="order.teleported"), "type"),
        (lambda b: b.pop("occurred_at"), "occurred_at"),
        (lambda b: b.update(occurred_at="yesterday"), "occurred_at"),
        (lambda b: b.update(occurred_at="2026-11-11T00:00:00"), "occurred_at"),
        (lambda b: b.pop("shop_id"), "shop_id"),
        (lambda b: b.update(shop_id="no-such-shop"), "shop_id"),
        (lambda b: b.update(data=[]), "data"),
        (lambda b: b["data"].pop("order_id"), "data.order_id"),
        (lambda b: b["data"].update(amount="12.345"), "data.amount"),
        (lambda b: b["data"].update(amount=-1), "data.amount"),
        (lambda b: b["data"].update(amount=True), "data.amount"),
        (lambda b: b["data"].update(items=[]), "data.items"),
        (lambda b: b["data"]["items"][0].update(qty=0), "data.items[0].qty"),
        (lambda b: b["data"]["items"][0].pop("sku"), "data.items[0].sku"),
        (lambda b: b["data"].update(gifts="HDMI"), "data.gifts"),
        (lambda b: b["data"].update(buyer_tier="platinum"), "data.buyer_tier"),
    ],
)
async def test_malformed_event_is_400_naming_the_field(
    client: TestClient[Any, Any], sessions: SessionFactory, mutate: Any, field: str
) -> None:
    body = json.loads(event_body("order.created", order_data("T-9")))
    mutate(body)
    response = await post_raw(client, json.dumps(body).encode())
    assert response.status == 400
    answer = await response.json()
    assert answer["field"] == field
    assert answer["error"].startswith(field)
    assert await _count(sessions, PlatformEvent) == 0


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[1, 2]", b"\xff\xfe", b'{"event_id": "x"'],
)
async def test_unparseable_body_is_400(client: TestClient[Any, Any], raw: bytes) -> None:
    response = await post_raw(client, raw)
    assert response.status == 400
    assert (await response.json())["field"] == "body"


@pytest.mark.parametrize(
    "signature",
    ["", "sha256=", "sha256=" + "0" * 64, "md5=abc", "SHA256=deadbeef"],
)
async def test_unsigned_or_wrongly_signed_is_401(
    client: TestClient[Any, Any], sessions: SessionFactory, signature: str
) -> None:
    body = event_body("order.created", order_data("T-3"))
    response = await post_raw(client, body, signature=signature)
    assert response.status == 401
    assert await _count(sessions, PlatformEvent) == 0


async def test_signature_with_another_secret_is_401(client: TestClient[Any, Any]) -> None:
    body = event_body("order.created", order_data("T-4"))
    response = await post_raw(client, body, signature=sign(body, WEBHOOK_SECRET + "x"))
    assert response.status == 401


async def test_over_64_kib_is_413(client: TestClient[Any, Any], sessions: SessionFactory) -> None:
    body = event_body("message.received", {"buyer_nick": "x", "text": "长" * 30_000})
    assert len(body) > 64 * 1024
    response = await post_raw(client, body)
    assert response.status == 413
    assert await _count(sessions, PlatformEvent) == 0


async def test_event_status_access(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    await post_event(
        client, "message.received", {"buyer_nick": "a", "text": "在吗"}, event_id="seen"
    )
    await settle(client)
    agent = await token_for(sessions, shop_id, "agent1", UserRole.AGENT)
    boss = await token_for(sessions, shop_id, "boss1", UserRole.OWNER)
    assert (await client.get("/api/v1/events/seen")).status == 401
    forbidden = await client.get(
        "/api/v1/events/seen", headers={"Authorization": f"Bearer {agent}"}
    )
    assert forbidden.status == 403
    unknown = await client.get("/api/v1/events/never", headers={"Authorization": f"Bearer {boss}"})
    assert unknown.status == 404


async def test_event_before_what_it_refers_to_waits_then_applies(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """order.paid before order.created (two web processes, network reordering) is kept
    ``received`` and applied by the retry sweep once the order exists."""
    from datetime import timedelta

    from csdesk.clock import utcnow
    from csdesk.ingest.retry import retry_pending_events
    from tests.helpers import deps

    await post_event(client, "order.paid", {"order_id": "T-late"}, event_id="paid-first")
    await settle(client)
    async with sessions() as session:
        event = await session.scalar(
            select(PlatformEvent).where(PlatformEvent.event_id == "paid-first")
        )
        assert event is not None
        assert event.status.value == "received"
    await post_event(client, "order.created", order_data("T-late"), event_id="created-second")
    await settle(client)
    assert await retry_pending_events(deps(client), utcnow() + timedelta(minutes=1)) == 1
    async with sessions() as session:
        order = await session.scalar(select(Order).where(Order.external_id == "T-late"))
        assert order is not None
        assert order.status.value == "paid"
        event = await session.scalar(
            select(PlatformEvent).where(PlatformEvent.event_id == "paid-first")
        )
        assert event is not None
        assert event.status.value == "processed"


async def test_the_retry_sweep_hands_stragglers_to_this_processs_processor(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """Embedded: what the sweep finds joins the local processor's queue (its write gate and
    batch limits) instead of being applied in one long transaction of the sweep's own."""
    from datetime import timedelta

    from csdesk.clock import utcnow
    from csdesk.ingest.retry import retry_pending_events
    from csdesk.keys import PROCESSOR_KEY
    from tests.helpers import deps

    processor = client.app[PROCESSOR_KEY]
    await post_event(client, "order.paid", {"order_id": "T-late2"}, event_id="paid-first-2")
    await settle(client)
    await post_event(client, "order.created", order_data("T-late2"), event_id="created-2")
    await settle(client)
    queued_before = processor.paths["queued"]
    later = utcnow() + timedelta(minutes=1)
    assert await retry_pending_events(deps(client), later, hand_to=processor.adopt) == 1
    await settle(client)
    assert processor.paths["queued"] == queued_before + 1  # applied by the processor
    async with sessions() as session:
        event = await session.scalar(
            select(PlatformEvent).where(PlatformEvent.event_id == "paid-first-2")
        )
        assert event is not None
        assert event.status.value == "processed"
    # Nothing left: the next sweep finds nothing to hand on.
    assert await retry_pending_events(deps(client), later, hand_to=processor.adopt) == 0
