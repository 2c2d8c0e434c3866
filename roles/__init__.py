"""The six service roles of seeds/003 part II, as pure functions of facts and ``now``.

``ROLES`` maps each ``ServiceRole`` to its ``RoleSpec`` (titles, channels, SLA,
escalations); each role module holds its main functions (``intake`` and friends).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from csdesk.roles import (
    aftersales_triage,
    hotline,
    order_review,
    payment_chasing,
    presales,
    refund,
)
from csdesk.roles.base import RoleSpec
from csdesk.storage.enums import ServiceRole

ROLES: Mapping[ServiceRole, RoleSpec] = MappingProxyType(
    {
        spec.key: spec
        for spec in (
            presales.SPEC,
            order_review.SPEC,
            payment_chasing.SPEC,
            aftersales_triage.SPEC,
            refund.SPEC,
            hotline.SPEC,
        )
    }
)


def get_role(key: ServiceRole | str) -> RoleSpec:
    """The spec of a role; a ``KeyError`` names an unknown role key."""
    try:
        return ROLES[ServiceRole(key)]
    except ValueError:
        raise KeyError(f"unknown service role {key!r}") from None


__all__ = ["ROLES", "get_role"]
