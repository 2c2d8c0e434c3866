"""Going on and off shift from the workbench: status plus the roles the roster gives now.

An agent on shift (在线 / 忙碌 / 离开) holds the service roles of the roster shifts covering
this moment (排班); with no such shift the profile's roles stay as they are. Going
offline (下班) hands unanswered items back to the queue (``workbench.set_agent_status``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from csdesk.actions import workbench
from csdesk.actions.outbox import Deps
from csdesk.reads.roster import roster_roles
from csdesk.storage.enums import AgentStatus, ServiceRole
from csdesk.storage.models import AgentProfile


@dataclass(frozen=True)
class StatusChange:
    status: AgentStatus
    service_roles: tuple[str, ...]
    from_roster: bool
    """True when the roles came from roster shifts covering now."""
    requeued: tuple[int, ...]
    """Items handed back to the queue (away / offline)."""
    assigned: tuple[int, ...]
    """Queued items the agent took at once (coming online)."""


async def change_status(
    deps: Deps, shop_id: str, agent_id: int, status: AgentStatus, now: datetime
) -> StatusChange:
    """Set the agent's status; on shift, take the roster's roles for now first."""
    roles: list[ServiceRole] = []
    if status is not AgentStatus.OFFLINE:
        async with deps.sessions() as session:
            roles = await roster_roles(session, shop_id, agent_id, now)
    moved = await workbench.set_agent_status(
        deps, shop_id, agent_id, status, now, service_roles=roles or None
    )
    async with deps.sessions() as session:
        profile = await session.get(AgentProfile, agent_id)
        held = tuple(profile.service_roles) if profile is not None else ()
        # Online at the 自动挂起 limit is busy at once.
        now_status = profile.status if profile is not None else status
    away = status in (AgentStatus.AWAY, AgentStatus.OFFLINE)
    return StatusChange(
        status=now_status,
        service_roles=held,
        from_roster=bool(roles),
        requeued=tuple(moved) if away else (),
        assigned=() if away else tuple(moved),
    )


__all__ = ["StatusChange", "change_status", "roster_roles"]
