"""Historical (closed) conversations: which buyer, order or refund each is about, who took
it, when, and its transcript as messages.

Each role draws its subjects from the data a real desk would route to it: payment chasing
from orders paid late or never, order review from orders with a bad address, a wrong gift
or an invoice, refund chats from refund requests, and so on. When a role runs out of
subjects (small data sets), the conversation becomes a pre-sales chat instead.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from csdesk.actions.conversations import ConversationSpec, MessageSpec
from csdesk.actions.refunds import RefundDeadlines
from csdesk.seed.catalog import CatalogProduct
from csdesk.seed.orders import PlannedOrder
from csdesk.seed.people import BuyerProfile
from csdesk.seed.scripts import (
    AFTERSALES_SCENARIOS,
    PAYMENT_CHASING_SCENARIOS,
    PRESALES_SCENARIOS,
    SCENARIOS,
    Scenario,
)
from csdesk.seed.timeline import DOUBLE_11, TrafficShape
from csdesk.seed.transcripts import ScriptContext, Transcript, build_transcript, draw_flaws
from csdesk.storage.enums import (
    ConversationStatus,
    MessageSender,
    RefundKind,
    RefundStatus,
    ServiceRole,
)

ROLE_SHARES: tuple[tuple[ServiceRole, float], ...] = (
    (ServiceRole.PRESALES, 0.34),
    (ServiceRole.AFTERSALES_TRIAGE, 0.2),
    (ServiceRole.REFUND, 0.14),
    (ServiceRole.PAYMENT_CHASING, 0.12),
    (ServiceRole.ORDER_REVIEW, 0.1),
    (ServiceRole.HOTLINE, 0.1),
)
PROTECTION_PERIOD = timedelta(days=3)
"""客户保护期 after a pre-sales chat: the buyer goes back to the same agent."""
TRADITIONAL_SHARE = 0.08


@dataclass(frozen=True)
class AgentRef:
    user_id: int
    chat_name: str
    agent_no: str
    service_roles: tuple[ServiceRole, ...]
    sloppiness: float
    """Share of this agent's conversations with at least one QC flaw."""


@dataclass(frozen=True)
class World:
    """What has been written so far, with the ids the database gave it."""

    shop_name: str
    catalog: Sequence[CatalogProduct]
    buyers: Sequence[BuyerProfile]
    buyer_ids: Sequence[int]
    orders: Sequence[PlannedOrder]
    order_ids: Sequence[int]
    refund_order_indexes: Sequence[int]
    """Index into ``orders`` of each refund, in refund insertion order."""
    refund_ids: Sequence[int]
    agents: Sequence[AgentRef]
    deadlines: RefundDeadlines


@dataclass(frozen=True)
class _Subject:
    scenario: Scenario
    buyer_index: int
    start: datetime
    """When the first message is sent (tasks were opened a little earlier)."""
    product: CatalogProduct
    order_index: int | None = None
    refund_index: int | None = None
    trigger: datetime | None = None
    """What opened a task (the order placed, paid, received): its queue wait starts there."""


class _Pools:
    """Subjects per role, each used once, drawn in a seeded order."""

    def __init__(self, rng: random.Random, world: World) -> None:
        orders = world.orders

        def shuffled(indexes: list[int]) -> list[int]:
            rng.shuffle(indexes)
            return indexes

        self.chase = shuffled([i for i, o in enumerate(orders) if o.late_payer and not o.is_big])
        self.big_chase = shuffled([i for i, o in enumerate(orders) if o.late_payer and o.is_big])
        self.review = shuffled(
            [i for i, o in enumerate(orders) if o.needs_review and o.spec.paid_at is not None]
        )
        self.shipped = shuffled([i for i, o in enumerate(orders) if o.spec.shipped_at is not None])
        self.received = shuffled(
            [i for i, o in enumerate(orders) if o.spec.received_at is not None]
        )
        self.received_large = shuffled(
            [
                i
                for i, o in enumerate(orders)
                if o.spec.received_at is not None and any(p.is_large_appliance for p in o.products)
            ]
        )
        self.presale_notice = shuffled(
            [
                i
                for i, o in enumerate(orders)
                if o.spec.campaign == DOUBLE_11 and o.spec.paid_at is not None
            ]
        )
        self.refunds = shuffled(list(range(len(world.refund_ids))))

    @staticmethod
    def take(pool: list[int]) -> int | None:
        return pool.pop() if pool else None


