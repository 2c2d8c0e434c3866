"""The live protocol's frames: parsing what a console sends, building what it receives.

Pure functions only (no I/O), so the whole vocabulary is tested by tables. The protocol
itself is documented in ``docs/realtime.md``; the console's JS is written against it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

QUEUE_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_EVENT_ID: Final = 2**53 - 1
"""The largest integer JavaScript holds exactly; ids beyond it would be corrupted in the console."""


@dataclass(frozen=True)
class Hello:
    """First message of every connection: a new queue (``queue_id`` None) or a resume."""

    queue_id: str | None
    last_event_id: int


@dataclass(frozen=True)
class Ack:
    """The console has applied every event up to ``last_event_id``; they may be dropped."""

    last_event_id: int


@dataclass(frozen=True)
class Watch:
    """Collision: this tab now shows ``conversation_id`` (None: no conversation)."""

    conversation_id: int | None


@dataclass(frozen=True)
class Typing:
    """Collision: the person at this tab is (or stopped) writing in the conversation."""

    conversation_id: int
    typing: bool
    mode: str
    """``reply`` (to the buyer) or ``note`` (内部备注)."""


ClientMessage = Hello | Ack | Watch | Typing
TYPING_MODES: Final = ("reply", "note")


class ProtocolError(ValueError):
    """A malformed client message; the text names the problem and goes back in an ``error``."""


@dataclass(frozen=True)
class QueuedEvent:
    """An event as a queue holds it: its id in that queue and its JSON body.

    ``body`` is the serialised ``{"type": ..., "payload": ...}`` object, encoded once per bus
    event however many queues receive it.
    """

    id: int
    body: str


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _event_id(data: dict[str, Any], op: str, *, required: bool) -> int:
    if "last_event_id" not in data:
        if required:
            raise ProtocolError(f"{op}: last_event_id is required")
        return -1
    value = data["last_event_id"]
    # bool is an int in Python, but ``true`` is no event id.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"{op}: last_event_id must be an integer, got {type(value).__name__}")
    if not -1 <= value <= MAX_EVENT_ID:
        raise ProtocolError(f"{op}: last_event_id must be -1 or more, got {value}")
    return value


def parse_client_message(raw: str) -> ClientMessage:
    """One text frame from the console, or :class:`ProtocolError` saying what is wrong."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise ProtocolError("not JSON: send one JSON object per text frame") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"not a JSON object: got {type(data).__name__}")
    op = data.get("op")
    if op == "hello":
        queue_id = data.get("queue_id")
        if queue_id is None:
            # A new queue starts before any event, whatever the console sent.
            _event_id(data, "hello", required=False)
            return Hello(None, -1)
        if not isinstance(queue_id, str) or not QUEUE_ID_PATTERN.fullmatch(queue_id):
            raise ProtocolError("hello: queue_id must be null or an id from a welcome")
        return Hello(queue_id, _event_id(data, "hello", required=True))
    if op == "ack":
        return Ack(_event_id(data, "ack", required=True))
    if op == "watch":
        value = data.get("conversation_id")
        if value is None:
            return Watch(None)
        return Watch(_conversation_id(value, "watch"))
    if op == "typing":
        conversation_id = _conversation_id(data.get("conversation_id"), "typing")
        typing = data.get("typing")
        if not isinstance(typing, bool):
            raise ProtocolError("typing: typing must be true or false")
        mode = data.get("mode", "reply")
        if mode not in TYPING_MODES:
            raise ProtocolError("typing: mode must be 'reply' or 'note'")
        return Typing(conversation_id, typing, str(mode))
    if op is None:
        raise ProtocolError(f"op: missing; expected one of {', '.join(OPS)}")
    raise ProtocolError(f"op: unknown {op!r}; expected one of {', '.join(OPS)}")


OPS: Final = ("hello", "ack", "watch", "typing")


def _conversation_id(value: object, op: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_EVENT_ID:
        raise ProtocolError(f"{op}: conversation_id must be a conversation id")
    return value


def encode_event(event_type: str, payload: dict[str, Any]) -> str:
    """The body a queue stores for one bus event."""
    return _dumps({"type": event_type, "payload": payload})


def event_frame(event: QueuedEvent) -> str:
    """``{"op": "event", "id": n, "type": ..., "payload": ...}``.

    Spliced rather than re-encoded: replays send up to a queue's length of stored bodies, and
    decoding each one only to encode it again would double the work for nothing.
    """
    return f'{{"op":"event","id":{event.id},{event.body[1:]}'


def welcome_frame(queue_id: str, last_event_id: int, *, resumed: bool) -> str:
    return _dumps(
        {"op": "welcome", "queue_id": queue_id, "last_event_id": last_event_id, "resumed": resumed}
    )


def reset_frame(reason: str) -> str:
    return _dumps({"op": "reset", "reason": reason})


def error_frame(error: str) -> str:
    return _dumps({"op": "error", "error": error})


def presence_frame(payload: dict[str, Any]) -> str:
    """Collision: who views or writes in a conversation (not an event: no id, no replay)."""
    return _dumps({"op": "presence", **payload})
