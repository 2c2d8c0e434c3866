"""订单审核 (order review): checks on a paid order before it ships (seeds/003 售前 3).

Each check returns flags with reasons; a review task exists only when something flags.
Checks: the address is complete and deliverable (province, city, district, detail; not a
post-office box; not 待定/不详; not too short), the receiver can be reached, the order is
in a normal state, gifts and promo items match the campaign (the seed's case: the product
promises an HDMI高清线 but the system attached a 旅游券: catch it before it becomes a
complaint), an invoice was requested (the 物流宝 warehouse no longer prints invoices), and
the order is not a suspected duplicate of a recent one.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from csdesk.clock import require_aware
from csdesk.roles.base import (
    BuyerFacts,
    Decision,
    EscalationRule,
    OrderFacts,
    RoleSpec,
    ScoreFacts,
    ScoreReason,
    static_score,
)
from csdesk.roles.config import RoutingConfig
from csdesk.storage.enums import Channel, OrderStatus, ServiceRole

ROLE = ServiceRole.ORDER_REVIEW

SPEC = RoleSpec(
    key=ROLE,
    title_zh="订单审核",
    supervisor_zh="售前主管",
    channels=frozenset({Channel.CHAT}),
    escalations=(
        EscalationRule(
            "buyer_must_confirm",
            ServiceRole.PRESALES,
            feedback=True,
            note="地址或赠品需买家确认: 由售前联系买家, 结果回告审单",
        ),
    ),
    kpis=("review_accuracy", "review_speed"),
)


class FlagCode(enum.StrEnum):
    ADDRESS_MISSING = "address_missing"
    ADDRESS_TOO_SHORT = "address_too_short"
    ADDRESS_NO_PROVINCE = "address_no_province"
    ADDRESS_NO_CITY = "address_no_city"
    ADDRESS_NO_DISTRICT = "address_no_district"
    ADDRESS_NO_DETAIL = "address_no_detail"
    ADDRESS_VAGUE = "address_vague"
    ADDRESS_PO_BOX = "address_po_box"
    RECEIVER_INCOMPLETE = "receiver_incomplete"
    STATUS_ABNORMAL = "status_abnormal"
    GIFT_MISSING = "gift_missing"
    GIFT_UNEXPECTED = "gift_unexpected"
    CAMPAIGN_MISMATCH = "campaign_mismatch"
    INVOICE_REQUESTED = "invoice_requested"
    DUPLICATE_SUSPECTED = "duplicate_suspected"


BUYER_MUST_CONFIRM = frozenset(
    {
        FlagCode.ADDRESS_MISSING,
        FlagCode.ADDRESS_TOO_SHORT,
        FlagCode.ADDRESS_NO_PROVINCE,
        FlagCode.ADDRESS_NO_CITY,
        FlagCode.ADDRESS_NO_DISTRICT,
        FlagCode.ADDRESS_NO_DETAIL,
        FlagCode.ADDRESS_VAGUE,
        FlagCode.ADDRESS_PO_BOX,
        FlagCode.RECEIVER_INCOMPLETE,
        FlagCode.DUPLICATE_SUSPECTED,
    }
)


@dataclass(frozen=True)
class Flag:
    code: FlagCode
    reason: str


# --- address ----------------------------------------------------------------------------

MUNICIPALITIES = ("北京", "天津", "上海", "重庆")
SARS = ("香港", "澳门")
PROVINCES = (
    *MUNICIPALITIES,
    *SARS,
    "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西",
    "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西",
    "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆",
)  # fmt: skip
_PROVINCE_SUFFIXES = (
    "壮族自治区",
    "回族自治区",
    "维吾尔自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
)
_CITY = re.compile(r"^(.{1,10}?(?:自治州|地区|盟|市|州))")
_DISTRICT = re.compile(r"^(.{1,10}?(?:区|县|旗|市))")
# Names ending like a district that are really inside the detail part.
_NOT_DISTRICT = ("小区", "社区", "园区", "校区", "景区", "厂区", "营区")
_DETAIL_MARKERS = (
    "号", "路", "街", "道", "巷", "弄", "村", "组", "栋", "幢", "室", "单元", "楼",
    "小区", "大厦", "镇", "乡", "苑", "园", "院", "座", "层", "公寓",
)  # fmt: skip
_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


@dataclass(frozen=True)
class AddressParts:
    province: str | None
    city: str | None
    district: str | None
    detail: str


def parse_address(address: str) -> AddressParts:
    """Split a mainland Chinese address into province / city / district / detail."""
    rest = re.sub(r"\s+", "", address)
    province = next((p for p in PROVINCES if rest.startswith(p)), None)
    if province is not None:
        rest = rest[len(province) :]
        rest = next((rest[len(s) :] for s in _PROVINCE_SUFFIXES if rest.startswith(s)), rest)
    city: str | None = None
    if province in MUNICIPALITIES or province in SARS:
        city = province  # a municipality is its own city (上海市浦东新区...)
        for repeat in (f"{province}市", "市辖区"):  # 北京市北京市朝阳区, 上海市市辖区...
            if rest.startswith(repeat):
                rest = rest[len(repeat) :]
    else:
        match = _CITY.match(rest)
        if match:
            city = match.group(1)
            rest = rest[len(city) :]
            if rest.startswith("市"):  # 杭州 + 市: the lazy match stopped at 州
                city += "市"
                rest = rest[1:]
    district: str | None = None
    if province in SARS:
        district = province  # Hong Kong and Macau addresses have no mainland district
    else:
        match = _DISTRICT.match(rest)
        name = match.group(1) if match else None
        if name and not name.endswith(_NOT_DISTRICT) and not any(c.isdigit() for c in name):
            district = name
            rest = rest[len(name) :]
    return AddressParts(province, city, district, rest)


def _has_detail(detail: str) -> bool:
    return len(detail) >= 2 and (
        any(ch.isdigit() for ch in detail) or any(m in detail for m in _DETAIL_MARKERS)
    )


def check_address(order: OrderFacts, config: RoutingConfig) -> tuple[Flag, ...]:
    oc = config.order_review
    address = (order.address or "").strip()
    if not address:
        return (Flag(FlagCode.ADDRESS_MISSING, "收货地址为空"),)
    flags: list[Flag] = []
    compact = re.sub(r"\s+", "", address)
    if len(compact) < oc.min_address_chars:
        flags.append(
            Flag(
                FlagCode.ADDRESS_TOO_SHORT, f"地址过短 ({len(compact)} 字 < {oc.min_address_chars})"
            )
        )
    lowered = address.lower()
    vague = [m for m in oc.vague_address_markers if m.lower() in lowered]
    if vague:
        flags.append(Flag(FlagCode.ADDRESS_VAGUE, f"地址含不确定内容: {'、'.join(vague)}"))
    if any(m.lower() in lowered for m in oc.po_box_markers):
        flags.append(Flag(FlagCode.ADDRESS_PO_BOX, "邮政信箱: 快递无法派送"))
    parts = parse_address(address)
    if parts.province is None:
        flags.append(Flag(FlagCode.ADDRESS_NO_PROVINCE, "缺少省份"))
    if parts.city is None:
        flags.append(Flag(FlagCode.ADDRESS_NO_CITY, "缺少城市"))
    if parts.district is None:
        flags.append(Flag(FlagCode.ADDRESS_NO_DISTRICT, "缺少区/县"))
    if not _has_detail(parts.detail):
        flags.append(Flag(FlagCode.ADDRESS_NO_DETAIL, "缺少详细地址 (路/号/小区/门牌)"))
    return tuple(flags)


def check_receiver(order: OrderFacts) -> tuple[Flag, ...]:
    problems = []
    if not (order.receiver_name or "").strip():
        problems.append("缺少收货人")
    phone = re.sub(r"[\s()]", "", order.receiver_phone or "")
    if not phone:
        problems.append("缺少联系电话")
    elif not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        problems.append(f"电话格式不对: {order.receiver_phone}")
    if not problems:
        return ()
    return (Flag(FlagCode.RECEIVER_INCOMPLETE, "; ".join(problems)),)


def check_status(order: OrderFacts) -> tuple[Flag, ...]:
    if order.status is OrderStatus.PAID:
        return ()
    return (Flag(FlagCode.STATUS_ABNORMAL, f"订单状态为 {order.status.value}, 不是待发货"),)


def _norm(name: str) -> str:
    return re.sub(r"\s+", "", name).lower()


def check_gifts(
    order: OrderFacts,
    promised_gifts: Mapping[str, Sequence[str]],
    active_campaigns: Iterable[str] | None = None,
) -> tuple[Flag, ...]:
    """Gifts attached to the order against those the campaign promises for its items
    (``promised_gifts``: sku → gift names, from the product catalog)."""
    promised: dict[str, str] = {}
    for item in order.items:
        for gift in promised_gifts.get(item.sku, ()):
            promised.setdefault(_norm(gift), gift)
    attached = {_norm(g): g for g in order.gifts}
    flags = [
        Flag(FlagCode.GIFT_MISSING, f"活动承诺赠品 {name} 未出现在订单中")
        for key, name in promised.items()
        if key not in attached
    ]
    flags += [
        Flag(FlagCode.GIFT_UNEXPECTED, f"订单附带 {name}, 活动并未承诺")
        for key, name in attached.items()
        if key not in promised
    ]
    campaign = order.campaign
    if active_campaigns is not None and campaign is not None and campaign not in active_campaigns:
        flags.append(Flag(FlagCode.CAMPAIGN_MISMATCH, f"订单活动 {campaign} 不在当前活动中"))
    return tuple(flags)


def check_invoice(order: OrderFacts) -> tuple[Flag, ...]:
    if not (order.invoice_title or "").strip():
        return ()
    return (Flag(FlagCode.INVOICE_REQUESTED, f"买家要求开发票: {order.invoice_title}"),)


def _basket(order: OrderFacts) -> Counter[str]:
    basket: Counter[str] = Counter()
    for item in order.items:
        basket[item.sku] += item.qty
    return basket


def check_duplicates(
    order: OrderFacts, recent_orders: Iterable[OrderFacts], config: RoutingConfig
) -> tuple[Flag, ...]:
    """Same buyer, same items, within ``duplicate_window_s``: probably ordered twice."""
    window = timedelta(seconds=config.order_review.duplicate_window_s)
    created = require_aware(order.created_at)
    basket = _basket(order)
    dupes = [
        other.order_id
        for other in recent_orders
        if other.order_id != order.order_id
        and other.buyer_id == order.buyer_id
        and other.status is not OrderStatus.CLOSED
        and abs(require_aware(other.created_at) - created) <= window
        and _basket(other) == basket
    ]
    if not dupes:
        return ()
    minutes = config.order_review.duplicate_window_s // 60
    ids = ", ".join(str(i) for i in sorted(dupes))
    return (Flag(FlagCode.DUPLICATE_SUSPECTED, f"{minutes} 分钟内同一买家同样商品的订单: {ids}"),)


def check_order(
    order: OrderFacts,
    config: RoutingConfig,
    *,
    promised_gifts: Mapping[str, Sequence[str]] | None = None,
    recent_orders: Iterable[OrderFacts] = (),
    active_campaigns: Iterable[str] | None = None,
) -> tuple[Flag, ...]:
    """Every check, in a fixed order (address, receiver, status, gifts, invoice, dupes)."""
    return (
        *check_address(order, config),
        *check_receiver(order),
        *check_status(order),
        *check_gifts(order, promised_gifts or {}, active_campaigns),
        *check_invoice(order),
        *check_duplicates(order, recent_orders, config),
    )


def intake(
    order: OrderFacts,
    buyer: BuyerFacts,
    now: datetime,
    config: RoutingConfig,
    *,
    promised_gifts: Mapping[str, Sequence[str]] | None = None,
    recent_orders: Iterable[OrderFacts] = (),
    active_campaigns: Iterable[str] | None = None,
    promotion: str | None = None,
) -> Decision | None:
    """An ``order.paid`` event → a review task, only when a check flags."""
    flags = check_order(
        order,
        config,
        promised_gifts=promised_gifts,
        recent_orders=recent_orders,
        active_campaigns=active_campaigns,
    )
    if not flags:
        return None
    per_flag = config.order_review.points_per_flag
    extras = tuple(
        ScoreReason(f"flag:{f.code.value}", per_flag, f"{f.reason} +{per_flag:g}") for f in flags
    )
    facts = ScoreFacts(
        role=ROLE,
        order_amount_fen=order.amount_fen,
        buyer_tier=buyer.tier,
        promotion=promotion,
        extras=extras,
    )
    escalation = None
    if any(f.code in BUYER_MUST_CONFIRM for f in flags):
        escalation = SPEC.escalation("buyer_must_confirm")
    return Decision(
        role=ROLE,
        kind="order_check",
        score=static_score(facts, config),
        due_at=require_aware(now),  # before the parcel ships: as soon as possible
        escalation=escalation,
        notes=tuple(f.code.value for f in flags),
    )
