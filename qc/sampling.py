"""Which closed conversations QC inspects today, and why (服务抽查的抽样方案).

Pure: the day's closed conversations come in as :class:`ClosedConversation` facts, the
shop's :class:`SamplingPolicy` says how big each lot's sample is, and
:func:`draw_daily_sample` returns the picks, each with the reason(s) it was picked.

- **Lots.** Per agent per day (the lot is that agent's closed conversations of the day) or
  per role per day. A lot's sample size comes from a :class:`SizeRule`: a fixed percentage,
  a fixed count, or ISO 2859-1 single sampling (:mod:`csdesk.qc.aql`); a role may have its
  own rule.
- **Risk spotlight** (重点抽查). Always picked, whatever the random draw says: a conversation
  with a fatal QC hit, complaint intent or high risk, a refund over the threshold, a low
  satisfaction rating, a transfer bounced twice or more.
- **Training follow-up.** Agents the training issue marks get their rate multiplied, so
  what they were retrained on is checked more often.
- **Reproducible.** Each lot draws from ``random.Random("<seed>|<day>|<lot>")`` over its
  conversations ordered by id: the same facts and seed give the same picks, whatever the
  order the caller read them in, and one lot's size does not shift another lot's draw.

:func:`spread_across_inspectors` then shares the picks among the inspectors on duty.
"""

from __future__ import annotations

import enum
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from csdesk.qc.aql import AQLS, InspectionLevel, single_plan

QUOTED_COMMENT = 60
"""Characters of a rating's comment quoted in the low-rating reason."""


class SizeRule(Protocol):
    def sample_size(self, lot_size: int) -> int:
        """How many of a lot of ``lot_size`` conversations to inspect (0 … lot_size)."""
        ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class FixedPercent:
    """Inspect ``percent`` % of the lot, rounded up (a lot of 1 at 5 % still gives 1)."""

    percent: float

    def __post_init__(self) -> None:
        if not 0 <= self.percent <= 100:
            raise ValueError(f"percent: expected 0-100, got {self.percent}")

    def sample_size(self, lot_size: int) -> int:
        # round() first: 10 % of 30 is 3.0000000000000004 in floating point, not 4.
        return min(lot_size, math.ceil(round(lot_size * self.percent / 100, 9)))

    def describe(self) -> str:
        return f"{self.percent:g}%"


@dataclass(frozen=True)
class FixedCount:
    """Inspect ``count`` conversations of the lot (all of them when the lot is smaller)."""

    count: int

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError(f"count: expected >= 0, got {self.count}")

    def sample_size(self, lot_size: int) -> int:
        return min(lot_size, self.count)

    def describe(self) -> str:
        return f"{self.count} per lot"


@dataclass(frozen=True)
class Iso2859:
    """ISO 2859-1 single sampling, normal inspection (GB/T 2828.1 is the same standard)."""

    level: InspectionLevel = InspectionLevel.II
    aql: str = "2.5"

    def __post_init__(self) -> None:
        if self.aql not in AQLS:
            raise ValueError(f"aql: unsupported AQL {self.aql!r}")

    def sample_size(self, lot_size: int) -> int:
        # The standard starts at lots of 2; a lone conversation is simply inspected.
        if lot_size < 2:
            return lot_size
        return single_plan(lot_size, self.level, self.aql).sample_size

    def describe(self) -> str:
        return f"ISO 2859-1 level {self.level.value}, AQL {self.aql}"


class LotBy(enum.StrEnum):
    AGENT_DAY = "agent_day"
    """One lot per agent per day: that agent's closed conversations of the day."""
    ROLE_DAY = "role_day"
    """One lot per service role per day."""


@dataclass(frozen=True)
class SpotlightRules:
    """What is always inspected (重点抽查). ``None`` switches a threshold off."""

    fatal_hits: bool = True
    complaint_or_high_risk: bool = True
    refund_over_fen: int | None = 50_000
    """Refunds strictly above this amount (fen; default ¥500)."""
    rating_at_most: int | None = 2
    """Satisfaction ratings (1-5) at or below this."""
    transfers_at_least: int | None = 2
    """Conversations transferred this many times or more (bounced between desks)."""


@dataclass(frozen=True)
class SamplingPolicy:
    rule: SizeRule = field(default_factory=Iso2859)
    lot_by: LotBy = LotBy.AGENT_DAY
    role_rules: Mapping[str, SizeRule] = field(default_factory=dict)
    """A role's own size rule (role key → rule), instead of ``rule``."""
    spotlight: SpotlightRules = field(default_factory=SpotlightRules)

    def rule_for(self, role: str) -> SizeRule:
        return self.role_rules.get(role, self.rule)


