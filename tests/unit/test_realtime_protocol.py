"""The live protocol's client messages and server frames, as tables."""

from __future__ import annotations

import json

import pytest

from csdesk.realtime.protocol import (
    MAX_EVENT_ID,
    Ack,
    ClientMessage,
    Hello,
    ProtocolError,
    QueuedEvent,
    encode_event,
    error_frame,
    event_frame,
    parse_client_message,
    reset_frame,
    welcome_frame,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"op": "hello", "queue_id": null, "last_event_id": -1}', Hello(None, -1)),
        ('{"op": "hello"}', Hello(None, -1)),
        # A new queue starts before any event, whatever id the console claims.
        ('{"op": "hello", "queue_id": null, "last_event_id": 12}', Hello(None, -1)),
        ('{"op": "hello", "queue_id": "q_1-A", "last_event_id": 41}', Hello("q_1-A", 41)),
        ('{"op": "hello", "queue_id": "q", "last_event_id": -1}', Hello("q", -1)),
        ('{"op": "ack", "last_event_id": 0}', Ack(0)),
        (f'{{"op": "ack", "last_event_id": {MAX_EVENT_ID}}}', Ack(MAX_EVENT_ID)),
        ('{"op": "ack", "last_event_id": 3, "extra": "ignored"}', Ack(3)),
    ],
)
def test_valid_messages(raw: str, expected: ClientMessage) -> None:
    assert parse_client_message(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "not JSON"),
        ("hello", "not JSON"),
        ("[]", "not a JSON object: got list"),
        ('"hello"', "not a JSON object: got str"),
        ("{}", "op: missing"),
        ('{"op": "HELLO"}', "op: unknown 'HELLO'"),
        ('{"op": 1}', "op: unknown 1"),
        ('{"op": "hello", "queue_id": 5, "last_event_id": 1}', "hello: queue_id must be"),
        ('{"op": "hello", "queue_id": "", "last_event_id": 1}', "hello: queue_id must be"),
        ('{"op": "hello", "queue_id": "a/b", "last_event_id": 1}', "hello: queue_id must be"),
        ('{"op": "hello", "queue_id": "' + "q" * 65 + '", "last_event_id": 1}', "queue_id"),
        ('{"op": "hello", "queue_id": "q"}', "hello: last_event_id is required"),
        ('{"op": "hello", "queue_id": "q", "last_event_id": "3"}', "integer, got str"),
        ('{"op": "hello", "queue_id": "q", "last_event_id": 3.0}', "integer, got float"),
        ('{"op": "hello", "queue_id": "q", "last_event_id": false}', "integer, got bool"),
        ('{"op": "hello", "queue_id": "q", "last_event_id": -2}', "-1 or more, got -2"),
        ('{"op": "hello", "queue_id": null, "last_event_id": "x"}', "integer, got str"),
        ('{"op": "ack"}', "ack: last_event_id is required"),
        ('{"op": "ack", "last_event_id": null}', "integer, got NoneType"),
        (f'{{"op": "ack", "last_event_id": {MAX_EVENT_ID + 1}}}', "-1 or more"),
    ],
)
def test_malformed_messages_name_the_problem(raw: str, problem: str) -> None:
    with pytest.raises(ProtocolError) as error:
        parse_client_message(raw)
    assert problem in str(error.value)


def test_event_frame_is_the_stored_body_with_op_and_id() -> None:
    body = encode_event("message.created", {"conversation_id": 3, "message": {"text": "在吗"}})
    assert "在吗" in body  # UTF-8 as is: half the bytes of \\u escapes for Chinese text
    frame = json.loads(event_frame(QueuedEvent(7, body)))
    assert frame == {
        "op": "event",
        "id": 7,
        "type": "message.created",
        "payload": {"conversation_id": 3, "message": {"text": "在吗"}},
    }
    assert list(frame) == ["op", "id", "type", "payload"]


def test_event_frame_with_empty_payload() -> None:
    frame = json.loads(event_frame(QueuedEvent(0, encode_event("agent.status", {}))))
    assert frame == {"op": "event", "id": 0, "type": "agent.status", "payload": {}}


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            welcome_frame("q1", -1, resumed=False),
            {"op": "welcome", "queue_id": "q1", "last_event_id": -1, "resumed": False},
        ),
        (
            welcome_frame("q1", 41, resumed=True),
            {"op": "welcome", "queue_id": "q1", "last_event_id": 41, "resumed": True},
        ),
        (reset_frame("queue expired"), {"op": "reset", "reason": "queue expired"}),
        (error_frame("op: missing"), {"op": "error", "error": "op: missing"}),
    ],
)
def test_control_frames(frame: str, expected: dict[str, object]) -> None:
    assert json.loads(frame) == expected
