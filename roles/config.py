"""Per-shop routing configuration: built-in defaults merged with a shop's JSON overrides.

``Shop.config`` holds a JSON object; its ``"routing"`` part (or whatever the caller hands
in) goes to ``RoutingConfig.from_overrides``. Merging is by key: nested objects merge,
mappings merge entry by entry (``{"scoring": {"tier_points": {"vip": 6}}}`` changes only
VIP), lists replace. A bad value or an unknown key raises ``ConfigError`` naming the full
key (``payment_chasing.delay_s: expected an integer, got 'abc'``), so the console can show
the owner exactly what to fix.

Every number here is a default a shop may change; role modules read them from here rather
than burying constants in code.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csdesk.roles.triage import TriageRules, default_rules
from csdesk.roles.triage_rules import DEFAULT_INTENT_ROLES, Intent, PhraseRule, Risk
from csdesk.storage.enums import BuyerTier, ServiceRole

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


class ConfigError(ValueError):
    """A shop override that cannot be used; ``key`` is the dotted path of the culprit."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


@dataclass(frozen=True, order=True)
class ClockTime:
    """A wall-clock time of day in shop time, ``"HH:MM"``; ``"24:00"`` means end of day."""

    minutes: int

    @classmethod
    def parse(cls, value: str) -> ClockTime:
        hours, sep, mins = value.partition(":")
        if not (sep and hours.isdigit() and mins.isdigit() and len(mins) == 2):
            raise ValueError(f"expected HH:MM, got {value!r}")
        total = int(hours) * 60 + int(mins)
        if int(mins) >= 60 or total > 24 * 60:
            raise ValueError(f"expected a time between 00:00 and 24:00, got {value!r}")
        return cls(total)

    def __str__(self) -> str:
        return f"{self.minutes // 60:02d}:{self.minutes % 60:02d}"


def _frozen(mapping: Mapping[K, V]) -> Mapping[K, V]:
    return MappingProxyType(dict(mapping))


def _per_role(value: T, **overrides: T) -> Mapping[ServiceRole, T]:
    return _frozen({role: overrides.get(role.value, value) for role in ServiceRole})


def _positive(key: str, value: float) -> Iterator[tuple[str, str]]:
    if value <= 0:
        yield key, "must be > 0"


def _non_negative(key: str, value: float) -> Iterator[tuple[str, str]]:
    if value < 0:
        yield key, "must be >= 0"


@dataclass(frozen=True)
class SlaConfig:
    """Service levels (seeds/003; contract QC ``slow_first_response``)."""

    first_response_s: Mapping[ServiceRole, int] = field(
        default_factory=lambda: _per_role(30, hotline=20)
    )
    """First reply target: chat 30 s; for the hotline, answering the call within 20 s."""
    response_rate_window_s: int = 180
    """Tmall's 3-minute response rate: a buyer message answered within this counts."""
    counted_from: ClockTime = ClockTime(8 * 60)
    counted_until: ClockTime = ClockTime(24 * 60)
    """The response rate only counts buyer messages sent 08:00-24:00 shop time."""

    def problems(self) -> Iterator[tuple[str, str]]:
        for role, seconds in self.first_response_s.items():
            yield from _positive(f"first_response_s.{role.value}", seconds)
        yield from _positive("response_rate_window_s", self.response_rate_window_s)
        if self.counted_from >= self.counted_until:
            yield "counted_until", "must be later than counted_from"


@dataclass(frozen=True)
class PaymentChasingConfig:
    """催付: when and how often unpaid orders are chased."""

    delay_s: int = 15 * 60
    """First chase this long after ``order.created`` (buyers often pay on their own)."""
    retry_gap_s: int = 4 * 3600
    """Between two chases of the same order; closer than this annoys the buyer."""
    max_attempts: int = 3
    window_s: int = 24 * 3600
    """All attempts fall within this long after the order was created (at most
    ``max_attempts`` in 24 h); later the order is left to the platform's auto-close."""
    quiet_start: ClockTime = ClockTime(22 * 60)
    quiet_end: ClockTime = ClockTime(8 * 60)
    """No chasing between these shop-local times; a chase due then moves to quiet_end."""
    big_order_fen: int = 200_000
    """From this amount (¥2,000) the chase is a phone call by the hotline (seeds/003)."""

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from _non_negative("delay_s", self.delay_s)
        yield from _positive("retry_gap_s", self.retry_gap_s)
        yield from _non_negative("max_attempts", self.max_attempts)
        yield from _positive("window_s", self.window_s)
        yield from _positive("big_order_fen", self.big_order_fen)


