"""``csdesk demo``: embedded mode ready to click through on a fresh machine.

Besides migrating and seeding, the demo runs a small buyer-traffic simulator: platform
events go through the same acceptor as ``POST /api/v1/events``, so queues fill and move
while you watch the console. The mix (``MIX``): chats for every role, orders placed, paid
and shipped, refund requests of both kinds (some asked almost a day ago, so they are
about to auto-approve), cancellations, returned parcels, inbound calls. ``--rate`` sets the
pace; ``--promotion double11`` replays a promotion evening at demo speed (``PROMOTIONS``:
the pre-sales surge, the midnight payment wave, the refund wave) and switches the shop's
promotion profile on. Buyers whose chat was closed rate it now and then
(``rating.received``: mostly 4-5 stars, some 1-2, so the dashboard's satisfaction moves and
low ratings reach the QC inspector's queue).

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
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

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
from csdesk.storage.enums import UserRole
from csdesk.storage.models import Buyer, Order, Product, User

log = logging.getLogger(__name__)
ProgressFn = Callable[[str, int, int], None]

BUYER_LINES: Final[Mapping[str, tuple[str, ...]]] = {
    # What buyers write, grouped by the role triage sends it to (every role gets chats).
    "presales": (
        "这个有货吗",
        "这款有什么颜色",
        "有没有优惠券",
        "能便宜点吗😂",
        "尺码偏大还是偏小",
        "双十一价格能保价吗",
        "怎么安装啊",
    ),
    "payment_chasing": ("付款失败了怎么办", "花呗付不了 怎么办"),
    "order_review": ("地址写错了 帮我改一下", "我要开发票"),
    "aftersales_triage": (
        "快递到哪了 怎么还没到",
        "今天下单什么时候发货",
        "质量太差了 要换货",
        "屏幕有坏点 怎么办",
        "再不处理我就给差评",
    ),
    "refund": ("東西壞了 直接給我退款吧", "我要退款 不想要了"),
    "hotline": ("麻烦给我回个电话", "打电话给我 说不清楚"),
}
REFUND_REASONS: Final = (
    "不想要了",
    "拍错了/多拍",
    "尺码不合适",
    "质量问题",
    "与描述不符",
    "物流太慢",
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


MIX: Final[Mapping[str, float]] = {
    # Event kinds of the demo's traffic and their weights (a normal evening).
    "chat": 0.46,
    "order.created": 0.14,
    "order.paid": 0.12,
    "order.shipped": 0.07,
    "refund.requested": 0.07,
    "refund.near_deadline": 0.02,
    "refund.cancelled": 0.02,
    "return.received": 0.03,
    "call.inbound": 0.07,
    # A buyer whose chat closed lately rates it (``rating_event``: it reads who may).
    "rating.received": RATING_SHARE,
}


@dataclass(frozen=True)
class Phase:
    """One stretch of the promotion replay: how long (demo seconds), the rate multiplier,
    and extra weight for some event kinds."""

    name: str
    seconds: float
    rate: float
    boost: Mapping[str, float] = field(default_factory=dict)


PROMOTIONS: Final[Mapping[str, tuple[Phase, ...]]] = {
    # 双十一 at demo speed (seeds/003; the simulation's double11 scenario, compressed): the
    # evening's pre-sales surge, the payment wave at midnight, the refund wave after.
    "double11": (
        Phase("warm-up", 60, 1.0),
        Phase("evening surge", 120, 6.0, {"chat": 2.0, "order.created": 2.0}),
        Phase("midnight payments", 90, 5.0, {"order.paid": 3.0, "order.created": 1.5}),
        Phase(
            "refund wave",
            120,
            4.0,
            {
                "refund.requested": 4.0,
                "refund.near_deadline": 3.0,
                "refund.cancelled": 2.0,
                "order.shipped": 2.0,
                "return.received": 2.0,
            },
        ),
        Phase("calm", 60, 1.0),
    ),
}


@dataclass(frozen=True)
class TrafficOptions:
    """``csdesk demo --rate R --promotion NAME``."""

    rate: float = 1 / DEMO_TRAFFIC_PERIOD_S
    """Events per second, on average (Poisson)."""
    promotion: str | None = None
    """A replay in ``PROMOTIONS``: the rate and mix follow its phases, in a loop."""


TRAFFIC_KEY: Final = web.AppKey("demo_traffic", TrafficOptions)


@dataclass
class DemoTraffic:
    """What the simulator knows of the shop it feeds: who can pay, ship, refund, return.

    ``next_events`` builds the platform events of one pick (one or a few: a refund near
    its deadline brings its old order along); nothing here does I/O."""

    nicks: list[str]
    products: list[Any]
    rng: random.Random
    run: str
    unpaid: list[tuple[str, str, int]] = field(default_factory=list)
    """(order id, buyer nick, amount fen) placed, not paid."""
    paid: list[tuple[str, str, int]] = field(default_factory=list)
    shipped: list[tuple[str, str, int]] = field(default_factory=list)
    refunds: list[str] = field(default_factory=list)
    """Refund requests the demo made that may still be cancelled."""
    returns: list[str] = field(default_factory=list)
    """Return-and-refund requests whose parcel may still come back."""
    serial: int = 0

    def _id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.run}-{self.serial}"

    def pick(self, boost: Mapping[str, float]) -> str:
        kinds = list(MIX)
        weights = [MIX[k] * boost.get(k, 1.0) for k in kinds]
        return self.rng.choices(kinds, weights)[0]

    def _order(
        self, nick: str, at: datetime
    ) -> tuple[tuple[str, str, int], tuple[str, dict[str, Any], datetime]]:
        product = self.rng.choice(self.products)
        order_id = self._id("DEMO")
        data = {
            "buyer_nick": nick,
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
            "address": "浙江省杭州市余杭区文一西路969号",
            "receiver_name": "王小明",
            "receiver_phone": f"138{self.rng.randrange(10**8):08d}",
        }
        return (order_id, nick, product.price_fen), ("order.created", data, at)

    def next_events(self, kind: str, now: datetime) -> list[tuple[str, dict[str, Any], datetime]]:
        rng = self.rng
        nick = rng.choice(self.nicks)
        if kind == "chat":
            role = rng.choice(list(BUYER_LINES))
            return [
                (
                    "message.received",
                    {"buyer_nick": nick, "text": rng.choice(BUYER_LINES[role])},
                    now,
                )
            ]
        if kind == "order.created":
            order, event = self._order(nick, now)
            self.unpaid.append(order)
            return [event]
        if kind == "order.paid" and self.unpaid:
            order = self.unpaid.pop(rng.randrange(len(self.unpaid)))
            self.paid.append(order)
            return [("order.paid", {"order_id": order[0]}, now)]
        if kind == "order.shipped" and self.paid:
            order = self.paid.pop(rng.randrange(len(self.paid)))
            self.shipped.append(order)
            return [("order.shipped", {"order_id": order[0], "tracking_no": self._id("SF")}, now)]
        if kind == "refund.requested" and (self.paid or self.shipped):
            # Before shipping: refund only; after: either kind (a return half the time).
            pool = (
                self.shipped
                if self.shipped and (not self.paid or rng.random() < 0.5)
                else self.paid
            )
            order_id, _, amount = pool.pop(rng.randrange(len(pool)))
            returning = pool is self.shipped and rng.random() < 0.6
            refund_id = self._id("RF")
            self.refunds.append(refund_id)
            if returning:
                self.returns.append(refund_id)
            return [
                (
                    "refund.requested",
                    {
                        "refund_id": refund_id,
                        "order_id": order_id,
                        "kind": "return_and_refund" if returning else "refund_only",
                        "amount_fen": max(100, int(amount * rng.choice((1.0, 1.0, 0.5, 0.3)))),
                        "reason": rng.choice(REFUND_REASONS),
                    },
                    now,
                )
            ]
        if kind == "refund.near_deadline":
            # Asked almost a day ago and never answered: the platform auto-approves an
            # unshipped refund-only request 24 h after it was asked (roles.refund).
            asked = now - timedelta(hours=23, minutes=rng.randint(5, 58))
            order, created = self._order(nick, asked - timedelta(hours=2))
            refund_id = self._id("RF")
            self.refunds.append(refund_id)
            return [
                created,
                ("order.paid", {"order_id": order[0]}, asked - timedelta(hours=1)),
                (
                    "refund.requested",
                    {
                        "refund_id": refund_id,
                        "order_id": order[0],
                        "kind": "refund_only",
                        "amount_fen": order[2],
                        "reason": rng.choice(REFUND_REASONS),
                    },
                    asked,
                ),
            ]
        if kind == "refund.cancelled" and self.refunds:
            refund_id = self.refunds.pop(rng.randrange(len(self.refunds)))
            if refund_id in self.returns:
                self.returns.remove(refund_id)
            return [("refund.cancelled", {"refund_id": refund_id}, now)]
        if kind == "return.received" and self.returns:
            refund_id = self.returns.pop(rng.randrange(len(self.returns)))
            if refund_id in self.refunds:
                self.refunds.remove(refund_id)
            return [("return.received", {"refund_id": refund_id}, now)]
        if kind == "call.inbound":
            return [
                (
                    "call.inbound",
                    {
                        "call_id": self._id("CALL"),
                        "caller_phone": f"139{rng.randrange(10**8):08d}",
                        "buyer_nick": nick if rng.random() < 0.7 else None,
                    },
                    now,
                )
            ]
        # Nothing to pay, ship, refund or return yet: a chat instead.
        return self.next_events("chat", now)


def phase_at(options: TrafficOptions, elapsed_s: float) -> Phase:
    """The replay's phase ``elapsed_s`` demo seconds in (it loops); no promotion: steady."""
    phases = PROMOTIONS.get(options.promotion or "")
    if not phases:
        return Phase("steady", float("inf"), 1.0)
    cycle = sum(p.seconds for p in phases)
    at = elapsed_s % cycle
    for phase in phases:
        if at < phase.seconds:
            return phase
        at -= phase.seconds
    return phases[-1]


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
            # The seeded world ends now (not at midnight): its pending refunds due within the
            # hour and four (``seed.orders.DUE_SOON``) are due from the moment the demo opens.
            anchor = utcnow().replace(second=0, microsecond=0)
            await seed_demo(sessions, SeedOptions(anchor=anchor), progress)
    finally:
        await engine.dispose()
    return demo_logins()


