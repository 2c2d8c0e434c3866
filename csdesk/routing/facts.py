"""Load the facts the pure roles decide on. Reads only; the engine saves."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.roles import promotion as promotion_rules
from csdesk.roles.base import BuyerFacts, OrderFacts, OrderItem
from csdesk.roles.classifier.model import TriageModel
from csdesk.roles.config import PromotionProfile, RoutingConfig
from csdesk.roles.triage import with_model
from csdesk.routing.assignment import ITEM_DUTIES, AgentFacts, AssignmentConfig
from csdesk.storage.enums import AgentStatus, Channel, ConversationStatus
from csdesk.storage.models import (
    AgentProfile,
    Buyer,
    Conversation,
    Order,
    Product,
    RosterShift,
    Shop,
)
from csdesk.storage.triage_models import ShopTriageModel, TriageModelVersion


@dataclass(frozen=True)
class ShopContext:
    shop_id: str
    routing: RoutingConfig
    """The shop's configuration as it applies now: with the live promotion's SLA targets
    and chase quiet hours (``roles.promotion.effective_routing``)."""
    assignment: AssignmentConfig
    promotion: str | None
    """The promotion profile live now (``double11``): switched by hand or by a schedule."""

    @property
    def profile(self) -> PromotionProfile | None:
        return promotion_rules.profile_of(self.routing, self.promotion)

    @property
    def chat_capacity_extra(self) -> int:
        """Chats each agent takes beyond their own capacity while the promotion is live."""
        profile = self.profile
        return profile.chat_capacity_extra if profile is not None else 0

    @property
    def refund_reviewers_process(self) -> bool:
        profile = self.profile
        return profile is not None and profile.refund_reviewers_process

    @property
    def howto_to_everyone(self) -> bool:
        profile = self.profile
        return profile is not None and profile.howto_to_everyone


@lru_cache(maxsize=64)
def _parse_config(raw_json: str) -> tuple[RoutingConfig, AssignmentConfig, str | None]:
    # Shops change their configuration rarely; parsing it (and compiling triage
    # automata) once per distinct JSON keeps it off the per-event path.
    raw: dict[str, Any] = json.loads(raw_json)
    promotion = raw.get("promotion")
    live = promotion if isinstance(promotion, str) else None
    routing = RoutingConfig.from_overrides(raw.get("routing"))
    return (
        promotion_rules.effective_routing(routing, live),
        AssignmentConfig.from_overrides(raw.get("assignment")),
        live,
    )


async def load_shop_context(session: AsyncSession, shop_id: str) -> ShopContext:
    row = (
        await session.execute(
            select(Shop.config, ShopTriageModel.active_version)
            .outerjoin(ShopTriageModel, ShopTriageModel.shop_id == Shop.id)
            .where(Shop.id == shop_id)
        )
    ).first()
    if row is None:
        raise LookupError(f"unknown shop {shop_id!r}")
    config, model_version = row
    routing, assignment, promotion = _parse_config(json.dumps(config, sort_keys=True))
    if model_version is not None:
        model = await shop_triage_model(session, shop_id, model_version)
        if model is not None:
            routing = dataclasses.replace(routing, triage=with_model(routing.triage, model))
    return ShopContext(shop_id, routing, assignment, promotion)


_shop_models: OrderedDict[tuple[str, int], TriageModel] = OrderedDict()
_SHOP_MODELS_KEPT = 16
"""Parsed shop models kept per process (about 10 MB each once parsed): a version is
immutable, so it is read from the database once, not on every event."""


async def shop_triage_model(
    session: AsyncSession, shop_id: str, version: int
) -> TriageModel | None:
    """A shop's trained triage model (``actions.triage_learning``), parsed once."""
    key = (shop_id, version)
    model = _shop_models.get(key)
    if model is not None:
        _shop_models.move_to_end(key)
        return model
    artifact = await session.scalar(
        select(TriageModelVersion.artifact).where(
            TriageModelVersion.shop_id == shop_id, TriageModelVersion.version == version
        )
    )
    if artifact is None:
        return None  # pruned or never stored: the shipped model stays
    model = TriageModel.from_json(json.loads(gzip.decompress(artifact)))
    _shop_models[key] = model
    while len(_shop_models) > _SHOP_MODELS_KEPT:
        _shop_models.popitem(last=False)
    return model