@dataclass(frozen=True)
class RefundConfig:
    """Platform deadlines: if the shop does not act in time, the refund is auto-approved."""

    unshipped_deadline_s: int = 24 * 3600
    """Refund-only before shipping."""
    shipped_deadline_s: int = 5 * 24 * 3600
    """After shipping, and every return."""
    unshipped_bonus: float = 4.0
    """Extra priority for unshipped refunds: the warehouse can still intercept the parcel."""

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from _positive("unshipped_deadline_s", self.unshipped_deadline_s)
        yield from _positive("shipped_deadline_s", self.shipped_deadline_s)
        yield from _non_negative("unshipped_bonus", self.unshipped_bonus)


@dataclass(frozen=True)
class OrderReviewConfig:
    """订单审核: the automatic checks on a paid order."""

    duplicate_window_s: int = 30 * 60
    """Same buyer, same items, within this long: probably a double order."""
    min_address_chars: int = 10
    vague_address_markers: tuple[str, ...] = (
        "待定",
        "不详",
        "未知",
        "暂无",
        "再说",
        "随便",
        "不知道",
        "同上",
        "xxx",
        "测试",
    )
    po_box_markers: tuple[str, ...] = ("信箱", "po box", "p.o. box", "pobox")
    """Couriers do not deliver to post-office boxes."""
    points_per_flag: float = 4.0

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from _non_negative("duplicate_window_s", self.duplicate_window_s)
        yield from _non_negative("min_address_chars", self.min_address_chars)
        yield from _non_negative("points_per_flag", self.points_per_flag)


@dataclass(frozen=True)
class HotlineConfig:
    """热线: outbound call rules."""

    outbound_quiet_start: ClockTime = ClockTime(22 * 60)
    outbound_quiet_end: ClockTime = ClockTime(8 * 60)
    """Outbound calls (proactive care, notices) wait for daytime like chases do."""
    proactive_call_delay_s: int = 0
    """Delay before a proactive call to a high-risk buyer (0: as soon as allowed)."""

    def problems(self) -> Iterator[tuple[str, str]]:
        yield from _non_negative("proactive_call_delay_s", self.proactive_call_delay_s)


DEFAULT_FORBIDDEN_PHRASES: Mapping[str, str] = _frozen(
    {
        "不知道": "推诿，显得不专业：说“我帮您查一下”，查清后答复",
        "自己看": "把事情推回给买家：把要看的内容直接发给买家",
        "你自己去": "把事情推回给买家：告诉买家具体怎么做，或替买家去办",
        "没办法": "拒绝得太生硬：说明原因，再给出能做的办法",
        "爱买不买": "对买家不敬，会被投诉",
        "不归我管": "推诿：为买家转接到负责的同事",
    }
)
"""服务态度提醒: phrases a reply is held for, each with why and what to say instead."""

DEFAULT_TRANSFER_NOTICES: Mapping[ServiceRole, str] = _frozen(
    {
        ServiceRole.PRESALES: "您好，已为您转接至售前客服，请稍候",
        ServiceRole.ORDER_REVIEW: "您好，已为您转接至订单审核专员，请稍候",
        ServiceRole.PAYMENT_CHASING: "您好，已为您转接至订单专员，请稍候",
        ServiceRole.AFTERSALES_TRIAGE: "您好，已为您转接至售后客服，请稍候",
        ServiceRole.REFUND: "您好，已为您转接至退款专员，请稍候",
        ServiceRole.HOTLINE: "您好，已为您转接至热线客服，稍后会有专人与您联系",
    }
)
"""What the buyer reads when an agent transfers the chat (转接), per target role."""


@dataclass(frozen=True)
class Coupon:
    """A shop coupon (店铺优惠券) an agent may send as a card from the buyer panel."""

    code: str
    """The shop's own id for it (shown to the agent, sent with the card)."""
    title: str
    amount_fen: int
    min_spend_fen: int = 0
    """满 N 可用; 0: no threshold (无门槛)."""
    valid_until: str = ""
    """As the buyer should read it, e.g. ``11月12日 23:59``; empty: not said."""

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.code.strip():
            yield "code", "must not be empty"
        if not self.title.strip() or len(self.title) > 40:
            yield "title", "1 to 40 characters"
        if self.amount_fen <= 0:
            yield "amount_fen", "must be more than 0"
        if self.min_spend_fen < 0:
            yield "min_spend_fen", "must be 0 or more"


