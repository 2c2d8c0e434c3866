"""The points ledger (积分台账) and monthly rankings (排名): each agent reads their own
ledger with reasons (another agent's: 403); supervisors, trainers and owners read anyone's;
the rankings per role and per team are everyone's. Ledger and rankings export to CSV and
XLSX (``csdesk.reads.qc_reports.export``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, NotFoundError
from csdesk.reads.qc_reports import Table
from csdesk.reads.training import AgentRef
from csdesk.reads.training_base import (
    POINTS_READ,
    RANKINGS,
    check_in_scope,
    entry_json,
    names,
    team_scope,
    teams,
)
from csdesk.routing import facts as loaded
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from csdesk.storage.models import User
from csdesk.storage.training_models import PointsEntry
from csdesk.training.courses import CourseError
from csdesk.training.points import month_of, month_window, rank

GROUPINGS: Final = ("role", "team", "all")
MAX_LEDGER_ROWS: Final = 2000


async def _month(session: Any, shop_id: str, raw: str | None, now: datetime) -> tuple[str, Any]:
    tz = (await loaded.load_shop_context(session, shop_id)).routing.tz
    try:
        first = month_of(raw, now.astimezone(tz).date())
    except CourseError as exc:
        raise BadInputError(exc.field, exc.message) from None
    return first.strftime("%Y-%m"), month_window(first, tz)


async def ledger(
    sessions: SessionFactory,
    actor: CurrentUser,
    agent_id: int,
    now: datetime,
    *,
    month: str | None = None,
) -> dict[str, Any]:
    """One agent's ledger lines of a month (newest first), the month's total and the
    all-time balance."""
    require(actor, POINTS_READ, AgentRef(actor.shop_id, agent_id))
    async with sessions() as session:
        check_in_scope(await team_scope(session, actor), agent_id)
        user = await session.get(User, agent_id)
        if user is None or user.shop_id != actor.shop_id:
            raise NotFoundError(f"agent {agent_id}: not found")
        label, (start, end) = await _month(session, actor.shop_id, month, now)
        rows = list(
            await session.scalars(
                select(PointsEntry)
                .where(
                    PointsEntry.shop_id == actor.shop_id,
                    PointsEntry.agent_id == agent_id,
                    PointsEntry.at >= start,
                    PointsEntry.at < end,
                )
                .order_by(PointsEntry.at.desc(), PointsEntry.id.desc())
                .limit(MAX_LEDGER_ROWS)
            )
        )
        balance = await session.scalar(
            select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                PointsEntry.shop_id == actor.shop_id, PointsEntry.agent_id == agent_id
            )
        )
        return {
            "agent": {"id": user.id, "display_name": user.display_name},
            "month": label,
            "entries": [entry_json(r, user.display_name) for r in rows],
            "month_total": sum(r.points for r in rows),
            "balance": int(balance or 0),
        }


async def rankings(
    sessions: SessionFactory,
    actor: CurrentUser,
    now: datetime,
    *,
    month: str | None = None,
    by: str = "role",
) -> dict[str, Any]:
    """The month's ranking per role (an agent in each role they hold), per team (their
    first role's), or of everyone; agents without a line that month rank with 0."""
    require(actor, RANKINGS)
    if by not in GROUPINGS:
        raise BadInputError("by", f"must be one of {', '.join(GROUPINGS)}")
    async with sessions() as session:
        label, (start, end) = await _month(session, actor.shop_id, month, now)
        totals: dict[int, tuple[int, int]] = {}
        for agent_id, total, count in await session.execute(
            select(PointsEntry.agent_id, func.sum(PointsEntry.points), func.count(PointsEntry.id))
            .where(
                PointsEntry.shop_id == actor.shop_id,
                PointsEntry.at >= start,
                PointsEntry.at < end,
            )
            .group_by(PointsEntry.agent_id)
        ):
            totals[agent_id] = (int(total or 0), int(count))
        active = set(
            await session.scalars(
                select(User.id).where(
                    User.shop_id == actor.shop_id,
                    User.role == UserRole.AGENT,
                    User.is_active.is_(True),
                )
            )
        )
        for agent_id in active:
            totals.setdefault(agent_id, (0, 0))
        profile = await teams(session, actor.shop_id)
        who = await names(session, totals)
        groups: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
        names_of_groups: dict[str, str | None] = {}
        for agent_id, value in totals.items():
            info = profile.get(agent_id) or {"roles": [], "team": None, "team_name": None}
            if by == "team":
                names_of_groups[info["team"] or "none"] = info.get("team_name")
            if by == "all":
                keys = ["all"]
            elif by == "team":
                keys = [info["team"] or "none"]
            else:
                keys = list(info["roles"]) or ["none"]
            for key in keys:
                groups[key][agent_id] = value
        return {
            "month": label,
            "by": by,
            "groups": [
                {
                    "key": key,
                    "name": names_of_groups.get(key),
                    "rows": [
                        {
                            "rank": r.rank,
                            "agent": {"id": r.agent_id, "display_name": who.get(r.agent_id)},
                            "points": r.points,
                            "entries": r.entries,
                            "me": r.agent_id == actor.id,
                        }
                        for r in rank(groups[key])
                    ],
                }
                for key in sorted(groups)
            ],
        }


def ledger_table(data: dict[str, Any]) -> Table:
    return Table(
        f"积分 {data['agent']['display_name']} {data['month']}",
        ("时间 / at", "积分 / points", "来源 / source", "原因 / reason", "关联 / ref"),
        [(e["at"], e["points"], e["source"], e["reason"], e["ref"] or "") for e in data["entries"]],
    )


def rankings_table(data: dict[str, Any]) -> Table:
    rows = [
        (
            group.get("name") or group["key"],
            row["rank"],
            row["agent"]["display_name"],
            row["points"],
            row["entries"],
        )
        for group in data["groups"]
        for row in group["rows"]
    ]
    return Table(
        f"积分排名 {data['month']}",
        (f"分组 / {data['by']}", "名次 / rank", "客服 / agent", "积分 / points", "条目 / entries"),
        rows,
    )
