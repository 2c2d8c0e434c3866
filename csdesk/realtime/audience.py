"""Who a connected console is, in the bus's terms: the recipients it listens to.

A bus event names its recipients (``user:<id>``, ``role:<service_role>``, ``supervisors``);
a console receives it when they meet the recipients of its audience, in its own shop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from sqlalchemy import select

from csdesk.auth.access import SUPERVISOR_AND_UP
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from csdesk.storage.models import AgentProfile


@dataclass(frozen=True)
class Audience:
    shop_id: str
    user_id: int
    user_role: UserRole
    service_roles: frozenset[str] = frozenset()
    """Roles the user is on shift in (``AgentProfile.service_roles``), cached by the hub."""

    @property
    def recipients(self) -> frozenset[str]:
        names = {ev.to_user(self.user_id)}
        names.update(ev.to_role(role) for role in self.service_roles)
        if self.user_role in SUPERVISOR_AND_UP:
            names.add(ev.SUPERVISORS)
        return frozenset(names)

    def with_roles(self, service_roles: Iterable[str]) -> Audience:
        return replace(self, service_roles=frozenset(service_roles))


def receives(audience: Audience, event: BusEvent) -> bool:
    """Whether a console of ``audience`` gets ``event``: same shop, a recipient in common."""
    return event.shop_id == audience.shop_id and not audience.recipients.isdisjoint(
        event.recipients
    )


async def load_service_roles(
    sessions: SessionFactory, users: Iterable[tuple[str, int]]
) -> Mapping[tuple[str, int], frozenset[str]]:
    """Service roles of each ``(shop_id, user_id)``; users without a profile hold none."""
    wanted = set(users)
    if not wanted:
        return {}
    found: dict[tuple[str, int], frozenset[str]] = dict.fromkeys(wanted, frozenset())
    async with sessions() as session:
        rows = await session.execute(
            select(AgentProfile.shop_id, AgentProfile.user_id, AgentProfile.service_roles).where(
                AgentProfile.user_id.in_({user_id for _, user_id in wanted})
            )
        )
        for shop_id, user_id, roles in rows:
            if (shop_id, user_id) in wanted:
                found[(shop_id, user_id)] = frozenset(str(role) for role in roles or ())
    return found