@dataclass(frozen=True)
class ConsoleConfig:
    """What the agent workbench checks and says on the shop's behalf."""

    forbidden_phrases: Mapping[str, str | None] = field(
        default_factory=lambda: DEFAULT_FORBIDDEN_PHRASES
    )
    """服务态度提醒: a reply containing one of these is held until the agent rewrites it or
    sends it anyway (recorded). Keyed by phrase, the value says why; ``null`` removes a
    default phrase. Matched like buyer text in triage (full-width, Traditional, case)."""
    transfer_notices: Mapping[ServiceRole, str] = field(
        default_factory=lambda: DEFAULT_TRANSFER_NOTICES
    )
    """The buyer-visible message added to the transcript on a transfer to each role;
    an empty text sends none."""
    coupons: tuple[Coupon, ...] = ()
    """Coupons an agent may send (优惠券 card in the buyer panel); none by default."""

    @property
    def active_forbidden_phrases(self) -> Mapping[str, str]:
        return _frozen({p: why for p, why in self.forbidden_phrases.items() if why is not None})

    def problems(self) -> Iterator[tuple[str, str]]:
        for phrase, why in self.forbidden_phrases.items():
            if not phrase.strip():
                yield "forbidden_phrases", "a phrase must not be empty"
            elif why is not None and not why.strip():
                yield f"forbidden_phrases.{phrase}", "say why the phrase is held"
        for role, text in self.transfer_notices.items():
            if len(text) > 200:
                yield f"transfer_notices.{role.value}", "at most 200 characters"
        codes = [coupon.code for coupon in self.coupons]
        if len(set(codes)) != len(codes):
            yield "coupons", "each coupon needs its own code"


@dataclass(frozen=True)
class ValueStep:
    min_fen: int
    points: float


@dataclass(frozen=True)
class DeadlineStep:
    within_s: int
    """Applies when at most this many seconds remain (0: the deadline has passed)."""
    points: float


@dataclass(frozen=True)
class PromotionProfile:
    """A promotion mode (大促模式: 双十一, 618, 聚划算): what changes while it is live.

    Switched on and off by hand (``Shop.config["promotion"]``) or by a schedule
    (``actions.promotions``); ``roles.promotion`` applies it to the shop's configuration.
    Every field is a change from the shop's everyday rules; the empty default changes
    nothing.
    """

    label: str = ""
    """The name people see (``双十一``); empty: the profile's key."""
    role_points: Mapping[ServiceRole, float] = field(default_factory=lambda: _frozen({}))
    """Score weights: extra priority points per role (双十一: refunds pile up, seeds/003)."""
    chat_capacity_extra: int = 0
    """Capacities: every agent takes this many more chats at once."""
    first_response_s: Mapping[ServiceRole, int] = field(default_factory=lambda: _frozen({}))
    """SLA targets while live, per role (replacing ``sla.first_response_s`` for the roles
    named): the staffing need and the QC first-response check follow them."""
    refund_reviewers_process: bool = False
    """Role swap: refund reviewers also take refund processing (warehouse intercepts,
    daily refunds) when the processors are busy (seeds/003: duties swapped in promotions)."""
    howto_to_everyone: bool = False
    """Role swap: a simple after-sales question (intent ``howto``) may go to any agent on
    shift with room, not only pre-sales, so after-sales stays free for refunds."""
    chase_quiet_start: ClockTime | None = None
    chase_quiet_end: ClockTime | None = None
    """Chase quiet hours while live (both or neither; equal times: no quiet hours)."""

    def problems(self) -> Iterator[tuple[str, str]]:
        if len(self.label) > 40:
            yield "label", "at most 40 characters"
        for role, bonus in self.role_points.items():
            yield from _non_negative(f"role_points.{role.value}", bonus)
        if not 0 <= self.chat_capacity_extra <= 20:
            yield "chat_capacity_extra", "must be from 0 to 20"
        for role, seconds in self.first_response_s.items():
            yield from _positive(f"first_response_s.{role.value}", seconds)
        if (self.chase_quiet_start is None) != (self.chase_quiet_end is None):
            missing = "chase_quiet_end" if self.chase_quiet_end is None else "chase_quiet_start"
            yield missing, "set both quiet-hour ends, or neither"


