"""The audit trail: a row written inside an action's transaction, so it commits (or not)
with the change it records. Read by supervisors through ``auth.audit``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.storage.models import AuditLog


def record(
    session: AsyncSession,
    *,
    shop_id: str,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: str | int,
    at: datetime,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit row to the caller's transaction, so it commits (or not) with the change."""
    session.add(
        AuditLog(
            shop_id=shop_id,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=str(target_id)[:64],
            reason=reason,
            detail=detail or {},
            at=at,
        )
    )
