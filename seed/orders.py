"""Orders and refunds over the last N days, every status, with their timelines.

Each order follows a plausible life (created, paid, shipped, received; or closed unpaid,
or closed by a full refund) and the anchor cuts it where "now" is: recent orders are
still unpaid or in transit, older ones received or closed. Refund requests are planned
together with their order because a refund decides the order's fate.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from csdesk.actions.orders import OrderItem, OrderSpec
from csdesk.actions.refunds import RefundDeadlines
from csdesk.seed.catalog import (
    APPAREL,
    FOOD,
    TV_GIFT,
    WRONG_TV_GIFT,
    CatalogProduct,
)
from csdesk.seed.people import BuyerProfile
from csdesk.seed.timeline import DOUBLE_11, JUHUASUAN, TrafficShape, campaign_on, local_date
from csdesk.storage.enums import BuyerTier, OrderStatus, RefundKind, RefundStatus

UNPAID_TIMEOUT = timedelta(hours=72)
"""The marketplace closes an unpaid order after this long."""
BIG_ORDER_FEN = 500_000
"""From 5,000 yuan an unpaid order is chased by phone (seeds/003: big orders, hotline)."""
CAMPAIGN_DISCOUNT = {DOUBLE_11: 0.85, JUHUASUAN: 0.9, "618": 0.88}
STORE_COUPON = "店铺满减"
"""满300减30, applied to the order amount."""

_REGRET_REASONS = ("拍错了/多拍了", "不想要了", "地址填写错误", "协商一致退款", "未按约定时间发货")
_TRANSIT_REASONS = ("未收到货", "快递一直未更新物流", "商品破损已拒签")
_PARTIAL_REASONS = ("少件/漏发", "赠品未收到", "价保补差价")
_RETURN_REASONS = (
    "七天无理由退换货",
    "质量问题",
    "收到商品与描述不符",
    "商品破损",
    "效果不好/不喜欢",
)
_APPAREL_RETURN_REASONS = ("尺码拍错/不合适", "颜色/款式与图片不符", "七天无理由退换货", "质量问题")


@dataclass(frozen=True)
class RefundDraft:
    """A refund request before its order has an id."""

    external_id: str
    kind: RefundKind
    status: RefundStatus
    amount_fen: int
    reason: str
    requested_at: datetime
    goods_shipped: bool
    resolved_at: datetime | None


@dataclass(frozen=True)
class PlannedOrder:
    spec: OrderSpec
    buyer_index: int
    products: tuple[CatalogProduct, ...]
    refund: RefundDraft | None = None
    gift_mismatch: bool = False
    """The seeds/003 case: the TV's gift should be the HDMI cable, the system attached a voucher."""
    undeliverable: bool = False
    late_payer: bool = False
    """Paid only hours after ordering (or never): a payment-chasing candidate."""

    @property
    def is_big(self) -> bool:
        return self.spec.total_fen >= BIG_ORDER_FEN

    @property
    def needs_review(self) -> bool:
        return self.gift_mismatch or self.undeliverable or self.spec.invoice_title is not None


def _order_number(rng: random.Random, used: set[str]) -> str:
    """A 19-digit Tmall-style order number, unique in the run."""
    while True:
        number = str(rng.randrange(10**18, 10**19))
        if number not in used:
            used.add(number)
            return number


def _refund_number(rng: random.Random, used: set[str]) -> str:
    while True:
        number = str(rng.randrange(10**16, 10**17))
        if number not in used:
            used.add(number)
            return number


def _buyer_weights(rng: random.Random, buyers: Sequence[BuyerProfile]) -> list[float]:
    """Some buyers order much more often than others; members of 88VIP more still."""
    tier_factor = {BuyerTier.NORMAL: 1.0, BuyerTier.VIP: 2.5, BuyerTier.VIP88: 4.0}
    return [tier_factor[b.spec.tier] * rng.lognormvariate(0.0, 0.9) for b in buyers]


def _product_weights(catalog: Sequence[CatalogProduct]) -> list[float]:
    # Cheap everyday items sell more often than a 75-inch TV.
    return [1.0 / (1.0 + (p.spec.price_fen / 100 / 400) ** 0.7) for p in catalog]


def _pick_items(
    rng: random.Random,
    catalog: Sequence[CatalogProduct],
    weights: Sequence[float],
    campaign: str | None,
) -> list[tuple[CatalogProduct, OrderItem]]:
    count = rng.choices((1, 2, 3), (0.72, 0.2, 0.08))[0]
    chosen: dict[str, CatalogProduct] = {}
    for product in rng.choices(catalog, weights, k=count):
        chosen[product.spec.sku] = product
    discount = CAMPAIGN_DISCOUNT.get(campaign or "", 1.0)
    lines = []
    for product in chosen.values():
        qty = 1 if product.is_large_appliance else rng.choices((1, 2, 3), (0.8, 0.15, 0.05))[0]
        # Campaign prices stay shop-style (whole yuan), frozen into the order line.
        price = int(product.spec.price_fen * discount) // 100 * 100
        lines.append((product, OrderItem(product.spec.sku, product.spec.title, qty, price)))
    return lines


