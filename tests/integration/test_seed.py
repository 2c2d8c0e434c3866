"""``seed_demo`` end to end: deterministic across runs and engines, complete, refusing twice.

Each fixture seeds a fresh database once per module (small sizes); tests only read it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text

from csdesk.auth.passwords import check_password
from csdesk.clock import SHOP_TZ
from csdesk.seed import (
    DEMO_PASSWORD,
    DEMO_SHOP_ID,
    AlreadySeededError,
    SeedError,
    SeedOptions,
    SeedReport,
    content_digest,
    demo_logins,
    seed_demo,
)
from csdesk.seed.catalog import TV_GIFT, WRONG_TV_GIFT
from csdesk.seed.people import UNDELIVERABLE_ADDRESSES
from csdesk.seed.staff import DESIGNATED_CHASER, REFUND_REVIEW
from csdesk.seed.transcripts import (
    CLOSING_MARKERS,
    GOOD_TAG,
    GREETING_MARKERS,
    SCRIPT_TAG_PREFIX,
    Flaw,
    contains_any,
)
from csdesk.settings import DatabaseSettings, sqlite_url
from csdesk.storage.engine import SessionFactory, create_engine, create_session_factory
from csdesk.storage.enums import (
    BuyerTier,
    MessageSender,
    OrderStatus,
    RefundKind,
    RefundStatus,
    ServiceRole,
    UserRole,
)
from csdesk.storage.models import (
    AgentProfile,
    Base,
    Buyer,
    Conversation,
    Message,
    Order,
    Refund,
    RosterShift,
    User,
)
from csdesk.storage.qc_models import QcCheck, QcSample, QcSampleDay
from csdesk.storage.rating_models import ServiceRating
from tests.unit.test_seed_transcripts import Said, detect_flaws, flaws_in_tags

ANCHOR = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
"""Shop-local midnight of 2026-11-21; the 30 days before it include 双十一."""
SMALL = SeedOptions(buyers=300, orders=1000, conversations=150, days=30, seed=1, anchor=ANCHOR)
PHASES = {
    "shop",
    "products",
    "logins",
    "buyers",
    "orders",
    "refunds",
    "agent profiles",
    "roster",
    "conversations",
    "qc",
    "training",
    "alerts",
}


@dataclass(frozen=True)
class Seeded:
    url: str
    report: SeedReport
    digest: str
    phases: frozenset[str]


@contextmanager
def cheap_password_hashing() -> Iterator[None]:
    """argon2 at production cost is ~0.15 s per login, 37 logins per seed; the digest leaves
    password hashes out, so these tests hash with the cheapest parameters."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "csdesk.auth.passwords.hasher",
            lambda: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
        )
        yield


