"""``csdesk demo``: embedded mode ready to click through on a fresh machine.

Besides migrating and seeding, the demo runs a small buyer-traffic simulator: platform
events (chats, orders, payments, refund requests, calls) go through the same acceptor as
``POST /api/v1/events``, so queues fill and move while you watch the console. Buyers whose
chat was closed rate it now and then (``rating.received``: mostly 4-5 stars, some 1-2, so
the dashboard's satisfaction moves and low ratings reach the QC inspector's queue).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from datetime import timedelta

from aiohttp import web
from sqlalchemy import func, select

from csdesk.actions.shops import DEFAULT_SHOP_ID
from csdesk.clock import utcnow
from csdesk.ingest.schema import PlatformEventIn
from csdesk.keys import ACCEPTOR_KEY, SESSIONS_KEY
from csdesk.reads.ratings import unrated_buyers
from csdesk.seed.ratings import buyer_rating
from csdesk.settings import Settings
from csdesk.storage import migrate
from csdesk.storage.engine import create_engine, create_session_factory
from csdesk.storage.models import Buyer, Order, Product

log = logging.getLogger(__name__)
ProgressFn = Callable[[str, int, int], None]

BUYER_LINES = (
    "这个有货吗",
    "今天下单什么时候发货",
    "有没有优惠券",
    "怎么安装啊",
    "快递到哪了 怎么还没到",
    "東西壞了 直接給我退款吧",
    "再不处理我就给差评",
    "地址写错了 帮我改一下",
    "我要开发票",
    "能便宜点吗😂",
    "尺码偏大还是偏小",
    "质量太差了 要换货",
    "麻烦给我回个电话",
    "tk tk 快点",
    "屏幕有坏点 怎么办",
    "双十一价格能保价吗",
    "付款失败了怎么办",
)
DEMO_TRAFFIC_PERIOD_S = 4.0
"""A gentle pace: enough to watch queues move, not enough to bury a demo agent."""
RATING_SHARE = 0.15
"""Of the simulator's turns, those in which a buyer whose chat closed rates it."""
RATING_WINDOW = timedelta(hours=2)
"""Buyers rate a conversation closed this recently (and not rated yet)."""


async def rating_event(
    app: web.Application, rng: random.Random, shop_id: str = DEFAULT_SHOP_ID
) -> tuple[str, dict[str, object]] | None:
    """A ``rating.received`` from a buyer whose chat or call closed lately and who has not
    rated it; None when nobody is waiting to rate."""
    async with app[SESSIONS_KEY]() as session:
        nicks = await unrated_buyers(session, shop_id, utcnow() - RATING_WINDOW)
    if not nicks:
        return None
    score, comment = buyer_rating(rng)
    return "rating.received", {"buyer_nick": rng.choice(nicks), "score": score, "comment": comment}


async def prepare_demo(
    settings: Settings, progress: ProgressFn | None = None
) -> list[tuple[str, str, str]]:
    """Migrate, seed on first run, and return the demo logins (username, password, role)."""
    from csdesk.seed.generator import SeedOptions, demo_logins, seed_demo

    await asyncio.to_thread(migrate.upgrade, settings.database.url)
    engine = create_engine(settings.database)
    try:
        sessions = create_session_factory(engine)
        async with sessions() as session:
            has_orders = bool(await session.scalar(select(func.count()).select_from(Order)))
        if not has_orders:
            await seed_demo(sessions, SeedOptions(), progress)
    finally:
        await engine.dispose()
    return demo_logins()


async def _simulate(app: web.Application, rng: random.Random) -> None:
    sessions = app[SESSIONS_KEY]
    async with sessions() as session:
        nicks = list(
            await session.scalars(
                select(Buyer.nick)
                .where(Buyer.shop_id == DEFAULT_SHOP_ID)
                .order_by(Buyer.id)
                .limit(500)
            )
        )
        products = list(
            await session.scalars(
                select(Product)
                .where(Product.shop_id == DEFAULT_SHOP_ID)
                .order_by(Product.id)
                .limit(50)
            )
        )
    if not nicks or not products:
        log.warning("demo traffic: no seeded buyers or products, simulator idle")
        return
    unpaid: list[str] = []
    run = utcnow().strftime("%Y%m%d%H%M%S")
    for n in range(1_000_000):
        await asyncio.sleep(rng.expovariate(1 / DEMO_TRAFFIC_PERIOD_S))
        roll = rng.random()
        nick = rng.choice(nicks)
        data: dict[str, object]
        rating = await rating_event(app, rng) if roll < RATING_SHARE else None
        if rating is not None:
            kind, data = rating
        elif roll < 0.6:
            kind, data = (
                "message.received",
                {
                    "buyer_nick": nick,
                    "text": rng.choice(BUYER_LINES),
                    "buyer_tier": None,
                    "order_id": None,
                },
            )
        elif roll < 0.8 or not unpaid:
            product = rng.choice(products)
            order_id = f"DEMO-{run}-{n}"
            unpaid.append(order_id)
            kind, data = (
                "order.created",
                {
                    "buyer_nick": nick,
                    "buyer_tier": None,
                    "order_id": order_id,
                    "amount_fen": product.price_fen,
                    "items": [
                        {
                            "sku": product.sku,
                            "title": product.title,
                            "qty": 1,
                            "price_fen": product.price_fen,
                        }
                    ],
                    "gifts": list(product.gifts),
                    "campaign": None,
                    "invoice_title": None,
                    "receiver_name": None,
                    "receiver_phone": None,
                    "address": "浙江省杭州市余杭区文一西路969号",
                },
            )
        else:
            kind, data = "order.paid", {"order_id": unpaid.pop(rng.randrange(len(unpaid)))}
        event = PlatformEventIn(
            event_id=f"demo-{run}-{n}",
            type=kind,
            occurred_at=utcnow() - timedelta(milliseconds=rng.randint(0, 500)),
            shop_id=DEFAULT_SHOP_ID,
            data=data,
        )
        try:
            await app[ACCEPTOR_KEY].submit(event)
        except Exception:
            log.exception("demo traffic: event %s not accepted", event.event_id)


async def traffic_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx`` (demo only): the buyer-traffic simulator."""
    task = asyncio.create_task(_simulate(app, random.Random(11)), name="demo-traffic")
    yield
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