def _invoice_title(rng: random.Random, fake: Any) -> str:
    return "个人" if rng.random() < 0.4 else str(fake.company())


@dataclass
class _Timeline:
    """The mutable working state of one order's life, cut at the anchor."""

    created_at: datetime
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    received_at: datetime | None = None
    closed_at: datetime | None = None
    status: OrderStatus = OrderStatus.CREATED
    refund: RefundDraft | None = None


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=round(rng.uniform(low, high) * 60))


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=round(rng.uniform(low, high) * 3600))


class _OrderLife:
    """Plays one order forward from its creation and stops at the anchor."""

    def __init__(
        self,
        rng: random.Random,
        anchor: datetime,
        deadlines: RefundDeadlines,
        refund_numbers: set[str],
    ) -> None:
        self.rng = rng
        self.anchor = anchor
        self.deadlines = deadlines
        self.refund_numbers = refund_numbers

    def play(
        self,
        created_at: datetime,
        amount_fen: int,
        items: Sequence[OrderItem],
        products: Sequence[CatalogProduct],
        big: bool,
    ) -> tuple[_Timeline, bool]:
        rng, anchor = self.rng, self.anchor
        life = _Timeline(created_at)
        draw = rng.random()
        never_pays = draw < (0.16 if big else 0.09)
        late = draw < (0.32 if big else 0.17)
        if not never_pays:
            delay = _hours(rng, 1, 40) if late else _minutes(rng, 0.3, 20)
            paid_at = created_at + delay
            if paid_at < anchor and delay < UNPAID_TIMEOUT:
                life.paid_at, life.status = paid_at, OrderStatus.PAID
        if life.paid_at is None:
            if created_at + UNPAID_TIMEOUT <= anchor:
                life.closed_at, life.status = created_at + UNPAID_TIMEOUT, OrderStatus.CLOSED
            return life, True
        large = any(p.is_large_appliance for p in products)
        ship_at = life.paid_at + (_hours(rng, 6, 60) if large else _hours(rng, 2, 36))

        if rng.random() < 0.035:
            # The buyer regrets before shipping: refund only; the warehouse intercepts.
            requested = life.paid_at + _minutes(
                rng, 5, min(600, (ship_at - life.paid_at) / timedelta(minutes=1) * 0.8)
            )
            if requested < anchor:
                refund = self._decide(
                    RefundKind.REFUND_ONLY,
                    requested,
                    amount_fen,
                    rng.choice(_REGRET_REASONS),
                    False,
                )
                life.refund = refund
                if refund.status is RefundStatus.APPROVED:
                    assert refund.resolved_at is not None
                    life.closed_at, life.status = refund.resolved_at, OrderStatus.CLOSED
                    return life, late
                if refund.status is RefundStatus.REQUESTED:
                    return life, late  # the order waits, paid, until the shop decides
                assert refund.resolved_at is not None
                ship_at = max(ship_at, refund.resolved_at + _hours(rng, 0.5, 4))

        if ship_at >= anchor:
            return life, late
        life.shipped_at, life.status = ship_at, OrderStatus.SHIPPED
        delivered = ship_at + (_hours(rng, 40, 140) if large else _hours(rng, 20, 96))
        confirmed = delivered + _hours(rng, 1, 120)

        if life.refund is None and rng.random() < 0.015:
            # Parcel stuck or refused: refund only, asked while in transit.
            requested = ship_at + _hours(rng, 72, 160)
            if requested < anchor and requested < confirmed:
                refund = self._decide(
                    RefundKind.REFUND_ONLY,
                    requested,
                    amount_fen,
                    rng.choice(_TRANSIT_REASONS),
                    True,
                )
                life.refund = refund
                if refund.status is RefundStatus.APPROVED:
                    assert refund.resolved_at is not None
                    life.closed_at, life.status = refund.resolved_at, OrderStatus.CLOSED
                    return life, late
                if refund.status is RefundStatus.REQUESTED:
                    return life, late
                # Rejected or withdrawn: the parcel turned up after all.
                assert refund.resolved_at is not None
                confirmed = max(confirmed, refund.resolved_at + _hours(rng, 1, 24))

        if confirmed >= anchor:
            return life, late
        life.received_at, life.status = confirmed, OrderStatus.RECEIVED

        if life.refund is None:
            self._after_receipt(life, amount_fen, items, products)
        return life, late

    def _after_receipt(
        self,
        life: _Timeline,
        amount_fen: int,
        items: Sequence[OrderItem],
        products: Sequence[CatalogProduct],
    ) -> None:
        rng, anchor = self.rng, self.anchor
        assert life.received_at is not None
        apparel = any(p.spec.category == APPAREL for p in products)
        food = all(p.spec.category == FOOD for p in products)
        share = 0.16 if apparel else (0.02 if food else 0.06)
        if rng.random() >= share:
            return
        requested = life.received_at + _hours(rng, 1, 150)
        if requested >= anchor:
            return
        if rng.random() < 0.25 or food:
            # Partial refund only: a missing piece, a missing gift, a price-protection claim.
            amount = min(amount_fen, max(500, items[0].price_fen // rng.choice((5, 10, 20))))
            life.refund = self._decide(
                RefundKind.REFUND_ONLY, requested, amount, rng.choice(_PARTIAL_REASONS), True
            )
            return
        reasons = _APPAREL_RETURN_REASONS if apparel else _RETURN_REASONS
        whole = len(items) == 1
        amount = amount_fen if whole else items[0].subtotal_fen
        refund = self._decide(
            RefundKind.RETURN_AND_REFUND, requested, max(1, amount), rng.choice(reasons), True
        )
        life.refund = refund
        if refund.status is RefundStatus.REFUNDED and whole:
            assert refund.resolved_at is not None
            life.closed_at, life.status = refund.resolved_at, OrderStatus.CLOSED

    def _decide(
        self,
        kind: RefundKind,
        requested: datetime,
        amount_fen: int,
        reason: str,
        goods_shipped: bool,
    ) -> RefundDraft:
        """How far the request got by the anchor: pending, decided, returned, refunded."""
        rng, anchor = self.rng, self.anchor
        deadline = self.deadlines.deadline(requested, goods_shipped=goods_shipped)
        number = _refund_number(rng, self.refund_numbers)

        def draft(status: RefundStatus, resolved: datetime | None) -> RefundDraft:
            return RefundDraft(
                number, kind, status, amount_fen, reason, requested, goods_shipped, resolved
            )

        outcome = rng.random()
        answer_window = (deadline - requested) / timedelta(hours=1)
        answered = requested + _hours(rng, 0.1, answer_window * 0.8)
        if outcome < 0.08:
            withdrawn = requested + _hours(rng, 0.2, answer_window * 0.6)
            if withdrawn < anchor:
                return draft(RefundStatus.CANCELLED, withdrawn)
            return draft(RefundStatus.REQUESTED, None)
        if answered >= anchor:
            return draft(RefundStatus.REQUESTED, None)
        if outcome < 0.18:
            return draft(RefundStatus.REJECTED, answered)
        if kind is RefundKind.REFUND_ONLY:
            return draft(RefundStatus.APPROVED, answered)
        parcel_back = answered + _hours(rng, 40, 120)
        if parcel_back >= anchor:
            return draft(RefundStatus.APPROVED, None)
        refunded = parcel_back + _hours(rng, 1, 24)
        if refunded >= anchor:
            return draft(RefundStatus.RETURN_RECEIVED, None)
        return draft(RefundStatus.REFUNDED, refunded)


def plan_orders(
    rng: random.Random,
    fake: Any,
    *,
    count: int,
    catalog: Sequence[CatalogProduct],
    buyers: Sequence[BuyerProfile],
    buyer_ids: Sequence[int],
    anchor: datetime,
    days: int,
    deadlines: RefundDeadlines,
) -> list[PlannedOrder]:
    """``count`` orders created in the ``days`` before ``anchor``, oldest first."""
    if not count:
        return []
    if not buyers:
        raise ValueError("orders need buyers")
    shape = TrafficShape.over(anchor - timedelta(days=days), anchor)
    created = sorted(shape.sample(rng) for _ in range(count))
    buyer_weights = _buyer_weights(rng, buyers)
    buyer_indexes = rng.choices(range(len(buyers)), buyer_weights, k=count)
    product_weights = _product_weights(catalog)
    order_numbers: set[str] = set()
    refund_numbers: set[str] = set()
    life = _OrderLife(rng, anchor, deadlines, refund_numbers)
    plans: list[PlannedOrder] = []
    for created_at, buyer_index in zip(created, buyer_indexes, strict=True):
        buyer = buyers[buyer_index]
        campaign = campaign_on(local_date(created_at))
        if campaign == JUHUASUAN and rng.random() < 0.6:
            campaign = None  # only part of the catalogue takes part in a 聚划算 slot
        lines = _pick_items(rng, catalog, product_weights, campaign)
        products = tuple(product for product, _ in lines)
        items = tuple(item for _, item in lines)
        subtotal = sum(item.subtotal_fen for item in items)
        amount: int | None = None
        if campaign is None and subtotal >= 30_000 and rng.random() < 0.25:
            campaign = STORE_COUPON
            amount = subtotal - (subtotal // 30_000) * 3_000
        total = subtotal if amount is None else amount
        gifts = [gift for product in products for gift in product.spec.gifts]
        mismatch = TV_GIFT in gifts and rng.random() < 0.03
        if mismatch:
            gifts = [WRONG_TV_GIFT if gift == TV_GIFT else gift for gift in gifts]
        large = any(p.is_large_appliance for p in products)
        invoice = _invoice_title(rng, fake) if rng.random() < (0.3 if large else 0.08) else None
        receiver_name, receiver_phone, address = (
            buyer.spec.name,
            buyer.spec.phone,
            buyer.spec.address,
        )
        if rng.random() < 0.12:
            # Sent to family or the office: another receiver, sometimes another address.
            receiver_name, receiver_phone = str(fake.name()), str(fake.phone_number())
        timeline, late = life.play(created_at, total, items, products, total >= BIG_ORDER_FEN)
        spec = OrderSpec(
            external_id=_order_number(rng, order_numbers),
            buyer_id=buyer_ids[buyer_index],
            status=timeline.status,
            items=items,
            created_at=created_at,
            amount_fen=amount,
            gifts=tuple(gifts),
            campaign=campaign,
            invoice_title=invoice,
            receiver_name=receiver_name,
            receiver_phone=receiver_phone,
            address=address,
            paid_at=timeline.paid_at,
            shipped_at=timeline.shipped_at,
            received_at=timeline.received_at,
            closed_at=timeline.closed_at,
        )
        plans.append(
            PlannedOrder(
                spec=spec,
                buyer_index=buyer_index,
                products=products,
                refund=timeline.refund,
                gift_mismatch=mismatch,
                undeliverable=buyer.undeliverable,
                late_payer=late,
            )
        )
    return _ensure_refunds_due_soon(_ensure_gift_mismatch_case(plans), anchor, deadlines)


DUE_SOON: Final = (
    timedelta(minutes=25),
    timedelta(minutes=50),
    timedelta(hours=2),
    timedelta(hours=3, minutes=20),
)
"""Where pending refunds' platform deadlines are put after the anchor: the owner's "will
auto-approve within 1 h / 4 h" is not zero when the demo starts (two within the hour, two
more within four)."""


def _ensure_refunds_due_soon(
    plans: list[PlannedOrder], anchor: datetime, deadlines: RefundDeadlines
) -> list[PlannedOrder]:
    """Move the request of a few pending refunds so their deadline falls ``DUE_SOON`` after
    the anchor. Only a request that can move there keeps its story: asked after its order
    was paid (and shipped, when the goods had left), before the anchor."""
    pending = [
        i
        for i, p in enumerate(plans)
        if p.refund is not None and p.refund.status is RefundStatus.REQUESTED
    ]
    used: set[int] = set()
    for after in DUE_SOON:
        for i in reversed(pending):
            refund = plans[i].refund
            assert refund is not None
            if i in used:
                continue
            span = deadlines.deadline(anchor, goods_shipped=refund.goods_shipped) - anchor
            asked = anchor + after - span
            spec = plans[i].spec
            ready = spec.shipped_at if refund.goods_shipped else spec.paid_at
            if ready is None or ready > asked or asked >= anchor:
                continue
            plans[i] = replace(plans[i], refund=replace(refund, requested_at=asked))
            used.add(i)
            break
    return plans


def _ensure_gift_mismatch_case(plans: list[PlannedOrder]) -> list[PlannedOrder]:
    """Make sure the seeds/003 case is in the data: a paid, unshipped TV order with a voucher.

    Chance alone may leave a small data set without one; the newest paid TV order (or any
    TV order) then gets the wrong gift.
    """
    if any(p.gift_mismatch and p.spec.status is OrderStatus.PAID for p in plans):
        return plans
    tv_orders = [i for i, p in enumerate(plans) if TV_GIFT in p.spec.gifts]
    if not tv_orders:
        return plans
    paid = [i for i in tv_orders if plans[i].spec.status is OrderStatus.PAID]
    index = (paid or tv_orders)[-1]
    plan = plans[index]
    gifts = tuple(WRONG_TV_GIFT if gift == TV_GIFT else gift for gift in plan.spec.gifts)
    plans[index] = replace(plan, spec=replace(plan.spec, gifts=gifts), gift_mismatch=True)
    return plans
