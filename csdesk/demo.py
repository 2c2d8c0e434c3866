"""``csdesk demo``: embedded mode ready to click through on a fresh machine.

Besides migrating and seeding, the demo runs a small buyer-traffic simulator: platform
events (chats, orders, payments, refund requests, calls) go through the same acceptor as
``POST /api/v1/events``, so queues fill and move while you watch the console. Buyers whose
chat was closed rate it now and then (``rating.received``: mostly 4-5 stars, some 1-2, so
the dashboard's satisfaction moves and low ratings reach the QC inspector's queue).

It also plays the marketplace's side of the channel (:class:`DemoPlatform`): the demo
shop's channel is set to a receiver in this process, which checks each delivery's signature
and time as a platform would, drops repeats by ``delivery_id``, and has the buyer answer a
reply now and then, as a signed ``POST /api/v1/events`` like any platform event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any

from aiohttp import ClientSession, web
from sqlalchemy import func, select

from csdesk.actions.shops import DEFAULT_SHOP_ID, clear_channel, set_channel
from csdesk.clock import utcnow
from csdesk.ingest.schema import PlatformEventIn
from csdesk.keys import ACCEPTOR_KEY, SESSIONS_KEY, SETTINGS_KEY
from csdesk.reads.ratings import unrated_buyers
from csdesk.seed.ratings import buyer_rating
from csdesk.settings import Settings
from csdesk.signing import Verdict, sign_timestamped
from csdesk.signing import verify as verify_signature
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


BUYER_ANSWERS = (
    "好的 谢谢",
    "嗯嗯 那我现在下单",
    "还有别的颜色吗",
    "大概几天能到",
    "可以便宜点吗",
    "好的👌",
    "明白了",
    "那我再看看",
)
MAX_ANSWERS_PER_CHAT = 3
"""A buyer answers a few replies in a chat, then goes quiet (no endless ping-pong)."""


class DemoPlatform:
    """The marketplace as far as the demo shop's replies go: a receiver on 127.0.0.1 that
    verifies ``X-Csdesk-Signature`` (timestamped, 5-minute window) with the channel's
    outbound secret, dedupes by ``delivery_id``, and has the buyer answer some replies by
    posting ``message.received`` back to the desk, signed with the shop's inbound secret."""

    def __init__(
        self,
        app: web.Application,
        rng: random.Random,
        *,
        desk_url: str | None = None,
        answer_delay_s: tuple[float, float] = (2.0, 8.0),
        answer_share: float = 0.65,
    ) -> None:
        self._app = app
        self._rng = rng
        self._desk_url = desk_url
        self._answer_delay_s = answer_delay_s
        self._answer_share = answer_share
        self._secret = ""
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._answers: dict[int, int] = {}
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.url = ""
        self.received = 0
        self.refused = 0
        self.repeats = 0

    async def start(self) -> None:
        receiver = web.Application()
        receiver.router.add_post("/platform/messages", self._receive)
        self._runner = web.AppRunner(receiver, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/platform/messages"
        self._client = ClientSession()
        channel = await set_channel(self._app[SESSIONS_KEY], DEFAULT_SHOP_ID, self.url, utcnow())
        self._secret = channel.outbound_secret
        log.info("demo platform: the demo shop's replies go to %s", self.url)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # The port dies with the process: leave no channel pointing at it.
        with suppress(Exception):
            await clear_channel(self._app[SESSIONS_KEY], DEFAULT_SHOP_ID, utcnow())
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        raw = await request.read()
        verdict = verify_signature(
            raw,
            (self._secret,),
            request.headers.get("X-Csdesk-Signature"),
            now_s=time.time(),
            window_s=300,
            require_timestamp=True,
        )
        if verdict is not Verdict.OK:
            self.refused += 1
            return web.json_response({"error": f"signature: {verdict.value}"}, status=401)
        body = json.loads(raw)
        delivery_id = str(body.get("delivery_id"))
        if delivery_id in self._seen:
            self.repeats += 1
            return web.json_response({"ok": True, "duplicate": True})
        self._seen[delivery_id] = None
        while len(self._seen) > 10_000:
            self._seen.popitem(last=False)
        self.received += 1
        data = body.get("data") or {}
        task = asyncio.create_task(self._buyer_answers(data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"ok": True})

    async def _buyer_answers(self, data: dict[str, Any]) -> None:
        nick, conversation_id = data.get("buyer_nick"), data.get("conversation_id")
        if not isinstance(nick, str) or not isinstance(conversation_id, int):
            return
        answered = self._answers.get(conversation_id, 0)
        if answered >= MAX_ANSWERS_PER_CHAT or self._rng.random() >= self._answer_share:
            return
        self._answers[conversation_id] = answered + 1
        await asyncio.sleep(self._rng.uniform(*self._answer_delay_s))  # reads, then types
        settings = self._app[SETTINGS_KEY]
        body = json.dumps(
            {
                "event_id": f"demo-answer-{uuid.uuid4().hex}",
                "type": "message.received",
                "occurred_at": utcnow().isoformat(),
                "shop_id": DEFAULT_SHOP_ID,
                "data": {"buyer_nick": nick, "text": self._rng.choice(BUYER_ANSWERS)},
            },
            ensure_ascii=False,
        ).encode()
        desk = self._desk_url or f"http://127.0.0.1:{settings.web.port}"
        url = f"{desk}/api/v1/events"
        headers = {
            "Content-Type": "application/json",
            "X-Csdesk-Signature": sign_timestamped(body, settings.webhook.secret, int(time.time())),
        }
        assert self._client is not None
        try:
            async with self._client.post(url, data=body, headers=headers) as response:
                if response.status >= 300:
                    log.warning("demo platform: buyer answer refused: %s", response.status)
        except Exception:
            log.warning("demo platform: could not post the buyer's answer", exc_info=True)


DEMO_PLATFORM_KEY: web.AppKey[DemoPlatform] = web.AppKey("demo_platform")


async def traffic_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx`` (demo only): the buyer-traffic simulator and the platform receiver."""
    platform = DemoPlatform(app, random.Random(17))
    try:
        await platform.start()
    except Exception:
        log.exception("demo platform: not started; replies stay in the desk")
    app[DEMO_PLATFORM_KEY] = platform
    task = asyncio.create_task(_simulate(app, random.Random(11)), name="demo-traffic")
    yield
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    await platform.stop()
