"""The audit trail as supervisors read it (``actions.audit`` writes it, inside each
action's transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import AuditLog, User

MAX_AUDIT_PAGE = 500


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: int | None
    actor_username: str | None
    action: str
    target_type: str
    target_id: str
    reason: str | None
    detail: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "reason": self.reason,
            "detail": self.detail,
        }


async def recent_audit(
    sessions: SessionFactory, shop_id: str, *, limit: int = 100, before_id: int | None = None
) -> list[AuditEntry]:
    """Newest first; page backwards with ``before_id`` (the last id of the previous page)."""
    limit = max(1, min(limit, MAX_AUDIT_PAGE))
    query = (
        select(AuditLog, User.username)
        .outerjoin(User, User.id == AuditLog.actor_id)
        .where(AuditLog.shop_id == shop_id)
        .order_by(AuditLog.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(AuditLog.id < before_id)
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return [
        AuditEntry(
            id=row.id,
            at=row.at,
            actor_id=row.actor_id,
            actor_username=username,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            reason=row.reason,
            detail=row.detail,
        )
        for row, username in rows
    ]
