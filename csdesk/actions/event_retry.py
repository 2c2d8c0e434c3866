"""Retry a platform event that failed after acceptance, once its cause is fixed.

An accepted event that fails (a bug, or what it refers to never arrived) stays ``failed``
with its error: visible in ``/metrics`` and on the supervisor board, never lost. A
supervisor retries it here: back to ``received``, audited with the error it had, then
handed to this process's event processor (else the retry sweep finds it). The event keeps
its ``received_at``: an event that still refers to something unknown fails again at once
instead of waiting another ten minutes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import select, update

from csdesk.actions import audit
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import ConflictError, NotFoundError
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import EventStatus
from csdesk.storage.models import PlatformEvent

ACCESS: Final = "events.retry"
AUDIT_ACTION: Final = "event.retry"


async def retry_failed_event(
    sessions: SessionFactory,
    actor: CurrentUser,
    event_id: str,
    now: datetime,
    *,
    hand_to: Callable[[Sequence[int]], Awaitable[None]] | None = None,
) -> PlatformEvent:
    """Reset the shop's failed event ``event_id`` to ``received`` (404 unknown, 409 not
    failed); ``hand_to`` gets its row id after commit. Returns the event as reset."""
    require(actor, ACCESS)
    async with sessions.begin() as session:
        event = await session.scalar(
            select(PlatformEvent).where(
                PlatformEvent.shop_id == actor.shop_id, PlatformEvent.event_id == event_id
            )
        )
        if event is None:
            raise NotFoundError(f"event {event_id}: not found")
        error = event.error
        # Conditional on the status, so two supervisors retrying at once reset it once.
        reset = await session.scalar(
            update(PlatformEvent)
            .where(PlatformEvent.id == event.id, PlatformEvent.status == EventStatus.FAILED)
            .values(status=EventStatus.RECEIVED, error=None, processed_at=None)
            .returning(PlatformEvent.id)
            .execution_options(synchronize_session=False)
        )
        if reset is None:
            raise ConflictError(
                f"event {event_id}: is {event.status.value}; only a failed event can be retried"
            )
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action=AUDIT_ACTION,
            target_type="platform_event",
            target_id=event.id,
            at=now,
            detail={"event_id": event.event_id, "type": event.type, "error": error},
        )
        await session.refresh(event)
    if hand_to is not None:
        await hand_to([event.id])
    return event