def _window_shape(anchor: datetime, days: int) -> TrafficShape:
    return TrafficShape.over(anchor - timedelta(days=days), anchor)


def _pick_product(
    rng: random.Random, catalog: Sequence[CatalogProduct], scenario: Scenario
) -> CatalogProduct:
    fitting = [p for p in catalog if scenario.fits(p.family)]
    return rng.choice(fitting or list(catalog))


def _order_product(order: PlannedOrder) -> CatalogProduct:
    large = [p for p in order.products if p.is_large_appliance]
    return (large or list(order.products))[0]


def _presales_subject(rng: random.Random, world: World, shape: TrafficShape) -> _Subject:
    scenario = rng.choice(PRESALES_SCENARIOS)
    return _Subject(
        scenario,
        rng.randrange(len(world.buyers)),
        shape.sample(rng),
        _pick_product(rng, world.catalog, scenario),
    )


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=round(rng.uniform(low, high) * 60))


def _chase_subject(rng: random.Random, pools: _Pools, world: World) -> _Subject | None:
    index = pools.take(pools.chase)
    if index is None:
        return None
    plan = world.orders[index]
    start = plan.spec.created_at + _minutes(rng, 20, 90)
    if plan.spec.paid_at is not None:
        # The chase happens while the order is still unpaid.
        start = min(start, plan.spec.created_at + (plan.spec.paid_at - plan.spec.created_at) / 2)
    scenario = rng.choices(PAYMENT_CHASING_SCENARIOS, (0.7, 0.3))[0]
    return _Subject(
        scenario, plan.buyer_index, start, _order_product(plan), index, trigger=plan.spec.created_at
    )


def _review_subject(rng: random.Random, pools: _Pools, world: World) -> _Subject | None:
    index = pools.take(pools.review)
    if index is None:
        return None
    plan = world.orders[index]
    paid_at = plan.spec.paid_at
    assert paid_at is not None
    if plan.gift_mismatch:
        key = "review_gift"
    elif plan.undeliverable:
        address = plan.spec.address or ""
        key = "review_remote" if ("西藏" in address or "新疆" in address) else "review_address"
    else:
        key = "review_invoice"
    start = paid_at + _minutes(rng, 10, 90)
    if plan.spec.shipped_at is not None:
        # Order review happens before the parcel leaves the warehouse.
        start = min(start, paid_at + (plan.spec.shipped_at - paid_at) * 0.3)
    return _Subject(
        SCENARIOS[key], plan.buyer_index, start, _order_product(plan), index, trigger=paid_at
    )


def _triage_subject(rng: random.Random, pools: _Pools, world: World) -> _Subject | None:
    index = pools.take(pools.shipped)
    if index is None:
        return None
    plan = world.orders[index]
    shipped_at, received_at = plan.spec.shipped_at, plan.spec.received_at
    assert shipped_at is not None
    product = _order_product(plan)
    options = [
        s
        for s in AFTERSALES_SCENARIOS
        if s.fits(product.family) and (s.key == "triage_logistics" or received_at is not None)
    ]
    scenario = rng.choice(options)
    if received_at is None or scenario.key == "triage_logistics":
        # "Where is my parcel": while it travels.
        start = shipped_at + _minutes(rng, 24 * 60, 4 * 24 * 60)
        if received_at is not None:
            start = min(start, shipped_at + (received_at - shipped_at) / 2)
    else:
        start = received_at + _minutes(rng, 30, 3 * 24 * 60)
    return _Subject(scenario, plan.buyer_index, start, product, index)


def _refund_subject(rng: random.Random, pools: _Pools, world: World) -> _Subject | None:
    refund_index = pools.take(pools.refunds)
    if refund_index is None:
        return None
    index = world.refund_order_indexes[refund_index]
    plan = world.orders[index]
    refund = plan.refund
    assert refund is not None
    if not refund.goods_shipped:
        key = "refund_regret"
    elif refund.status is RefundStatus.REJECTED:
        key = "refund_reject_explain"
    elif refund.kind is RefundKind.RETURN_AND_REFUND:
        key = "refund_progress"
    else:
        key = "refund_review_only"
    start = refund.requested_at + _minutes(rng, 2, 45)
    if key == "refund_progress" and refund.resolved_at is not None:
        start = refund.requested_at + (refund.resolved_at - refund.requested_at) / 2
    return _Subject(
        SCENARIOS[key], plan.buyer_index, start, _order_product(plan), index, refund_index
    )


