"""Order review: address parsing and checks, gifts vs campaign, invoice, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csdesk.roles import order_review
from csdesk.roles.base import BuyerFacts, OrderFacts, OrderItem
from csdesk.roles.config import RoutingConfig
from csdesk.roles.order_review import AddressParts, FlagCode
from csdesk.storage.enums import BuyerTier, OrderStatus, ServiceRole

CONFIG = RoutingConfig()
T0 = datetime(2024, 11, 11, 4, 0, tzinfo=UTC)
GOOD_ADDRESS = "浙江省杭州市西湖区文三路100号"
TV = OrderItem("TV-55", "55寸电视", 1, 299_900)


def order(**changes: object) -> OrderFacts:
    base: dict[str, object] = {
        "order_id": 1,
        "buyer_id": 7,
        "status": OrderStatus.PAID,
        "amount_fen": 299_900,
        "created_at": T0,
        "items": (TV,),
        "gifts": ("HDMI高清线",),
        "receiver_name": "李娜",
        "receiver_phone": "13800001111",
        "address": GOOD_ADDRESS,
        "paid_at": T0,
    }
    base.update(changes)
    return OrderFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("address", "parts"),
    [
        (GOOD_ADDRESS, AddressParts("浙江", "杭州市", "西湖区", "文三路100号")),
        ("上海市浦东新区张江路88号", AddressParts("上海", "上海", "浦东新区", "张江路88号")),
        ("北京市北京市朝阳区建国路1号", AddressParts("北京", "北京", "朝阳区", "建国路1号")),
        ("广东省 深圳市 南山区 科技园 5栋", AddressParts("广东", "深圳市", "南山区", "科技园5栋")),
        (
            "吉林省延边朝鲜族自治州延吉市光明街3号",
            AddressParts("吉林", "延边朝鲜族自治州", "延吉市", "光明街3号"),
        ),
        (
            "新疆维吾尔自治区乌鲁木齐市天山区解放路9号",
            AddressParts("新疆", "乌鲁木齐市", "天山区", "解放路9号"),
        ),
        ("浙江省金华市义乌市稠城街道1号", AddressParts("浙江", "金华市", "义乌市", "稠城街道1号")),
        ("杭州市西湖区文三路100号", AddressParts(None, "杭州市", "西湖区", "文三路100号")),
        ("浙江省杭州市阳光小区5栋", AddressParts("浙江", "杭州市", None, "阳光小区5栋")),
        ("浙江省杭州市西湖区", AddressParts("浙江", "杭州市", "西湖区", "")),
    ],
)
def test_parse_address(address: str, parts: AddressParts) -> None:
    assert order_review.parse_address(address) == parts


@pytest.mark.parametrize(
    ("address", "codes"),
    [
        (GOOD_ADDRESS, set()),
        ("上海市浦东新区张江路88号", set()),
        (None, {FlagCode.ADDRESS_MISSING}),
        ("   ", {FlagCode.ADDRESS_MISSING}),
        ("浙江省杭州市西湖区", {FlagCode.ADDRESS_NO_DETAIL, FlagCode.ADDRESS_TOO_SHORT}),
        ("浙江省杭州市西湖区古墩路", set()),
        ("杭州市西湖区文三路100号", {FlagCode.ADDRESS_NO_PROVINCE}),
        ("浙江省杭州市阳光小区5栋", {FlagCode.ADDRESS_NO_DISTRICT}),
        (
            "文三路100号",
            {
                FlagCode.ADDRESS_TOO_SHORT,
                FlagCode.ADDRESS_NO_PROVINCE,
                FlagCode.ADDRESS_NO_CITY,
                FlagCode.ADDRESS_NO_DISTRICT,
            },
        ),
        ("浙江省杭州市西湖区 地址待定", {FlagCode.ADDRESS_VAGUE, FlagCode.ADDRESS_NO_DETAIL}),
        ("浙江省杭州市西湖区不详路100号", {FlagCode.ADDRESS_VAGUE}),
        ("浙江省杭州市西湖区邮政信箱1024号", {FlagCode.ADDRESS_PO_BOX}),
        ("浙江省杭州市西湖区 PO Box 88", {FlagCode.ADDRESS_PO_BOX}),
    ],
)
def test_check_address(address: str | None, codes: set[FlagCode]) -> None:
    flags = order_review.check_address(order(address=address), CONFIG)
    assert {f.code for f in flags} == codes


def test_min_address_length_is_shop_config() -> None:
    strict = RoutingConfig.from_overrides({"order_review": {"min_address_chars": 20}})
    flags = order_review.check_address(order(), strict)
    assert [f.code for f in flags] == [FlagCode.ADDRESS_TOO_SHORT]


@pytest.mark.parametrize(
    ("name", "phone", "flagged"),
    [
        ("李娜", "13800001111", False),
        ("李娜", "+8613800001111", False),
        ("李娜", "0571-88886666", False),
        ("", "13800001111", True),
        ("李娜", None, True),
        ("李娜", "12345", True),
    ],
)
def test_check_receiver(name: str, phone: str | None, flagged: bool) -> None:
    assert (
        bool(order_review.check_receiver(order(receiver_name=name, receiver_phone=phone)))
        is flagged
    )


@pytest.mark.parametrize(
    ("status", "flagged"),
    [(OrderStatus.PAID, False), (OrderStatus.CLOSED, True), (OrderStatus.CREATED, True)],
)
def test_check_status(status: OrderStatus, flagged: bool) -> None:
    assert bool(order_review.check_status(order(status=status))) is flagged


PROMISED = {"TV-55": ["HDMI高清线"]}


@pytest.mark.parametrize(
    ("gifts", "campaign", "active", "codes"),
    [
        (("HDMI高清线",), None, None, []),
        (("hdmi 高清线",), None, None, []),  # case and spacing do not matter
        # the seed's case: an HDMI cable promised, a travel voucher attached
        (("旅游券",), None, None, [FlagCode.GIFT_MISSING, FlagCode.GIFT_UNEXPECTED]),
        ((), None, None, [FlagCode.GIFT_MISSING]),
        (("HDMI高清线", "旅游券"), None, None, [FlagCode.GIFT_UNEXPECTED]),
        (("HDMI高清线",), "double11", ["double11"], []),
        (("HDMI高清线",), "618", ["double11"], [FlagCode.CAMPAIGN_MISMATCH]),
    ],
)
def test_check_gifts(
    gifts: tuple[str, ...], campaign: str | None, active: list[str] | None, codes: list[FlagCode]
) -> None:
    flags = order_review.check_gifts(order(gifts=gifts, campaign=campaign), PROMISED, active)
    assert [f.code for f in flags] == codes


def test_gift_flags_name_the_items() -> None:
    flags = order_review.check_gifts(order(gifts=("旅游券",)), PROMISED)
    text = " ".join(f.reason for f in flags)
    assert "HDMI高清线" in text
    assert "旅游券" in text


@pytest.mark.parametrize(
    ("title", "flagged"), [(None, False), ("", False), ("杭州某某科技有限公司", True)]
)
def test_check_invoice(title: str | None, flagged: bool) -> None:
    assert bool(order_review.check_invoice(order(invoice_title=title))) is flagged


@pytest.mark.parametrize(
    ("other", "flagged"),
    [
        (order(order_id=2, created_at=T0 - timedelta(minutes=10)), True),
        (order(order_id=2, created_at=T0 + timedelta(minutes=30)), True),
        (order(order_id=2, created_at=T0 - timedelta(minutes=31)), False),
        (order(order_id=2, buyer_id=8), False),
        (order(order_id=2, items=(OrderItem("TV-65"),)), False),
        (order(order_id=2, items=(TV, TV)), False),  # two TVs is not the same basket
        (order(order_id=2, status=OrderStatus.CLOSED), False),
        (order(order_id=1), False),  # the order itself
    ],
)
def test_check_duplicates(other: OrderFacts, flagged: bool) -> None:
    assert bool(order_review.check_duplicates(order(), [other], CONFIG)) is flagged


def test_clean_order_makes_no_task() -> None:
    decision = order_review.intake(order(), BuyerFacts(7), T0, CONFIG, promised_gifts=PROMISED)
    assert decision is None


def test_flagged_order_makes_a_scored_task() -> None:
    decision = order_review.intake(
        order(gifts=("旅游券",), invoice_title="某公司"),
        BuyerFacts(7, BuyerTier.VIP),
        T0,
        CONFIG,
        promised_gifts=PROMISED,
    )
    assert decision is not None
    assert (decision.role, decision.kind, decision.due_at) == (
        ServiceRole.ORDER_REVIEW,
        "order_check",
        T0,
    )
    assert decision.notes == ("gift_missing", "gift_unexpected", "invoice_requested")
    flag_points = [r.points for r in decision.score.reasons if r.factor.startswith("flag:")]
    assert flag_points == [4.0, 4.0, 4.0]
    # role 8 + value 8 (¥2,999) + VIP 5 + three flags
    assert decision.score.points == 8 + 8 + 5 + 12
    assert decision.escalation is None  # gift and invoice fixes need no buyer contact


def test_address_problem_escalates_to_buyer_contact() -> None:
    decision = order_review.intake(order(address="地址待定"), BuyerFacts(7), T0, CONFIG)
    assert decision is not None
    assert decision.escalation is not None
    assert decision.escalation.to_role is ServiceRole.PRESALES
    assert decision.escalation.feedback is True
