"""The discrete-event engine: a heap of timed events on a virtual clock.

It drives the product's own pure routing code, never a copy:

* triage: ``csdesk.roles.triage.classify`` on the buyer's text;
* decisions and scores: ``csdesk.ingest.engine.decide_contact`` (the shop's intent map,
  then ``roles/*``), ``roles.payment_chasing.plan_chase`` (delays, quiet hours, attempts,
  big orders to the hotline), ``roles.refund.intake`` (platform deadline, unshipped bonus),
  ``roles.order_review.intake`` (address checks), ``roles.hotline.proactive_call_task``;
  all with the promotion profile;
* queue order: ``csdesk.roles.scoring`` (``deadline_points``, ``next_deadline_change``,
  ``sort_key``: static points + deadline step + linear aging, highest first);
* assignment: ``csdesk.routing.assignment`` (``pick_agent`` on arrival: eligibility,
  capacity, 客户保护期 stickiness, skills with fallback; ``may_take`` when a freed agent
  pulls the best queued item across its roles), and one chaser per buyer.

Policy ``fifo`` routes the same items to the same role queues but serves them oldest
first, round robin among free agents, with no priorities, stickiness or skills.

Both policies see the same arrivals, texts, handle times and patience (each stream and
each item draws from its own seeded generator), so differences come from the policy.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from csdesk.ingest.engine import decide_contact
from csdesk.roles import ROLES, hotline, order_review, payment_chasing
from csdesk.roles import refund as refund_role
from csdesk.roles.base import BuyerFacts, ContactFacts, Decision, OrderFacts, RefundFacts, sla_for
from csdesk.roles.config import RoutingConfig
from csdesk.roles.scoring import deadline_points, next_deadline_change, sort_key
from csdesk.roles.triage import TriageResult, classify
from csdesk.roles.triage_rules import Intent, Risk
from csdesk.routing.assignment import (
    AgentFacts,
    AssignmentConfig,
    ItemFacts,
    chase_claim_binds,
    may_take,
    pick_agent,
    required_skills,
)
from csdesk.routing.facts import ShopContext
from csdesk.simulation.buyer_texts import TEXTS
from csdesk.simulation.scenarios import HandleTime, RosterChange, Scenario, Stream
from csdesk.storage.enums import (
    AgentStatus,
    BuyerTier,
    Channel,
    OrderStatus,
    RefundKind,
    ServiceRole,
)

POLICIES = ("csdesk", "fifo")
CHASE_KINDS = frozenset({"payment_chase", "phone_chase"})
BUYER_FACING = frozenset({"chat", "call"})
SCHEDULED_KINDS = CHASE_KINDS | {"proactive_call"}
ROLE_CHANNELS: dict[str, frozenset[Channel]] = {
    role.value: spec.channels | {Channel.CHAT} for role, spec in ROLES.items()
}
"""The channels a role's items come in: ``RoleSpec.channels``, plus chat for every role
(a buyer's chat asking for a call back is a chat the hotline answers)."""
SAMPLE_EVERY_S = 600.0
"""Queue depth and waits are charted per 10 minutes."""
CLAIM_LOOKAHEAD = 32
"""A freed agent skips at most this many items it may not take (skills, another chaser's
buyer) before it stops looking; the product's claim loop is unbounded, but past a few
dozen the rest of the queue is the same kind of item."""

WAITING, SERVING, DONE, LEFT = 0, 1, 2, 3


def _seeded(seed: int, name: str) -> random.Random:
    # String seeds hash with SHA-512: the same stream on every run and machine.
    return random.Random(f"{seed}:{name}")


@lru_cache(maxsize=4096)
def _triage(text: str) -> TriageResult:
    # classify is pure and deterministic; the buyer texts repeat, so cache by text.
    return classify(text)


@dataclass(slots=True)
class Order:
    order_id: int
    buyer: BuyerFacts
    amount_fen: int
    created_t: float
    paid: bool = False
    attempts: int = 0
    flagged: bool = False
    """An order-review check will flag it once paid (a vague address)."""
    convert_draws: tuple[float, ...] = ()


@dataclass(slots=True, eq=False)
class Item:
    id: int
    role: str
    kind: str
    channel: Channel
    arrived_t: float
    """When it entered the queue (a scheduled chase: when it fell due)."""
    points: float
    """Static score (the product's ``Decision.score.points``)."""
    handle_s: float
    buyer_id: int
    sla_t: float
    deadline_t: float | None = None
    patience_s: float | None = None
    skills: frozenset[str] = frozenset()
    order: Order | None = None
    state: int = WAITING
    version: int = 0
    start_t: float | None = None
    left_t: float | None = None
    key: float = 0.0


QueueEntry = tuple[float, int, int, Item]
"""``(-key, item id, version, item)``: best first; a stale version is skipped."""
QueueHeap = list[QueueEntry]


@dataclass(slots=True, eq=False)
class Agent:
    id: int
    roles: frozenset[str]
    skills: frozenset[str]
    chat_capacity: int
    hotline_capacity: int
    on_shift: bool = True
    chat_load: int = 0
    hotline_load: int = 0
    last_assigned_t: float | None = None
    channels: frozenset[Channel] = frozenset({Channel.CHAT})
    _facts: AgentFacts | None = None

    def load(self, channel: Channel) -> int:
        return self.hotline_load if channel is Channel.HOTLINE else self.chat_load

    def capacity(self, channel: Channel) -> int:
        return self.hotline_capacity if channel is Channel.HOTLINE else self.chat_capacity

    def has_room(self, channel: Channel) -> bool:
        return self.on_shift and self.load(channel) < self.capacity(channel)

    def has_any_room(self) -> bool:
        """Room in a channel one of its roles works in."""
        if not self.on_shift:
            return False
        if Channel.CHAT in self.channels and self.chat_load < self.chat_capacity:
            return True
        return Channel.HOTLINE in self.channels and self.hotline_load < self.hotline_capacity


@dataclass
class RoleStats:
    arrivals: int = 0
    served: int = 0
    abandoned: int = 0
    sla_breaches: int = 0
    waits: list[float] = field(default_factory=list)


@dataclass
class Series:
    """Per 10-minute bucket: queue depth at the bucket's start, and waits of the items that
    started service (or left) in it."""

    times_h: list[float] = field(default_factory=list)
    depth: dict[str, list[int]] = field(default_factory=dict)
    waits: dict[str, list[list[float]]] = field(default_factory=dict)


@dataclass
class Outcome:
    policy: str
    scenario: str
    seed: int
    start: datetime
    roles: dict[str, RoleStats]
    refund_deadline_misses: int
    recovered_fen: int
    events: int
    series: Series


class Simulation:
    """One run of a scenario under one policy. ``run()`` returns the outcome."""

    def __init__(
        self,
        scenario: Scenario,
        policy: str,
        seed: int,
        *,
        routing: RoutingConfig | None = None,
        assignment: AssignmentConfig | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> None:
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}")
        self.scenario = scenario
        self.policy = policy
        self.seed = seed
        self.csdesk = policy == "csdesk"
        self.config = routing or RoutingConfig()
        self.assignment = assignment or AssignmentConfig()
        self.ctx = ShopContext("sim", self.config, self.assignment, scenario.promotion)
        self.t0 = scenario.start
        self.t0_epoch = scenario.start.timestamp()
        self.end_t = scenario.hours * 3600.0
        self.progress = progress
        self._heap: list[tuple[float, int, Callable[..., None], tuple[object, ...]]] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self.events = 0
        self.queues: dict[str, QueueHeap] = {}
        self.reserved: dict[int, QueueHeap] = {}
        """Chases kept for the buyer's chaser, by agent id."""
        self.chases_by_buyer: dict[int, list[Item]] = {}
        """Chases in the shared queues, by buyer (a new claim moves them to the chaser)."""
        self.waiting: dict[str, int] = {}
        self.agents_by_role: dict[str, list[Agent]] = {}
        self.agents_by_id: dict[int, Agent] = {}
        self.rr: dict[str, int] = {}
        self.stats: dict[str, RoleStats] = {r.value: RoleStats() for r in ServiceRole}
        self.protection: dict[int, tuple[int, float]] = {}
        self.chaser: dict[int, tuple[int, float]] = {}
        self.recovered_fen = 0
        self.refund_deadline_misses = 0
        self.buyers: list[BuyerFacts] = []
        self.series = Series()
        self._bucket_waits: dict[str, list[float]] = {}
        self._crew_cache: dict[int, list[list[Agent]]] = {}
        self._sla = {r: sla_for(r, self.config).first_response_s for r in ServiceRole}

    # -- time ------------------------------------------------------------------------------

    def at(self, t: float) -> datetime:
        return self.t0 + timedelta(seconds=t)

    def virtual(self, moment: datetime) -> float:
        return moment.timestamp() - self.t0_epoch

    def schedule(self, t: float, action: Callable[..., None], *args: object) -> None:
        heapq.heappush(self._heap, (t, next(self._seq), action, args))

    # -- run -------------------------------------------------------------------------------

    def run(self) -> Outcome:
        for group_index in range(len(self.scenario.roster)):
            self._start_shift(group_index, 0.0)
        for change in self.scenario.roster_changes:
            self.schedule(max(0.0, change.from_hour * 3600.0), self._change_roster, change)
        for stream in self.scenario.streams:
            rng = _seeded(self.seed, f"stream:{stream.name}")
            self._next_arrival(stream, rng, 0.0)
        self.schedule(0.0, self._sample)
        reported = -1.0
        events = self._heap
        while events:
            t, _, action, args = heapq.heappop(events)
            self.now = t
            self.events += 1
            action(*args)
            if self.progress is not None and t - reported >= 600.0:
                reported = t
                self.progress(min(t / self.end_t, 0.999))  # 100 % once drained
        for queue in [*self.queues.values(), *self.reserved.values()]:
            for entry in queue:  # nobody could ever take these: counted as left unserved
                if entry[3].state == WAITING and entry[3].version == entry[2]:
                    self._leave(entry[3])
        for stats in self.stats.values():
            stats.waits.sort()
        if self.progress is not None:
            self.progress(1.0)
        return Outcome(
            policy=self.policy,
            scenario=self.scenario.name,
            seed=self.seed,
            start=self.scenario.start,
            roles=self.stats,
            refund_deadline_misses=self.refund_deadline_misses,
            recovered_fen=self.recovered_fen,
            events=self.events,
            series=self.series,
        )

    def _busy(self) -> bool:
        return any(self.waiting.values())

    def _sample(self) -> None:
        t = self.now
        self.series.times_h.append(t / 3600.0)
        for role in self.stats:
            self.series.depth.setdefault(role, []).append(self.waiting.get(role, 0))
            self.series.waits.setdefault(role, []).append(self._bucket_waits.pop(role, []))
        # Past the end, only while something else can still happen (service, deadlines).
        if t + SAMPLE_EVERY_S <= self.end_t or (self._busy() and self._heap):
            self.schedule(t + SAMPLE_EVERY_S, self._sample)

    # -- roster ----------------------------------------------------------------------------

    def _crews(self, group_index: int) -> list[list[Agent]]:
        """The group's crews: the same people come back a day later (24 h / shift length
        crews rotate), so a buyer's owner or chaser can be on shift again tomorrow."""
        crews = self._crew_cache.get(group_index)
        if crews is None:
            group = self.scenario.roster[group_index]
            rng = _seeded(self.seed, f"roster:{group_index}")
            roles = frozenset(r.value for r in group.roles)
            shift = self.scenario.shift_hours
            count = max(1, math.ceil(24 / shift)) if shift > 0 else 1
            crews = [
                [
                    Agent(
                        id=next(self._ids),
                        roles=roles,
                        skills=(
                            frozenset({"vip"})
                            if rng.random() < self.scenario.skills_share
                            else frozenset()
                        ),
                        chat_capacity=self.scenario.chat_capacity,
                        hotline_capacity=self.scenario.hotline_capacity,
                        on_shift=False,
                        channels=frozenset().union(*(ROLE_CHANNELS[r] for r in roles)),
                    )
                    for _ in range(group.count)
                ]
                for _ in range(count)
            ]
            self._crew_cache[group_index] = crews
            for crew in crews:
                self.agents_by_id.update((agent.id, agent) for agent in crew)
        return crews

    def _start_shift(self, group_index: int, t: float, turn: int = 0) -> None:
        crews = self._crews(group_index)
        crew = crews[turn % len(crews)]
        roles = self.scenario.roster[group_index].roles
        for agent in crew:
            agent.on_shift = True
            agent._facts = None
        for role in roles:  # a role belongs to one roster group (parse_agents checks)
            self.agents_by_role[role.value] = crew
        shift = self.scenario.shift_hours * 3600.0
        if shift > 0 and t + shift < self.end_t:
            # Off-going agents finish what they hold and take nothing new.
            self.schedule(t + shift, self._change_shift, group_index, crew, turn + 1)
        for agent in crew:
            self._fill(agent)

    def _change_shift(self, group_index: int, outgoing: list[Agent], turn: int) -> None:
        for agent in outgoing:
            agent.on_shift = False
            agent._facts = None
        if self.csdesk:
            self._release_claims(outgoing)
        self._start_shift(group_index, self.now, turn)

    def _release_claims(self, outgoing: list[Agent]) -> None:
        """Going off shift lets go of the buyers one chased (``chase_claim_binds``; the
        product's ``actions.chasing.release_claims``): their waiting chases are anyone's."""
        gone = {agent.id for agent in outgoing}
        for buyer_id in [b for b, (holder, _) in self.chaser.items() if holder in gone]:
            del self.chaser[buyer_id]
        for agent in outgoing:
            for entry in self.reserved.pop(agent.id, []):
                item = entry[3]
                if item.state == WAITING and item.version == entry[2]:
                    self.waiting[item.role] -= 1
                    self._enqueue(item)

    def _group_of(self, role: str) -> int | None:
        for index, group in enumerate(self.scenario.roster):
            if any(r.value == role for r in group.roles):
                return index
        return None

    def _change_roster(self, change: RosterChange) -> None:
        """Every crew of the role's group grows or shrinks by ``delta`` (so the change holds
        across shift changes); the crew on shift starts taking work at once, and agents
        taken off finish what they hold."""
        group_index = self._group_of(change.role.value)
        if group_index is None or change.delta == 0:
            return
        crews = self._crews(group_index)
        on_shift = self.agents_by_role.get(change.role.value)
        roles = frozenset(r.value for r in self.scenario.roster[group_index].roles)
        for crew in crews:
            if change.delta > 0:
                added = [
                    Agent(
                        id=next(self._ids),
                        roles=roles,
                        skills=frozenset(),
                        chat_capacity=self.scenario.chat_capacity,
                        hotline_capacity=self.scenario.hotline_capacity,
                        on_shift=crew is on_shift,
                        channels=frozenset().union(*(ROLE_CHANNELS[r] for r in roles)),
                    )
                    for _ in range(change.delta)
                ]
                crew.extend(added)
                self.agents_by_id.update((agent.id, agent) for agent in added)
                if crew is on_shift:
                    for agent in added:
                        self._fill(agent)
            else:
                leaving = crew[max(0, len(crew) + change.delta) :]
                del crew[max(0, len(crew) + change.delta) :]
                if crew is on_shift:
                    for agent in leaving:
                        agent.on_shift = False
                        agent._facts = None
                    if self.csdesk:
                        self._release_claims(leaving)

    def _on_shift(self, role: str) -> list[Agent]:
        return self.agents_by_role.get(role, [])

    # -- arrivals --------------------------------------------------------------------------

    def _next_arrival(self, stream: Stream, rng: random.Random, t: float) -> None:
        """Piecewise-constant Poisson rate: spend an Exp(1) budget across the hours."""
        budget = rng.expovariate(1.0)
        while t < self.end_t:
            hour = int(t // 3600)
            rate = stream.rate_at(hour) / 3600.0
            hour_end = min((hour + 1) * 3600.0, self.end_t)
            if rate > 0 and rate * (hour_end - t) >= budget:
                t += budget / rate
                self.schedule(t, self._arrive, stream, rng)
                return
            budget -= rate * (hour_end - t)
            t = hour_end

    def _arrive(self, stream: Stream, rng: random.Random) -> None:
        item_rng = random.Random(rng.getrandbits(64))
        if stream.name == "order":
            self._order_created(item_rng)
        elif stream.name == "refund":
            self._refund_requested(item_rng)
        else:
            self._contact(stream, item_rng)
        self._next_arrival(stream, rng, self.now)

    def _buyer(self, rng: random.Random, new_share: float) -> tuple[BuyerFacts, bool]:
        if self.buyers and rng.random() >= new_share:
            return self.buyers[rng.randrange(len(self.buyers))], False
        roll = rng.random()
        vip = self.scenario.vip_share
        tier = BuyerTier.NORMAL
        if roll < vip / 2:
            tier = BuyerTier.VIP88
        elif roll < vip:
            tier = BuyerTier.VIP
        buyer = BuyerFacts(buyer_id=len(self.buyers) + 1, tier=tier)
        self.buyers.append(buyer)
        return buyer, True

    def _handle(self, kind: str, rng: random.Random) -> float:
        spec: HandleTime = self.scenario.handle.get(kind) or self.scenario.handle["default"]
        if spec.sigma is None:
            return rng.expovariate(1.0 / spec.mean_s)
        mu = math.log(spec.mean_s) - spec.sigma**2 / 2
        return rng.lognormvariate(mu, spec.sigma)

    def _patience(self, channel: Channel, rng: random.Random) -> float | None:
        mean = (
            self.scenario.call_patience_s
            if channel is Channel.HOTLINE
            else self.scenario.chat_patience_s
        )
        return None if mean is None else rng.expovariate(1.0 / mean)

    def _amount(self, rng: random.Random) -> int:
        if rng.random() < self.scenario.big_order_share:
            return rng.randint(200_000, 800_000)
        return int(rng.lognormvariate(math.log(25_000), 0.8))

    def _contact(self, stream: Stream, rng: random.Random) -> None:
        now = self.at(self.now)
        channel = Channel.HOTLINE if stream.name == "call" else Channel.CHAT
        if stream.intent is not None:
            text = rng.choice(TEXTS[stream.intent])
            triage = _triage(text)
            intent, risk = Intent(triage.intent), Risk(triage.risk)
        else:
            intent, risk = Intent.OTHER, Risk.LOW
        post_purchase = intent not in (Intent.PRESALE, Intent.OTHER, Intent.HOWTO)
        buyer, new = self._buyer(rng, 0.0 if post_purchase else self.scenario.new_buyer_share)
        order = None
        if post_purchase or (channel is Channel.HOTLINE and rng.random() < 0.5):
            status = OrderStatus.PAID if rng.random() < 0.6 else OrderStatus.SHIPPED
            order = OrderFacts(
                order_id=0,
                buyer_id=buyer.buyer_id,
                status=status,
                amount_fen=self._amount(rng),
                created_at=now - timedelta(hours=6),
            )
        contact = ContactFacts(
            channel=channel,
            intent=intent,
            risk=risk,
            at=now,
            buyer=buyer,
            order=order,
            first_contact=new,
            promotion=self.scenario.promotion,
        )
        if channel is Channel.HOTLINE:
            decision = hotline.intake_call(contact, self.config)
            kind = "call"
        else:
            decision = decide_contact(contact, self.ctx, now)
            kind = "chat"  # a buyer's thread stays a chat whichever role answers it
        skills = required_skills(self.assignment.skill_rules, buyer.tier.value, ())
        patience = self._patience(channel, rng) if kind in BUYER_FACING else None
        self._open(decision, kind, channel, buyer.buyer_id, rng, skills=skills, patience=patience)
        for followup in decision.followups:
            if followup.role is ServiceRole.HOTLINE:
                task = hotline.proactive_call_task(contact, followup, self.config)
                self._open(task, task.kind, Channel.HOTLINE, buyer.buyer_id, rng)

    def _open(
        self,
        decision: Decision,
        kind: str,
        channel: Channel,
        buyer_id: int,
        rng: random.Random,
        *,
        skills: frozenset[str] = frozenset(),
        patience: float | None = None,
        order: Order | None = None,
    ) -> None:
        """A routable item from a role's decision: now, or when it falls due."""
        due_t = self.virtual(decision.due_at) if decision.due_at is not None else self.now
        # Like the engine's ``not_before``: chases and proactive calls wait until due.
        start_t = max(self.now, due_t) if kind in SCHEDULED_KINDS else self.now
        handle = self._handle(kind, rng)
        item = Item(
            id=next(self._ids),
            role=decision.role.value,
            kind=kind,
            channel=channel,
            arrived_t=start_t,
            points=decision.score.points,
            handle_s=handle,
            buyer_id=buyer_id,
            sla_t=0.0,
            deadline_t=self.virtual(decision.deadline_at) if decision.deadline_at else None,
            patience_s=patience,
            skills=skills,
            order=order,
        )
        # The SLA: a hard deadline or a later due time the decision names, else the role's
        # first-response target from the moment the item is due.
        if due_t > start_t:
            item.sla_t = due_t
        else:
            item.sla_t = start_t + self._sla[decision.role]
        if start_t > self.now:
            self.schedule(start_t, self._place, item)
        else:
            self._place(item)

    # -- orders, chases, refunds ----------------------------------------------------------

    def _order_created(self, rng: random.Random) -> None:
        buyer, _ = self._buyer(rng, self.scenario.new_buyer_share)
        order = Order(
            order_id=next(self._ids),
            buyer=buyer,
            amount_fen=self._amount(rng),
            created_t=self.now,
            convert_draws=tuple(
                rng.random() for _ in range(self.config.payment_chasing.max_attempts)
            ),
        )
        order.flagged = rng.random() < self.scenario.flagged_order_share
        if rng.random() >= self.scenario.unpaid_share:
            pay_t = self.now + rng.expovariate(1.0 / self.scenario.self_pay_mean_s)
            self.schedule(pay_t, self._order_paid, order, rng)
            return
        self._plan_chase(order, rng)

    def _order_facts(self, order: Order, status: OrderStatus, address: str | None) -> OrderFacts:
        return OrderFacts(
            order_id=order.order_id,
            buyer_id=order.buyer.buyer_id,
            status=status,
            amount_fen=order.amount_fen,
            created_at=self.at(order.created_t),
            receiver_name="王女士",
            receiver_phone="13800000000",
            address=address,
        )

    def _plan_chase(self, order: Order, rng: random.Random) -> None:
        last = self.at(self.now) if order.attempts else None
        decision = payment_chasing.plan_chase(
            self._order_facts(order, OrderStatus.CREATED, None),
            order.buyer,
            order.attempts,
            last,
            self.at(self.now),
            self.config,
            self.scenario.promotion,
        )
        if decision is None:
            return
        channel = Channel.HOTLINE if decision.role is ServiceRole.HOTLINE else Channel.CHAT
        skills = required_skills(self.assignment.skill_rules, order.buyer.tier.value, ())
        self._open(
            decision, decision.kind, channel, order.buyer.buyer_id, rng, skills=skills, order=order
        )

    def _order_paid(self, order: Order, rng: random.Random) -> None:
        if order.paid:
            return
        order.paid = True
        address = "待定" if order.flagged else "浙江省杭州市西湖区文三路 100 号 3 幢 2 单元 501 室"
        decision = order_review.intake(
            self._order_facts(order, OrderStatus.PAID, address),
            order.buyer,
            self.at(self.now),
            self.config,
            promotion=self.scenario.promotion,
        )
        if decision is not None:
            self._open(decision, decision.kind, Channel.CHAT, order.buyer.buyer_id, rng)

    def _refund_requested(self, rng: random.Random) -> None:
        buyer, _ = self._buyer(rng, 0.0)
        unshipped = rng.random() < self.scenario.unshipped_refund_share
        kind = (
            RefundKind.REFUND_ONLY
            if unshipped or rng.random() < 0.4
            else RefundKind.RETURN_AND_REFUND
        )
        facts = RefundFacts(
            refund_id=next(self._ids),
            order_id=0,
            kind=kind,
            order_status=OrderStatus.PAID if unshipped else OrderStatus.SHIPPED,
            amount_fen=self._amount(rng),
            requested_at=self.at(self.now),
            buyer=buyer,
        )
        decision = refund_role.intake(facts, self.config, promotion=self.scenario.promotion)
        skills = required_skills(self.assignment.skill_rules, buyer.tier.value, ())
        self._open(decision, decision.kind, Channel.CHAT, buyer.buyer_id, rng, skills=skills)

    def _chase_outcome(self, item: Item) -> None:
        order = item.order
        if order is None or order.paid:
            return
        draw = order.convert_draws[min(order.attempts, len(order.convert_draws) - 1)]
        order.attempts += 1
        elapsed = self.now - order.created_t
        p = self.scenario.chase_convert_p0 * math.exp(-elapsed / self.scenario.chase_convert_tau_s)
        rng = random.Random(hash((self.seed, order.order_id, order.attempts)))
        if draw < p:
            self.recovered_fen += order.amount_fen
            self._order_paid(order, rng)
        else:
            self._plan_chase(order, rng)

    # -- queueing --------------------------------------------------------------------------

    def _item_facts(self, item: Item, owner: tuple[int, float] | None) -> ItemFacts:
        return ItemFacts(
            item_id=item.id,
            role=item.role,
            channel=item.channel,
            enqueued_at=self.at(item.arrived_t),
            required_skills=item.skills,
            skill_fallback_s=self.assignment.skill_fallback_s,
            protection_owner_id=owner[0] if owner else None,
            protection_until=self.at(owner[1]) if owner else None,
        )

    def _agent_facts(self, agent: Agent) -> AgentFacts:
        facts = agent._facts
        if facts is None:
            facts = agent._facts = AgentFacts(
                user_id=agent.id,
                status=AgentStatus.ONLINE if agent.on_shift else AgentStatus.OFFLINE,
                roles=agent.roles,
                skills=agent.skills,
                chat_capacity=agent.chat_capacity,
                hotline_capacity=agent.hotline_capacity,
                chat_load=agent.chat_load,
                hotline_load=agent.hotline_load,
                last_assigned_at=(
                    self.at(agent.last_assigned_t) if agent.last_assigned_t is not None else None
                ),
            )
        return facts

    def _reserved(self, item: Item) -> tuple[int, float] | None:
        """客户保护期 owner of a buyer-facing item, or the buyer's one chaser for a chase
        (while the claim binds: its holder is on shift and holds the chase's role)."""
        chase = item.kind in CHASE_KINDS
        owner = (self.chaser if chase else self.protection).get(item.buyer_id)
        if owner is None or owner[1] <= self.now:
            return None
        if chase:
            holder = self.agents_by_id.get(owner[0])
            status = None
            if holder is not None:
                status = AgentStatus.ONLINE if holder.on_shift else AgentStatus.OFFLINE
            if not chase_claim_binds(status, holder.roles if holder else (), item.role):
                return None
        return owner

    def _place(self, item: Item) -> None:
        """On arrival: the best free agent now, else the role's queue."""
        stats = self.stats[item.role]
        stats.arrivals += 1
        if item.patience_s is not None:
            self.schedule(self.now + item.patience_s, self._give_up, item)
        if item.deadline_t is not None:
            self.schedule(max(item.deadline_t, self.now), self._deadline, item)
        members = self._on_shift(item.role)
        if self.csdesk:
            chosen = self._pick_csdesk(item, members)
        else:
            chosen = self._pick_round_robin(item, members)
        if chosen is not None:
            self._assign(item, chosen)
        else:
            self._enqueue(item)

    def _pick_csdesk(self, item: Item, members: list[Agent]) -> Agent | None:
        """``assignment.pick_agent`` decides. It is handed only the agents that can win:
        the protection owner, and the least loaded with room (overall, and among those
        with the item's skills); the rest lose on load in ``pick_agent`` anyway, and
        building their facts would cost most of the day's run time."""
        owner = self._reserved(item)
        owner_id = owner[0] if owner else None
        hot = item.channel is Channel.HOTLINE
        needs = item.skills
        least: list[Agent] = []
        least_ratio = math.inf
        skilled: list[Agent] = []
        skilled_ratio = math.inf
        sticky: list[Agent] = []
        for agent in members:
            if hot:
                load, capacity = agent.hotline_load, agent.hotline_capacity
            else:
                load, capacity = agent.chat_load, agent.chat_capacity
            if load >= capacity or not agent.on_shift:
                continue
            if agent.id == owner_id:
                sticky.append(agent)
            ratio = load / capacity
            if ratio < least_ratio:
                least_ratio, least = ratio, [agent]
            elif ratio == least_ratio:
                least.append(agent)
            if needs and needs <= agent.skills:
                if ratio < skilled_ratio:
                    skilled_ratio, skilled = ratio, [agent]
                elif ratio == skilled_ratio:
                    skilled.append(agent)
        candidates = list({a.id: a for a in (*sticky, *least, *skilled)}.values())
        if not candidates:
            return None
        pick = pick_agent(
            self._item_facts(item, owner),
            [self._agent_facts(a) for a in candidates],
            self.at(self.now),
        )
        if pick is None:
            return None
        if item.kind in CHASE_KINDS and owner is not None and pick.agent_id != owner[0]:
            return None  # the buyer's chaser is busy: the chase waits for them (抢单)
        return next(a for a in candidates if a.id == pick.agent_id)

    def _pick_round_robin(self, item: Item, members: list[Agent]) -> Agent | None:
        start = self.rr.get(item.role, 0)
        count = len(members)
        for step in range(count):
            agent = members[(start + step) % count]
            if agent.has_room(item.channel):
                self.rr[item.role] = (start + step + 1) % count
                return agent
        return None

    def _key(self, item: Item) -> float:
        if not self.csdesk:
            return -item.arrived_t  # oldest first (heap below negates: smallest time wins)
        points = item.points
        if item.deadline_t is not None:
            step = deadline_points(self.at(item.deadline_t), self.at(self.now), self.config)
            points += step.points if step else 0.0
        return sort_key(points, self.at(item.arrived_t), self.config)

    def _enqueue(self, item: Item) -> None:
        item.state = WAITING
        item.version += 1
        item.key = self._key(item)
        entry = (-item.key, item.id, item.version, item)
        heap = self.queues.setdefault(item.role, [])
        if self.csdesk and item.kind in CHASE_KINDS:
            owner = self._reserved(item)
            if owner is not None:
                # One chaser per buyer: only the holder may take it until the claim
                # expires. Kept in the holder's own heap, which is what the product's
                # claim loop amounts to (everyone else skips it, however deep it lies).
                heap = self.reserved.setdefault(owner[0], [])
                self.schedule(owner[1], self._release, item, item.version)
            else:
                self.chases_by_buyer.setdefault(item.buyer_id, []).append(item)
        heapq.heappush(heap, entry)
        self.waiting[item.role] = self.waiting.get(item.role, 0) + 1
        if self.csdesk and item.deadline_t is not None:
            change = next_deadline_change(self.at(item.deadline_t), self.at(self.now), self.config)
            if change is not None:
                self.schedule(
                    max(self.virtual(change), self.now), self._rescore, item, item.version
                )
        if self.csdesk and item.skills:
            # Nobody qualified was free: once the skill fallback opens, idle agents look.
            fallback = item.arrived_t + self.assignment.skill_fallback_s
            if fallback > self.now:
                self.schedule(fallback, self._nudge, item.role)

    def _release(self, item: Item, version: int) -> None:
        """The buyer's chase claim expired: the chase is anyone's now."""
        if item.state != WAITING or item.version != version:
            return
        self.waiting[item.role] -= 1
        self._enqueue(item)
        self._nudge(item.role)

    def _nudge(self, role: str) -> None:
        """Idle agents of the role look at the queue again (their workbench refreshes)."""
        for agent in self._on_shift(role):
            if agent.has_any_room():
                self._fill(agent)

    def _rescore(self, item: Item, version: int) -> None:
        """The deadline step changed: the queue re-keys the item (scoring.py's contract)."""
        if item.state != WAITING or item.version != version:
            return
        self.waiting[item.role] -= 1
        self._enqueue(item)

    def _leave(self, item: Item) -> None:
        item.state = LEFT
        item.left_t = self.now
        item.version += 1
        self.waiting[item.role] -= 1
        stats = self.stats[item.role]
        stats.abandoned += 1
        wait = self.now - item.arrived_t
        stats.waits.append(wait)
        self._bucket_waits.setdefault(item.role, []).append(wait)
        if self.now > item.sla_t:
            stats.sla_breaches += 1

    def _give_up(self, item: Item) -> None:
        if item.state == WAITING:
            self._leave(item)

    def _deadline(self, item: Item) -> None:
        """The platform auto-approves a refund the shop left alone past its deadline."""
        if item.state == WAITING and item.role == ServiceRole.REFUND.value:
            self.refund_deadline_misses += 1
            self._leave(item)

    def _assign(self, item: Item, agent: Agent) -> None:
        item.state = SERVING
        item.start_t = self.now
        item.version += 1
        if item.channel is Channel.HOTLINE:
            agent.hotline_load += 1
        else:
            agent.chat_load += 1
        agent.last_assigned_t = self.now
        agent._facts = None
        stats = self.stats[item.role]
        stats.served += 1
        wait = self.now - item.arrived_t
        stats.waits.append(wait)
        self._bucket_waits.setdefault(item.role, []).append(wait)
        if self.now > item.sla_t:
            stats.sla_breaches += 1
        if self.csdesk:
            if item.kind in BUYER_FACING and self._reserved(item) is None:
                self.protection[item.buyer_id] = (agent.id, self.now + self.assignment.protection_s)
            elif item.kind in CHASE_KINDS and self._reserved(item) is None:
                expires = self.now + self.assignment.chase_claim_s
                self.chaser[item.buyer_id] = (agent.id, expires)
                # The buyer's other queued chases are this chaser's now (everyone else
                # would skip them); at expiry they are anyone's again.
                for other in self.chases_by_buyer.pop(item.buyer_id, []):
                    if other.state == WAITING:
                        self.waiting[other.role] -= 1
                        self._enqueue(other)
        self.schedule(self.now + item.handle_s, self._finish, item, agent)

    def _finish(self, item: Item, agent: Agent) -> None:
        item.state = DONE
        if item.channel is Channel.HOTLINE:
            agent.hotline_load -= 1
        else:
            agent.chat_load -= 1
        agent._facts = None
        if item.kind in CHASE_KINDS:
            self._chase_outcome(item)
        self._fill(agent)

    # -- a freed agent pulls work ----------------------------------------------------------

    def _heads(self, heap: QueueHeap | None) -> Iterator[QueueEntry]:
        while heap:
            entry = heap[0]
            item = entry[3]
            if item.state == WAITING and item.version == entry[2]:
                yield entry
                return
            heapq.heappop(heap)  # stale: served, gone, or re-keyed

    def _fill(self, agent: Agent) -> None:
        """Give a free agent the best queued items it may take, until it is full."""
        while agent.has_any_room():
            item = self._claim(agent)
            if item is None:
                return
            self.waiting[item.role] -= 1
            self._assign(item, agent)

    def _claim(self, agent: Agent) -> Item | None:
        heaps: list[QueueHeap] = [
            self.queues[r]
            for r in agent.roles
            if r in self.queues and any(agent.has_room(c) for c in ROLE_CHANNELS[r])
        ]
        own = self.reserved.get(agent.id)
        if own:
            heaps.append(own)
        skipped: list[tuple[QueueHeap, QueueEntry]] = []
        try:
            while len(skipped) <= CLAIM_LOOKAHEAD:
                best: tuple[QueueHeap, QueueEntry] | None = None
                for heap in heaps:
                    for entry in self._heads(heap):
                        if best is None or entry[:2] < best[1][:2]:
                            best = (heap, entry)
                if best is None:
                    return None
                heap, entry = best
                heapq.heappop(heap)
                item = entry[3]
                if self._may_take(agent, item):
                    return item
                skipped.append((heap, entry))
            return None
        finally:
            for heap, entry in skipped:
                heapq.heappush(heap, entry)

    def _may_take(self, agent: Agent, item: Item) -> bool:
        if not agent.has_room(item.channel):
            return False
        if not self.csdesk:
            return True
        if item.kind in CHASE_KINDS:
            owner = self._reserved(item)
            if owner is not None and owner[0] != agent.id:
                return False  # one chaser per buyer
        return may_take(self._agent_facts(agent), self._item_facts(item, None), self.at(self.now))


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]
