"""``csdesk demo``'s buyer traffic: the whole mix, through the product's own acceptor.

The simulator's events go into a real app (SQLite; and PostgreSQL with Redis) exactly as
the demo submits them; every one applies, and afterwards the shop has chats in every role,
refunds of both kinds (some due to auto-approve within the hour), cancellations, returns
and calls — what the owner dashboard needs to tell the 双十一 story."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from csdesk.cli import DEMO_PROMOTIONS
from csdesk.clock import utcnow
from csdesk.demo import BUYER_LINES, MIX, PROMOTIONS, DemoTraffic, TrafficOptions, phase_at
from csdesk.ingest.schema import PlatformEventIn
from csdesk.keys import ACCEPTOR_KEY
from csdesk.platform_events import EVENT_TYPES, record_of
from csdesk.roles.triage import classify
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import EventStatus, RefundKind, RefundStatus, ServiceRole, UserRole
from csdesk.storage.models import Conversation, PlatformEvent, Refund
from tests.conftest import TEST_SHOP
from tests.helpers import settle
from tests.integration.test_dashboard_api import dashboard
from tests.integration.test_role_workbench_api import login_as

PRODUCTS = [
    SimpleNamespace(sku="CUP-1", title="保温杯", price_fen=9900, gifts=[]),
    SimpleNamespace(sku="PJ-1", title="家用投影仪", price_fen=129900, gifts=["HDMI高清线"]),
]
NICKS = [f"买家{i}" for i in range(40)]


def traffic(seed: int = 7) -> DemoTraffic:
    return DemoTraffic(list(NICKS), list(PRODUCTS), random.Random(seed), "T")


def test_every_chat_line_reaches_its_role() -> None:
    for role, lines in BUYER_LINES.items():
        for line in lines:
            assert classify(line).role.value == role, line
    assert set(BUYER_LINES) == {r.value for r in ServiceRole}


def test_the_mix_covers_every_event_type() -> None:
    sim = traffic()
    now = utcnow()
    seen: Counter[str] = Counter()
    for _ in range(600):
        for kind, data, at in sim.next_events(sim.pick({}), now):
            record_of(kind, data)  # the shape the engine reads
            seen[kind] += 1
            if kind == "refund.requested" and at < now:
                assert now - timedelta(hours=24) < at <= now - timedelta(hours=23)
    # Ratings read who may rate from the database (``rating_event``): not built here.
    assert set(seen) == set(EVENT_TYPES) - {"rating.received"}
    assert "rating.received" in MIX


@pytest.mark.parametrize(
    ("elapsed", "phase"),
    [
        (0, "warm-up"),
        (59, "warm-up"),
        (60, "evening surge"),
        (200, "midnight payments"),
        (300, "refund wave"),
        (400, "calm"),
        (450, "warm-up"),
    ],
)
def test_double11_replay_phases(elapsed: float, phase: str) -> None:
    assert phase_at(TrafficOptions(promotion="double11"), elapsed).name == phase
    assert phase_at(TrafficOptions(), elapsed).rate == 1.0


def test_cli_names_the_replays() -> None:
    assert set(DEMO_PROMOTIONS) == set(PROMOTIONS)


@pytest.mark.parametrize("backend", ["sqlite", "postgres+redis"], indirect=True)
async def test_demo_events_apply_and_fill_the_dashboard(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    sim = traffic(3)
    boost = PROMOTIONS["double11"][3].boost  # the refund wave
    acceptor = client.app[ACCEPTOR_KEY]
    now = utcnow()
    n = 0
    for _ in range(300):
        for kind, data, at in sim.next_events(sim.pick(boost), now):
            n += 1
            await acceptor.submit(PlatformEventIn(f"demo-{n}", kind, at, TEST_SHOP, data))
    await settle(client)
    async with sessions() as session:
        statuses = dict(
            (
                await session.execute(
                    select(PlatformEvent.status, func.count()).group_by(PlatformEvent.status)
                )
            ).all()
        )
        roles = set(await session.scalars(select(Conversation.role).distinct()))
        kinds = set(await session.scalars(select(Refund.kind).distinct()))
        refund_states = set(await session.scalars(select(Refund.status).distinct()))
        calls = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.kind == "call")
        )
    assert statuses == {EventStatus.PROCESSED: n}
    assert roles == {r.value for r in ServiceRole}
    assert kinds == set(RefundKind)
    assert {RefundStatus.CANCELLED, RefundStatus.RETURN_RECEIVED} <= refund_states
    assert calls
    boss = await login_as(sessions, shop_id, "boss", UserRole.OWNER)
    board = await dashboard(client, boss)
    assert board["refunds"]["due_within_hour"] > 0
    assert board["refunds"]["pending_by_kind"]["return_and_refund"]["pending"] >= 0