@dataclass(frozen=True)
class ClosedConversation:
    """What sampling needs to know about one closed conversation."""

    conversation_id: int
    agent_id: int | None
    role: str
    closed_at: datetime
    fatal_hits: int = 0
    intent: str | None = None
    risk: str | None = None
    refund_fen: int = 0
    rating: int | None = None
    rating_comment: str | None = None
    """What the buyer wrote with the rating (quoted in the low-rating reason)."""
    transfers: int = 0


class PickReason(enum.StrEnum):
    RANDOM = "random"
    TRAINING_FOLLOWUP = "training_followup"
    FATAL_HIT = "fatal_hit"
    COMPLAINT = "complaint"
    HIGH_RISK = "high_risk"
    LARGE_REFUND = "large_refund"
    LOW_RATING = "low_rating"
    TRANSFER_BOUNCED = "transfer_bounced"

    @property
    def is_spotlight(self) -> bool:
        return self not in (PickReason.RANDOM, PickReason.TRAINING_FOLLOWUP)


@dataclass(frozen=True)
class Why:
    reason: PickReason
    detail: str
    """For the inspector: "ISO 2859-1 level II, AQL 2.5: 13 of 60 in agent 7's lot"."""

    def to_json(self) -> dict[str, str]:
        return {"reason": self.reason.value, "detail": self.detail}


@dataclass(frozen=True)
class Pick:
    conversation_id: int
    agent_id: int | None
    role: str
    why: tuple[Why, ...]

    @property
    def reasons(self) -> tuple[PickReason, ...]:
        return tuple(w.reason for w in self.why)

    @property
    def spotlight(self) -> bool:
        return any(r.is_spotlight for r in self.reasons)

    def to_json(self) -> dict[str, object]:
        return {
            "conversation_id": self.conversation_id,
            "agent_id": self.agent_id,
            "role": self.role,
            "why": [w.to_json() for w in self.why],
        }


@dataclass(frozen=True)
class Lot:
    key: str
    """``agent:7``, ``agent:none`` (closed without an agent) or ``role:refund``."""
    size: int
    sample_size: int
    rule: str


@dataclass(frozen=True)
class DailySample:
    day: date
    picks: tuple[Pick, ...]
    """Ordered by conversation id."""
    lots: tuple[Lot, ...]


def spotlight_reasons(conversation: ClosedConversation, rules: SpotlightRules) -> list[Why]:
    """Why a conversation is always inspected (empty: it is not)."""
    found: list[Why] = []
    if rules.fatal_hits and conversation.fatal_hits > 0:
        found.append(Why(PickReason.FATAL_HIT, f"{conversation.fatal_hits} fatal QC hit(s)"))
    if rules.complaint_or_high_risk:
        if conversation.intent == "complaint":
            found.append(Why(PickReason.COMPLAINT, "complaint intent"))
        if conversation.risk == "high":
            found.append(Why(PickReason.HIGH_RISK, "high risk"))
    if rules.refund_over_fen is not None and conversation.refund_fen > rules.refund_over_fen:
        found.append(
            Why(
                PickReason.LARGE_REFUND,
                f"refund ¥{conversation.refund_fen / 100:.2f} > ¥{rules.refund_over_fen / 100:.2f}",
            )
        )
    if (
        rules.rating_at_most is not None
        and conversation.rating is not None
        and conversation.rating <= rules.rating_at_most
    ):
        detail = f"rated {conversation.rating}/5"
        if conversation.rating_comment:
            comment = conversation.rating_comment
            if len(comment) > QUOTED_COMMENT:
                comment = comment[:QUOTED_COMMENT] + "…"
            detail = f"{detail}: {comment}"
        found.append(Why(PickReason.LOW_RATING, detail))
    if rules.transfers_at_least is not None and conversation.transfers >= rules.transfers_at_least:
        found.append(Why(PickReason.TRANSFER_BOUNCED, f"transferred {conversation.transfers}x"))
    return found


def _lot_key(conversation: ClosedConversation, lot_by: LotBy) -> str:
    if lot_by is LotBy.ROLE_DAY:
        return f"role:{conversation.role}"
    return f"agent:{conversation.agent_id if conversation.agent_id is not None else 'none'}"


def _lot_rule(members: Sequence[ClosedConversation], policy: SamplingPolicy) -> SizeRule:
    if policy.lot_by is LotBy.ROLE_DAY:
        return policy.rule_for(members[0].role)
    # An agent lot spans the roles the agent served that day: the role they served most
    # (ties: the first in role order) chooses the rule, so a lot has one plan.
    counts: dict[str, int] = defaultdict(int)
    for member in members:
        counts[member.role] += 1
    role = min(counts, key=lambda r: (-counts[r], r))
    return policy.rule_for(role)