_ROLE_POINTS = {
    "presales": 10.0,
    "order_review": 8.0,
    "payment_chasing": 6.0,
    "aftersales_triage": 12.0,
    "refund": 20.0,
    "hotline": 20.0,
}
_INTENT_POINTS = {
    Intent.COMPLAINT: 12.0,
    Intent.REFUND: 10.0,
    Intent.QUALITY: 8.0,
    Intent.EXCHANGE: 6.0,
    Intent.ADDRESS_CHANGE: 6.0,
    Intent.CALLBACK: 6.0,
    Intent.LOGISTICS: 5.0,
    Intent.PAYMENT: 5.0,
    Intent.PRESALE: 4.0,
    Intent.INVOICE: 3.0,
    Intent.HOWTO: 2.0,
    Intent.OTHER: 0.0,
}


@dataclass(frozen=True)
class ScoringConfig:
    """Priority score weights (``roles/scoring.py``)."""

    role_points: Mapping[ServiceRole, float] = field(
        default_factory=lambda: _frozen({ServiceRole(k): v for k, v in _ROLE_POINTS.items()})
    )
    intent_points: Mapping[Intent, float] = field(default_factory=lambda: _frozen(_INTENT_POINTS))
    risk_points: Mapping[Risk, float] = field(
        default_factory=lambda: _frozen({Risk.LOW: 0.0, Risk.MEDIUM: 5.0, Risk.HIGH: 15.0})
    )
    tier_points: Mapping[BuyerTier, float] = field(
        default_factory=lambda: _frozen(
            {BuyerTier.NORMAL: 0.0, BuyerTier.VIP: 5.0, BuyerTier.VIP88: 8.0}
        )
    )
    value_steps: tuple[ValueStep, ...] = (
        ValueStep(10_000, 1.0),
        ValueStep(50_000, 4.0),
        ValueStep(200_000, 8.0),
    )
    """Order value points: the highest step whose ``min_fen`` the amount reaches."""
    deadline_steps: tuple[DeadlineStep, ...] = (
        DeadlineStep(0, 30.0),
        DeadlineStep(3600, 25.0),
        DeadlineStep(3 * 3600, 18.0),
        DeadlineStep(6 * 3600, 12.0),
        DeadlineStep(12 * 3600, 8.0),
        DeadlineStep(24 * 3600, 4.0),
        DeadlineStep(48 * 3600, 2.0),
    )
    """Deadline nearness: steps (not a curve) so an item needs re-scoring only at the few
    instants its points change (``scoring.next_deadline_change``)."""
    aging_points_per_minute: float = 2.0
    """Waiting time adds this much per minute, so nothing starves."""
    extra_cap: float = 15.0
    """Role-specific extras (order-review flags, repeat contacts ...) add at most this."""
    repeat_contact_points: float = 3.0
    """After-sales triage: per earlier contact in 24 h (a buyer asking again is losing
    patience)."""
    first_contact_points: float = 3.0
    """Presales: a new buyer's first pre-sales question (a conversion chance)."""
    promotions: Mapping[str, PromotionProfile] = field(
        default_factory=lambda: _frozen(
            {
                # 双十一: the biggest night; refunds pile up after the peak, buyers who just
                # bought ask how-to questions by habit, chasing runs until midnight.
                "double11": PromotionProfile(
                    label="双十一",
                    role_points=_frozen(
                        {
                            ServiceRole.REFUND: 10.0,
                            ServiceRole.PRESALES: 6.0,
                            ServiceRole.PAYMENT_CHASING: 4.0,
                            ServiceRole.AFTERSALES_TRIAGE: 2.0,
                        }
                    ),
                    chat_capacity_extra=2,
                    refund_reviewers_process=True,
                    howto_to_everyone=True,
                    chase_quiet_start=ClockTime(0),
                    chase_quiet_end=ClockTime(8 * 60),
                ),
                "618": PromotionProfile(
                    label="618",
                    role_points=_frozen(
                        {
                            ServiceRole.REFUND: 8.0,
                            ServiceRole.PRESALES: 5.0,
                            ServiceRole.PAYMENT_CHASING: 3.0,
                        }
                    ),
                    chat_capacity_extra=1,
                    refund_reviewers_process=True,
                    howto_to_everyone=True,
                ),
                "juhuasuan": PromotionProfile(
                    label="聚划算",
                    role_points=_frozen({ServiceRole.PRESALES: 5.0, ServiceRole.REFUND: 5.0}),
                    chat_capacity_extra=1,
                ),
            }
        )
    )

    @property
    def aging_weight_per_s(self) -> float:
        return self.aging_points_per_minute / 60.0

    def problems(self) -> Iterator[tuple[str, str]]:
        for name, mapping in (
            ("role_points", self.role_points),
            ("intent_points", self.intent_points),
            ("risk_points", self.risk_points),
            ("tier_points", self.tier_points),
        ):
            for key, points in mapping.items():
                yield from _non_negative(f"{name}.{key}", points)
        # Without aging a low item could wait forever behind a stream of urgent ones.
        yield from _positive("aging_points_per_minute", self.aging_points_per_minute)
        yield from _non_negative("extra_cap", self.extra_cap)
        yield from _non_negative("repeat_contact_points", self.repeat_contact_points)
        yield from _non_negative("first_contact_points", self.first_contact_points)
        for i, step in enumerate(self.value_steps):
            yield from _non_negative(f"value_steps[{i}].min_fen", step.min_fen)
            yield from _non_negative(f"value_steps[{i}].points", step.points)
        mins = [s.min_fen for s in self.value_steps]
        if mins != sorted(set(mins)):
            yield "value_steps", "min_fen must be strictly increasing"
        for i, dstep in enumerate(self.deadline_steps):
            yield from _non_negative(f"deadline_steps[{i}].within_s", dstep.within_s)
            yield from _non_negative(f"deadline_steps[{i}].points", dstep.points)
        withins = [s.within_s for s in self.deadline_steps]
        if withins != sorted(set(withins)):
            yield "deadline_steps", "within_s must be strictly increasing"
        step_points = [s.points for s in self.deadline_steps]
        if step_points != sorted(step_points, reverse=True):
            yield "deadline_steps", "points must not fall as the deadline nears"
        for name in self.promotions:
            if not name or len(name) > 32 or not name.replace("_", "").replace("-", "").isalnum():
                yield f"promotions.{name}", "a profile key is 1-32 letters, digits, - or _"


