"""The pure generators of the demo data: time, catalogue, buyers, orders, refunds, team."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest
from faker import Faker

from csdesk.actions.agents import ShiftSpec
from csdesk.actions.refunds import DEFAULT_REFUND_DEADLINES
from csdesk.clock import SHOP_TZ
from csdesk.seed.catalog import (
    CATEGORIES,
    LARGE_APPLIANCES,
    TV_GIFT,
    WRONG_TV_GIFT,
    CatalogProduct,
    build_catalog,
)
from csdesk.seed.orders import UNPAID_TIMEOUT, PlannedOrder, plan_orders
from csdesk.seed.people import (
    UNDELIVERABLE_ADDRESSES,
    BuyerProfile,
    chat_name,
    make_buyers,
    tier_for,
)
from csdesk.seed.staff import (
    DAILY_SLOTS,
    DEMO_LOGINS,
    DESIGNATED_CHASER,
    EARLY,
    LATE,
    NIGHT,
    REFUND_REVIEW,
    plan_roster,
    plan_staff,
)
from csdesk.seed.timeline import (
    DOUBLE_11,
    JUHUASUAN,
    TrafficShape,
    campaign_on,
    default_anchor,
    local_date,
)
from csdesk.storage.enums import (
    BuyerTier,
    OrderStatus,
    RefundKind,
    RefundStatus,
    ServiceRole,
    UserRole,
)

ANCHOR = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
"""Shop-local midnight of 2026-11-21: the 30 days before it include 双十一."""


def fake(seed: str) -> Faker:
    instance = Faker("zh_CN")
    instance.seed_instance(seed)
    return instance


# --- time -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "anchor"),
    [
        # 23:00 in Shanghai: still the 20th there.
        (datetime(2025, 11, 20, 15, 0, tzinfo=UTC), datetime(2025, 11, 19, 16, 0, tzinfo=UTC)),
        # 01:00 on the 21st in Shanghai.
        (datetime(2025, 11, 20, 17, 0, tzinfo=UTC), datetime(2025, 11, 20, 16, 0, tzinfo=UTC)),
        # Exactly midnight in Shanghai is that day's anchor.
        (datetime(2025, 11, 20, 16, 0, tzinfo=UTC), datetime(2025, 11, 20, 16, 0, tzinfo=UTC)),
    ],
)
def test_the_default_anchor_is_todays_shop_local_midnight(now: datetime, anchor: datetime) -> None:
    assert default_anchor(now) == anchor


def test_the_default_anchor_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        default_anchor(datetime(2025, 11, 20, 15, 0))


@pytest.mark.parametrize(
    ("day", "campaign"),
    [
        (date(2026, 11, 11), DOUBLE_11),
        (date(2026, 6, 18), "618"),
        (date(2026, 11, 12), None),
        (date(2026, 11, 19), JUHUASUAN),  # every ninth day
    ],
)
def test_campaign_days(day: date, campaign: str | None) -> None:
    assert campaign_on(day) == campaign


def test_traffic_stays_in_its_window_and_peaks_on_double_11() -> None:
    start = ANCHOR - timedelta(days=30)
    shape = TrafficShape.over(start, ANCHOR)
    rng = random.Random(1)
    instants = [shape.sample(rng) for _ in range(20_000)]
    assert all(start <= t < ANCHOR for t in instants)
    busiest_day, _ = Counter(local_date(t) for t in instants).most_common(1)[0]
    assert busiest_day == date(2026, 11, 11)
    hours = Counter(t.astimezone(SHOP_TZ).hour for t in instants)
    assert hours[21] > 5 * hours[4], "evenings are busy, small hours quiet"


# --- catalogue --------------------------------------------------------------------------


@cache
def catalog() -> tuple[CatalogProduct, ...]:
    return tuple(build_catalog(random.Random("catalog")))


def test_the_catalogue_has_200_distinct_products_in_every_category() -> None:
    products = catalog()
    assert len(products) == 200
    assert len({p.spec.sku for p in products}) == 200
    assert len({p.spec.title for p in products}) == 200
    assert {p.spec.category for p in products} == set(CATEGORIES)


def test_prices_are_shop_style_fen() -> None:
    for product in catalog():
        assert product.spec.price_fen > 0
        assert product.spec.price_fen % 100 == 0, "whole yuan"
        assert (product.spec.price_fen // 100) % 10 == 9, "ends in 9, like 1999 or 59"


def test_tvs_come_with_an_hdmi_cable_and_large_appliances_are_marked() -> None:
    tvs = [p for p in catalog() if p.is_tv]
    assert tvs
    assert all(TV_GIFT in p.spec.gifts for p in tvs)
    assert all(p.is_large_appliance for p in tvs)
    assert sum(p.spec.category == LARGE_APPLIANCES for p in catalog()) >= 30
    assert all("英寸" in p.spec.title for p in tvs)


def test_the_catalogue_is_deterministic() -> None:
    assert build_catalog(random.Random("catalog")) == list(catalog())
    assert build_catalog(random.Random("other")) != list(catalog())


# --- buyers -----------------------------------------------------------------------------


@cache
def buyers() -> tuple[BuyerProfile, ...]:
    return tuple(
        make_buyers(
            random.Random("buyers"),
            fake("buyers"),
            5000,
            first_order_window_start=ANCHOR - timedelta(days=30),
        )
    )


@pytest.mark.parametrize(
    ("draw", "tier"),
    [
        (0.0, BuyerTier.VIP88),
        (0.049, BuyerTier.VIP88),
        (0.05, BuyerTier.VIP),
        (0.199, BuyerTier.VIP),
        (0.2, BuyerTier.NORMAL),
        (0.999, BuyerTier.NORMAL),
    ],
)
def test_tier_shares(draw: float, tier: BuyerTier) -> None:
    assert tier_for(draw) == tier


def test_buyers_have_unique_nicks_tiers_and_pii() -> None:
    profiles = buyers()
    assert len({b.spec.nick for b in profiles}) == len(profiles)
    tiers = Counter(b.spec.tier for b in profiles)
    assert 0.75 < tiers[BuyerTier.NORMAL] / len(profiles) < 0.85
    assert 0.12 < tiers[BuyerTier.VIP] / len(profiles) < 0.18
    assert 0.03 < tiers[BuyerTier.VIP88] / len(profiles) < 0.07
    assert all(b.spec.name and b.spec.phone and b.spec.address for b in profiles)
    assert all(b.spec.created_at < ANCHOR - timedelta(days=30) for b in profiles)


def test_some_addresses_are_undeliverable_on_purpose() -> None:
    profiles = buyers()
    bad = [b for b in profiles if b.undeliverable]
    assert 0.01 < len(bad) / len(profiles) < 0.05
    assert all(b.spec.address in UNDELIVERABLE_ADDRESSES for b in bad)
    good = [b.spec.address or "" for b in profiles if not b.undeliverable]
    assert all("号" in a and "室" in a for a in good)


def test_nicks_look_like_wangwang_names() -> None:
    nicks = [b.spec.nick for b in buyers()]
    assert any(n.startswith("tb") and n[2:].isdigit() for n in nicks)
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in n) for n in nicks)
    assert any(n.isascii() and not n.startswith("tb") for n in nicks)


@pytest.mark.parametrize(("full", "chat"), [("王芳", "小芳"), ("欧阳娜娜", "小娜")])
def test_chat_names(full: str, chat: str) -> None:
    assert chat_name(full) == chat


# --- orders and refunds -------------------------------------------------------------------


@cache
def orders(days: int = 30, anchor: datetime = ANCHOR) -> tuple[PlannedOrder, ...]:
    profiles = buyers()[:1000]
    return tuple(
        plan_orders(
            random.Random("orders"),
            fake("orders"),
            count=6000,
            catalog=catalog(),
            buyers=profiles,
            buyer_ids=range(1, len(profiles) + 1),
            anchor=anchor,
            days=days,
            deadlines=DEFAULT_REFUND_DEADLINES,
        )
    )


REQUIRED = {
    OrderStatus.CREATED: ("created_at",),
    OrderStatus.PAID: ("created_at", "paid_at"),
    OrderStatus.SHIPPED: ("created_at", "paid_at", "shipped_at"),
    OrderStatus.RECEIVED: ("created_at", "paid_at", "shipped_at", "received_at"),
    OrderStatus.CLOSED: ("created_at", "closed_at"),
}
TIMES = ("created_at", "paid_at", "shipped_at", "received_at", "closed_at")


def test_orders_cover_every_status_with_consistent_times() -> None:
    plans = orders()
    assert {p.spec.status for p in plans} == set(OrderStatus)
    for plan in plans:
        spec = plan.spec
        present = {name for name in TIMES if getattr(spec, name) is not None}
        assert set(REQUIRED[spec.status]) <= present
        if spec.status is not OrderStatus.CLOSED:
            assert "closed_at" not in present
        times = [getattr(spec, name) for name in TIMES if getattr(spec, name) is not None]
        assert times == sorted(times)
        assert all(ANCHOR - timedelta(days=30) <= t < ANCHOR for t in times)
        assert spec.total_fen > 0


def test_unpaid_orders_close_after_the_timeout() -> None:
    for plan in orders():
        spec = plan.spec
        if spec.status is OrderStatus.CREATED:
            assert ANCHOR - spec.created_at < UNPAID_TIMEOUT
        if spec.status is OrderStatus.CLOSED and spec.paid_at is None:
            assert spec.closed_at == spec.created_at + UNPAID_TIMEOUT


def test_orders_are_oldest_first_with_unique_numbers() -> None:
    plans = orders()
    created = [p.spec.created_at for p in plans]
    assert created == sorted(created)
    numbers = [p.spec.external_id for p in plans]
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) == 19 and n.isdigit() for n in numbers)


def test_double_11_spikes_when_it_is_in_the_window() -> None:
    per_day = Counter(local_date(p.spec.created_at) for p in orders())
    double_11 = per_day[date(2026, 11, 11)]
    assert double_11 > 5 * (sum(per_day.values()) - double_11) / (len(per_day) - 1)
    assert all(
        p.spec.campaign == DOUBLE_11
        for p in orders()
        if local_date(p.spec.created_at) == date(2026, 11, 11)
    )


def test_no_double_11_outside_its_window() -> None:
    summer = datetime(2026, 8, 1, 16, 0, tzinfo=UTC)
    assert not any(p.spec.campaign == DOUBLE_11 for p in orders(10, summer))


def test_the_gift_mismatch_case_is_there() -> None:
    mismatched = [p for p in orders() if p.gift_mismatch]
    assert any(p.spec.status is OrderStatus.PAID for p in mismatched)
    for plan in mismatched:
        assert WRONG_TV_GIFT in plan.spec.gifts
        assert TV_GIFT not in plan.spec.gifts
        assert any(p.is_tv for p in plan.products)


def test_invoices_and_review_flags() -> None:
    plans = orders()
    assert any(p.spec.invoice_title for p in plans)
    assert any(p.undeliverable for p in plans)
    assert any(p.is_big and p.late_payer for p in plans)


def test_refunds_of_both_kinds_in_every_status() -> None:
    refunds = [p.refund for p in orders() if p.refund is not None]
    assert {r.kind for r in refunds} == set(RefundKind)
    assert {r.status for r in refunds} == set(RefundStatus)
    for refund in refunds:
        assert refund.requested_at < ANCHOR
        if refund.kind is RefundKind.RETURN_AND_REFUND:
            assert refund.goods_shipped
        else:
            assert refund.status is not RefundStatus.RETURN_RECEIVED
        if refund.status in {RefundStatus.REJECTED, RefundStatus.REFUNDED, RefundStatus.CANCELLED}:
            assert refund.resolved_at is not None
            assert refund.requested_at <= refund.resolved_at < ANCHOR
        if refund.status is RefundStatus.REQUESTED:
            assert refund.resolved_at is None


def test_a_full_refund_closes_the_order() -> None:
    for plan in orders():
        refund = plan.refund
        if refund is None:
            continue
        if refund.kind is RefundKind.REFUND_ONLY and not refund.goods_shipped:
            # Regret before shipping: the warehouse intercepts; approval closes the order.
            if refund.status is RefundStatus.APPROVED:
                assert plan.spec.status is OrderStatus.CLOSED
                assert plan.spec.shipped_at is None
                assert plan.spec.closed_at == refund.resolved_at
            if refund.status is RefundStatus.REQUESTED:
                assert plan.spec.status is OrderStatus.PAID


def test_orders_are_deterministic() -> None:
    profiles = buyers()[:50]

    def make(seed: str) -> list[PlannedOrder]:
        return plan_orders(
            random.Random(seed),
            fake(seed),
            count=200,
            catalog=catalog(),
            buyers=profiles,
            buyer_ids=range(1, 51),
            anchor=ANCHOR,
            days=30,
            deadlines=DEFAULT_REFUND_DEADLINES,
        )

    assert make("a") == make("a")
    assert make("a") != make("b")


# --- team and roster ----------------------------------------------------------------------


def test_the_team_covers_every_role_with_demo_logins() -> None:
    members = plan_staff(random.Random(1), [f"王{chr(0x4E00 + i)}" for i in range(30)])
    agents = [m for m in members if m.is_agent]
    assert len(members) == 37
    assert len(agents) == 32
    assert {r for m in agents for r in m.service_roles} == set(ServiceRole)
    assert all(m.role is UserRole.AGENT for m in agents)
    assert all(3 <= m.chat_capacity <= 8 and m.hotline_capacity == 1 for m in agents)
    assert {"vip", "large_appliance", "english"} <= {s for m in agents for s in m.skills}
    logins = {m.username: m for m in members if m.demo_login}
    assert set(logins) == {"agent", "refund", "supervisor", "qc", "trainer", "owner", "admin"}
    assert set(logins["agent"].service_roles) == {
        ServiceRole.PRESALES,
        ServiceRole.AFTERSALES_TRIAGE,
    }
    assert logins["refund"].service_roles == (ServiceRole.REFUND,)
    assert logins["qc"].role is UserRole.QC_INSPECTOR
    assert [m.username for m in members[: len(DEMO_LOGINS)]] == [m.username for m in DEMO_LOGINS]


def test_the_roster_covers_every_role_every_day() -> None:
    members = plan_staff(random.Random(1), [f"王{chr(0x4E00 + i)}" for i in range(30)])
    staff = list(enumerate(members, start=1))
    first_day = date(2026, 11, 21)
    shifts = plan_roster(random.Random(2), staff, first_day, 7)
    assert len(shifts) == 7 * len(DAILY_SLOTS)
    by_day: dict[date, list[ShiftSpec]] = {}
    for shift in shifts:
        local_start = shift.starts_at.astimezone(SHOP_TZ)
        day = local_start.date()
        by_day.setdefault(day, []).append(shift)
        assert local_start.hour in {NIGHT.start_hour, EARLY.start_hour, LATE.start_hour}
        assert shift.ends_at - shift.starts_at == timedelta(hours=8)
        member = members[shift.user_id - 1]
        assert shift.service_role in member.service_roles
    assert sorted(by_day) == [first_day + timedelta(days=i) for i in range(7)]
    for day in by_day:
        todays = [s for s in shifts if local_date(s.starts_at) == day]
        assert {s.service_role for s in todays} == set(ServiceRole)
        night_review = [
            s
            for s in todays
            if s.starts_at.astimezone(SHOP_TZ).hour == NIGHT.start_hour
            and s.service_role is ServiceRole.REFUND
            and s.duty == REFUND_REVIEW
        ]
        assert len(night_review) == 1
        assert sum(s.duty == DESIGNATED_CHASER for s in todays) == 1
        people = [s.user_id for s in todays]
        assert len(people) == len(set(people)), "nobody works two shifts a day"


def test_nobody_works_a_night_right_after_a_late_shift() -> None:
    members = plan_staff(random.Random(1), [f"王{chr(0x4E00 + i)}" for i in range(30)])
    shifts = plan_roster(random.Random(3), list(enumerate(members, start=1)), date(2026, 1, 1))
    late = {(s.user_id, s.ends_at) for s in shifts if s.ends_at.astimezone(SHOP_TZ).hour == 0}
    for shift in shifts:
        assert (shift.user_id, shift.starts_at) not in late
