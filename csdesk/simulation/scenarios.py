"""What arrives, when, and who is on shift: the two scenarios of the contract.

A scenario is data: arrival streams with a rate per simulated hour, handle-time and
patience distributions, and a roster (groups of agents holding one or more roles). The
engine turns it into events. Rates are per hour at ``scale`` 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from csdesk.roles.triage_rules import Intent
from csdesk.storage.enums import ServiceRole

SHOP_TZ = ZoneInfo("Asia/Shanghai")


class ScenarioError(ValueError):
    """A scenario option that cannot be used; ``option`` names it (``--agents``)."""

    def __init__(self, option: str, message: str) -> None:
        self.option = option
        self.message = message
        super().__init__(f"{option}: {message}")


@dataclass(frozen=True)
class HandleTime:
    """Time an item holds an agent's slot: lognormal with this mean and shape (sigma of
    the log), or exponential when ``sigma`` is None (the M/M/c case)."""

    mean_s: float
    sigma: float | None = 0.6


@dataclass(frozen=True)
class Stream:
    """One kind of arrival with a rate per simulated hour (the last rate repeats)."""

    name: str
    """``chat:<intent>``, ``call``, ``order``, ``refund``."""
    per_hour: tuple[float, ...]
    intent: Intent | None = None

    def rate_at(self, hour: int) -> float:
        if not self.per_hour:
            return 0.0
        return self.per_hour[min(hour, len(self.per_hour) - 1)]


@dataclass(frozen=True)
class RosterGroup:
    """``count`` agents on shift at any time, each holding all ``roles``; shifts rotate
    every ``shift_hours`` (shop time), the outgoing agents finish what they hold."""

    roles: frozenset[ServiceRole]
    count: int

    @property
    def key(self) -> str:
        return "+".join(sorted(r.value for r in self.roles))


@dataclass(frozen=True)
class RosterChange:
    """From ``from_hour`` (simulated hours after the start) on, the roster group holding
    ``role`` has ``delta`` more agents on shift (fewer when negative, never under none):
    "+2 on refund from 20:00". Agents who leave finish what they hold."""

    role: ServiceRole
    from_hour: float
    delta: int


@dataclass(frozen=True)
class Scenario:
    name: str
    start: datetime
    """UTC start of the simulated day."""
    hours: float
    streams: tuple[Stream, ...]
    roster: tuple[RosterGroup, ...]
    handle: Mapping[str, HandleTime]
    """By item kind (``chat``, ``call``, ``refund_review`` ...), falling back to ``default``."""
    chat_capacity: int = 5
    hotline_capacity: int = 1
    chat_patience_s: float | None = 600.0
    call_patience_s: float | None = 120.0
    """Mean (exponential) patience of a waiting buyer; None: nobody abandons."""
    shift_hours: float = 8.0
    promotion: str | None = None
    vip_share: float = 0.0
    """Share of buyers with a VIP tier (half of them 88VIP)."""
    new_buyer_share: float = 0.5
    unpaid_share: float = 0.25
    """Orders not paid on the buyer's own within the first minutes (the chase candidates)."""
    self_pay_mean_s: float = 480.0
    big_order_share: float = 0.05
    """Orders of ¥2,000 and more (chased by phone, by the hotline)."""
    unshipped_refund_share: float = 0.75
    flagged_order_share: float = 0.04
    """Paid orders whose address an order-review check flags."""
    chase_convert_p0: float = 0.45
    chase_convert_tau_s: float = 6 * 3600.0
    """A chase converts with probability p0 · exp(-(time since the order) / tau)."""
    skills_share: float = 0.3
    """Share of agents holding the ``vip`` skill (VIP buyers want one first)."""
    extras: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    roster_changes: tuple[RosterChange, ...] = ()