@dataclass(frozen=True)
class RoutingConfig:
    """All routing defaults of one shop. ``RoutingConfig()`` is the built-in default."""

    timezone: str = "Asia/Shanghai"
    intent_roles: Mapping[Intent, ServiceRole] = field(default_factory=lambda: DEFAULT_INTENT_ROLES)
    """Which role each triage intent goes to (contract default map)."""
    sla: SlaConfig = field(default_factory=SlaConfig)
    payment_chasing: PaymentChasingConfig = field(default_factory=PaymentChasingConfig)
    refund: RefundConfig = field(default_factory=RefundConfig)
    order_review: OrderReviewConfig = field(default_factory=OrderReviewConfig)
    hotline: HotlineConfig = field(default_factory=HotlineConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    triage: TriageRules = field(default_factory=default_rules)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def role_for(self, intent: Intent) -> ServiceRole:
        return self.intent_roles[intent]

    def problems(self) -> Iterator[tuple[str, str]]:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            yield "timezone", f"unknown time zone {self.timezone!r}"
        missing = [i.value for i in Intent if i not in self.intent_roles]
        if missing:
            yield "intent_roles", f"no role for intents: {', '.join(missing)}"

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None) -> RoutingConfig:
        """Defaults merged with a shop's overrides; ``ConfigError`` names any bad key.

        ``triage`` takes ``phrases`` keyed by phrase (``{"以旧换新": {"intent": "presale",
        "weight": 3}, "退款": {"weight": 4}, "tk": null}``: add, edit, remove) plus the
        scalar fields of ``TriageRules``; the triage rules always use this config's
        ``intent_roles``.
        """
        raw = dict(overrides or {})
        triage_raw = raw.pop("triage", None)
        base = _merge(cls, cls(), raw, "")
        triage = build_triage_rules(triage_raw, intent_roles=base.intent_roles, path="triage")
        return dataclasses.replace(base, triage=triage)


