"""Priority score: importance, not arrival order, and every point explained.

    score = role base + intent + risk + order value + buyer tier + promotion profile
            + role extras (capped)                                 ← ``static_score``
          + deadline nearness (steps)                              ← ``deadline_points``
          + waiting time × aging weight                            ← ``effective_score``

Aging is linear, so it folds into a time-invariant key: ``sort_key = points - w × enqueued``
(``w`` = aging weight per second, ``enqueued`` in epoch seconds). For any ``now``,
``effective = sort_key + w × now`` adds the same amount to every item, so a queue ordered by
``sort_key`` (highest first) never needs re-sorting as time passes. Only deadline points
change over time, and only at the step boundaries ``next_deadline_change`` names; the queue
re-scores an item then.

Starvation bound: every keyed score lies in ``score_bounds(config)``; an item waiting
longer than ``max_wait_s(config) = (hi - lo) / w`` outranks any item that arrives later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from csdesk.clock import require_aware
from csdesk.roles.config import RoutingConfig
from csdesk.roles.triage_rules import Intent, Risk
from csdesk.storage.enums import BuyerTier, ServiceRole

ROLE_ZH = {
    ServiceRole.PRESALES: "售前接待",
    ServiceRole.ORDER_REVIEW: "订单审核",
    ServiceRole.PAYMENT_CHASING: "订单催付",
    ServiceRole.AFTERSALES_TRIAGE: "售后接待",
    ServiceRole.REFUND: "退款",
    ServiceRole.HOTLINE: "热线",
}
INTENT_ZH = {
    Intent.PRESALE: "售前咨询",
    Intent.HOWTO: "使用问题",
    Intent.PAYMENT: "付款问题",
    Intent.ADDRESS_CHANGE: "改地址",
    Intent.INVOICE: "发票",
    Intent.LOGISTICS: "物流",
    Intent.EXCHANGE: "换货",
    Intent.QUALITY: "质量问题",
    Intent.REFUND: "退款",
    Intent.COMPLAINT: "投诉",
    Intent.CALLBACK: "要求回电",
    Intent.OTHER: "其他",
}
RISK_ZH = {Risk.LOW: "低", Risk.MEDIUM: "中", Risk.HIGH: "高"}
TIER_ZH = {BuyerTier.NORMAL: "普通买家", BuyerTier.VIP: "VIP买家", BuyerTier.VIP88: "88VIP买家"}


def fmt_points(points: float) -> str:
    text = f"{points:+.1f}"
    return text[:-2] if text.endswith(".0") else text


def fmt_fen(fen: int) -> str:
    return f"¥{fen / 100:,.2f}"


def fmt_duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{minutes}分"
    return f"{minutes}分钟" if minutes else f"{seconds}秒"


@dataclass(frozen=True)
class ScoreReason:
    """One factor of a score: ``{"factor", "points", "reason"}`` in the queue API."""

    factor: str
    points: float
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"factor": self.factor, "points": self.points, "reason": self.reason}


@dataclass(frozen=True)
class Score:
    """Points with their explanation; ``points`` is exactly the sum of the reasons."""

    points: float
    reasons: tuple[ScoreReason, ...]

    @classmethod
    def of(cls, reasons: tuple[ScoreReason, ...]) -> Score:
        total = 0.0
        for r in reasons:  # fixed order, so the float sum is reproducible
            total += r.points
        return cls(total, reasons)

    def plus(self, *more: ScoreReason | None) -> Score:
        return Score.of(self.reasons + tuple(r for r in more if r is not None))

    def to_json(self) -> list[dict[str, object]]:
        return [r.to_json() for r in self.reasons]


@dataclass(frozen=True)
class ScoreFacts:
    """What the static score depends on; no times, so it never goes stale."""

    role: ServiceRole
    intent: Intent | None = None
    """None for tasks that did not come from a buyer message (a chase, an order check)."""
    risk: Risk = Risk.LOW
    order_amount_fen: int | None = None
    buyer_tier: BuyerTier = BuyerTier.NORMAL
    promotion: str | None = None
    """The promotion running now (``double11``), if any; its profile adds role points."""
    extras: tuple[ScoreReason, ...] = ()
    """Role-specific factors (order-review flags, repeat contacts ...), capped in total."""


def _value_points(amount_fen: int, config: RoutingConfig) -> ScoreReason | None:
    best = None
    for step in config.scoring.value_steps:
        if amount_fen >= step.min_fen:
            best = step
    if best is None or best.points == 0:
        return None
    reason = f"订单金额 {fmt_fen(amount_fen)} ≥ {fmt_fen(best.min_fen)} {fmt_points(best.points)}"
    return ScoreReason("order_value", best.points, reason)


def static_score(facts: ScoreFacts, config: RoutingConfig) -> Score:
    """The time-invariant part of the priority, with one reason per factor."""
    sc = config.scoring
    reasons: list[ScoreReason] = []
    role_pts = sc.role_points.get(facts.role, 0.0)
    reasons.append(
        ScoreReason("role", role_pts, f"角色 {ROLE_ZH[facts.role]} {fmt_points(role_pts)}")
    )
    if facts.intent is not None:
        pts = sc.intent_points.get(facts.intent, 0.0)
        reasons.append(
            ScoreReason("intent", pts, f"意图 {INTENT_ZH[facts.intent]} {fmt_points(pts)}")
        )
    risk_pts = sc.risk_points.get(facts.risk, 0.0)
    if risk_pts:
        reasons.append(
            ScoreReason("risk", risk_pts, f"风险 {RISK_ZH[facts.risk]} {fmt_points(risk_pts)}")
        )
    if facts.order_amount_fen is not None:
        value = _value_points(facts.order_amount_fen, config)
        if value is not None:
            reasons.append(value)
    tier_pts = sc.tier_points.get(facts.buyer_tier, 0.0)
    if tier_pts:
        reasons.append(
            ScoreReason(
                "buyer_tier", tier_pts, f"{TIER_ZH[facts.buyer_tier]} {fmt_points(tier_pts)}"
            )
        )
    if facts.promotion is not None:
        profile = sc.promotions.get(facts.promotion)
        if profile is None:
            known = ", ".join(sorted(sc.promotions))
            raise ValueError(f"unknown promotion {facts.promotion!r} (known: {known})")
        bonus = profile.role_points.get(facts.role, 0.0)
        if bonus:
            text = f"大促 {facts.promotion}: {ROLE_ZH[facts.role]} {fmt_points(bonus)}"
            reasons.append(ScoreReason("promotion", bonus, text))
    reasons.extend(_capped_extras(facts.extras, sc.extra_cap))
    return Score.of(tuple(reasons))


def _capped_extras(extras: tuple[ScoreReason, ...], cap: float) -> list[ScoreReason]:
    """Extras as given, plus one negative correction if they exceed the cap (or go below
    zero), so the breakdown still shows each extra and still sums to the total."""
    total = sum(e.points for e in extras)
    out = list(extras)
    if total > cap:
        out.append(ScoreReason("extra_cap", cap - total, f"角色加分上限 {fmt_points(cap)}"))
    elif total < 0:
        out.append(ScoreReason("extra_cap", -total, "角色加分不低于 0"))
    return out


# --- deadline nearness ----------------------------------------------------------------


def _remaining_s(deadline_at: datetime, now: datetime) -> float:
    return (require_aware(deadline_at) - require_aware(now)).total_seconds()


def _deadline_step_points(remaining_s: float, config: RoutingConfig) -> float:
    for step in config.scoring.deadline_steps:
        if remaining_s <= step.within_s:
            return step.points
    return 0.0


def deadline_points(
    deadline_at: datetime | None, now: datetime, config: RoutingConfig
) -> ScoreReason | None:
    """Points for how near the item's hard deadline is (e.g. refund auto-approval)."""
    if deadline_at is None:
        return None
    remaining = _remaining_s(deadline_at, now)
    points = _deadline_step_points(remaining, config)
    if not points:
        return None
    if remaining <= 0:
        text = f"已超过处理时限 {fmt_duration(-remaining)} {fmt_points(points)}"
    else:
        text = f"距处理时限还剩 {fmt_duration(remaining)} {fmt_points(points)}"
    return ScoreReason("deadline", points, text)


