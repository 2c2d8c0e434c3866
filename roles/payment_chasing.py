"""订单催付 (payment chasing): reminding buyers of unpaid orders (seeds/003).

Pure rules, like arq's ``next_cron``:

* the first chase is due ``delay_s`` (15 min) after ``order.created``; later ones
  ``retry_gap_s`` after the previous attempt;
* never in quiet hours (22:00-08:00 shop time): a chase due then waits for 08:00;
* at most ``max_attempts`` (3), all within ``window_s`` (24 h) of the order: after that the
  platform closes the order, and more reminders would only annoy;
* orders from ``big_order_fen`` (¥2,000) are chased by phone, by the hotline;
* ONE chaser per buyer: when several agents chase the same buyer the buyer is annoyed and
  the order is lost (抢单), so a buyer keeps the chaser they already have.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta

from csdesk.clock import require_aware
from csdesk.roles import hotline
from csdesk.roles.base import (
    BuyerFacts,
    Decision,
    EscalationRule,
    OrderFacts,
    RoleSpec,
    ScoreFacts,
    in_daily_window,
    next_allowed_at,
    static_score,
)
from csdesk.roles.config import RoutingConfig
from csdesk.storage.enums import Channel, OrderStatus, ServiceRole

ROLE = ServiceRole.PAYMENT_CHASING

SPEC = RoleSpec(
    key=ROLE,
    title_zh="订单催付",
    supervisor_zh="售前主管",
    channels=frozenset({Channel.CHAT}),
    escalations=(
        EscalationRule(
            "big_order",
            ServiceRole.HOTLINE,
            note="大额订单 (默认 ≥ ¥2,000): 旺旺催付体验差, 改电话催付",
        ),
    ),
    kpis=("chased_orders_paid", "recovered_amount_fen"),
)


def is_quiet(at: datetime, config: RoutingConfig) -> bool:
    pc = config.payment_chasing
    return in_daily_window(at, pc.quiet_start, pc.quiet_end, config.tz)


def next_allowed(at: datetime, config: RoutingConfig) -> datetime:
    """``at``, or the end of the quiet hours it falls in (08:00 shop time by default)."""
    pc = config.payment_chasing
    return next_allowed_at(at, pc.quiet_start, pc.quiet_end, config.tz)


def contact_allowed_at(at: datetime, config: RoutingConfig, *, phone: bool = False) -> datetime:
    """``at``, or when the quiet hours it falls in end. A phone chase is an outbound call
    too, so it also waits out the hotline's outbound quiet hours."""
    allowed = next_allowed(at, config)
    if not phone:
        return allowed
    # Two daily windows settle after a couple of hops; the bound only guards a shop whose
    # windows cover the whole day between them.
    for _ in range(4):
        later = next_allowed(hotline.outbound_allowed_at(allowed, config), config)
        if later == allowed:
            break
        allowed = later
    return allowed


def next_chase_at(
    order_created_at: datetime,
    attempts_so_far: int,
    last_attempt_at: datetime | None,
    now: datetime,
    config: RoutingConfig,
) -> datetime | None:
    """When the next chase of an unpaid order is due (``now`` if overdue), or None when
    the order must not be chased any more."""
    pc = config.payment_chasing
    created = require_aware(order_created_at, "order_created_at")
    if attempts_so_far >= pc.max_attempts:
        return None
    if attempts_so_far == 0:
        candidate = created + timedelta(seconds=pc.delay_s)
    else:
        if last_attempt_at is None:
            raise ValueError("last_attempt_at is required once an attempt was made")
        candidate = require_aware(last_attempt_at) + timedelta(seconds=pc.retry_gap_s)
    due = next_allowed(max(candidate, require_aware(now)), config)
    if due >= created + timedelta(seconds=pc.window_s):
        return None
    return due


def chase_role(amount_fen: int, config: RoutingConfig) -> ServiceRole:
    """Big orders are chased by phone (hotline); the rest in chat."""
    if amount_fen >= config.payment_chasing.big_order_fen:
        return ServiceRole.HOTLINE
    return ROLE


def plan_chase(
    order: OrderFacts,
    buyer: BuyerFacts,
    attempts_so_far: int,
    last_attempt_at: datetime | None,
    now: datetime,
    config: RoutingConfig,
    promotion: str | None = None,
) -> Decision | None:
    """The next chase task of an order, or None (paid, closed, or out of attempts)."""
    if order.status is not OrderStatus.CREATED:
        return None
    due = next_chase_at(order.created_at, attempts_so_far, last_attempt_at, now, config)
    if due is None:
        return None
    if chase_role(order.amount_fen, config) is ServiceRole.HOTLINE:
        phone = hotline.phone_chase_task(order, buyer, due, config, promotion)
        return dataclasses.replace(phone, escalation=SPEC.escalation("big_order"))
    facts = ScoreFacts(
        role=ROLE,
        order_amount_fen=order.amount_fen,
        buyer_tier=buyer.tier,
        promotion=promotion,
    )
    return Decision(
        role=ROLE,
        kind="payment_chase",
        score=static_score(facts, config),
        due_at=due,
        notes=(f"第 {attempts_so_far + 1} 次催付",),
    )


_CHAT_SCRIPT = (
    "{nick}您好～我是{shop}的客服。看到您拍下的{item}（订单号 {order_no}，{amount}）还没有付款，"
    "是付款时遇到什么问题了吗？需要的话我随时帮您看看，付款后我们会尽快为您安排发货哦~"
)


def chat_chase_script(shop: str, nick: str, order_no: str, amount_fen: int, item: str) -> str:
    """The 旺旺 message of a chat chase, in the shop's voice: the buyer by name, the order
    and its amount, an offer to help with paying; once, never pressure (seeds/003)."""
    amount = f"¥{amount_fen // 100}.{amount_fen % 100:02d}"
    return _CHAT_SCRIPT.format(
        shop=shop, nick=nick or "亲", order_no=order_no, amount=amount, item=item or "宝贝"
    )


def pick_chaser(
    buyer_id: int,
    chasers_by_buyer: Mapping[int, int],
    designated: int | None,
) -> int | None:
    """The agent who chases this buyer: the one already chasing them, else the day's
    designated chaser (排班: 每天指定一人做订单催付)."""
    return chasers_by_buyer.get(buyer_id, designated)