def _draw(rng: random.Random, members: Sequence[ClosedConversation], k: int) -> list[int]:
    if k <= 0:
        return []
    return sorted(c.conversation_id for c in rng.sample(list(members), min(k, len(members))))


def _picked_at_random(reasons: Iterable[Why]) -> bool:
    return any(w.reason is PickReason.RANDOM for w in reasons)


def draw_daily_sample(
    conversations: Iterable[ClosedConversation],
    policy: SamplingPolicy,
    *,
    day: date,
    seed: str,
    training_boost: Mapping[int, float] | None = None,
) -> DailySample:
    """The day's picks: the spotlight, a seeded random sample per lot, and the extra draws
    for agents in training follow-up (``training_boost``: agent id → rate factor, e.g. 2.0
    inspects twice as many of that agent's conversations, capped at all of them)."""
    boost = training_boost or {}
    by_lot: dict[str, list[ClosedConversation]] = defaultdict(list)
    by_id: dict[int, ClosedConversation] = {}
    for conversation in conversations:
        if conversation.conversation_id in by_id:
            raise ValueError(f"conversation {conversation.conversation_id} given twice")
        by_id[conversation.conversation_id] = conversation
        by_lot[_lot_key(conversation, policy.lot_by)].append(conversation)

    why: dict[int, list[Why]] = defaultdict(list)
    for conversation in by_id.values():
        found = spotlight_reasons(conversation, policy.spotlight)
        if found:
            why[conversation.conversation_id].extend(found)

    lots: list[Lot] = []
    for key in sorted(by_lot):
        members = sorted(by_lot[key], key=lambda c: c.conversation_id)
        rule = _lot_rule(members, policy)
        size = rule.sample_size(len(members))
        rng = random.Random(f"{seed}|{day.isoformat()}|{key}")
        detail = f"{rule.describe()}: {size} of {len(members)} in lot {key}"
        for conversation_id in _draw(rng, members, size):
            why[conversation_id].append(Why(PickReason.RANDOM, detail))
        lots.append(Lot(key, len(members), size, rule.describe()))

        # Training follow-up: top the agent's share up to factor × the lot's rate, drawn
        # from that agent's conversations not already picked at random.
        rate = size / len(members)
        agents = sorted({c.agent_id for c in members if c.agent_id is not None} & boost.keys())
        for agent_id in agents:
            factor = boost[agent_id]
            own = [c for c in members if c.agent_id == agent_id]
            wanted = min(len(own), math.ceil(round(rate * factor * len(own), 9)))
            rest = [c for c in own if not _picked_at_random(why.get(c.conversation_id, ()))]
            already = len(own) - len(rest)
            extra_rng = random.Random(f"{seed}|{day.isoformat()}|{key}|training:{agent_id}")
            note = f"training follow-up: agent {agent_id} at {factor:g}x the rate of lot {key}"
            for conversation_id in _draw(extra_rng, rest, wanted - already):
                why[conversation_id].append(Why(PickReason.TRAINING_FOLLOWUP, note))

    picks = tuple(
        Pick(cid, by_id[cid].agent_id, by_id[cid].role, tuple(why[cid]))
        for cid in sorted(why)
        if why[cid]
    )
    return DailySample(day, picks, tuple(lots))


@dataclass(frozen=True)
class InspectorOnDuty:
    inspector_id: int
    share: float = 1.0
    """Relative workload (a part-timer 0.5); picks are spread in proportion."""


def spread_across_inspectors(
    picks: Sequence[Pick], inspectors: Sequence[InspectorOnDuty]
) -> dict[int, list[Pick]]:
    """Share the day's picks among the inspectors on duty (质检排班).

    Spotlight picks are dealt first so the urgent ones are spread too; each pick goes to the
    inspector with the lowest load relative to their share, preferring one who has seen
    fewer of that agent's conversations today (one inspector does not judge an agent
    alone), then the order given. Deterministic. No inspector on duty: nothing assigned
    (an empty mapping), the caller leaves the queue unassigned."""
    active = [i for i in inspectors if i.share > 0]
    assigned: dict[int, list[Pick]] = {i.inspector_id: [] for i in active}
    if not active:
        return {}
    seen: dict[tuple[int, int | None], int] = defaultdict(int)
    ordered = sorted(picks, key=lambda p: (not p.spotlight, p.conversation_id))
    for pick in ordered:
        chosen = min(
            range(len(active)),
            key=lambda n: (
                (len(assigned[active[n].inspector_id]) + 1) / active[n].share,
                seen[(active[n].inspector_id, pick.agent_id)],
                n,
            ),
        )
        inspector_id = active[chosen].inspector_id
        assigned[inspector_id].append(pick)
        seen[(inspector_id, pick.agent_id)] += 1
    return assigned
