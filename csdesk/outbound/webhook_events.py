"""The desk's events as integrators receive them: which bus events become which webhook
type, with what ``data``, and the key that makes each one delivered once per subscription.

Pure: a bus event in, zero or more :class:`WebhookEvent` out. The payloads are documented
per type in docs/events.md ("Webhooks for integrators"); keep the two in step.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final

from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent

CONVERSATION_OPENED: Final = "conversation.opened"
CONVERSATION_ASSIGNED: Final = "conversation.assigned"
CONVERSATION_CLOSED: Final = "conversation.closed"
REFUND_DECIDED: Final = "refund.decided"
QC_FINDING: Final = "qc.finding"
WEBHOOK_TEST: Final = "webhook.test"

SUBSCRIBABLE: Final = (
    CONVERSATION_OPENED,
    CONVERSATION_ASSIGNED,
    CONVERSATION_CLOSED,
    REFUND_DECIDED,
    QC_FINDING,
)
"""What a subscription may ask for (``webhook.test`` goes to every subscription on demand).
``course.overdue`` joins once the training module publishes course deadlines."""

_DECISIONS: Final = frozenset({"approved", "rejected"})


@dataclass(frozen=True)
class WebhookEvent:
    type: str
    key: str
    """The same occurrence seen twice (two web processes, a repeated bus event) has the same
    key: its delivery is made once per subscription."""
    data: dict[str, Any]


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def from_bus(event: BusEvent) -> list[WebhookEvent]:
    payload = event.payload
    match event.type:
        case ev.CONVERSATION_QUEUED | ev.CONVERSATION_ASSIGNED:
            conversation = payload.get("conversation") or {}
            cid = conversation.get("id")
            if cid is None:
                return []
            # The first of these per conversation is its opening; later ones share the key.
            found = [
                WebhookEvent(
                    CONVERSATION_OPENED,
                    f"opened:{cid}",
                    {
                        "conversation_id": cid,
                        "kind": conversation.get("kind"),
                        "channel": conversation.get("channel"),
                        "role": conversation.get("role"),
                        "buyer_id": conversation.get("buyer_id"),
                        "intent": conversation.get("intent"),
                        "risk": conversation.get("risk"),
                        "opened_at": conversation.get("opened_at"),
                    },
                )
            ]
            if event.type == ev.CONVERSATION_ASSIGNED:
                agent = conversation.get("assigned_agent_id")
                found.append(
                    WebhookEvent(
                        CONVERSATION_ASSIGNED,
                        f"assigned:{cid}:{agent}:{_digest(payload)}",
                        {
                            "conversation_id": cid,
                            "agent_id": agent,
                            "role": conversation.get("role"),
                            "kind": conversation.get("kind"),
                            "reason": payload.get("reason"),
                            "by": None,
                        },
                    )
                )
            return found
        case ev.CONVERSATION_REASSIGNED:
            cid = payload.get("conversation_id")
            return [
                WebhookEvent(
                    CONVERSATION_ASSIGNED,
                    f"reassigned:{cid}:{_digest(payload)}",
                    {
                        "conversation_id": cid,
                        "agent_id": payload.get("to_agent_id"),
                        "from_agent_id": payload.get("from_agent_id"),
                        "reason": payload.get("reason"),
                        "by": payload.get("by"),
                    },
                )
            ]
        case ev.CONVERSATION_CLOSED:
            cid = payload.get("conversation_id")
            disposition = payload.get("disposition")
            if cid is None or disposition == "chase_scheduled":  # back to scheduled, not closed
                return []
            return [
                WebhookEvent(
                    CONVERSATION_CLOSED,
                    f"closed:{cid}",
                    {"conversation_id": cid, "disposition": disposition, "by": payload.get("by")},
                )
            ]
        case ev.REFUND_UPDATED:
            refund = payload.get("refund") or {}
            status = refund.get("status")
            if status not in _DECISIONS:
                return []
            return [
                WebhookEvent(
                    REFUND_DECIDED,
                    f"refund:{refund.get('id')}:{status}",
                    {
                        "refund_id": refund.get("external_id"),
                        "decision": status,
                        "kind": refund.get("kind"),
                        "amount_fen": refund.get("amount_fen"),
                        "reason": refund.get("reason"),
                        "resolved_at": refund.get("resolved_at"),
                        "conversation_id": payload.get("conversation_id"),
                    },
                )
            ]
        case "qc.finding.created":  # csdesk.actions.qc.common.FINDING_CREATED
            finding = payload.get("finding_id")
            return [
                WebhookEvent(
                    QC_FINDING,
                    f"finding:{finding}",
                    {"finding_id": finding, "conversation_id": payload.get("conversation_id")},
                )
            ]
        case _:
            return []


def delivery_id_for(subscription_id: int, key: str) -> str:
    """Stable per (subscription, occurrence): a second insert of it is a no-op."""
    return "whk_" + hashlib.sha256(f"{subscription_id}:{key}".encode()).hexdigest()[:32]
