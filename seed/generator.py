"""``seed_demo``: the deterministic demo shop, written through the app's own actions.

Same seed, same options and same anchor give the same rows, on SQLite and PostgreSQL:
every random choice comes from ``random.Random`` / Faker instances seeded from
``(seed, phase)``, and the only clock is the anchor. Each phase has its own generator, so
asking for more buyers does not reshuffle the catalogue.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from faker import Faker
from sqlalchemy import func, select

from csdesk.actions import alerts as alert_actions
from csdesk.actions import dashboard_rounds
from csdesk.actions.agents import AgentProfileSpec, set_agent_profiles, set_roster
from csdesk.actions.buyers import ensure_buyers
from csdesk.actions.catalog import add_products
from csdesk.actions.conversations import record_conversations
from csdesk.actions.orders import record_orders
from csdesk.actions.outbox import Deps
from csdesk.actions.refunds import (
    DEFAULT_REFUND_DEADLINES,
    RefundDeadlines,
    RefundSpec,
    record_refunds,
)
from csdesk.actions.shops import DEFAULT_SHOP_ID, ensure_shop
from csdesk.actions.users import as_current_user, create_user
from csdesk.bus.memory import MemoryBus
from csdesk.clock import require_aware
from csdesk.routing.queues.memory import MemoryWorkQueue
from csdesk.seed.catalog import CatalogProduct, build_catalog
from csdesk.seed.conversations import AgentRef, World, plan_conversations
from csdesk.seed.orders import PlannedOrder, plan_orders
from csdesk.seed.people import BuyerProfile, make_buyers, make_staff_names
from csdesk.seed.qc_history import seed_qc
from csdesk.seed.staff import DEMO_LOGINS, DEMO_PASSWORD, StaffMember, plan_roster, plan_staff
from csdesk.seed.timeline import default_anchor, local_date, local_midnight
from csdesk.seed.training import TrainingSeed, seed_activity, seed_courses
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from csdesk.storage.models import Base, Buyer, Order, User

DEMO_SHOP_ID = DEFAULT_SHOP_ID
DEMO_SHOP_NAME = "演示旗舰店"
CATALOG_SIZE = 200
ROSTER_DAYS = 7
ROW_BATCH = 1000
"""Rows per transaction for buyers, orders and refunds."""
CONVERSATION_BATCH = 250
"""Conversations per transaction (each brings ~10 messages)."""

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``, called per phase and per batch."""


class SeedError(ValueError):
    """Seeding cannot go ahead as asked: bad options, or demo data already there."""


class AlreadySeededError(SeedError):
    """The database already holds demo data; seeding again would duplicate it."""


