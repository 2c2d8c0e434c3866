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
    # The same event again (a platform retry): nothing applies twice.
    again = await post_raw(client, body)
    assert again.status == 200
    assert await again.json() == {"duplicate": True, "event_id": "dup-1"}
    # Reformatted (other spacing and key order): still a repeat.
    reformatted = json.dumps(json.loads(body), indent=2, sort_keys=True).encode()
    assert (await post_raw(client, reformatted)).status == 200
    # The same id with other content is no repeat: 409 naming the conflict, nothing applied.
    other = await post_raw(client, event_body("order.created", order_data("T-2"), event_id="dup-1"))
    assert other.status == 409
    answer = await other.json()
    assert answer["field"] == "event_id"
    assert "dup-1" in answer["error"]
    assert "other content" in answer["error"]
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
    ["", "sha256=", "sha256=" + "0" * 64, "md5=abc", "SHA256=deadbeef", "sha256=" + "é" * 64],
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


# -- strict at the door: what a later step would choke on is a 400 before the 202 ------------


def _message(**data: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(
        event_body("message.received", {"buyer_nick": "tb_小鱼", "text": "在吗"})
    )
    body["data"].update(data)
    return body


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_message(text="在\x00吗"), "data.text"),
        (_message(buyer_nick="tb\x00"), "data.buyer_nick"),
        (_message(text="x\ud800y"), "data.text"),
        (_message(buyer_nick="\udfff"), "data.buyer_nick"),
        (_message(order_id="T-1\x00"), "data.order_id"),
        (_message(order_id="T 1"), "data.order_id"),
        (_message(order_id="T-1\n"), "data.order_id"),
        ({**_message(), "event_id": "abc\n"}, "event_id"),
        ({**_message(), "shop_id": "test-shop\n"}, "shop_id"),
        ({**_message(), "occurred_at": "0001-01-01T00:00:00+14:00"}, "occurred_at"),
        ({**_message(), "occurred_at": "9999-12-31T23:59:59-14:00"}, "occurred_at"),
        ({**_message(), "occurred_at": "1999-12-31T23:59:59Z"}, "occurred_at"),
        ({**_message(), "occurred_at": "2999-01-01T00:00:00+08:00"}, "occurred_at"),
        # Ignored fields too: nothing that cannot be stored passes the door.
        (_message(extra={"note": "\x00"}), "data.extra.note"),
        (_message(extra=["ok", "\ud83d"]), "data.extra[1]"),
        (_message(extra=_nested(40)), "body"),
    ],
)
async def test_what_would_fail_later_is_refused_at_the_door(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, body: Any, field: str
) -> None:
    response = await post_raw(client, json.dumps(body).encode())
    assert response.status == 400, await response.text()
    answer = await response.json()
    assert answer["field"] == field
    assert answer["error"].startswith(f"{field}: ")
    await settle(client)
    assert await _count(sessions, PlatformEvent) == 0
    token = await token_for(sessions, shop_id, "boss", UserRole.SUPERVISOR)
    status = await client.get(
        f"/api/v1/events/{body['event_id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert status.status == 404


async def test_nesting_30000_deep_is_400_not_a_recursion_error(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    prefix = json.dumps(_message())[:-2].encode()  # open inside "data"
    body = prefix + b', "extra": ' + b"[" * 30_000 + b"]" * 30_000 + b"}}"
    response = await post_raw(client, body)
    assert response.status == 400
    assert await response.json() == {
        "error": "body: is nested deeper than 32 levels",
        "field": "body",
    }
    assert await _count(sessions, PlatformEvent) == 0


@pytest.mark.parametrize(
    ("amount", "field"),
    [
        (b"1" + b"0" * 4999, "data.amount"),  # Python's int refuses 4,300 digits
        (b"1" + b"0" * 40, "data.amount"),
        (b'"1' + b"0" * 4999 + b'"', "data.amount"),
        (b'"1E+999999"', "data.amount"),  # quantize cannot hold it
        (b"1e999", "data.amount"),  # a float: infinite
        (b"NaN", "body"),  # not JSON
        (b'"100000000.01"', "data.amount"),
    ],
)
async def test_numbers_out_of_range_are_400(
    client: TestClient[Any, Any], sessions: SessionFactory, amount: bytes, field: str
) -> None:
    body = event_body("order.created", {**order_data("T-big"), "amount": "@AMOUNT@"})
    response = await post_raw(client, body.replace(b'"@AMOUNT@"', amount))
    assert response.status == 400, await response.text()
    assert (await response.json())["field"] == field
    assert await _count(sessions, PlatformEvent) == 0


async def test_huge_quantity_is_400_naming_it(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    data = order_data("T-qty")
    data["items"][0]["qty"] = "@QTY@"
    body = event_body("order.created", data).replace(b'"@QTY@"', b"9" * 5000)
    response = await post_raw(client, body)
    assert response.status == 400
    assert (await response.json())["field"] == "data.items[0].qty"
    assert await _count(sessions, PlatformEvent) == 0


async def test_nesting_up_to_the_cap_is_accepted(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    # The envelope and data are two levels; 30 more make the cap of 32 exactly.
    body = _message(extra=_nested(30))
    response = await post_raw(client, json.dumps(body).encode())
    assert response.status == 202, await response.text()
    assert await _count(sessions, PlatformEvent) == 1


async def test_trailing_newline_does_not_make_a_new_event_id(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    body = _message()
    body["event_id"] = "abc"
    assert (await post_raw(client, json.dumps(body).encode())).status == 202
    body["event_id"] = "abc\n"
    again = await post_raw(client, json.dumps(body).encode())
    assert again.status == 400
    assert (await again.json())["field"] == "event_id"
    await settle(client)
    assert await _count(sessions, PlatformEvent) == 1
    assert await _count(sessions, Message) == 1


async def test_unicode_that_is_valid_is_accepted_and_processed(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """Surrogate pairs (escaped emoji), raw UTF-8 and control characters other than NUL
    are text like any other: the door refuses only what cannot be stored."""
    data = {"buyer_nick": "tb_😀", "text": "有货吗😀\t\n\x01", "order_id": "T-1"}
    raw_utf8 = event_body("message.received", data, event_id="uni-1")
    escaped = json.dumps({**json.loads(raw_utf8), "event_id": "uni-2"}).encode()
    assert b"\\ud83d\\ude00" in escaped
    assert (await post_raw(client, escaped)).status == 202
    assert (await post_raw(client, raw_utf8)).status == 202
    await settle(client)
    token = await token_for(sessions, shop_id, "boss", UserRole.SUPERVISOR)
    for event_id in ("uni-1", "uni-2"):
        status = await client.get(
            f"/api/v1/events/{event_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert (await status.json())["status"] == "processed"
    async with sessions() as session:
        texts = set(await session.scalars(select(Message.text)))
    assert texts == {"有货吗😀\t\n\x01"}


# -- failed events: visible and retryable -----------------------------------------------------


async def test_a_failed_event_is_counted_and_a_supervisor_retries_it_once_fixed(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    """``order.paid`` whose order never came fails after the not-ready window; it shows in
    ``/metrics``; retried once the order exists, it is applied (audited); retrying what
    has not failed is 409."""
    from datetime import timedelta

    from prometheus_client.parser import text_string_to_metric_families

    from csdesk.clock import utcnow
    from csdesk.ingest.retry import retry_pending_events
    from tests.helpers import deps

    boss = {
        "Authorization": f"Bearer {await token_for(sessions, shop_id, 'boss', UserRole.SUPERVISOR)}"
    }
    agent = {
        "Authorization": f"Bearer {await token_for(sessions, shop_id, 'xiaoyu', UserRole.AGENT)}"
    }

    async def failed_count() -> float:
        text = await (await client.get("/metrics", headers=boss)).text()
        (family,) = [
            f for f in text_string_to_metric_families(text) if f.name == "csdesk_events_failed"
        ]
        return family.samples[0].value

    async def status_of(event_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = await (
            await client.get(f"/api/v1/events/{event_id}", headers=boss)
        ).json()
        return answer

    await post_event(client, "order.paid", {"order_id": "T-never"}, event_id="paid-orphan")
    await settle(client)
    assert await failed_count() == 0
    await retry_pending_events(deps(client), utcnow() + timedelta(minutes=11))
    failed = await status_of("paid-orphan")
    assert failed["status"] == "failed"
    assert "not ready" in failed["error"]
    assert await failed_count() == 1

    assert (await client.post("/api/v1/events/paid-orphan/retry", headers=agent)).status == 403
    missing = await client.post("/api/v1/events/no-such/retry", headers=boss)
    assert missing.status == 404
    assert (await missing.json())["error"]

    await post_event(client, "order.created", order_data("T-never"), event_id="created-late")
    await settle(client)
    retried = await client.post("/api/v1/events/paid-orphan/retry", headers=boss)
    assert retried.status == 202
    assert (await retried.json())["status"] == "received"
    await settle(client)
    assert (await status_of("paid-orphan"))["status"] == "processed"
    assert await failed_count() == 0
    async with sessions() as session:
        order = await session.scalar(select(Order).where(Order.external_id == "T-never"))
        assert order is not None
        assert order.status.value == "paid"

    again = await client.post("/api/v1/events/paid-orphan/retry", headers=boss)
    assert again.status == 409
    assert "only a failed event" in (await again.json())["error"]
    audit = await (await client.get("/api/v1/audit?limit=50", headers=boss)).json()
    (entry,) = [row for row in audit["items"] if row["action"] == "event.retry"]
    assert entry["detail"]["event_id"] == "paid-orphan"
    assert "not ready" in entry["detail"]["error"]