def _hotline_subject(rng: random.Random, pools: _Pools, world: World) -> _Subject | None:
    """Installation calls, phone chases of big orders, complaint call-backs, notices."""
    orders = world.orders
    kind = rng.choices(("install", "chase", "callback", "notice"), (0.4, 0.25, 0.2, 0.15))[0]
    if kind == "chase" and (index := pools.take(pools.big_chase)) is not None:
        order = orders[index].spec
        start = order.created_at + _minutes(rng, 60, 180)
        if order.paid_at is not None:
            start = min(start, order.created_at + (order.paid_at - order.created_at) / 2)
        return _Subject(
            SCENARIOS["hotline_chase_big"],
            orders[index].buyer_index,
            start,
            _order_product(orders[index]),
            index,
            trigger=order.created_at,
        )
    if kind == "notice" and (index := pools.take(pools.presale_notice)) is not None:
        paid_at, shipped_at = orders[index].spec.paid_at, orders[index].spec.shipped_at
        assert paid_at is not None
        start = paid_at + _minutes(rng, 60, 24 * 60)
        if shipped_at is not None:
            # The delay notice comes before the (late) parcel leaves.
            start = min(start, paid_at + (shipped_at - paid_at) / 2)
        return _Subject(
            SCENARIOS["hotline_notice_delay"],
            orders[index].buyer_index,
            start,
            _order_product(orders[index]),
            index,
            trigger=paid_at,
        )
    if kind == "callback" and (index := pools.take(pools.received)) is not None:
        received_at = orders[index].spec.received_at
        assert received_at is not None
        return _Subject(
            SCENARIOS["hotline_complaint_callback"],
            orders[index].buyer_index,
            received_at + _minutes(rng, 60, 2 * 24 * 60),
            _order_product(orders[index]),
            index,
            trigger=received_at,
        )
    index = pools.take(pools.received_large)
    if index is None:
        return None
    received_at = orders[index].spec.received_at
    assert received_at is not None
    # The buyer calls about installation between delivery and confirming receipt.
    return _Subject(
        SCENARIOS["hotline_install"],
        orders[index].buyer_index,
        received_at - _minutes(rng, 60, 20 * 60),
        _order_product(orders[index]),
        index,
    )


_SUBJECTS = {
    ServiceRole.PAYMENT_CHASING: _chase_subject,
    ServiceRole.ORDER_REVIEW: _review_subject,
    ServiceRole.AFTERSALES_TRIAGE: _triage_subject,
    ServiceRole.REFUND: _refund_subject,
    ServiceRole.HOTLINE: _hotline_subject,
}
"""Where each role's conversations come from (pre-sales chats need no order)."""


def _agent_for(rng: random.Random, role: ServiceRole, agents: Sequence[AgentRef]) -> AgentRef:
    holders = [agent for agent in agents if role in agent.service_roles]
    if not holders:
        raise ValueError(f"no agent holds {role}")
    return rng.choice(holders)


def _context(rng: random.Random, world: World, subject: _Subject, agent: AgentRef) -> ScriptContext:
    buyer = world.buyers[subject.buyer_index].spec
    order = world.orders[subject.order_index].spec if subject.order_index is not None else None
    invoice = order.invoice_title if order is not None and order.invoice_title else "个人"
    return ScriptContext(
        shop=world.shop_name,
        agent=agent.chat_name,
        agent_no=agent.agent_no,
        product=subject.product.short_name,
        order_tail=order.external_id[-4:] if order is not None else "0000",
        phone_tail=(buyer.phone or "0000")[-4:],
        invoice=invoice,
        traditional=rng.random() < TRADITIONAL_SHARE,
    )


