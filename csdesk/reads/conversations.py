"""The one JSON shape of a routable item (a chat, call or task), with its score breakdown
when the caller passes the shop's routing context and ``now``."""

from __future__ import annotations

from datetime import datetime

from csdesk.routing.facts import ShopContext
from csdesk.routing.scoring import Score, ScoreReason, explain
from csdesk.storage.models import Conversation


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def seconds_since(now: datetime, earlier: datetime | None) -> float | None:
    """Seconds from ``earlier`` to ``now``, one decimal; None when there is no start."""
    return round((now - earlier).total_seconds(), 1) if earlier else None


def stored_score(conversation: Conversation) -> Score:
    return Score.of(
        tuple(
            ScoreReason(r["factor"], float(r["points"]), r["reason"])
            for r in conversation.score_breakdown
        )
    )


def conversation_json(
    conversation: Conversation, ctx: ShopContext | None = None, now: datetime | None = None
) -> dict[str, object]:
    data: dict[str, object] = {
        "id": conversation.id,
        "role": conversation.role,
        "kind": conversation.kind,
        "channel": conversation.channel.value,
        "status": conversation.status.value,
        "buyer_id": conversation.buyer_id,
        "order_id": conversation.order_id,
        "refund_id": conversation.refund_id,
        "intent": conversation.intent,
        "risk": conversation.risk,
        "assigned_agent_id": conversation.assigned_agent_id,
        "opened_at": conversation.opened_at.isoformat(),
        "enqueued_at": iso(conversation.enqueued_at),
        "due_at": iso(conversation.due_at),
        "deadline_at": iso(conversation.deadline_at),
        "score": conversation.priority_score,
    }
    if ctx is not None and now is not None and conversation.enqueued_at is not None:
        full = explain(
            stored_score(conversation),
            conversation.deadline_at,
            conversation.enqueued_at,
            now,
            ctx.routing,
        )
        data["score"] = round(full.points, 2)
        data["breakdown"] = full.to_json()
    return data


__all__ = ["conversation_json", "iso", "seconds_since", "stored_score"]
