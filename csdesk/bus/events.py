"""Every bus event type, in one place (consoles subscribe to these names).

Recipients: ``user:<id>`` (one agent), ``role:<service_role>`` (agents on shift in a role),
``supervisors`` (supervisors, owners, admins of the shop).
"""

from __future__ import annotations

from typing import Final

CONVERSATION_ASSIGNED: Final = "conversation.assigned"
"""An item was given to an agent: payload ``conversation`` (id, role, kind, score...)."""
CONVERSATION_QUEUED: Final = "conversation.queued"
"""An item entered (or re-entered) a role's queue."""
CONVERSATION_REQUEUED: Final = "conversation.requeued"
"""An item went back from an agent to the queue (away, unanswered, transfer)."""
CONVERSATION_CLOSED: Final = "conversation.closed"
MESSAGE_CREATED: Final = "message.created"
"""A message was added to a conversation: payload ``message`` and ``conversation_id``."""
QUEUE_CHANGED: Final = "queue.changed"
"""A role's queue depth changed: payload ``role``, ``depth``."""
AGENT_STATUS: Final = "agent.status"
SLA_WARNING: Final = "sla.warning"

ALL: Final = (
    CONVERSATION_ASSIGNED,
    CONVERSATION_QUEUED,
    CONVERSATION_REQUEUED,
    CONVERSATION_CLOSED,
    MESSAGE_CREATED,
    QUEUE_CHANGED,
    AGENT_STATUS,
    SLA_WARNING,
)

SUPERVISORS: Final = "supervisors"


def to_user(user_id: int) -> str:
    return f"user:{user_id}"


def to_role(role: str) -> str:
    return f"role:{role}"
