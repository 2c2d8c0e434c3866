"""Property: whatever is posted to the events API, signed properly, the answer is never a
5xx, and an event that is accepted (202) is applied (``processed``), never ``failed``: what
a later step would choke on must be refused at the door. Arbitrary Unicode (NUL, lone
surrogates, control characters, astral planes) in every field, wrong JSON types and shapes
anywhere; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from tests.conftest import TEST_SHOP
from tests.helpers import order_data, post_event, post_raw, settle, token_for

pytestmark = pytest.mark.usefixtures("shop_id")

ORDERS = ("T-1", "T-2")
REFUNDS = ("R-1",)
WAITS_FOR = {
    "order.paid": "order_id",
    "order.shipped": "order_id",
    "refund.requested": "order_id",
    "refund.cancelled": "refund_id",
    "return.received": "refund_id",
}
"""Types applied only once what they refer to is recorded (until then: ``received``)."""

any_char = st.characters(exclude_categories=())  # surrogates and NUL included
any_text = st.text(max_size=40) | st.text(any_char, max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=6,
)
identifiers = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,12}", fullmatch=True)


def maybe(good: st.SearchStrategy[Any], wild_one_in: int = 20) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, now and then anything at all."""
    # Not at the ends of the range: Hypothesis draws those far more often than 1 in 100.
    return st.integers(0, 99).flatmap(lambda n: json_values if n % wild_one_in == 3 else good)


def fields(**spec: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Each field present (plausible or not) or, in one event of four, one left out."""
    present = st.fixed_dictionaries({name: maybe(value) for name, value in spec.items()})
    one_out = st.tuples(present, st.sampled_from(sorted(spec))).map(
        lambda drawn: {k: v for k, v in drawn[0].items() if k != drawn[1]}
    )
    return st.integers(0, 99).flatmap(lambda n: one_out if n % 4 == 3 else present)


# Text as a buyer might type it (any code point but surrogates, NUL and controls included),
# and now and then with lone surrogates too.
texts = maybe(st.text(min_size=1, max_size=40), 5) | maybe(any_text, 5)
order_ids = st.sampled_from(ORDERS) | identifiers
amounts = (
    maybe(
        st.decimals(min_value=0, max_value=10**8, places=2).map(str)
        | st.integers(min_value=0, max_value=10**8),
        5,
    )
    | st.integers(min_value=-10, max_value=10**40)
    | st.floats()
    | any_text
)
item = fields(sku=texts, title=texts, qty=maybe(st.integers(1, 10_000), 5), price=amounts)
DATA = {
    "message.received": fields(
        buyer_nick=texts,
        text=maybe(st.text(min_size=1, max_size=300), 5) | st.text(any_char, max_size=300),
        buyer_tier=st.sampled_from(["normal", "vip", "88vip"]),
        order_id=order_ids,
    ),
    "order.created": fields(
        buyer_nick=texts,
        order_id=identifiers,
        amount=amounts,
        items=st.lists(item, min_size=1, max_size=3),
        gifts=st.lists(texts, max_size=3),
        campaign=texts,
        invoice_title=texts,
        receiver_name=texts,
        receiver_phone=texts,
        address=texts,
        buyer_tier=st.sampled_from(["vip", "88vip"]),
    ),
    "order.paid": fields(order_id=order_ids),
    "order.shipped": fields(order_id=order_ids, tracking_no=texts),
    "refund.requested": fields(
        refund_id=identifiers,
        order_id=order_ids,
        amount=amounts,
        reason=texts,
        kind=st.sampled_from(["refund_only", "return_and_refund"]),
    ),
    "refund.cancelled": fields(refund_id=st.sampled_from(REFUNDS) | identifiers),
    "return.received": fields(refund_id=st.sampled_from(REFUNDS) | identifiers),
    "call.inbound": fields(call_id=identifiers, caller_phone=texts, buyer_nick=texts),
}
times = st.datetimes(
    min_value=datetime(2000, 1, 2), max_value=datetime(2026, 1, 1), timezones=st.timezones()
).map(datetime.isoformat)
envelopes = st.sampled_from(sorted(DATA)).flatmap(
    lambda kind: st.fixed_dictionaries(
        {
            "event_id": identifiers,
            "type": st.just(kind),
            "occurred_at": times | st.just(datetime.now(UTC).isoformat()),
            "shop_id": st.just(TEST_SHOP),
            "data": DATA[kind],
        }
    ).flatmap(lambda body: maybe(st.just(body)))
)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_no_5xx_and_every_accepted_event_is_applied(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    for order_id in ORDERS:
        await post_event(client, "order.created", order_data(order_id))
    await post_event(
        client,
        "refund.requested",
        {
            "refund_id": REFUNDS[0],
            "order_id": ORDERS[0],
            "kind": "refund_only",
            "amount": "1.00",
            "reason": "不想要了",
        },
    )
    await settle(client)
    boss = {"Authorization": f"Bearer {await token_for(sessions, shop_id, 'boss', UserRole.OWNER)}"}
    recorded = {"order_id": set(ORDERS), "refund_id": set(REFUNDS)}
    accepted = 0
    serial = itertools.count()

    async def check(body: Any) -> None:
        nonlocal accepted
        if isinstance(body, dict) and isinstance(body.get("event_id"), str):
            # A fresh id per example (Hypothesis repeats small ids): a duplicate says nothing.
            body = {**body, "event_id": f"{body['event_id']}.{next(serial)}"}
        raw = json.dumps(body, ensure_ascii=bool(body) and hash(str(body)) % 2 == 0)
        response = await post_raw(client, raw.encode("utf-8", "surrogatepass"))
        assert response.status in (200, 202, 400), await response.text()
        answer = await response.json()
        if response.status == 400:
            assert answer["error"].startswith(f"{answer['field']}: ")
            return
        if response.status == 200:
            return
        accepted += 1
        await settle(client)
        status = await client.get(f"/api/v1/events/{answer['event_id']}", headers=boss)
        event = await status.json()
        assert event["status"] != "failed", event
        waits_on = WAITS_FOR.get(body["type"])
        if waits_on is None or body["data"][waits_on] in recorded[waits_on]:
            assert event["status"] == "processed", (body, event)
        if event["status"] == "processed" and body["type"] in ("order.created", "refund.requested"):
            key = "order_id" if body["type"] == "order.created" else "refund_id"
            recorded[key].add(body["data"][key])

    loop = asyncio.get_running_loop()

    # Hypothesis runs synchronous tests: each example is run on the app's loop from a
    # thread of its own, while the loop (awaiting that thread) serves the requests.
    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(envelopes)
    def post_one(body: Any) -> None:
        asyncio.run_coroutine_threadsafe(check(body), loop).result()

    await asyncio.to_thread(post_one)
    assert accepted > 10  # the strategy reaches the processor, not only the door
