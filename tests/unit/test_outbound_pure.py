"""The pure parts of outbound delivery and inbound signatures: backoff and dead letter,
the signature forms and their verdicts, bus events as integrator webhooks."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.outbound import policy
from csdesk.outbound.webhook_events import SUBSCRIBABLE, WEBHOOK_TEST, delivery_id_for, from_bus
from csdesk.platform_events import fingerprint
from csdesk.settings import OutboundSettings
from csdesk.signing import Verdict, sign_body, sign_timestamped, verify

T0 = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)
S = OutboundSettings(backoff_s=5, max_backoff_s=3600, max_age_s=86400)


@pytest.mark.parametrize(
    ("attempts", "draw", "expected"),
    [
        (1, 0.0, 2.5),  # half of 5 s at the lowest draw
        (1, 0.999999, 5.0),
        (2, 0.0, 5.0),
        (3, 0.5, 15.0),  # 20 s ceiling, three quarters of it
        (10, 0.0, 1280.0),
        (11, 0.0, 1800.0),  # capped at max_backoff_s
        (40, 0.999999, 3600.0),
        (500, 0.0, 1800.0),  # no overflow
    ],
)
def test_backoff_doubles_with_equal_jitter(attempts: int, draw: float, expected: float) -> None:
    assert policy.backoff_s(attempts, S, lambda: draw) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(
    ("started_ago_s", "attempts", "expected_in_s"),
    [
        (0, 1, 2.5),
        (86400 - 1, 1, 1.0),  # the last try is at the window's end, not past it
        (86400, 1, None),  # window over: dead letter
        (90000, 3, None),
    ],
)
def test_retries_stop_at_the_window(
    started_ago_s: float, attempts: int, expected_in_s: float | None
) -> None:
    now = T0 + timedelta(seconds=started_ago_s)
    found = policy.next_attempt_at(attempts, T0, now, S, lambda: 0.0)
    if expected_in_s is None:
        assert found is None
    else:
        assert found == now + timedelta(seconds=expected_in_s)


@pytest.mark.parametrize(
    ("status", "delivered"), [(200, True), (204, True), (299, True), (301, False), (503, False)]
)
def test_any_2xx_is_delivered(status: int, delivered: bool) -> None:
    assert policy.success(status) is delivered


BODY = b'{"event_id":"e1"}'


@pytest.mark.parametrize(
    ("header", "secrets", "now_s", "require", "verdict"),
    [
        (sign_body(BODY, "k1"), ("k1",), 0, False, Verdict.OK),
        (sign_body(BODY, "k1"), ("k2",), 0, False, Verdict.BAD),
        (sign_body(BODY, "k1"), ("k2", "k1"), 0, False, Verdict.OK),  # rotation: either
        (sign_body(BODY, "k1"), ("k1",), 0, True, Verdict.UNTIMED),
        (sign_timestamped(BODY, "k1", 1000), ("k1",), 1000, True, Verdict.OK),
        (sign_timestamped(BODY, "k1", 1000), ("k1",), 1300, False, Verdict.OK),
        (sign_timestamped(BODY, "k1", 1000), ("k1",), 1301, False, Verdict.STALE),
        (sign_timestamped(BODY, "k1", 1000), ("k1",), 699, False, Verdict.STALE),
        (sign_timestamped(BODY, "k1", 1000), ("k2",), 1000, False, Verdict.BAD),
        # The time is signed: moving it breaks the signature.
        (
            sign_timestamped(BODY, "k1", 1000).replace("t=1000", "t=1200"),
            ("k1",),
            1200,
            False,
            Verdict.BAD,
        ),
        (None, ("k1",), 0, False, Verdict.BAD),
        ("sha256=zz", ("k1",), 0, False, Verdict.BAD),
        ("t=1000", ("k1",), 1000, False, Verdict.BAD),
        ("t=x,sha256=00", ("k1",), 1000, False, Verdict.BAD),
        ("sha256=é", ("k1",), 0, False, Verdict.BAD),
    ],
)
def test_signature_verdicts(
    header: str | None, secrets: tuple[str, ...], now_s: float, require: bool, verdict: Verdict
) -> None:
    assert (
        verify(BODY, secrets, header, now_s=now_s, window_s=300, require_timestamp=require)
        is verdict
    )


def test_the_fingerprint_is_of_the_content_not_the_bytes() -> None:
    a = fingerprint("order.paid", T0, {"order_id": "T1", "x": [1, 2]})
    assert a == fingerprint("order.paid", T0, {"x": [1, 2], "order_id": "T1"})
    assert a != fingerprint("order.paid", T0, {"order_id": "T2", "x": [1, 2]})
    assert a != fingerprint(
        "order.paid", T0 + timedelta(seconds=1), {"order_id": "T1", "x": [1, 2]}
    )
    assert a != fingerprint("order.shipped", T0, {"order_id": "T1", "x": [1, 2]})


def _bus(kind: str, payload: dict[str, object]) -> BusEvent:
    return BusEvent(kind, "s1", (ev.SUPERVISORS,), payload)


CONVERSATION = {
    "id": 7,
    "kind": "chat",
    "channel": "chat",
    "role": "presales",
    "assigned_agent_id": 3,
}


@pytest.mark.parametrize(
    ("event", "types"),
    [
        (_bus(ev.CONVERSATION_QUEUED, {"conversation": CONVERSATION}), ["conversation.opened"]),
        (
            _bus(ev.CONVERSATION_ASSIGNED, {"conversation": CONVERSATION, "reason": "x"}),
            ["conversation.opened", "conversation.assigned"],
        ),
        (
            _bus(ev.CONVERSATION_REASSIGNED, {"conversation_id": 7, "to_agent_id": 4}),
            ["conversation.assigned"],
        ),
        (
            _bus(ev.CONVERSATION_CLOSED, {"conversation_id": 7, "disposition": "resolved"}),
            ["conversation.closed"],
        ),
        (
            _bus(ev.CONVERSATION_CLOSED, {"conversation_id": 7, "disposition": "chase_scheduled"}),
            [],
        ),
        (_bus(ev.REFUND_UPDATED, {"refund": {"id": 1, "status": "approved"}}), ["refund.decided"]),
        (_bus(ev.REFUND_UPDATED, {"refund": {"id": 1, "status": "rejected"}}), ["refund.decided"]),
        (_bus(ev.REFUND_UPDATED, {"refund": {"id": 1, "status": "refunded"}}), []),
        (_bus("qc.finding.created", {"finding_id": 9, "conversation_id": 7}), ["qc.finding"]),
        (_bus(ev.MESSAGE_CREATED, {"conversation_id": 7}), []),
    ],
)
def test_bus_events_as_webhooks(event: BusEvent, types: list[str]) -> None:
    assert [found.type for found in from_bus(event)] == types


def test_a_conversation_opens_once_whatever_comes_after() -> None:
    queued = from_bus(_bus(ev.CONVERSATION_QUEUED, {"conversation": CONVERSATION}))[0]
    assigned = from_bus(_bus(ev.CONVERSATION_ASSIGNED, {"conversation": CONVERSATION}))[0]
    assert queued.key == assigned.key  # one delivery per subscription (same delivery_id)
    assert delivery_id_for(1, queued.key) == delivery_id_for(1, assigned.key)
    assert delivery_id_for(1, queued.key) != delivery_id_for(2, queued.key)


def test_docs_list_every_webhook_type() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "events.md").read_text(encoding="utf-8")
    section = doc.split("## Webhooks for integrators", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([a-z_.]+)` \|", section, flags=re.MULTILINE)
    assert documented == [*SUBSCRIBABLE, WEBHOOK_TEST]
