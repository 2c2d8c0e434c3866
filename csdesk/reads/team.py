"""The team as administration sees it (成员管理): members with their agent profiles, my
sessions and API tokens, and the audit log with filters (a page and a CSV export)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.auth.tokens import sha256_hex
from csdesk.storage.console_models import Team, TeamMember
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import AgentProfile, ApiToken, AuditLog, User, WebSession

TEAM_READ: Final = "team.read"
TEAM_ADMIN: Final = "team.admin"
ACCOUNT_USE: Final = "account.use"
AUDIT_READ: Final = "audit.read"
MAX_AUDIT_ROWS: Final = 500
MAX_AUDIT_EXPORT: Final = 10_000


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def member_json(user: User, profile: AgentProfile | None) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "active": user.is_active,
        "has_password": user.password_hash is not None,
        "must_change_password": user.must_change_password,
        "created_at": _iso(user.created_at),
        "agent": None
        if profile is None
        else {
            "service_roles": list(profile.service_roles),
            "skills": list(profile.skills),
            "chat_capacity": profile.chat_capacity,
            "hotline_capacity": profile.hotline_capacity,
            "auto_suspend_at": profile.auto_suspend_at,
            "trainee": profile.trainee,
            "status": profile.status.value,
        },
    }


async def members(sessions: SessionFactory, viewer: CurrentUser) -> list[dict[str, Any]]:
    """Everyone of the viewer's shop, active first, then by name."""
    require(viewer, TEAM_READ)
    async with sessions() as session:
        rows = await session.execute(
            select(User, AgentProfile)
            .outerjoin(AgentProfile, AgentProfile.user_id == User.id)
            .where(User.shop_id == viewer.shop_id)
            .order_by(User.is_active.desc(), User.display_name, User.id)
        )
        return [member_json(user, profile) for user, profile in rows.all()]


async def member(
    sessions: SessionFactory, viewer: CurrentUser, user_id: int
) -> dict[str, Any] | None:
    require(viewer, TEAM_READ)
    async with sessions() as session:
        row = (
            await session.execute(
                select(User, AgentProfile)
                .outerjoin(AgentProfile, AgentProfile.user_id == User.id)
                .where(User.id == user_id, User.shop_id == viewer.shop_id)
            )
        ).first()
    return None if row is None else member_json(row[0], row[1])


async def my_sessions(
    sessions: SessionFactory, me: CurrentUser, current_key: str | None, now: datetime
) -> list[dict[str, Any]]:
    """My live web sessions, newest first; ``current`` marks this browser's."""
    require(me, ACCOUNT_USE)
    current_hash = sha256_hex(current_key) if current_key else None
    async with sessions() as session:
        rows = await session.scalars(
            select(WebSession)
            .where(WebSession.user_id == me.id, WebSession.expires_at > now)
            .order_by(WebSession.created_at.desc(), WebSession.id.desc())
        )
        return [
            {
                "id": row.id,
                "created_at": _iso(row.created_at),
                "expires_at": _iso(row.expires_at),
                "current": row.key_hash == current_hash,
            }
            for row in rows
        ]


async def my_tokens(sessions: SessionFactory, me: CurrentUser) -> list[dict[str, Any]]:
    require(me, ACCOUNT_USE)
    async with sessions() as session:
        rows = await session.scalars(
            select(ApiToken).where(ApiToken.user_id == me.id).order_by(ApiToken.id.desc())
        )
        return [
            {
                "id": row.id,
                "name": row.name,
                "created_at": _iso(row.created_at),
                "last_used_at": _iso(row.last_used_at),
                "revoked_at": _iso(row.revoked_at),
            }
            for row in rows
        ]


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    """An action (``user.deactivated``) or its area with a dot (``user.``)."""
    actor: str | None = None
    """The actor's username."""
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None


async def audit_rows(
    sessions: SessionFactory, viewer: CurrentUser, where: AuditFilter, *, limit: int
) -> list[dict[str, Any]]:
    """The shop's audit log, newest first, narrowed by ``where``."""
    require(viewer, AUDIT_READ)
    query = (
        select(AuditLog, User.username)
        .outerjoin(User, User.id == AuditLog.actor_id)
        .where(AuditLog.shop_id == viewer.shop_id)
        .order_by(AuditLog.id.desc())
        .limit(limit)
    )
    if where.action:
        if where.action.endswith("."):
            query = query.where(AuditLog.action.startswith(where.action, autoescape=True))
        else:
            query = query.where(AuditLog.action == where.action)
    if where.actor:
        query = query.where(User.username == where.actor)
    if where.target_type:
        query = query.where(AuditLog.target_type == where.target_type)
    if where.target_id:
        query = query.where(AuditLog.target_id == where.target_id)
    if where.since:
        query = query.where(AuditLog.at >= where.since)
    if where.until:
        query = query.where(AuditLog.at < where.until)
    if where.before_id:
        query = query.where(AuditLog.id < where.before_id)
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return [
        {
            "id": row.id,
            "at": _iso(row.at),
            "actor_id": row.actor_id,
            "actor_username": username,
            "action": row.action,
            "target_type": row.target_type,
            "target_id": row.target_id,
            "reason": row.reason,
            "detail": row.detail,
        }
        for row, username in rows
    ]


AUDIT_CSV_COLUMNS: Final = (
    "id",
    "at",
    "actor_username",
    "action",
    "target_type",
    "target_id",
    "reason",
    "detail",
)


def audit_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as CSV (UTF-8 with a BOM, so Excel opens the Chinese text right)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(AUDIT_CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                json.dumps(row[column], ensure_ascii=False)
                if column == "detail"
                else _cell(row[column])
                for column in AUDIT_CSV_COLUMNS
            ]
        )
    return out.getvalue()


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: quote it as text.
    return "'" + text if text[:1] in {"=", "+", "-", "@"} else text


async def teams(sessions: SessionFactory, viewer: CurrentUser) -> list[dict[str, Any]]:
    """The shop's teams (班组) with their members, supervisors (``lead``) first."""
    require(viewer, TEAM_READ)
    async with sessions() as session:
        rows = list(
            await session.scalars(
                select(Team).where(Team.shop_id == viewer.shop_id).order_by(Team.name)
            )
        )
        members_of: dict[int, list[dict[str, Any]]] = {t.id: [] for t in rows}
        if rows:
            found = await session.execute(
                select(TeamMember.team_id, TeamMember.lead, User)
                .join(User, User.id == TeamMember.user_id)
                .where(TeamMember.team_id.in_(list(members_of)))
                .order_by(TeamMember.lead.desc(), User.display_name)
            )
            for team_id, lead, user in found:
                members_of[team_id].append(
                    {
                        "user_id": user.id,
                        "username": user.username,
                        "display_name": user.display_name,
                        "role": user.role.value,
                        "active": user.is_active,
                        "lead": bool(lead),
                    }
                )
    return [{"id": t.id, "name": t.name, "members": members_of[t.id]} for t in rows]
