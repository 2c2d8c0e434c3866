"""Role swaps (排班 on the day): an agent's on-shift roles and duties change from now to the
end of the shift (e.g. refund review ↔ processing during a promotion), audited; an online
agent pulls queued work of the new roles at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.roster import parse_duty
from csdesk.actions.routing import fill_agent
from csdesk.actions.work_items import InputError, ItemNotFoundError, required_text
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.reads.roster import on_shift_duties
from csdesk.routing import facts as loaded
from csdesk.storage.enums import AgentStatus, ServiceRole
from csdesk.storage.models import AgentProfile, RosterShift

ROLES_ACCESS: Final = "agents.roles"


def parse_role_duties(raw: object) -> list[tuple[ServiceRole, str | None]]:
    if not isinstance(raw, list) or not raw:
        raise InputError("roles", "must be a non-empty list of {service_role, duty}")
    pairs: list[tuple[ServiceRole, str | None]] = []
    for n, item in enumerate(raw):
        at = f"roles[{n}]"
        if not isinstance(item, dict):
            raise InputError(at, "must be an object")
        try:
            role = ServiceRole(str(item.get("service_role")))
        except ValueError:
            choices = ", ".join(r.value for r in ServiceRole)
            raise InputError(f"{at}.service_role", f"must be one of {choices}") from None
        pair = (role, parse_duty(role, item.get("duty"), f"{at}.duty"))
        if pair in pairs:
            raise InputError(at, "listed twice")
        pairs.append(pair)
    return pairs


async def set_on_shift_roles(
    deps: Deps,
    actor: CurrentUser,
    agent_id: int,
    roles: Sequence[tuple[ServiceRole, str | None]],
    reason: str,
    now: datetime,
) -> dict[str, Any]:
    """Swap an agent's roles and duties from now (a promotion, refund review ↔ processing).

    The shifts covering now end now and new ones run to the latest of their ends, so the
    roster stays the truth: going online later takes the roster's roles, and these must
    not fall back to the old plan. Without a shift now only the profile changes. Items
    the agent holds stay with them (finishing beats bouncing a buyer); an online agent
    pulls queued work of the new roles at once.
    """
    require(actor, ROLES_ACCESS)
    why = required_text(reason, "reason")
    async with transaction(deps) as (session, outbox):
        profile = await session.get(AgentProfile, agent_id, with_for_update=True)
        if profile is None or profile.shop_id != actor.shop_id:
            raise ItemNotFoundError(f"agent {agent_id}: not an agent of this shop")
        before_roles = list(profile.service_roles)
        before_duties = (await on_shift_duties(session, actor.shop_id, now, [agent_id])).get(
            agent_id, {}
        )
        covering = list(
            await session.scalars(
                select(RosterShift).where(
                    RosterShift.shop_id == actor.shop_id,
                    RosterShift.user_id == agent_id,
                    RosterShift.starts_at <= now,
                    RosterShift.ends_at > now,
                )
            )
        )
        shift_ids: list[int] = []
        if covering:
            until = max(s.ends_at for s in covering)
            for shift in covering:
                if shift.starts_at < now:
                    shift.ends_at = now
                else:
                    await session.delete(shift)
            new_shifts = [
                RosterShift(
                    shop_id=actor.shop_id,
                    user_id=agent_id,
                    service_role=role.value,
                    starts_at=now,
                    ends_at=until,
                    duty=duty,
                )
                for role, duty in roles
            ]
            session.add_all(new_shifts)
            await session.flush()
            shift_ids = [s.id for s in new_shifts]
        held = {role for role, _ in roles}
        profile.service_roles = [r.value for r in ServiceRole if r in held]
        after_duties: dict[str, list[str]] = {}
        for role, duty in roles:
            if duty:
                after_duties.setdefault(role.value, []).append(duty)
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="agent.roles",
            target_type="user",
            target_id=agent_id,
            at=now,
            reason=why,
            detail={
                "before": {"service_roles": before_roles, "duties": before_duties},
                "after": {"service_roles": profile.service_roles, "duties": after_duties},
                "shift_ids": shift_ids,
            },
        )
        # agent.status makes the live hub reload the agent's roles (their queues' events).
        outbox.publish(
            BusEvent(
                ev.AGENT_STATUS,
                actor.shop_id,
                (ev.to_user(agent_id), ev.SUPERVISORS),
                {
                    "agent_id": agent_id,
                    "status": profile.status.value,
                    "service_roles": profile.service_roles,
                    "duties": after_duties,
                    "reason": why,
                },
            )
        )
        assigned: list[int] = []
        if profile.status is AgentStatus.ONLINE:
            ctx = await loaded.load_shop_context(session, actor.shop_id)
            await session.flush()
            assigned = await fill_agent(session, ctx, agent_id, now, outbox, deps.queue)
        return {
            "agent_id": agent_id,
            "service_roles": profile.service_roles,
            "duties": after_duties,
            "shift_ids": shift_ids,
            "assigned": assigned,
        }


__all__ = ["ROLES_ACCESS", "parse_role_duties", "set_on_shift_roles"]