@dataclass(frozen=True)
class SeedOptions:
    buyers: int = 5000
    orders: int = 20000
    days: int = 30
    """Orders and conversations fall in the ``days`` before the anchor."""
    seed: int = 1
    conversations: int = 3000
    anchor: datetime | None = None
    """The "now" of the generated world; default: today 00:00 Asia/Shanghai (in UTC)."""
    refund_deadlines: RefundDeadlines = field(default=DEFAULT_REFUND_DEADLINES)

    def __post_init__(self) -> None:
        for name in ("buyers", "orders", "conversations"):
            if getattr(self, name) < 0:
                raise SeedError(f"--{name} must not be negative")
        if self.days < 1:
            raise SeedError("--days must be at least 1")
        if self.orders and not self.buyers:
            raise SeedError("--orders needs at least one buyer (--buyers)")
        if self.conversations and not self.buyers:
            raise SeedError("conversations need at least one buyer (--buyers)")
        if self.anchor is not None and (
            self.anchor.tzinfo is None or self.anchor.utcoffset() is None
        ):
            raise SeedError("anchor must be timezone-aware")


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: UserRole
    display_name: str
    service_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedReport:
    shop_id: str
    seed: int
    anchor: datetime
    counts: Mapping[str, int]
    """Rows of the demo shop per table."""
    logins: tuple[DemoLogin, ...]
    password: str
    """The password of every demo login (and of the 30 ``csNN`` agents)."""
    elapsed_s: float

    def to_json(self) -> dict[str, Any]:
        return {
            "shop_id": self.shop_id,
            "seed": self.seed,
            "anchor": self.anchor.isoformat(),
            "counts": dict(self.counts),
            "logins": [
                {
                    "username": login.username,
                    "role": login.role.value,
                    "display_name": login.display_name,
                    "service_roles": list(login.service_roles),
                }
                for login in self.logins
            ],
            "password": self.password,
            "elapsed_s": round(self.elapsed_s, 2),
        }

    def summary(self) -> str:
        """A few lines for a terminal: what was made and how to log in."""
        made = ", ".join(
            f"{self.counts.get(table, 0)} {label}"
            for table, label in (
                ("product", "products"),
                ("buyer", "buyers"),
                ("shop_order", "orders"),
                ("refund", "refunds"),
                ("conversation", "conversations"),
                ("message", "messages"),
                ("user_account", "users"),
                ("roster_shift", "shifts"),
            )
        )
        width = max(len(login.username) for login in self.logins)
        lines = [
            f"seeded shop {self.shop_id} (seed {self.seed}, as of {self.anchor.isoformat()})"
            f" in {self.elapsed_s:.1f} s: {made}",
            f"demo logins (password {self.password}):",
            *(
                f"  {login.username:<{width}}  {login.role.value}"
                + (f" ({', '.join(login.service_roles)})" if login.service_roles else "")
                for login in self.logins
            ),
        ]
        return "\n".join(lines)


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, password, role) of the demo logins, for ``csdesk demo`` to print."""
    return [(m.username, DEMO_PASSWORD, m.role.value) for m in DEMO_LOGINS]


def _rng(seed: int, phase: str) -> random.Random:
    # String seeds are hashed with SHA-512 by ``random``: stable across runs and platforms.
    return random.Random(f"csdesk-seed:{seed}:{phase}")


def _faker(seed: int, phase: str) -> Any:
    fake = Faker("zh_CN")
    fake.seed_instance(f"csdesk-seed:{seed}:{phase}")
    return fake


def _batches(total: int, size: int) -> Sequence[range]:
    return [range(start, min(start + size, total)) for start in range(0, total, size)]


async def _refuse_if_seeded(sessions: SessionFactory, shop_id: str) -> None:
    async with sessions() as session:
        orders = await session.scalar(
            select(func.count()).select_from(Order).where(Order.shop_id == shop_id)
        )
        buyers = await session.scalar(
            select(func.count()).select_from(Buyer).where(Buyer.shop_id == shop_id)
        )
        taken = list(
            await session.scalars(
                select(User.username).where(User.username.in_([m.username for m in DEMO_LOGINS]))
            )
        )
    if orders:
        raise AlreadySeededError(
            f"shop {shop_id!r} already has {orders} orders; seed into a fresh database"
        )
    if buyers:
        raise AlreadySeededError(
            f"shop {shop_id!r} already has {buyers} buyers; seed into a fresh database"
        )
    if taken:
        raise AlreadySeededError(
            f"demo logins already exist ({', '.join(sorted(taken))}); seed into a fresh database"
        )


async def seed_demo(
    sessions: SessionFactory, options: SeedOptions, progress: Progress | None = None
) -> SeedReport:
    """Create the demo shop with its catalogue, buyers, orders, refunds, team, roster and
    conversation history. Refuses (``AlreadySeededError``) when the shop already has data.

    Each batch is its own transaction: a failure leaves the batches before it, and the
    refusal then asks for a fresh database rather than seeding on top.
    """
    started = time.perf_counter()
    anchor = require_aware(options.anchor or default_anchor(), "anchor")
    seeder = _Seeder(sessions, options, progress or _no_progress, anchor)
    await _refuse_if_seeded(sessions, seeder.shop_id)
    shop = await ensure_shop(
        sessions, seeder.shop_id, DEMO_SHOP_NAME, now=seeder.window_start - timedelta(days=800)
    )
    seeder.report("shop", 1, 1)
    catalog = await seeder.products()
    staff = plan_staff(
        _rng(options.seed, "staff"), make_staff_names(_faker(options.seed, "staff"), 30)
    )
    # Logins cost ~0.15 s each (argon2, in a thread): create them alongside buyers, orders
    # and refunds. One task creates them one after another, so their ids never depend on
    # timing; nothing written meanwhile refers to a user.
    logins = asyncio.create_task(seeder.logins(staff))
    try:
        buyers, buyer_ids = await seeder.buyers()
        orders, order_ids = await seeder.orders(catalog, buyers, buyer_ids)
        refund_order_indexes, refund_ids = await seeder.refunds(orders, order_ids)
        staff_ids = await logins
    finally:
        if not logins.done():
            logins.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await logins
    agents = await seeder.team(staff, staff_ids)
    await seeder.roster(staff, staff_ids)
    await seeder.conversations(
        World(
            shop_name=shop.name,
            catalog=catalog,
            buyers=buyers,
            buyer_ids=buyer_ids,
            orders=orders,
            order_ids=order_ids,
            refund_order_indexes=refund_order_indexes,
            refund_ids=refund_ids,
            agents=agents,
            deadlines=options.refund_deadlines,
        )
    )
    training = await seeder.training_courses()
    await seeder.qc()
    await seeder.training_activity(training)
    await seeder.alerts()
    return SeedReport(
        shop_id=seeder.shop_id,
        seed=options.seed,
        anchor=anchor,
        counts=await _counts(sessions, seeder.shop_id),
        logins=tuple(
            DemoLogin(m.username, m.role, m.display_name, tuple(r.value for r in m.service_roles))
            for m in staff
            if m.demo_login
        ),
        password=DEMO_PASSWORD,
        elapsed_s=time.perf_counter() - started,
    )


def _no_progress(phase: str, done: int, total: int) -> None:
    pass


class _Seeder:
    """The phases of ``seed_demo``, each generating from its own seeded rng and writing."""

    def __init__(
        self, sessions: SessionFactory, options: SeedOptions, report: Progress, anchor: datetime
    ) -> None:
        self.sessions = sessions
        self.options = options
        self.report = report
        self.anchor = anchor
        self.window_start = anchor - timedelta(days=options.days)
        self.shop_id = DEMO_SHOP_ID

    def rng(self, phase: str) -> random.Random:
        return _rng(self.options.seed, phase)

    async def products(self) -> list[CatalogProduct]:
        catalog = build_catalog(self.rng("catalog"), CATALOG_SIZE)
        async with self.sessions.begin() as session:
            await add_products(session, self.shop_id, [product.spec for product in catalog])
        self.report("products", len(catalog), len(catalog))
        return catalog

    async def logins(self, staff: Sequence[StaffMember]) -> list[int]:
        """One login per staff member, in order; returns their user ids."""
        rng = self.rng("logins")
        ids: list[int] = []
        for member in staff:
            joined = self.window_start - timedelta(
                days=rng.randint(30, 700), seconds=rng.randrange(86400)
            )
            user = await create_user(
                self.sessions,
                shop_id=self.shop_id,
                username=member.username,
                role=member.role,
                password=DEMO_PASSWORD,
                display_name=member.display_name,
                now=joined,
            )
            ids.append(user.id)
        # Reported once, at the end: this runs alongside other phases, and a progress bar
        # switching between two phases would be unreadable.
        self.report("logins", len(ids), len(staff))
        return ids

    async def buyers(self) -> tuple[list[BuyerProfile], list[int]]:
        buyers = make_buyers(
            self.rng("buyers"),
            _faker(self.options.seed, "buyers"),
            self.options.buyers,
            first_order_window_start=self.window_start,
        )
        ids: list[int] = []
        for batch in _batches(len(buyers), ROW_BATCH):
            async with self.sessions.begin() as session:
                ids += await ensure_buyers(session, self.shop_id, [buyers[i].spec for i in batch])
            self.report("buyers", len(ids), len(buyers))
        return buyers, ids

    async def orders(
        self,
        catalog: Sequence[CatalogProduct],
        buyers: Sequence[BuyerProfile],
        buyer_ids: Sequence[int],
    ) -> tuple[list[PlannedOrder], list[int]]:
        orders = plan_orders(
            self.rng("orders"),
            _faker(self.options.seed, "orders"),
            count=self.options.orders,
            catalog=catalog,
            buyers=buyers,
            buyer_ids=buyer_ids,
            anchor=self.anchor,
            days=self.options.days,
            deadlines=self.options.refund_deadlines,
        )
        ids: list[int] = []
        for batch in _batches(len(orders), ROW_BATCH):
            async with self.sessions.begin() as session:
                ids += await record_orders(session, self.shop_id, [orders[i].spec for i in batch])
            self.report("orders", len(ids), len(orders))
        return orders, ids

    async def refunds(
        self, orders: Sequence[PlannedOrder], order_ids: Sequence[int]
    ) -> tuple[list[int], list[int]]:
        return await _write_refunds(
            self.sessions,
            self.shop_id,
            orders,
            order_ids,
            self.options.refund_deadlines,
            self.report,
        )

    async def team(self, staff: Sequence[StaffMember], staff_ids: Sequence[int]) -> list[AgentRef]:
        agents = _agent_refs(self.rng("agents"), staff, staff_ids)
        async with self.sessions.begin() as session:
            await set_agent_profiles(
                session,
                self.shop_id,
                [
                    AgentProfileSpec(
                        user_id=user_id,
                        service_roles=member.service_roles,
                        skills=member.skills,
                        chat_capacity=member.chat_capacity,
                        hotline_capacity=member.hotline_capacity,
                    )
                    for user_id, member in zip(staff_ids, staff, strict=True)
                    if member.is_agent
                ],
            )
        self.report("agent profiles", len(agents), len(agents))
        return agents

    async def roster(self, staff: Sequence[StaffMember], staff_ids: Sequence[int]) -> None:
        """The week from the anchor's shop-local day: the demo runs "now", in that week."""
        first_day = local_date(self.anchor)
        shifts = plan_roster(
            self.rng("roster"), list(zip(staff_ids, staff, strict=True)), first_day, ROSTER_DAYS
        )
        async with self.sessions.begin() as session:
            await set_roster(
                session,
                self.shop_id,
                shifts,
                window_start=local_midnight(first_day),
                window_end=local_midnight(first_day + timedelta(days=ROSTER_DAYS)),
            )
        self.report("roster", len(shifts), len(shifts))

    async def training_courses(self) -> TrainingSeed | None:
        """The course catalog for every role and the finding → course rules (培训)."""
        made = await seed_courses(self.sessions, self.shop_id, self.anchor, self.rng("training"))
        self.report("training", 1, 2)
        return made

    async def training_activity(self, made: TrainingSeed | None) -> None:
        """Courses given, taken and due; a script change; reminders; points (积分)."""
        if made is not None:
            await seed_activity(
                self.sessions, self.shop_id, self.anchor, self.rng("training-activity"), made
            )
        self.report("training", 2, 2)

    async def qc(self) -> None:
        """A week of QC: auto-checks, daily samples, scores, disputes, calibration."""
        await seed_qc(self.sessions, self.shop_id, self.anchor, self.rng("qc"))
        self.report("qc", 1, 1)

    async def alerts(self) -> None:
        """Alerts on, with the default thresholds: the demo's console shows them (a shop
        adds its own DingTalk or WeCom robot on the alerts page)."""
        async with self.sessions() as session:
            owner = await session.scalar(
                select(User)
                .where(User.shop_id == self.shop_id, User.role == UserRole.OWNER)
                .order_by(User.id)
                .limit(1)
            )
        if owner is None:
            return
        deps = Deps(self.sessions, MemoryBus(), MemoryWorkQueue())
        await alert_actions.save_settings(
            deps,
            as_current_user(owner),
            alert_actions.parse_settings({"enabled": True}),
            self.anchor,
        )
        self.report("alerts", 1, 1)

    async def conversations(self, world: World) -> None:
        count = self.options.conversations
        conversations = (
            plan_conversations(
                self.rng("conversations"),
                world,
                count=count,
                anchor=self.anchor,
                days=self.options.days,
            )
            if count
            else []
        )
        written = 0
        for batch in _batches(len(conversations), CONVERSATION_BATCH):
            async with self.sessions.begin() as session:
                await record_conversations(session, self.shop_id, [conversations[i] for i in batch])
            written += len(batch)
            self.report("conversations", written, len(conversations))
        # Written in bulk: their reply rounds and conversions (the dashboard's 3-minute
        # rate and 询单转化率) are derived from the rows, as migration 0019 did.
        async with self.sessions.begin() as session:
            await dashboard_rounds.rebuild(session, self.shop_id)
        if not conversations:
            self.report("conversations", 0, 0)