async def _simulate(app: web.Application, rng: random.Random) -> None:
    options = app.get(TRAFFIC_KEY) or TrafficOptions()
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
    if options.promotion:
        await _switch_promotion(app, options.promotion)
    traffic = DemoTraffic(nicks, products, rng, utcnow().strftime("%Y%m%d%H%M%S"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(10_000_000):
        phase = phase_at(options, loop.time() - started)
        await asyncio.sleep(rng.expovariate(options.rate * phase.rate))
        now = utcnow()
        picked = traffic.pick(phase.boost)
        rating = await rating_event(app, rng) if picked == "rating.received" else None
        # Nobody waiting to rate: a chat instead (``next_events`` falls back to one).
        events = [(*rating, now)] if rating is not None else traffic.next_events(picked, now)
        for m, (kind, data, at) in enumerate(events):
            event = PlatformEventIn(
                event_id=f"demo-{traffic.run}-{n}-{m}",
                type=kind,
                occurred_at=at - timedelta(milliseconds=rng.randint(0, 500)),
                shop_id=DEFAULT_SHOP_ID,
                data=data,
            )
            try:
                await app[ACCEPTOR_KEY].submit(event)
            except Exception:
                log.exception("demo traffic: event %s not accepted", event.event_id)


async def _switch_promotion(app: web.Application, name: str) -> None:
    """The replay runs under the shop's promotion profile, switched on now by the demo
    owner through the one switch (``actions.promotions.set_live``: re-scored, audited)."""
    from csdesk.actions.outbox import Deps
    from csdesk.actions.promotions import set_live
    from csdesk.actions.users import as_current_user
    from csdesk.keys import BUS_KEY
    from csdesk.routing.queues import QUEUE_KEY

    sessions = app[SESSIONS_KEY]
    async with sessions() as session:
        owner = await session.scalar(
            select(User)
            .where(User.shop_id == DEFAULT_SHOP_ID, User.role == UserRole.OWNER)
            .order_by(User.id)
            .limit(1)
        )
    if owner is None:
        log.warning("demo traffic: no owner to switch the promotion on")
        return
    deps = Deps(sessions, app[BUS_KEY], app[QUEUE_KEY])
    await set_live(deps, as_current_user(owner), name, f"csdesk demo --promotion {name}", utcnow())


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
