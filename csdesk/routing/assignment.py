"""Who takes an item: eligibility, capacity, stickiness and skills, as separate pure rules.

Composed by :func:`pick_agent`; each piece can be tested alone (Chatwoot splits its
auto-assignment the same way). No I/O: the engine loads the facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from csdesk.roles import refund as refund_duties
from csdesk.storage.enums import AgentStatus, Channel, ServiceRole


@dataclass(frozen=True)
class AgentFacts:
    user_id: int
    status: AgentStatus
    roles: frozenset[str]
    """Service roles the agent is on shift in now."""
    skills: frozenset[str]
    chat_capacity: int
    hotline_capacity: int
    chat_load: int
    hotline_load: int
    last_assigned_at: datetime | None = None

    def capacity(self, channel: Channel) -> int:
        return self.hotline_capacity if channel is Channel.HOTLINE else self.chat_capacity

    def load(self, channel: Channel) -> int:
        return self.hotline_load if channel is Channel.HOTLINE else self.chat_load


@dataclass(frozen=True)
class ItemFacts:
    item_id: int
    role: str
    channel: Channel
    enqueued_at: datetime
    required_skills: frozenset[str] = frozenset()
    skill_fallback_s: float = 60.0
    """After this long waiting, anyone eligible may take it (nobody qualified was free)."""
    protection_owner_id: int | None = None
    protection_until: datetime | None = None
    excluded_agent_ids: frozenset[int] = frozenset()
    """E.g. the agent who just let it go unanswered."""
    duty_holders: frozenset[int] = frozenset()
    """Online agents whose roster shift now carries the duty this item needs (refund review
    or processing); empty when nobody holds it, and then anyone in the role may take it."""
    any_role: bool = False
    """Anyone on shift may take it, whatever their roles (a promotion's role swap: simple
    after-sales questions go to everyone)."""


ITEM_DUTIES: Final[Mapping[str, tuple[str, str]]] = {
    "refund_review": (ServiceRole.REFUND.value, refund_duties.REVIEW),
    "refund_processing": (ServiceRole.REFUND.value, refund_duties.PROCESSING),
}
"""Item kind → (role, duty) of the roster shifts that take it first."""


@dataclass(frozen=True)
class Pick:
    agent_id: int
    reason: str


def has_capacity(agent: AgentFacts, channel: Channel) -> bool:
    return agent.load(channel) < agent.capacity(channel)


def auto_suspend_limit(agent_setting: int | None, shop_default: int | None) -> int | None:
    """自动挂起: the open-chat count at which the agent goes busy; None: never. The agent's
    own setting wins (0: off), else the shop's."""
    limit = shop_default if agent_setting is None else agent_setting
    return limit if limit else None


def auto_suspend_change(
    status: AgentStatus, suspended: bool, chat_load: int, limit: int | None
) -> tuple[AgentStatus, bool] | None:
    """The (status, suspended-automatically) an agent's open-chat count calls for, or None
    to leave it: online at the limit → busy; busy because of it and below → online again.
    A busy, away or offline chosen by the agent is never changed."""
    if status is AgentStatus.ONLINE and limit is not None and chat_load >= limit:
        return AgentStatus.BUSY, True
    if status is AgentStatus.BUSY and suspended and (limit is None or chat_load < limit):
        return AgentStatus.ONLINE, False
    return None


def is_eligible(agent: AgentFacts, item: ItemFacts) -> bool:
    """Online, on shift in the item's role, room in the channel, not excluded, and holding
    the item's duty when someone online does (a reviewer alone at night takes both)."""
    return (
        agent.status is AgentStatus.ONLINE
        and (item.any_role or item.role in agent.roles)
        and has_capacity(agent, item.channel)
        and agent.user_id not in item.excluded_agent_ids
        and (not item.duty_holders or agent.user_id in item.duty_holders)
    )


def is_qualified(agent: AgentFacts, item: ItemFacts) -> bool:
    return item.required_skills <= agent.skills


def skill_fallback_open(item: ItemFacts, now: datetime) -> bool:
    return (now - item.enqueued_at).total_seconds() >= item.skill_fallback_s


def sticky_owner(item: ItemFacts, now: datetime) -> int | None:
    """客户保护期: the owner within the protection period, else nobody."""
    if item.protection_owner_id is None or item.protection_until is None:
        return None
    return item.protection_owner_id if now < item.protection_until else None


def _least_loaded(candidates: Iterable[AgentFacts], channel: Channel) -> AgentFacts | None:
    def key(agent: AgentFacts) -> tuple[float, float, int]:
        ratio = agent.load(channel) / max(agent.capacity(channel), 1)
        # Among equals, whoever waited longest since their last assignment goes first.
        last = agent.last_assigned_at.timestamp() if agent.last_assigned_at else 0.0
        return (ratio, last, agent.user_id)

    return min(candidates, key=key, default=None)


