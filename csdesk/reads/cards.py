"""One-click cards from the order panel (订单核对, 催付, 推荐商品, 优惠券): what the buyer
receives, filled from the stored order, product or the shop's coupon.

Pure builders (:func:`order_check`, :func:`payment_reminder`, :func:`product`,
:func:`coupon`) turn a row into a :class:`Card`; the action ``actions/cards.py`` loads the
row, checks it belongs to the conversation's buyer and shop, and sends the card as a
message of kind ``card``: its ``text`` for channels that show text only, its attachment
(``{"type": "card", "card", "title", "fields", "ref"}``) for those that draw cards.
Contact data on a card is masked as in the console (the buyer confirms, nobody reads it
off a screen). :func:`products` lists the catalog for the 推荐商品 picker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from csdesk.auth.current import CurrentUser
from csdesk.clock import SHOP_TZ
from csdesk.reads.masking import mask_address, mask_name, mask_phone
from csdesk.roles.config import Coupon
from csdesk.routing.facts import load_shop_context
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import OrderStatus
from csdesk.storage.models import Order, Product

ORDER_CHECK: Final = "order_check"
PAYMENT_REMINDER: Final = "payment_reminder"
PRODUCT: Final = "product"
COUPON: Final = "coupon"
KINDS: Final = (ORDER_CHECK, PAYMENT_REMINDER, PRODUCT, COUPON)
MAX_PRODUCTS: Final = 20


@dataclass(frozen=True)
class Card:
    card: str
    """One of :data:`KINDS`."""
    title: str
    fields: tuple[tuple[str, str], ...]
    """(label, value) in the order shown."""
    closing: str
    """The line under the fields (a question or a call to act)."""
    ref: dict[str, Any] = field(default_factory=dict)
    """What it was made from (``order_id``, ``external_id``, ``sku``, ``coupon_code``)."""

    @property
    def text(self) -> str:
        lines = [f"【{self.title}】"]
        lines += [f"{label}：{value}" for label, value in self.fields]
        lines.append(self.closing)
        return "\n".join(lines)

    def attachment(self) -> dict[str, Any]:
        return {
            "type": "card",
            "card": self.card,
            "title": self.title,
            "fields": [{"label": label, "value": value} for label, value in self.fields],
            "closing": self.closing,
            "ref": dict(self.ref),
        }


def money(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


def _items(order: Order) -> str:
    lines = []
    for item in order.items or ():
        title = str(item.get("title") or item.get("sku") or "")
        qty = item.get("qty", 1)
        lines.append(f"{title} ×{qty}")
    return "，".join(lines) or "—"


def _order_ref(order: Order) -> dict[str, Any]:
    return {"order_id": order.id, "external_id": order.external_id}


def order_check(order: Order) -> Card:
    """订单核对: items, amount, receiver, phone and address (masked) for the buyer to confirm."""
    fields: list[tuple[str, str]] = [
        ("订单号", order.external_id),
        ("商品", _items(order)),
        ("金额", money(order.amount_fen)),
    ]
    if order.gifts:
        fields.append(("赠品", "，".join(str(g) for g in order.gifts)))
    for label, value in (
        ("收货人", mask_name(order.receiver_name)),
        ("电话", mask_phone(order.receiver_phone)),
        ("地址", mask_address(order.address)),
    ):
        if value:
            fields.append((label, value))
    return Card(
        ORDER_CHECK,
        "订单核对",
        tuple(fields),
        "亲，请核对以上订单信息，如需修改请直接告诉我~",
        _order_ref(order),
    )


def payment_reminder(order: Order, tz: ZoneInfo = SHOP_TZ) -> Card:
    """催付: an unpaid order, politely, once (seeds/003)."""
    placed = order.created_at.astimezone(tz)
    return Card(
        PAYMENT_REMINDER,
        "付款提醒",
        (
            ("订单号", order.external_id),
            ("商品", _items(order)),
            ("应付金额", money(order.amount_fen)),
            ("下单时间", f"{placed.month}月{placed.day}日 {placed:%H:%M}"),
        ),
        "亲，您拍下的宝贝还没有付款哦，付款后我们会尽快为您安排发货~",
        _order_ref(order),
    )


def product(item: Product) -> Card:
    """推荐商品: title, price and the campaign's gifts."""
    fields: list[tuple[str, str]] = [("商品", item.title), ("价格", money(item.price_fen))]
    if item.gifts:
        fields.append(("赠品", "，".join(str(g) for g in item.gifts)))
    return Card(
        PRODUCT,
        "为您推荐",
        tuple(fields),
        "亲，这款很适合您，有任何问题随时问我~",
        {"product_id": item.id, "sku": item.sku},
    )


def coupon(item: Coupon) -> Card:
    """优惠券: the amount, the threshold and until when."""
    fields: list[tuple[str, str]] = [
        ("优惠券", item.title),
        ("面额", money(item.amount_fen)),
        ("使用条件", f"满{money(item.min_spend_fen)}可用" if item.min_spend_fen else "无门槛"),
    ]
    if item.valid_until:
        fields.append(("有效期至", item.valid_until))
    return Card(
        COUPON,
        "店铺优惠券",
        tuple(fields),
        "亲，送您一张店铺优惠券，下单时自动抵扣~",
        {"coupon_code": item.code},
    )


def unpaid(order: Order) -> bool:
    return order.status is OrderStatus.CREATED


def product_json(item: Product) -> dict[str, Any]:
    return {
        "id": item.id,
        "sku": item.sku,
        "title": item.title,
        "category": item.category,
        "price_fen": item.price_fen,
        "gifts": list(item.gifts or ()),
    }


def coupon_json(item: Coupon) -> dict[str, Any]:
    return {
        "code": item.code,
        "title": item.title,
        "amount_fen": item.amount_fen,
        "min_spend_fen": item.min_spend_fen,
        "valid_until": item.valid_until,
    }


async def products(
    sessions: SessionFactory, user: CurrentUser, query: str = ""
) -> list[dict[str, Any]]:
    """The shop's products whose title, SKU or category contains ``query`` (all: first 20)."""
    statement = select(Product).where(Product.shop_id == user.shop_id)
    words = query.strip()
    if words:
        like = f"%{words.replace('%', '').replace('_', '')}%"
        statement = statement.where(
            or_(Product.title.ilike(like), Product.sku.ilike(like), Product.category.ilike(like))
        )
    async with sessions() as session:
        rows: Sequence[Product] = list(
            await session.scalars(statement.order_by(Product.title, Product.id).limit(MAX_PRODUCTS))
        )
    return [product_json(p) for p in rows]


async def shop_coupons(sessions: SessionFactory, user: CurrentUser) -> list[dict[str, Any]]:
    """The shop's coupons (``console.coupons`` in its rules)."""
    async with sessions() as session:
        ctx = await load_shop_context(session, user.shop_id)
    return [coupon_json(c) for c in ctx.routing.console.coupons]