def next_deadline_change(
    deadline_at: datetime | None, now: datetime, config: RoutingConfig
) -> datetime | None:
    """When ``deadline_points`` next changes (the queue re-scores the item then); None if
    it never will (no deadline, or already at the overdue step)."""
    if deadline_at is None:
        return None
    deadline = require_aware(deadline_at)
    remaining = deadline - require_aware(now)
    current = _deadline_step_points(remaining.total_seconds(), config)
    for step in sorted(config.scoring.deadline_steps, key=lambda s: -s.within_s):
        boundary = timedelta(seconds=step.within_s)
        if boundary < remaining and step.points != current:
            return deadline - boundary
    return None


# --- aging ------------------------------------------------------------------------------


def _epoch(at: datetime) -> float:
    return require_aware(at).timestamp()


def sort_key(points: float, enqueued_at: datetime, config: RoutingConfig) -> float:
    """Time-invariant queue key, highest first: ``points - w × enqueued_at``.

    ``points`` is the static score plus the current deadline points.
    """
    return points - config.scoring.aging_weight_per_s * _epoch(enqueued_at)


def effective_score(
    points: float, enqueued_at: datetime, now: datetime, config: RoutingConfig
) -> float:
    """``points + w × waited``. Computed through the sort key so that ordering by
    ``sort_key`` and ordering by ``effective_score`` can never disagree, not even by a
    floating-point rounding: both differ by the same ``w × now`` for every item."""
    return sort_key(points, enqueued_at, config) + config.scoring.aging_weight_per_s * _epoch(now)