class ShopContextCache:
    """Shop contexts for ``ttl_s``: configuration changes rarely, events arrive constantly."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl = timedelta(seconds=ttl_s)
        self._entries: dict[str, tuple[datetime, ShopContext]] = {}

    async def get(self, session: AsyncSession, shop_id: str, now: datetime) -> ShopContext:
        entry = self._entries.get(shop_id)
        if entry is not None and now - entry[0] < self._ttl:
            return entry[1]
        context = await load_shop_context(session, shop_id)
        self._entries[shop_id] = (now, context)
        return context


def order_facts(order: Order) -> OrderFacts:
    return OrderFacts(
        order_id=order.id,
        buyer_id=order.buyer_id,
        status=order.status,
        amount_fen=order.amount_fen,
        created_at=order.created_at,
        items=tuple(
            OrderItem(
                sku=i["sku"],
                title=i.get("title", ""),
                qty=i.get("qty", 1),
                price_fen=i.get("price_fen", 0),
            )
            for i in order.items
        ),
        gifts=tuple(order.gifts),
        campaign=order.campaign,
        invoice_title=order.invoice_title,
        receiver_name=order.receiver_name,
        receiver_phone=order.receiver_phone,
        address=order.address,
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
    )


def buyer_facts(buyer: Buyer) -> BuyerFacts:
    return BuyerFacts(buyer_id=buyer.id, tier=buyer.tier)


async def latest_order(session: AsyncSession, shop_id: str, buyer_id: int) -> Order | None:
    return await session.scalar(
        select(Order)
        .where(Order.shop_id == shop_id, Order.buyer_id == buyer_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(1)
    )


async def recent_orders(
    session: AsyncSession, shop_id: str, buyer_id: int, since: datetime, exclude_id: int
) -> list[OrderFacts]:
    rows = await session.scalars(
        select(Order).where(
            Order.shop_id == shop_id,
            Order.buyer_id == buyer_id,
            Order.created_at >= since,
            Order.id != exclude_id,
        )
    )
    return [order_facts(order) for order in rows]


async def products_by_sku(
    session: AsyncSession, shop_id: str, skus: Iterable[str]
) -> Mapping[str, Product]:
    skus = sorted(set(skus))
    if not skus:
        return {}
    rows = await session.scalars(
        select(Product).where(Product.shop_id == shop_id, Product.sku.in_(skus))
    )
    return {product.sku: product for product in rows}


async def order_check_inputs(
    session: AsyncSession, ctx: ShopContext, order: Order
) -> tuple[dict[str, list[str]], list[OrderFacts]]:
    """What the order-review checks read besides the order: the gifts each SKU promises,
    and the buyer's other orders within the shop's duplicate window."""
    products = await products_by_sku(session, ctx.shop_id, [i["sku"] for i in order.items])
    promised = {sku: list(p.gifts) for sku, p in products.items() if p.gifts}
    window = timedelta(seconds=ctx.routing.order_review.duplicate_window_s)
    recent = await recent_orders(
        session, ctx.shop_id, order.buyer_id, order.created_at - window, order.id
    )
    return promised, recent


async def protection_owner(
    session: AsyncSession, shop_id: str, buyer_id: int, now: datetime
) -> tuple[int, datetime] | None:
    """The agent who owns this buyer now (客户保护期), with the period's end."""
    row = (
        await session.execute(
            select(Conversation.protection_owner_id, Conversation.protection_until)
            .where(
                Conversation.shop_id == shop_id,
                Conversation.buyer_id == buyer_id,
                Conversation.protection_owner_id.is_not(None),
                Conversation.protection_until > now,
            )
            .order_by(Conversation.protection_until.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    owner_id, until = row
    assert owner_id is not None
    assert until is not None
    return owner_id, until


async def duty_holders(
    session: AsyncSession,
    shop_id: str,
    kind: str,
    now: datetime,
    *,
    reviewers_process: bool = False,
) -> frozenset[int]:
    """Online agents whose roster shift covering ``now`` carries the duty an item of this
    kind needs (refund review / processing), and who hold the role; empty if none.
    ``reviewers_process`` (a promotion's role swap): reviewers also hold processing."""
    duty = ITEM_DUTIES.get(kind)
    if duty is None:
        return frozenset()
    role, name = duty
    names = [name]
    if reviewers_process and kind == "refund_processing":
        names.append(ITEM_DUTIES["refund_review"][1])
    rows = await session.execute(
        select(AgentProfile.user_id, AgentProfile.service_roles)
        .join(RosterShift, RosterShift.user_id == AgentProfile.user_id)
        .where(
            RosterShift.shop_id == shop_id,
            RosterShift.service_role == role,
            RosterShift.duty.in_(names),
            RosterShift.starts_at <= now,
            RosterShift.ends_at > now,
            AgentProfile.status == AgentStatus.ONLINE,
        )
    )
    return frozenset(user_id for user_id, roles in rows if role in roles)


async def agent_facts(
    session: AsyncSession,
    shop_id: str,
    *,
    user_ids: Sequence[int] | None = None,
    online_only: bool = True,
    role: str | None = None,
    chat_capacity_extra: int = 0,
) -> list[AgentFacts]:
    """Agents with their current load per channel (open items assigned to them); with
    ``role``, only those holding it (nobody else may take the item: loads are counted for
    the few who can, not for the whole floor). ``chat_capacity_extra``: a live
    promotion's extra chats per agent (``ShopContext.chat_capacity_extra``)."""
    # Columns, not entities: this runs for every conversation placed, over every online
    # agent (500 in the live benchmark's setup: 7.7 -> 6.8 ms a placement).
    # Closed work counts too: whoever was handed something most recently waits longest.
    # One index seek per agent on (assigned_agent_id, assigned_at); a GROUP BY over the
    # shop's conversations instead scanned all of them (2.2 ms at 5,000, and it grows with
    # every conversation the shop ever had).
    last_assigned = (
        select(func.max(Conversation.assigned_at))
        .where(Conversation.assigned_agent_id == AgentProfile.user_id)
        .correlate(AgentProfile)
        .scalar_subquery()
    )
    agents_query = select(
        AgentProfile.user_id,
        AgentProfile.status,
        AgentProfile.service_roles,
        AgentProfile.skills,
        AgentProfile.chat_capacity,
        AgentProfile.hotline_capacity,
        last_assigned.label("last_assigned_at"),
    ).where(AgentProfile.shop_id == shop_id)
    if online_only:
        agents_query = agents_query.where(AgentProfile.status == AgentStatus.ONLINE)
    if user_ids is not None:
        agents_query = agents_query.where(AgentProfile.user_id.in_(user_ids))
    if role is not None:
        # A prefilter on the stored JSON text, so that only the role's holders are decoded
        # and counted (a sixth of the floor, not all of it); the list test below decides.
        agents_query = agents_query.where(
            cast(AgentProfile.service_roles, Text).contains(f'"{role}"', autoescape=True)
        )
    profiles = (await session.execute(agents_query)).all()
    if role is not None:
        profiles = [p for p in profiles if role in p.service_roles]
    if not profiles:
        return []
    agent_ids = [p.user_id for p in profiles]
    # By agent, not by shop (agent ids are global): a seek per agent on the load index
    # rather than a walk over every conversation the shop has open.
    loads = await session.execute(
        select(Conversation.assigned_agent_id, Conversation.channel, func.count())
        .where(
            Conversation.assigned_agent_id.in_(agent_ids),
            Conversation.status == ConversationStatus.ASSIGNED,
        )
        .group_by(Conversation.assigned_agent_id, Conversation.channel)
    )
    load: dict[tuple[int, Channel], int] = {}
    for agent_id, channel, count in loads:
        if agent_id is not None:
            load[(agent_id, channel)] = int(count)
    return [
        AgentFacts(
            user_id=p.user_id,
            status=p.status,
            roles=frozenset(p.service_roles),
            skills=frozenset(p.skills),
            chat_capacity=p.chat_capacity + chat_capacity_extra,
            hotline_capacity=p.hotline_capacity,
            chat_load=load.get((p.user_id, Channel.CHAT), 0),
            hotline_load=load.get((p.user_id, Channel.HOTLINE), 0),
            last_assigned_at=p.last_assigned_at,
        )
        for p in profiles
    ]


def day_ago(now: datetime) -> datetime:
    return now - timedelta(hours=24)
