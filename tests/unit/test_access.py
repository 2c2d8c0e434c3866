"""The access table, role by role and action by action, and the object checks."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import pytest

from csdesk.auth.access import (
    ACCESS,
    AccessDeniedError,
    UnknownActionError,
    can,
    can_read_conversation,
    only_own,
    require,
)
from csdesk.auth.current import CurrentUser
from csdesk.storage.enums import UserRole
from csdesk.storage.models import Conversation
from csdesk.storage.qc_models import QcFinding
from csdesk.storage.training_models import PointsEntry, TrainingAssignment

AGENT, SUPERVISOR, QC, TRAINER, OWNER, ADMIN = (
    UserRole.AGENT,
    UserRole.SUPERVISOR,
    UserRole.QC_INSPECTOR,
    UserRole.TRAINER,
    UserRole.OWNER,
    UserRole.ADMIN,
)
EVERYONE = frozenset(UserRole)

# Written out by hand on purpose: a change to ACCESS has to be made here too, in review.
EXPECTED: dict[str, frozenset[UserRole]] = {
    "console.view": EVERYONE,
    "me.read": EVERYONE,
    "audit.read": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "metrics.read": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "events.read": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "events.retry": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "queues.read": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "conversations.read": frozenset({AGENT, SUPERVISOR, QC, OWNER, ADMIN}),
    "conversations.note": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "pii.reveal": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "pii.erase": frozenset({OWNER, ADMIN}),
    "workbench.use": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "live.subscribe": frozenset(UserRole),
    "order_review.work": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "chase.work": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "chase.kpi": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "refund.review": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "refund.process": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "hotline.work": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "hotline.lookup": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "hotline.campaign": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "supervisor.board": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "dashboard.read": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "supervisor.assign": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "roster.read": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "roster.edit": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "agents.roles": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "guided.use": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "shop_config.read": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "alerts.read": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "alerts.configure": frozenset({OWNER, ADMIN}),
    "promotions.read": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "promotions.edit": frozenset({OWNER, ADMIN}),
    "whatif.read": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "whatif.run": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "team.read": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "team.admin": frozenset({OWNER, ADMIN}),
    "quick_replies.use": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "quick_replies.edit": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "media.read": EVERYONE,
    "account.use": EVERYONE,
    "deliveries.retry": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "webhooks.admin": frozenset({OWNER, ADMIN}),
    "shop_config.edit": frozenset({OWNER, ADMIN}),
    "triage.relabel": frozenset({AGENT, SUPERVISOR, OWNER, ADMIN}),
    "qc.queue": frozenset({QC, SUPERVISOR, OWNER, ADMIN}),
    "qc.score": frozenset({QC, SUPERVISOR, OWNER, ADMIN}),
    "qc.lead": frozenset({SUPERVISOR, OWNER, ADMIN}),
    "qc.results": frozenset({AGENT, QC, TRAINER, SUPERVISOR, OWNER, ADMIN}),
    "qc.respond": frozenset({AGENT}),
    "qc.calibrate": frozenset({QC, SUPERVISOR, OWNER, ADMIN}),
    "qc.propose": frozenset({QC, SUPERVISOR, OWNER, ADMIN}),
    "qc.proposals": frozenset({SUPERVISOR, QC, TRAINER, OWNER, ADMIN}),
    "qc.reports": frozenset({TRAINER, SUPERVISOR, OWNER, ADMIN}),
    "training.manage": frozenset({TRAINER, OWNER, ADMIN}),
    "training.catalog": frozenset({TRAINER, SUPERVISOR, OWNER, ADMIN}),
    "training.results": frozenset({AGENT, TRAINER, SUPERVISOR, OWNER, ADMIN}),
    "training.take": frozenset({AGENT}),
    "points.read": frozenset({AGENT, TRAINER, SUPERVISOR, OWNER, ADMIN}),
    "points.rankings": EVERYONE,
    "points.award": frozenset({SUPERVISOR, OWNER, ADMIN}),
}
SHOP = "shop-a"
ME = 7


def user(role: UserRole, *, shop_id: str = SHOP, user_id: int = ME) -> CurrentUser:
    return CurrentUser(
        id=user_id,
        shop_id=shop_id,
        username=f"u{user_id}",
        display_name="测试",
        role=role,
        via_token=False,
    )


@dataclass(frozen=True)
class ShopThing:
    """Something of a shop that is not handed to anyone (a report, a queue)."""

    shop_id: str


def conversation(shop_id: str = SHOP, assigned_to: int | None = ME) -> Conversation:
    return Conversation(shop_id=shop_id, assigned_agent_id=assigned_to)


def finding(shop_id: str = SHOP, *, agent: int | None = ME) -> QcFinding:
    return QcFinding(shop_id=shop_id, agent_id=agent)


def assignment(shop_id: str = SHOP, *, agent: int = ME) -> TrainingAssignment:
    return TrainingAssignment(shop_id=shop_id, agent_id=agent)


def entry(shop_id: str = SHOP, *, agent: int = ME) -> PointsEntry:
    return PointsEntry(shop_id=shop_id, agent_id=agent)


def test_the_table_names_every_action() -> None:
    assert set(ACCESS) == set(EXPECTED)


@pytest.mark.parametrize(("action", "role"), list(product(sorted(EXPECTED), list(UserRole))))
def test_roles_per_action(action: str, role: UserRole) -> None:
    assert can(user(role), action) is (role in EXPECTED[action])


@pytest.mark.parametrize(
    ("role", "action", "obj", "allowed"),
    [
        # Same shop: the table decides; own-only roles need the object to be theirs.
        (SUPERVISOR, "conversations.read", conversation(assigned_to=99), True),
        (QC, "conversations.read", conversation(assigned_to=None), True),
        (AGENT, "conversations.read", conversation(assigned_to=ME), True),
        (AGENT, "conversations.read", conversation(assigned_to=99), False),
        (AGENT, "conversations.read", conversation(assigned_to=None), False),
        (AGENT, "pii.reveal", conversation(assigned_to=ME), True),
        (AGENT, "pii.reveal", conversation(assigned_to=99), False),
        (AGENT, "pii.reveal", ShopThing(SHOP), False),  # nothing says it is theirs
        (AGENT, "conversations.note", conversation(assigned_to=ME), True),
        (AGENT, "conversations.note", conversation(assigned_to=99), False),
        (SUPERVISOR, "conversations.note", conversation(assigned_to=99), True),
        (QC, "conversations.note", conversation(assigned_to=None), False),
        (TRAINER, "conversations.read", conversation(), False),
        (AGENT, "audit.read", ShopThing(SHOP), False),
        # QC findings count against one agent: theirs to read and answer, nobody else's.
        (AGENT, "qc.results", finding(agent=ME), True),
        (AGENT, "qc.results", finding(agent=99), False),
        (AGENT, "qc.respond", finding(agent=ME), True),
        (AGENT, "qc.respond", finding(agent=99), False),
        (TRAINER, "qc.results", finding(agent=99), True),
        (QC, "qc.results", finding(agent=99), True),
        (TRAINER, "qc.respond", finding(agent=99), False),
        (SUPERVISOR, "qc.respond", finding(agent=99), False),
        (AGENT, "qc.results", finding("shop-b", agent=ME), False),
        (SUPERVISOR, "audit.read", ShopThing(SHOP), True),
        # Training and points: an agent's own courses, results and ledger only.
        (AGENT, "training.take", assignment(agent=ME), True),
        (AGENT, "training.take", assignment(agent=99), False),
        (AGENT, "training.results", assignment(agent=99), False),
        (SUPERVISOR, "training.results", assignment(agent=99), True),
        (TRAINER, "training.results", assignment(agent=99), True),
        (SUPERVISOR, "training.take", assignment(agent=99), False),
        (AGENT, "points.read", entry(agent=ME), True),
        (AGENT, "points.read", entry(agent=99), False),
        (SUPERVISOR, "points.read", entry(agent=99), True),
        (QC, "points.read", entry(agent=99), False),
        # Another shop: never, whatever the role or assignment.
        (SUPERVISOR, "conversations.read", conversation("shop-b"), False),
        (ADMIN, "conversations.read", conversation("shop-b"), False),
        (OWNER, "audit.read", ShopThing("shop-b"), False),
        (AGENT, "conversations.read", conversation("shop-b", assigned_to=ME), False),
    ],
)
def test_object_checks(role: UserRole, action: str, obj: ShopThing, allowed: bool) -> None:
    assert can(user(role), action, obj) is allowed


@pytest.mark.parametrize(
    ("role", "conv", "allowed"),
    [
        (AGENT, conversation(assigned_to=ME), True),
        (AGENT, conversation(assigned_to=8), False),
        (SUPERVISOR, conversation(assigned_to=8), True),
        (SUPERVISOR, conversation("shop-b"), False),
        (TRAINER, conversation(), False),
    ],
)
def test_can_read_conversation(role: UserRole, conv: Conversation, allowed: bool) -> None:
    assert can_read_conversation(user(role), conv) is allowed


@pytest.mark.parametrize(
    ("role", "action", "narrowed"),
    [
        (AGENT, "conversations.read", True),
        (SUPERVISOR, "conversations.read", False),
        (QC, "conversations.read", False),
        (AGENT, "audit.read", False),  # not narrowed: not allowed at all
        (AGENT, "queues.read", False),
    ],
)
def test_only_own(role: UserRole, action: str, narrowed: bool) -> None:
    assert only_own(user(role), action) is narrowed


def test_require_raises_with_the_action_named() -> None:
    require(user(SUPERVISOR), "audit.read")
    with pytest.raises(AccessDeniedError, match=r"'agent' may not audit\.read") as raised:
        require(user(AGENT), "audit.read")
    assert raised.value.action == "audit.read"
    with pytest.raises(AccessDeniedError):
        require(user(ADMIN), "audit.read", ShopThing("shop-b"))


@pytest.mark.parametrize("action", ["audit.reed", "", "AUDIT.READ"])
def test_unknown_actions_fail_loudly(action: str) -> None:
    with pytest.raises(UnknownActionError):
        can(user(ADMIN), action)
    with pytest.raises(UnknownActionError):
        only_own(user(ADMIN), action)