def build_triage_rules(
    overrides: Mapping[str, Any] | None,
    *,
    intent_roles: Mapping[Intent, ServiceRole] | None = None,
    base: TriageRules | None = None,
    path: str = "triage",
) -> TriageRules:
    """The default triage rules edited by a shop's overrides (see ``from_overrides``)."""
    base = base or default_rules()
    same_roles = intent_roles is None or dict(intent_roles) == dict(base.intent_roles)
    if overrides is None and same_roles:
        return base  # shops without triage edits share the compiled default automaton
    raw = dict(_require_mapping(overrides, path)) if overrides is not None else {}
    phrase_edits = raw.pop("phrases", None)
    if "intent_roles" in raw:
        raise ConfigError(_join(path, "intent_roles"), "set intent_roles at the top level")
    rules = _merge(TriageRules, base, raw, path)
    phrases = list(rules.phrases)
    if phrase_edits is not None:
        edits = _require_mapping(phrase_edits, _join(path, "phrases"))
        by_phrase = {rule.phrase: i for i, rule in enumerate(phrases)}
        removed: set[int] = set()
        added: list[PhraseRule] = []
        for phrase, edit in edits.items():
            key = _join(path, f"phrases.{phrase}")
            if not isinstance(phrase, str) or not phrase.strip():
                raise ConfigError(key, "phrase must be a non-empty string")
            index = by_phrase.get(phrase)
            if edit is None:
                if index is None:
                    raise ConfigError(key, "cannot remove a phrase that is not in the rules")
                removed.add(index)
                continue
            edit = _require_mapping(edit, key)
            if "phrase" in edit:
                raise ConfigError(_join(key, "phrase"), "the phrase is the key; remove and add")
            if index is None and edit.get("intent") is not None and "weight" not in edit:
                raise ConfigError(_join(key, "weight"), "a new phrase needs a weight")
            if index is None and edit.get("intent") is None and edit.get("risk") is None:
                raise ConfigError(key, "a new phrase needs an intent or a risk")
            current = phrases[index] if index is not None else PhraseRule(phrase, None)
            rule = _merge(PhraseRule, current, edit, key)
            if index is None:
                added.append(rule)
            else:
                phrases[index] = rule
        phrases = [r for i, r in enumerate(phrases) if i not in removed] + added
    rules = dataclasses.replace(
        rules,
        phrases=tuple(phrases),
        intent_roles=_frozen(intent_roles) if intent_roles is not None else rules.intent_roles,
    )
    for key, message in rules.problems():
        raise ConfigError(_join(path, key), message)
    return rules


# --- the generic merger ---------------------------------------------------------------


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _require_mapping(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(path or "(root)", f"expected an object, got {type(value).__name__}")
    return value


def _merge(cls: type[T], current: T | None, value: object, path: str) -> T:
    """``current`` (a dataclass instance, or None to build from scratch) with ``value``
    (a JSON object) applied; then the instance's own ``problems()`` are checked."""
    data = _require_mapping(value, path)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(_join(path, str(key)), f"unknown key (known: {known})")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        old = getattr(current, name) if current is not None else None
        if name in data:
            kwargs[name] = _coerce(hints[name], data[name], _join(path, name), old)
        elif current is not None:
            kwargs[name] = old
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(_join(path, name), "missing")
    instance = cls(**kwargs)
    check = getattr(instance, "problems", None)
    if check is not None and not isinstance(instance, TriageRules):  # checked by the caller
        for key, message in check():
            raise ConfigError(_join(path, key), message)
    return instance


def _coerce(tp: Any, value: object, path: str, current: object) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(inner, value, path, current)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(path, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(path, f"expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(path, f"expected a finite number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(path, f"expected a string, got {value!r}")
        return value
    if tp is ClockTime:
        if not isinstance(value, str):
            raise ConfigError(path, f"expected a time HH:MM, got {value!r}")
        try:
            return ClockTime.parse(value)
        except ValueError as exc:
            raise ConfigError(path, str(exc)) from None
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        allowed = [m.value for m in tp]
        if value not in allowed:
            raise ConfigError(
                path, f"expected one of {', '.join(map(str, allowed))}, got {value!r}"
            )
        return tp(value)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _merge(tp, current, value, path)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        if not isinstance(value, list | tuple):
            raise ConfigError(path, f"expected a list, got {type(value).__name__}")
        return tuple(_coerce(args[0], v, f"{path}[{i}]", None) for i, v in enumerate(value))
    if origin is Mapping or origin is dict:
        key_tp, value_tp = args
        data = _require_mapping(value, path)
        merged: dict[Any, Any] = dict(current) if isinstance(current, Mapping) else {}
        for raw_key, raw_value in data.items():
            key = _coerce(key_tp, raw_key, _join(path, str(raw_key)), None)
            merged[key] = _coerce(value_tp, raw_value, _join(path, str(raw_key)), merged.get(key))
        return _frozen(merged)
    raise TypeError(f"{path}: unsupported config type {tp!r}")  # a bug, not bad input