def parse_agents(text: str, option: str = "--agents") -> tuple[RosterGroup, ...]:
    """``presales=120,aftersales_triage+refund=40``: N agents per role, or per group of
    roles joined with ``+`` (agents holding several roles, as in a promotion roster)."""
    groups: list[RosterGroup] = []
    seen: set[ServiceRole] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        names, sep, count_text = part.partition("=")
        if not sep:
            raise ScenarioError(option, f"expected role=N, got {part!r}")
        roles: set[ServiceRole] = set()
        for name in names.split("+"):
            try:
                roles.add(ServiceRole(name.strip()))
            except ValueError:
                known = ", ".join(r.value for r in ServiceRole)
                raise ScenarioError(
                    option, f"unknown role {name.strip()!r} (known: {known})"
                ) from None
        if roles & seen:
            raise ScenarioError(option, f"role {sorted(roles & seen)[0].value!r} given twice")
        seen |= roles
        try:
            count = int(count_text)
        except ValueError:
            raise ScenarioError(option, f"expected a whole number, got {count_text!r}") from None
        if count < 0:
            raise ScenarioError(option, f"expected a number >= 0, got {count}")
        groups.append(RosterGroup(frozenset(roles), count))
    if not groups:
        raise ScenarioError(option, "no role=N given")
    return tuple(groups)


def _hours(option: str, hours: float, limit: float) -> float:
    if not (math.isfinite(hours) and 0 < hours <= limit):
        raise ScenarioError(option, f"must be above 0 and at most {limit:g}, got {hours:g}")
    return hours


# --- mmc ---------------------------------------------------------------------------------


def mmc(
    *,
    arrivals_per_hour: float = 120.0,
    aht_seconds: float = 180.0,
    agents: int = 8,
    hours: float = 8.0,
) -> Scenario:
    """Poisson calls, exponential handling, one role (hotline, one call per agent), nobody
    abandons, nobody changes shift: the M/M/c queue Erlang C describes."""
    if not (math.isfinite(arrivals_per_hour) and arrivals_per_hour > 0):
        raise ScenarioError("--arrivals-per-hour", "must be a number above 0")
    if not (math.isfinite(aht_seconds) and aht_seconds > 0):
        raise ScenarioError("--aht-seconds", "must be a number above 0")
    if agents < 1:
        raise ScenarioError("--agents", "mmc needs at least one agent")
    if arrivals_per_hour * aht_seconds / 3600.0 >= agents:
        raise ScenarioError(
            "--agents",
            f"{agents} agents cannot keep up with {arrivals_per_hour * aht_seconds / 3600:.2f} "
            "erlangs of traffic (the queue would grow without bound)",
        )
    return Scenario(
        name="mmc",
        start=datetime(2026, 11, 3, 2, 0, tzinfo=UTC),  # 10:00 shop time, an ordinary day
        hours=_hours("--hours", hours, 24 * 14),
        streams=(Stream("call", (arrivals_per_hour,)),),
        roster=(RosterGroup(frozenset({ServiceRole.HOTLINE}), agents),),
        handle=MappingProxyType({"default": HandleTime(aht_seconds, None)}),
        chat_patience_s=None,
        call_patience_s=None,
        shift_hours=0.0,
        vip_share=0.0,
        new_buyer_share=1.0,
        skills_share=0.0,
    )


# --- double11 ----------------------------------------------------------------------------

DOUBLE11_START = datetime(2026, 11, 10, 18, 0, tzinfo=SHOP_TZ).astimezone(UTC)
"""18:00 on 11 November's eve, shop time: the evening before the midnight sale."""

DOUBLE11_HOURS = 30.0
"""To midnight after 双十一: the evening surge, the night, and the day of refunds."""

DEFAULT_DOUBLE11_AGENTS = (
    "presales=120,payment_chasing=10,order_review=4,aftersales_triage+refund=50,hotline=16"
)
"""On shift at any time. The after-sales team holds triage and refund together, as the
promotion roster swaps those duties (seeds/003: 售后接待 hands refunds to refund staff,
and during promotions the duties can be swapped between people)."""


def _profile(by_local_hour: Sequence[tuple[int, float]], hours: int) -> tuple[float, ...]:
    """Hourly rates from (first simulated hour, rate) steps."""
    rates: list[float] = []
    steps = sorted(by_local_hour)
    for hour in range(hours):
        rate = 0.0
        for first, value in steps:
            if hour >= first:
                rate = value
        rates.append(rate)
    return tuple(rates)


