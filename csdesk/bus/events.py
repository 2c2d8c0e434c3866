"""Every bus event type, in one place (consoles subscribe to these names).

Recipients: ``user:<id>`` (one agent), ``role:<service_role>`` (agents on shift in a role),
``supervisors`` (supervisors, owners, admins of the shop).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from csdesk.bus.base import BusEvent

CONVERSATION_ASSIGNED: Final = "conversation.assigned"
"""An item was given to an agent: payload ``conversation`` (id, role, kind, score...)."""
CONVERSATION_QUEUED: Final = "conversation.queued"
"""An item entered (or re-entered) a role's queue."""
CONVERSATION_REQUEUED: Final = "conversation.requeued"
"""An item went back from an agent to the queue (away, unanswered, transfer)."""
CONVERSATION_CLOSED: Final = "conversation.closed"
MESSAGE_CREATED: Final = "message.created"
"""A message was added to a conversation: payload ``message`` and ``conversation_id``."""
MESSAGE_DELIVERY: Final = "message.delivery"
"""A buyer-visible message's delivery to the shop's channel changed state: payload
``conversation_id``, ``message_id``, ``delivery`` (``id``, ``state`` sending / delivered /
failed, ``attempts``, ``last_error``, ``next_attempt_at`` ...)."""
QUEUE_CHANGED: Final = "queue.changed"
"""A role's queue depth changed: payload ``role``, ``depth``."""
AGENT_STATUS: Final = "agent.status"
"""An agent's status or on-shift roles changed (the live hub reloads the agent's roles)."""
SLA_WARNING: Final = "sla.warning"
CONVERSATION_UPDATED: Final = "conversation.updated"
"""An open item changed in place (held, order fixed, intercept asked): ``conversation``,
``change``."""
CONVERSATION_REASSIGNED: Final = "conversation.reassigned"
"""A supervisor moved an item: ``conversation_id``, ``from_agent_id``, ``to_agent_id``."""
REFUND_UPDATED: Final = "refund.updated"
"""A refund's status changed at the desk: ``refund`` (id, status, ...), ``conversation_id``."""
ROSTER_CHANGED: Final = "roster.changed"
"""A day of the roster (排班) was replaced: ``day``, ``shift_ids``."""
GUIDED_SKIPPED: Final = "guided.skipped"
"""An agent skipped an item in guided mode: ``conversation_id``, ``agent_id``, ``reason``."""
NOTE_MENTIONED: Final = "note.mentioned"
"""A private note @mentions a user; to that user alone: ``conversation_id``, ``message``
(the note), ``by``, ``buyer_nick``, ``can_open``."""
EVENT_FAILED: Final = "event.failed"
"""A platform event failed to apply; to supervisors: ``event_id``, ``type``, ``error``."""
PRESENCE: Final = "presence"
"""Collision: someone views or writes in a conversation. Never queued: each web process
hands it to its sockets watching that conversation (``conversation:<id>``) and to the
holder's, as a ``presence`` frame."""
USER_SIGNED_OUT: Final = "user.signed_out"
"""A user was deactivated: every web process closes that user's sockets at once."""
TRAINING_ASSIGNED: Final = "training.assigned"
"""A course was given to an agent (培训): to that agent alone, ``assignment`` (id, course,
due date, why)."""
TRAINING_REMINDER: Final = "training.reminder"
"""A course is due soon or overdue: to the agent, ``assignment_id``, ``kind``
(``due_soon`` / ``overdue``), ``course_title``, ``due_at``; the same notice waits in the
console until seen."""
TRAINING_PASSED: Final = "training.passed"
"""An agent passed a course's quiz: to the agent and the supervisors, ``assignment_id``,
``agent_id``, ``course_id``, ``score``."""
POINTS_CHANGED: Final = "points.changed"
"""A line was added to an agent's points ledger (积分): to that agent, ``entry`` (points,
reason, source)."""