@asynccontextmanager
async def open_sessions(url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(DatabaseSettings(url=url))
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


def seed(url: str, options: SeedOptions) -> Seeded:
    phases: set[str] = set()

    async def run() -> Seeded:
        async with open_sessions(url) as sessions:
            report = await seed_demo(
                sessions, options, lambda phase, done, total: phases.add(phase)
            )
            return Seeded(url, report, await content_digest(sessions), frozenset(phases))

    with cheap_password_hashing():
        return asyncio.run(run())


def fresh_sqlite(template: Path, directory: Path) -> str:
    shutil.copy(template, directory / "csdesk.sqlite3")
    return sqlite_url(directory)


@pytest.fixture(scope="module")
def seeded(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed(fresh_sqlite(sqlite_template, tmp_path_factory.mktemp("seed-a")), SMALL)


@pytest.fixture(scope="module")
def seeded_again(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed(fresh_sqlite(sqlite_template, tmp_path_factory.mktemp("seed-b")), SMALL)


@pytest.fixture(scope="module")
def seeded_postgres(postgres_url: str) -> Seeded:
    async def empty() -> None:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with open_sessions(postgres_url) as sessions, sessions.begin() as session:
            await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

    asyncio.run(empty())
    return seed(postgres_url, SMALL)


@pytest.fixture(scope="module")
def seeded_other(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    other = SeedOptions(
        buyers=SMALL.buyers,
        orders=SMALL.orders,
        conversations=SMALL.conversations,
        days=SMALL.days,
        seed=2,
        anchor=ANCHOR,
    )
    return seed(fresh_sqlite(sqlite_template, tmp_path_factory.mktemp("seed-c")), other)


def test_the_same_seed_gives_the_same_content_on_sqlite_and_postgres(
    seeded: Seeded, seeded_again: Seeded, seeded_postgres: Seeded
) -> None:
    assert seeded.digest == seeded_again.digest == seeded_postgres.digest
    assert seeded.report.counts == seeded_postgres.report.counts


def test_another_seed_gives_other_content(seeded: Seeded, seeded_other: Seeded) -> None:
    assert seeded_other.digest != seeded.digest


def test_the_report_counts_rows_and_documents_the_demo_logins(seeded: Seeded) -> None:
    report = seeded.report
    assert report.shop_id == DEMO_SHOP_ID
    assert report.anchor == ANCHOR
    counts = report.counts
    assert counts["product"] == 200
    assert counts["buyer"] == SMALL.buyers
    assert counts["shop_order"] == SMALL.orders
    assert counts["conversation"] == SMALL.conversations
    assert counts["user_account"] == 37
    assert counts["agent_profile"] == 32
    assert counts["roster_shift"] > 0
    assert counts["refund"] > 0
    assert counts["message"] > 5 * SMALL.conversations
    # A week of QC: every conversation of the last 7 days checked, the days sampled, all
    # but the last two scored; a calibration session open for the qc login.
    assert counts["qc_check"] > 0
    assert counts["qc_sample_day"] == 7
    assert 0 < counts["qc_score"] < counts["qc_sample"]
    assert counts["qc_finding"] > 0
    assert counts["qc_calibration_session"] == 1
    # Some buyers rated their chats and calls (the dashboard's satisfaction has numbers).
    assert counts["service_rating"] > 0
    # Training: a catalog for every role, the rules, courses given, taken and due, points.
    assert counts["training_course"] >= 7
    assert counts["training_rule"] > 0
    assert counts["training_asset"] == 1  # the 物流宝/菜鸟 flow chart
    assert counts["training_assignment"] > counts["training_attempt"] // 2 > 0
    assert counts["points_entry"] > counts["qc_finding"]
    assert report.password == DEMO_PASSWORD == "csdesk-demo"
    roles = {login.username: login.role for login in report.logins}
    assert roles == {
        "agent": UserRole.AGENT,
        "refund": UserRole.AGENT,
        "supervisor": UserRole.SUPERVISOR,
        "qc": UserRole.QC_INSPECTOR,
        "trainer": UserRole.TRAINER,
        "owner": UserRole.OWNER,
        "admin": UserRole.ADMIN,
    }
    assert seeded.phases == PHASES
    as_json = json.loads(json.dumps(report.to_json(), ensure_ascii=False))
    assert as_json["counts"]["shop_order"] == SMALL.orders
    assert {login["username"] for login in as_json["logins"]} == set(roles)
    summary = report.summary()
    assert DEMO_PASSWORD in summary
    assert all(username in summary for username in roles)
    assert demo_logins() == [
        (login.username, DEMO_PASSWORD, login.role.value) for login in report.logins
    ]


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"buyers": -1}, "--buyers must not be negative"),
        ({"days": 0}, "--days must be at least 1"),
        ({"buyers": 0, "orders": 5}, "--orders needs at least one buyer"),
        ({"anchor": datetime(2026, 11, 21)}, "anchor must be timezone-aware"),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(
    options: dict[str, Any], problem: str
) -> None:
    with pytest.raises(SeedError, match=problem):
        SeedOptions(**options)


async def test_seeding_again_is_refused_and_changes_nothing(seeded: Seeded) -> None:
    async with open_sessions(seeded.url) as sessions:
        with pytest.raises(AlreadySeededError, match="already has 1000 orders"):
            await seed_demo(sessions, SMALL)
        assert await content_digest(sessions) == seeded.digest


def test_an_empty_seed_still_refuses_a_second_run(sqlite_template: Path, tmp_path: Path) -> None:
    """No orders to look at, but the demo logins exist: seeding twice must not half-run."""
    url = fresh_sqlite(sqlite_template, tmp_path)
    first = seed(url, SeedOptions(buyers=0, orders=0, conversations=0, anchor=ANCHOR))
    assert first.report.counts["user_account"] == 37
    assert first.report.counts["shop_order"] == 0
    with pytest.raises(AlreadySeededError, match="demo logins already exist"):
        seed(url, SeedOptions(buyers=0, orders=0, conversations=0, anchor=ANCHOR))


async def test_the_demo_logins_work_with_the_documented_password(seeded: Seeded) -> None:
    async with open_sessions(seeded.url) as sessions, sessions() as session:
        users = (await session.scalars(select(User))).all()
    assert all(check_password(u.password_hash, DEMO_PASSWORD).ok for u in users)
    assert sum(u.role is UserRole.AGENT for u in users) == 32
    assert all(u.display_name for u in users)


async def test_orders_cover_every_status_campaigns_invoices_and_the_gift_case(
    seeded: Seeded,
) -> None:
    async with open_sessions(seeded.url) as sessions, sessions() as session:
        orders = (await session.scalars(select(Order))).all()
        buyers = (await session.scalars(select(Buyer))).all()
    assert {o.status for o in orders} == set(OrderStatus)
    assert any(o.campaign == "双十一" for o in orders)
    assert any(o.invoice_title for o in orders)
    assert all(o.created_at < ANCHOR for o in orders)
    assert all(o.amount_fen > 0 and o.items for o in orders)
    wrong_gift = [o for o in orders if WRONG_TV_GIFT in o.gifts]
    assert any(o.status is OrderStatus.PAID for o in wrong_gift)
    assert all(any(item["sku"].startswith("TV-") for item in o.items) for o in wrong_gift)
    assert any(TV_GIFT in o.gifts for o in orders)
    assert {b.tier for b in buyers} == set(BuyerTier)
    assert any(b.address in UNDELIVERABLE_ADDRESSES for b in buyers)


async def test_refunds_of_both_kinds_with_platform_deadlines(seeded: Seeded) -> None:
    async with open_sessions(seeded.url) as sessions, sessions() as session:
        rows = (await session.execute(select(Refund, Order).join(Order))).all()
    assert {r.kind for r, _ in rows} == set(RefundKind)
    assert {RefundStatus.REQUESTED, RefundStatus.APPROVED, RefundStatus.REFUNDED} <= {
        r.status for r, _ in rows
    }
    windows: Counter[timedelta] = Counter()
    for refund, order in rows:
        assert refund.buyer_id == order.buyer_id
        shipped = order.shipped_at is not None and order.shipped_at <= refund.requested_at
        expected = timedelta(days=5) if shipped else timedelta(hours=24)
        assert refund.deadline_at - refund.requested_at == expected, refund.external_id
        windows[expected] += 1
        assert refund.reason
    assert set(windows) == {timedelta(hours=24), timedelta(days=5)}


async def test_some_pending_refunds_auto_approve_within_the_hour_and_four(seeded: Seeded) -> None:
    # The owner's "will auto-approve within 1 h / 4 h" shows money as soon as the demo starts.
    async with open_sessions(seeded.url) as sessions, sessions() as session:
        deadlines = list(
            await session.scalars(
                select(Refund.deadline_at).where(Refund.status == RefundStatus.REQUESTED)
            )
        )
    within = [d - ANCHOR for d in deadlines if d >= ANCHOR]
    assert sum(1 for w in within if w < timedelta(hours=1)) >= 2
    assert sum(1 for w in within if w < timedelta(hours=4)) >= 4


async def test_agents_hold_all_six_roles(seeded: Seeded) -> None:
    async with open_sessions(seeded.url) as sessions, sessions() as session:
        rows = (await session.execute(select(AgentProfile, User).join(User))).all()
    assert {role for profile, _ in rows for role in profile.service_roles} == {
        role.value for role in ServiceRole
    }
    for profile, user in rows:
        assert user.role is UserRole.AGENT
        assert 3 <= profile.chat_capacity <= 8
        assert profile.hotline_capacity == 1
    by_name = {user.username: profile for profile, user in rows}
    assert set(by_name["agent"].service_roles) == {"presales", "aftersales_triage"}
    assert by_name["refund"].service_roles == ["refund"]
    assert {"vip", "large_appliance", "english"} <= {s for p, _ in rows for s in p.skills}


async def test_the_roster_covers_every_role_every_day_with_a_night_refund_reviewer(
    seeded: Seeded,
) -> None:
    async with open_sessions(seeded.url) as sessions, sessions() as session:
        shifts = (await session.scalars(select(RosterShift))).all()
    by_day: dict[date, list[RosterShift]] = defaultdict(list)
    for shift in shifts:
        assert shift.starts_at >= ANCHOR
        by_day[shift.starts_at.astimezone(SHOP_TZ).date()].append(shift)
    first_day = ANCHOR.astimezone(SHOP_TZ).date()
    assert sorted(by_day) == [first_day + timedelta(days=i) for i in range(7)]
    for todays in by_day.values():
        assert {s.service_role for s in todays} == {role.value for role in ServiceRole}
        assert any(
            s.service_role == "refund"
            and s.duty == REFUND_REVIEW
            and s.starts_at.astimezone(SHOP_TZ).hour == 0
            for s in todays
        )
        assert [s.service_role for s in todays if s.duty == DESIGNATED_CHASER] == [
            "payment_chasing"
        ]


async def test_transcript_tags_are_true_to_text_and_timing(seeded: Seeded) -> None:
    async with open_sessions(seeded.url) as sessions, sessions() as session:
        conversations = (await session.scalars(select(Conversation))).all()
        messages = (
            await session.scalars(select(Message).order_by(Message.conversation_id, Message.id))
        ).all()
    by_conversation: dict[int, list[Message]] = defaultdict(list)
    for message in messages:
        by_conversation[message.conversation_id].append(message)
    seen: Counter[Flaw] = Counter()
    for conversation in conversations:
        said = [
            Said(
                "buyer" if m.sender is MessageSender.BUYER else "agent",
                m.text,
                (m.sent_at - conversation.opened_at).total_seconds(),
            )
            for m in by_conversation[conversation.id]
        ]
        claimed = flaws_in_tags(conversation.tags)
        assert detect_flaws(said) == claimed, (conversation.id, conversation.tags)
        seen.update(claimed)
        assert sum(t.startswith(SCRIPT_TAG_PREFIX) for t in conversation.tags) == 1
        if GOOD_TAG in conversation.tags:
            agent = [s.text for s in said if s.speaker == "agent"]
            assert contains_any(agent[0], GREETING_MARKERS)
            assert any(contains_any(t, CLOSING_MARKERS) for t in agent)
    assert set(seen) == set(Flaw), "every QC category appears in the sample"
    assert sum(GOOD_TAG in c.tags for c in conversations) > len(conversations) / 3


async def test_low_ratings_are_in_the_seeded_samples(seeded: Seeded) -> None:
    """The week's ratings went through the rating action before each day was drawn: every
    conversation of a sampled day rated 1-2 is in the sample, picked for its rating."""
    async with open_sessions(seeded.url) as sessions, sessions() as session:
        low = list(
            await session.execute(
                select(QcCheck.conversation_id, QcCheck.closed_at, QcSample.reasons)
                .join(ServiceRating, ServiceRating.conversation_id == QcCheck.conversation_id)
                .outerjoin(QcSample, QcSample.conversation_id == QcCheck.conversation_id)
                .where(ServiceRating.is_current.is_(True), ServiceRating.score <= 2)
            )
        )
        days = set(await session.scalars(select(QcSampleDay.day)))
    on_sampled_days = [
        (cid, reasons)
        for cid, closed_at, reasons in low
        if closed_at.astimezone(SHOP_TZ).date() in days
    ]
    assert on_sampled_days, "the seed rates some conversations of sampled days 1-2"
    for cid, reasons in on_sampled_days:
        assert reasons is not None, cid
        assert "low_rating" in [r["reason"] for r in reasons], cid


async def test_conversations_are_closed_history_about_their_own_buyers(seeded: Seeded) -> None:
    async with open_sessions(seeded.url) as sessions, sessions() as session:
        conversations = (await session.scalars(select(Conversation))).all()
        orders = {o.id: o for o in (await session.scalars(select(Order))).all()}
        refunds = {r.id: r for r in (await session.scalars(select(Refund))).all()}
        profiles = {p.user_id: p for p in (await session.scalars(select(AgentProfile))).all()}
        last_message = dict(
            (
                await session.execute(
                    select(Message.conversation_id, Message.sent_at).order_by(Message.sent_at)
                )
            ).all()
        )
    assert {c.role for c in conversations} == {role.value for role in ServiceRole}
    for c in conversations:
        assert c.closed_at is not None
        assert last_message[c.id] <= c.closed_at < ANCHOR
        assert c.opened_at <= (c.first_response_at or c.opened_at)
        assert c.assigned_agent_id is not None
        assert c.role in profiles[c.assigned_agent_id].service_roles
        if c.order_id is not None:
            order = orders[c.order_id]
            assert order.buyer_id == c.buyer_id
            assert c.opened_at >= order.created_at
            started = c.first_response_at
            assert started is not None
            if c.role == "payment_chasing" and order.paid_at is not None:
                assert started < order.paid_at, "chased while unpaid"
            if c.role == "order_review" and order.shipped_at is not None:
                assert started < order.shipped_at, "reviewed before shipping"
        if c.refund_id is not None:
            assert refunds[c.refund_id].order_id == c.order_id
            assert c.opened_at >= refunds[c.refund_id].requested_at
        if c.role == "hotline":
            assert c.channel.value == "hotline"
        if c.role == "presales":
            assert c.protection_owner_id == c.assigned_agent_id
            assert c.protection_until is not None
    assert any(c.order_id is not None for c in conversations)
    assert any(c.refund_id is not None for c in conversations)
