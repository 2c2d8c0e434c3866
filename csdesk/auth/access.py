"""Who may do what: one declarative table, checked by ``can`` / ``require`` in every handler.

Adding an action is one line in ``ACCESS``. An action names a thing and a verb
(``audit.read``); its rule lists the login roles allowed, and which of them may act only on
objects assigned to them. Every object check also requires the object's shop to be the
user's shop, for every role: an owner of two shops logs in once per shop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Protocol

from csdesk.auth.current import CurrentUser
from csdesk.errors import ForbiddenError
from csdesk.storage.enums import UserRole

EVERYONE: Final = frozenset(UserRole)
SUPERVISOR_AND_UP: Final = frozenset({UserRole.SUPERVISOR, UserRole.OWNER, UserRole.ADMIN})
_AGENTS: Final = frozenset({UserRole.AGENT})


@dataclass(frozen=True)
class Rule:
    roles: frozenset[UserRole]
    own_only: frozenset[UserRole] = frozenset()
    """Roles (among ``roles``) that may act only on objects whose ``assigned_agent_id`` is them."""


ACCESS: Final[Mapping[str, Rule]] = MappingProxyType(
    {
        "console.view": Rule(EVERYONE),
        "me.read": Rule(EVERYONE),
        "live.subscribe": Rule(EVERYONE),
        "audit.read": Rule(SUPERVISOR_AND_UP),
        "metrics.read": Rule(SUPERVISOR_AND_UP),
        # Initial rules for routes still being built; their authors own the final say.
        "events.read": Rule(SUPERVISOR_AND_UP),
        "events.retry": Rule(SUPERVISOR_AND_UP),
        "queues.read": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}),
        "conversations.read": Rule(
            SUPERVISOR_AND_UP | {UserRole.AGENT, UserRole.QC_INSPECTOR},
            own_only=frozenset({UserRole.AGENT}),
        ),
        "workbench.use": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}),
        # 快捷短语: everyone at a workbench uses the library and keeps personal phrases and
        # hotkeys; supervisors and up edit the shop-wide groups.
        "quick_replies.use": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}),
        "quick_replies.edit": Rule(SUPERVISOR_AND_UP),
        # Images in the library and in transcripts: every login of the shop reads them.
        "media.read": Rule(EVERYONE),
        # Private notes (内部备注): agents in their own conversations, supervisors in any.
        "conversations.note": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}, own_only=_AGENTS),
        # The handler must also ask for a reason and write it to audit_log.
        "pii.reveal": Rule(
            SUPERVISOR_AND_UP | {UserRole.AGENT}, own_only=frozenset({UserRole.AGENT})
        ),
        # Erasing a buyer's personal data on request (PIPL): the people answerable for the
        # shop's data; audited.
        "pii.erase": Rule(frozenset({UserRole.OWNER, UserRole.ADMIN})),
        # Role work on one item: agents on items assigned to them, supervisors on any.
        "order_review.work": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}, own_only=_AGENTS),
        "chase.work": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}, own_only=_AGENTS),
        "chase.kpi": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}, own_only=_AGENTS),
        "refund.review": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}, own_only=_AGENTS),
        "refund.process": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}, own_only=_AGENTS),
        "hotline.work": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}, own_only=_AGENTS),
        # Agents also need the hotline role on shift; every lookup is audited.
        "hotline.lookup": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}),
        "hotline.campaign": Rule(SUPERVISOR_AND_UP),
        "supervisor.board": Rule(SUPERVISOR_AND_UP),
        # The owner dashboard: money waiting in refunds, queue health, staffing, chasing.
        "dashboard.read": Rule(SUPERVISOR_AND_UP),
        "supervisor.assign": Rule(SUPERVISOR_AND_UP),
        "roster.read": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}, own_only=_AGENTS),
        "roster.edit": Rule(SUPERVISOR_AND_UP),
        "agents.roles": Rule(SUPERVISOR_AND_UP),
        "guided.use": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}, own_only=_AGENTS),
        # The shop's routing configuration: supervisors see what routes their floor;
        # only the people who own the shop's rules change them.
        "shop_config.read": Rule(SUPERVISOR_AND_UP),
        "shop_config.edit": Rule(frozenset({UserRole.OWNER, UserRole.ADMIN})),
        # Alerts (告警): supervisors see them (live notices, the list); the people who own
        # the shop's rules set the robots, secrets and thresholds and send a test.
        "alerts.read": Rule(SUPERVISOR_AND_UP),
        "alerts.configure": Rule(frozenset({UserRole.OWNER, UserRole.ADMIN})),
        # Promotion mode (大促模式): supervisors see what is live and scheduled; owners and
        # admins switch and schedule it, as they change the shop's rules.
        "promotions.read": Rule(SUPERVISOR_AND_UP),
        # 模拟推演: a simulation of the shop's own day, asked for and read by its leads.
        "whatif.read": Rule(SUPERVISOR_AND_UP),
        "whatif.run": Rule(SUPERVISOR_AND_UP),
        "promotions.edit": Rule(frozenset({UserRole.OWNER, UserRole.ADMIN})),
        # Correcting triage's intent (a labelled example for the shop's model): agents on
        # their own conversations, supervisors on any.
        "triage.relabel": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}, own_only=_AGENTS),
        # Team administration: supervisors read their team; owners and admins change it.
        "team.read": Rule(SUPERVISOR_AND_UP),
        "team.admin": Rule(frozenset({UserRole.OWNER, UserRole.ADMIN})),
        # A buyer-visible message whose delivery failed: the agent holding the conversation
        # sends it again, supervisors any of the shop's.
        "deliveries.retry": Rule(SUPERVISOR_AND_UP | {UserRole.AGENT}, own_only=_AGENTS),
        # Integrator webhooks (subscriptions, their secrets, the delivery log): the people
        # who own the shop's integrations.
        "webhooks.admin": Rule(frozenset({UserRole.OWNER, UserRole.ADMIN})),
        # My own account (password, sessions, API tokens): everyone.
        "account.use": Rule(EVERYONE),
        # QC (质检). The QC lead is the supervisor role (owners and admins too): scripts,
        # disputes, calibration sessions, proposals to done. Inspectors score and read every
        # transcript; agents see and answer only the findings against them; trainers read.
        "qc.queue": Rule(SUPERVISOR_AND_UP | {UserRole.QC_INSPECTOR}),
        "qc.score": Rule(SUPERVISOR_AND_UP | {UserRole.QC_INSPECTOR}),
        "qc.lead": Rule(SUPERVISOR_AND_UP),
        "qc.results": Rule(
            SUPERVISOR_AND_UP | {UserRole.QC_INSPECTOR, UserRole.TRAINER, UserRole.AGENT},
            own_only=_AGENTS,
        ),
        "qc.respond": Rule(_AGENTS, own_only=_AGENTS),
        "qc.calibrate": Rule(SUPERVISOR_AND_UP | {UserRole.QC_INSPECTOR}),
        "qc.propose": Rule(SUPERVISOR_AND_UP | {UserRole.QC_INSPECTOR}),
        # Reading the improvement proposals: QC, trainers and supervisors, not agents.
        "qc.proposals": Rule(SUPERVISOR_AND_UP | {UserRole.QC_INSPECTOR, UserRole.TRAINER}),
        "qc.reports": Rule(SUPERVISOR_AND_UP | {UserRole.TRAINER}),
        # Training (培训) and points (积分制). Trainers (owners, admins too) run the courses,
        # rules and assignments; supervisors see the team's courses, results and ledgers and
        # award points; agents take and see only their own. Rankings are public (seeds/003).
        "training.manage": Rule(frozenset({UserRole.TRAINER, UserRole.OWNER, UserRole.ADMIN})),
        "training.catalog": Rule(SUPERVISOR_AND_UP | {UserRole.TRAINER}),
        "training.results": Rule(
            SUPERVISOR_AND_UP | {UserRole.TRAINER, UserRole.AGENT}, own_only=_AGENTS
        ),
        "training.take": Rule(_AGENTS, own_only=_AGENTS),
        "points.read": Rule(
            SUPERVISOR_AND_UP | {UserRole.TRAINER, UserRole.AGENT}, own_only=_AGENTS
        ),
        "points.rankings": Rule(EVERYONE),
        "points.award": Rule(SUPERVISOR_AND_UP),
    }
)


class ShopScoped(Protocol):
    @property
    def shop_id(self) -> str: ...


class Assignable(ShopScoped, Protocol):
    """A conversation, or anything else handed to one agent."""

    @property
    def assigned_agent_id(self) -> int | None: ...


class UnknownActionError(KeyError):
    """A typo in an action name is a bug: it fails loudly instead of silently denying."""


class AccessDeniedError(ForbiddenError):
    """Raised by :func:`require`; the auth middleware turns it into a 403."""

    def __init__(self, user: CurrentUser, action: str) -> None:
        super().__init__(f"forbidden: role {user.role.value!r} may not {action} (无权限)")
        self.action = action


def rule_for(action: str) -> Rule:
    try:
        return ACCESS[action]
    except KeyError:
        raise UnknownActionError(action) from None


def can(user: CurrentUser, action: str, obj: ShopScoped | None = None) -> bool:
    """May ``user`` do ``action`` (on ``obj``, when given)?"""
    rule = rule_for(action)
    if user.role not in rule.roles:
        return False
    if obj is None:
        # For list views, own-only roles pass here and the query narrows with ``only_own``.
        return True
    if obj.shop_id != user.shop_id:
        return False
    if user.role in rule.own_only:
        return getattr(obj, "assigned_agent_id", None) == user.id
    return True


def require(user: CurrentUser, action: str, obj: ShopScoped | None = None) -> None:
    if not can(user, action, obj):
        raise AccessDeniedError(user, action)


def only_own(user: CurrentUser, action: str) -> bool:
    """Whether a list for ``action`` must be narrowed to objects assigned to ``user``."""
    rule = rule_for(action)
    return user.role in rule.roles and user.role in rule.own_only


def can_read_conversation(user: CurrentUser, conversation: Assignable) -> bool:
    """Agents read only conversations assigned to them; QC and supervisors read the shop's."""
    return can(user, "conversations.read", conversation)