async def _write_refunds(
    sessions: SessionFactory,
    shop_id: str,
    orders: Sequence[PlannedOrder],
    order_ids: Sequence[int],
    deadlines: RefundDeadlines,
    report: Progress,
) -> tuple[list[int], list[int]]:
    """Refund requests in the order they were asked; returns (order indexes, refund ids)."""
    indexes = sorted(
        (i for i, plan in enumerate(orders) if plan.refund is not None),
        key=lambda i: (orders[i].refund.requested_at, i),  # type: ignore[union-attr]
    )
    specs: list[RefundSpec] = []
    for i in indexes:
        draft = orders[i].refund
        assert draft is not None
        specs.append(
            RefundSpec(
                external_id=draft.external_id,
                order_id=order_ids[i],
                buyer_id=orders[i].spec.buyer_id,
                kind=draft.kind,
                status=draft.status,
                amount_fen=draft.amount_fen,
                reason=draft.reason,
                requested_at=draft.requested_at,
                goods_shipped=draft.goods_shipped,
                resolved_at=draft.resolved_at,
            )
        )
    ids: list[int] = []
    for batch in _batches(len(specs), ROW_BATCH):
        async with sessions.begin() as session:
            ids += await record_refunds(
                session, shop_id, [specs[i] for i in batch], deadlines=deadlines
            )
        report("refunds", len(ids), len(specs))
    return indexes, ids


def _agent_refs(
    rng: random.Random, staff: Sequence[StaffMember], staff_ids: Sequence[int]
) -> list[AgentRef]:
    agents = []
    for number, (user_id, member) in enumerate(zip(staff_ids, staff, strict=True), start=1001):
        if not member.is_agent:
            continue
        # Some agents are careful, some sloppy: QC statistics per agent should differ.
        sloppiness = 0.35 if member.demo_login else round(rng.uniform(0.2, 0.75), 3)
        agents.append(
            AgentRef(user_id, member.chat_name, str(number), member.service_roles, sloppiness)
        )
    return agents


async def _counts(sessions: SessionFactory, shop_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            column = table.c.get("shop_id") if table.name != "shop" else table.c.id
            if column is None:
                continue
            counts[table.name] = int(
                await session.scalar(
                    select(func.count()).select_from(table).where(column == shop_id)
                )
                or 0
            )
    return counts