def double11(
    *,
    agents: str = DEFAULT_DOUBLE11_AGENTS,
    hours: float = DOUBLE11_HOURS,
    scale: float = 1.0,
) -> Scenario:
    """双十一 from 18:00 on the 10th: presales surge in the evening peaking at the midnight
    sale, orders at midnight whose unpaid part is chased (chat chases wait out the
    22:00-08:00 quiet hours, so the chase wave meets the morning), after-sales questions
    and a refund wave the day after. Hour 0 is 18:00 shop time."""
    if not (math.isfinite(scale) and 0 < scale <= 100):
        raise ScenarioError("--scale", f"must be above 0 and at most 100, got {scale:g}")
    hours = _hours("--hours", hours, 24 * 7)
    n = math.ceil(hours) + 1

    def stream(
        name: str, steps: Sequence[tuple[int, float]], intent: Intent | None = None
    ) -> Stream:
        return Stream(name, tuple(r * scale for r in _profile(steps, n)), intent)

    # hour 0 = 18:00 on the 10th, 6 = midnight, 14 = 08:00 on the 11th, 30 = midnight.
    presale_steps = [
        (0, 2000),
        (2, 4000),
        (4, 7000),
        (6, 9000),
        (7, 4000),
        (8, 600),
        (14, 2500),
        (24, 2000),
    ]
    aftersales_steps = [(0, 100), (6, 250), (8, 40), (14, 400), (24, 300)]
    return Scenario(
        name="double11",
        start=DOUBLE11_START,
        hours=hours,
        streams=(
            stream("chat:presale", presale_steps, Intent.PRESALE),
            stream("chat:howto", [(0, 150), (6, 300), (8, 40), (14, 500)], Intent.HOWTO),
            stream("chat:other", [(0, 200), (6, 300), (8, 50), (14, 250)], Intent.OTHER),
            stream(
                "chat:payment", [(0, 100), (4, 300), (6, 600), (8, 50), (14, 150)], Intent.PAYMENT
            ),
            stream(
                "chat:address_change", [(0, 40), (6, 150), (8, 10), (14, 80)], Intent.ADDRESS_CHANGE
            ),
            stream("chat:invoice", [(0, 10), (6, 30), (8, 5), (14, 40)], Intent.INVOICE),
            stream("chat:logistics", aftersales_steps, Intent.LOGISTICS),
            stream("chat:exchange", [(0, 30), (6, 60), (8, 10), (14, 200)], Intent.EXCHANGE),
            stream("chat:quality", [(0, 30), (6, 50), (8, 10), (14, 250)], Intent.QUALITY),
            stream("chat:complaint", [(0, 10), (6, 20), (8, 5), (14, 60)], Intent.COMPLAINT),
            stream(
                "chat:refund", [(0, 50), (6, 200), (8, 40), (14, 400), (24, 300)], Intent.REFUND
            ),
            stream("chat:callback", [(0, 10), (6, 20), (8, 5), (14, 30)], Intent.CALLBACK),
            stream("call", [(0, 100), (6, 150), (8, 20), (14, 200), (24, 120)]),
            stream("order", [(0, 1500), (4, 3000), (6, 20000), (7, 6000), (8, 500), (14, 1500)]),
            stream("refund", [(0, 50), (6, 800), (8, 150), (14, 1200), (18, 1500), (24, 1000)]),
        ),
        roster=parse_agents(agents),
        handle=MappingProxyType(
            {
                "chat": HandleTime(300.0, 0.7),
                "call": HandleTime(240.0, 0.6),
                "callback": HandleTime(180.0, 0.6),
                "proactive_call": HandleTime(180.0, 0.6),
                "phone_chase": HandleTime(150.0, 0.6),
                "payment_chase": HandleTime(120.0, 0.6),
                "order_check": HandleTime(240.0, 0.6),
                "refund_review": HandleTime(300.0, 0.7),
                "default": HandleTime(240.0, 0.6),
            }
        ),
        promotion="double11",
        vip_share=0.12,
    )