ALERT_RAISED: Final = "alert.raised"
"""An alert was raised (a threshold crossed, or a test): ``alert`` with its deliveries; to
supervisors (owners and admins too)."""
ALERT_DELIVERY: Final = "alert.delivery"
"""A robot delivery of an alert was tried: ``alert_id``, ``delivery`` (status, attempts,
next attempt, last error); to supervisors."""
PROMOTION_CHANGED: Final = "promotion.changed"
"""The live promotion changed (by hand or by its schedule): ``promotion`` (null: none),
``previous``, ``by`` (``schedule`` or a user id); to supervisors."""

ALL: Final = (
    CONVERSATION_ASSIGNED,
    CONVERSATION_QUEUED,
    CONVERSATION_REQUEUED,
    CONVERSATION_CLOSED,
    MESSAGE_CREATED,
    MESSAGE_DELIVERY,
    QUEUE_CHANGED,
    AGENT_STATUS,
    SLA_WARNING,
    CONVERSATION_UPDATED,
    CONVERSATION_REASSIGNED,
    REFUND_UPDATED,
    ROSTER_CHANGED,
    GUIDED_SKIPPED,
    NOTE_MENTIONED,
    EVENT_FAILED,
    PRESENCE,
    USER_SIGNED_OUT,
    TRAINING_ASSIGNED,
    TRAINING_REMINDER,
    TRAINING_PASSED,
    POINTS_CHANGED,
    ALERT_RAISED,
    ALERT_DELIVERY,
    PROMOTION_CHANGED,
)

INTERNAL_EVENTS_APPLIED: Final = "events.applied"
"""Internal (no recipients, never sent to a console): a batch of platform events of the shop
was applied: ``count``. Platform events change figures without any console event (an
order paid that nobody chased); the dashboard's aggregator recomputes on this."""
INTERNAL_DASHBOARD_SNAPSHOT: Final = "dashboard.snapshot"
"""Internal: one process computed the shop's dashboard (``started_at``, ``dashboard``,
``series``); every process hands it to its dashboard sockets (``web.dashboard_live``)."""
INTERNAL: Final = (INTERNAL_EVENTS_APPLIED, INTERNAL_DASHBOARD_SNAPSHOT)
"""Bus events for the processes themselves (like the hub's markers): not in ``ALL``."""

SUPERVISORS: Final = "supervisors"


def to_user(user_id: int) -> str:
    return f"user:{user_id}"


def to_role(role: str) -> str:
    return f"role:{role}"


def to_watchers(conversation_id: int) -> str:
    """The tabs showing a conversation now (collision), whoever they belong to."""
    return f"conversation:{conversation_id}"


def conversation_readers(assigned_agent_id: int | None) -> tuple[str, ...]:
    """Who follows a conversation live: the supervisors and the agent holding it."""
    if assigned_agent_id is None:
        return (SUPERVISORS,)
    return (SUPERVISORS, to_user(assigned_agent_id))


def message_created(
    shop_id: str,
    conversation_id: int,
    recipients: tuple[str, ...],
    *,
    message_id: int,
    sender: str,
    text: str,
    sent_at: datetime,
    **extra: Any,
) -> BusEvent:
    """``message.created``: the message as the consoles show it (``extra``: author and the
    like, as the sender has them)."""
    return BusEvent(
        MESSAGE_CREATED,
        shop_id,
        recipients,
        {
            "conversation_id": conversation_id,
            "message": {
                "id": message_id,
                "sender": sender,
                **extra,
                "text": text,
                "sent_at": sent_at.isoformat(),
            },
        },
    )


def event_failed(shop_id: str, event_id: str, event_type: str, error: str) -> BusEvent:
    """``event.failed``: an accepted platform event could not be applied (it waits for a
    retry); the board's notice, and what an alert channel listens for."""
    return BusEvent(
        EVENT_FAILED,
        shop_id,
        (SUPERVISORS,),
        {"event_id": event_id, "type": event_type, "error": error[:500]},
    )