def _to_spec(
    rng: random.Random,
    world: World,
    subject: _Subject,
    agent: AgentRef,
    transcript: Transcript,
    start: datetime,
) -> ConversationSpec:
    scenario = subject.scenario
    messages = tuple(
        MessageSpec(
            sender=MessageSender.BUYER if u.speaker == "buyer" else MessageSender.AGENT,
            text=u.text,
            sent_at=start + timedelta(seconds=u.at_s),
            author_id=agent.user_id if u.speaker == "agent" else None,
        )
        for u in transcript.utterances
    )
    first_agent = next(m.sent_at for m in messages if m.sender is MessageSender.AGENT)
    buyer_times = [m.sent_at for m in messages if m.sender is MessageSender.BUYER]
    last = messages[-1].sent_at
    if scenario.outbound:
        # A task (chase, check, call-out) waits in its queue before an agent takes it.
        assigned_at = start - timedelta(seconds=rng.randint(10, 60))
        opened_at = assigned_at - _minutes(rng, 1, 30)
        if subject.trigger is not None:
            opened_at = max(opened_at, subject.trigger)
    else:
        opened_at = start
        assigned_at = start + timedelta(seconds=min(2, (first_agent - start).seconds))
    idle_close = timedelta(seconds=rng.randint(3, 10) if scenario.is_call else rng.randint(60, 300))
    closed_at = last + idle_close
    order_id = world.order_ids[subject.order_index] if subject.order_index is not None else None
    refund_id = world.refund_ids[subject.refund_index] if subject.refund_index is not None else None
    due_at = None
    if subject.refund_index is not None and subject.order_index is not None:
        refund = world.orders[subject.order_index].refund
        assert refund is not None
        due_at = world.deadlines.deadline(refund.requested_at, goods_shipped=refund.goods_shipped)
    presales = scenario.role is ServiceRole.PRESALES
    return ConversationSpec(
        channel=scenario.channel,
        role=scenario.role,
        status=ConversationStatus.CLOSED,
        opened_at=opened_at,
        buyer_id=world.buyer_ids[subject.buyer_index],
        kind=scenario.kind,
        intent=scenario.intent,
        risk=scenario.risk,
        order_id=order_id,
        refund_id=refund_id,
        assigned_agent_id=agent.user_id,
        protection_owner_id=agent.user_id if presales else None,
        protection_until=closed_at + PROTECTION_PERIOD if presales else None,
        enqueued_at=opened_at,
        assigned_at=assigned_at,
        first_response_at=first_agent,
        last_buyer_message_at=buyer_times[-1] if buyer_times else None,
        due_at=due_at,
        closed_at=closed_at,
        disposition=scenario.disposition,
        tags=transcript.tags,
        messages=messages,
    )


def plan_conversations(
    rng: random.Random, world: World, *, count: int, anchor: datetime, days: int
) -> list[ConversationSpec]:
    """``count`` closed conversations in the ``days`` before ``anchor``, oldest first."""
    if not world.buyers or not world.agents:
        raise ValueError("conversations need buyers and agents")
    shape = _window_shape(anchor, days)
    pools = _Pools(rng, world)
    roles = [role for role, _ in ROLE_SHARES]
    shares = [share for _, share in ROLE_SHARES]
    planned: list[ConversationSpec] = []
    for _ in range(count):
        role = rng.choices(roles, shares)[0]
        from_data = _SUBJECTS.get(role)
        subject = from_data(rng, pools, world) if from_data else None
        spec = _converse(rng, world, subject, anchor) if subject else None
        if spec is None:
            # Pre-sales chats need no order. They also stand in when a role runs out of
            # subjects, or when the order is too recent for the talk to be over by "now".
            presales = _presales_subject(rng, world, shape)
            spec = _converse(rng, world, presales, anchor, movable=True)
        assert spec is not None
        planned.append(spec)
    planned.sort(key=lambda spec: spec.opened_at)
    return planned


def _converse(
    rng: random.Random, world: World, subject: _Subject, anchor: datetime, *, movable: bool = False
) -> ConversationSpec | None:
    """The conversation about ``subject``; None when it would still be running at the anchor
    and its time is tied to an order (a ``movable`` one is moved earlier instead)."""
    agent = _agent_for(rng, subject.scenario.role, world.agents)
    transcript = build_transcript(
        rng,
        subject.scenario,
        _context(rng, world, subject, agent),
        draw_flaws(rng, subject.scenario, agent.sloppiness),
    )
    # Room for the transcript and the idle close before "now".
    latest = anchor - timedelta(seconds=transcript.duration_s + 600)
    start = subject.start.replace(microsecond=0)
    if start > latest:
        if not movable:
            return None
        start = latest - timedelta(seconds=rng.randrange(6 * 3600))
    return _to_spec(rng, world, subject, agent, transcript, start)
