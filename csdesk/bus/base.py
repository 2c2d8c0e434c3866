"""The event bus: typed events with explicit recipients, published after commit.

Web processes subscribe and hand events to their websocket hub; in server mode Redis
pub/sub fans an event out to every web process behind the load balancer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class BusEvent:
    type: str
    """e.g. ``conversation.assigned``, ``message.created``, ``queue.depth``."""
    shop_id: str
    recipients: tuple[str, ...]
    """Who may receive it: ``user:<id>``, ``role:<service_role>``, ``supervisors``."""
    payload: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "type": self.type,
                "shop_id": self.shop_id,
                "recipients": list(self.recipients),
                "payload": self.payload,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> BusEvent:
        data = json.loads(raw)
        return cls(
            type=data["type"],
            shop_id=data["shop_id"],
            recipients=tuple(data["recipients"]),
            payload=data.get("payload") or {},
        )


class EventBus(Protocol):
    async def publish(self, events: Sequence[BusEvent]) -> None: ...

    def subscribe(self) -> AsyncIterator[BusEvent]:
        """Every event published anywhere (any process), from now on."""
        ...

    async def close(self) -> None: ...