def aging_reason(enqueued_at: datetime, now: datetime, config: RoutingConfig) -> ScoreReason:
    waited = max(0.0, (require_aware(now) - require_aware(enqueued_at)).total_seconds())
    points = config.scoring.aging_weight_per_s * waited
    return ScoreReason("aging", points, f"已等待 {fmt_duration(waited)} {fmt_points(points)}")


def explain(
    static: Score,
    deadline_at: datetime | None,
    enqueued_at: datetime,
    now: datetime,
    config: RoutingConfig,
) -> Score:
    """The full breakdown at ``now``: static factors, deadline, waiting time."""
    return static.plus(
        deadline_points(deadline_at, now, config), aging_reason(enqueued_at, now, config)
    )


# --- bounds -----------------------------------------------------------------------------


def score_bounds(config: RoutingConfig) -> tuple[float, float]:
    """Lowest and highest ``static + deadline`` points any item can have."""
    sc = config.scoring
    ranges: list[tuple[float, float]] = []

    def span(values: list[float], optional: bool) -> None:
        vals = [*values, 0.0] if optional or not values else values
        ranges.append((min(vals), max(vals)))

    span([sc.role_points.get(r, 0.0) for r in ServiceRole], optional=False)
    span([sc.intent_points.get(i, 0.0) for i in Intent], optional=True)
    span([sc.risk_points.get(r, 0.0) for r in Risk], optional=False)
    span([s.points for s in sc.value_steps], optional=True)
    span([sc.tier_points.get(t, 0.0) for t in BuyerTier], optional=False)
    span([p for prof in sc.promotions.values() for p in prof.role_points.values()], optional=True)
    ranges.append((0.0, sc.extra_cap))
    span([s.points for s in sc.deadline_steps], optional=True)
    return sum(lo for lo, _ in ranges), sum(hi for _, hi in ranges)


def max_wait_s(config: RoutingConfig) -> float:
    """After this long in the queue an item outranks every later arrival."""
    lo, hi = score_bounds(config)
    return (hi - lo) / config.scoring.aging_weight_per_s