def pick_agent(item: ItemFacts, agents: Sequence[AgentFacts], now: datetime) -> Pick | None:
    """The agent who should take ``item`` now, or None (it waits in the queue)."""
    eligible = [agent for agent in agents if is_eligible(agent, item)]
    owner_id = sticky_owner(item, now)
    if owner_id is not None:
        for agent in eligible:
            if agent.user_id == owner_id:
                return Pick(
                    agent.user_id, "客户保护期内回到原接待人 / back to the protection owner"
                )
    qualified = [agent for agent in eligible if is_qualified(agent, item)]
    best = _least_loaded(qualified, item.channel)
    if best is not None:
        reason = "负载最低 / least loaded"
        if item.required_skills:
            reason += f" ({'+'.join(sorted(item.required_skills))})"
        return Pick(best.user_id, reason)
    if item.required_skills and skill_fallback_open(item, now):
        fallback = _least_loaded(eligible, item.channel)
        if fallback is not None:
            return Pick(
                fallback.user_id, "无合格人员空闲,兜底分配 / fallback: nobody qualified free"
            )
    return None


def chase_claim_binds(
    holder_status: AgentStatus | None, holder_roles: Iterable[str], role: str
) -> bool:
    """一客一催: whether a buyer's chase claim keeps a chase routed to ``role`` for its holder.

    Only while the holder can work it: on shift (any status but offline; busy or away for
    a moment, they come back to their buyers) and holding the role. A chaser who went off
    shift lets go, so the buyer's next chase goes to whoever is on shift; and a chat
    chaser's claim does not hold the hotline's phone chase of the buyer's big order, which
    no chat chaser can make. Whoever then takes the chase takes the claim over: one
    chaser at a time still. ``None``: the holder is no agent of the shop any more."""
    return (
        holder_status is not None
        and holder_status is not AgentStatus.OFFLINE
        and role in frozenset(holder_roles)
    )


def may_take(agent: AgentFacts, item: ItemFacts, now: datetime) -> bool:
    """Whether an agent with free capacity, pulling from the queue, may take this item."""
    if not is_eligible(agent, item):
        return False
    return is_qualified(agent, item) or skill_fallback_open(item, now)


@dataclass(frozen=True)
class SkillRule:
    """Items matching this rule want an agent with ``skill`` (seed 004: rule-based routing)."""

    skill: str
    buyer_tiers: frozenset[str] = frozenset()
    product_categories: frozenset[str] = frozenset()

    def applies(self, buyer_tier: str | None, categories: Iterable[str]) -> bool:
        if buyer_tier is not None and buyer_tier in self.buyer_tiers:
            return True
        return bool(self.product_categories.intersection(categories))


DEFAULT_SKILL_RULES = (
    SkillRule("vip", buyer_tiers=frozenset({"vip", "88vip"})),
    SkillRule("large_appliance", product_categories=frozenset({"大家电"})),
)


@dataclass(frozen=True)
class AssignmentConfig:
    protection_s: int = 72 * 3600
    """客户保护期: a returning buyer goes back to the owner for this long."""
    unanswered_reassign_s: int = 180
    """An assigned item without a first reply for this long goes to someone else."""
    skill_fallback_s: int = 60
    skill_rules: tuple[SkillRule, ...] = DEFAULT_SKILL_RULES
    chase_claim_s: int = 24 * 3600
    """How long one chaser keeps a buyer (the claim expires so nobody holds a buyer forever)."""
    auto_suspend_at: int | None = None
    """自动挂起 for agents who have not set their own: at this many open chats an agent goes
    busy (挂起) until below it again. None: off."""

    @classmethod
    def from_overrides(cls, raw: object) -> AssignmentConfig:
        """Defaults with a shop's overrides; ``ValueError`` names the bad key."""
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ValueError("assignment: must be an object")
        values: dict[str, object] = {}
        for key in ("protection_s", "unanswered_reassign_s", "skill_fallback_s", "chase_claim_s"):
            if key in raw:
                value = raw[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"assignment.{key}: must be a whole number >= 0")
                values[key] = value
        if "auto_suspend_at" in raw:
            limit = raw["auto_suspend_at"]
            if limit is not None and (
                isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
            ):
                raise ValueError("assignment.auto_suspend_at: must be a whole number >= 1 or null")
            values["auto_suspend_at"] = limit
        if "skill_rules" in raw:
            rules = raw["skill_rules"]
            if not isinstance(rules, list):
                raise ValueError("assignment.skill_rules: must be a list")
            parsed = []
            for index, rule in enumerate(rules):
                if not isinstance(rule, dict) or not isinstance(rule.get("skill"), str):
                    raise ValueError(f"assignment.skill_rules[{index}].skill: is required")
                parsed.append(
                    SkillRule(
                        skill=rule["skill"],
                        buyer_tiers=frozenset(rule.get("buyer_tiers") or ()),
                        product_categories=frozenset(rule.get("product_categories") or ()),
                    )
                )
            values["skill_rules"] = tuple(parsed)
        unknown = set(raw) - {*values, "skill_rules"}
        if unknown:
            raise ValueError(f"assignment.{sorted(unknown)[0]}: unknown setting")
        return cls(**values)  # type: ignore[arg-type]


def required_skills(
    rules: Iterable[SkillRule], buyer_tier: str | None, categories: Iterable[str]
) -> frozenset[str]:
    categories = tuple(categories)
    return frozenset(rule.skill for rule in rules if rule.applies(buyer_tier, categories))
