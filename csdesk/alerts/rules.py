"""Alert rules (告警规则), pure: a shop's health at ``now`` and its thresholds in, the alerts
that hold out. No I/O; the evaluation job loads the facts (``reads.alerts.shop_health``)
and ``actions.alerts`` stores, deduplicates and delivers what comes out.

The conditions a shop owner wants to hear about on a promotion night:

* ``queue``: a role's queue is deeper than its threshold, or its oldest item has waited
  longer than the shop allows;
* ``refund_due``: refunds the platform will auto-approve within the hour if nobody acts;
* ``agent_silent``: a buyer has waited too long on the agent holding the chat;
* ``staffing``: a role has fewer agents on shift than Erlang C says it needs.

Each alert has a ``key`` naming the condition and what it is about (``queue:refund``,
``agent_silent:17``): the same key within the dedupe window is the same alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from csdesk.clock import require_aware
from csdesk.roles.scoring import ROLE_ZH, fmt_duration, fmt_fen
from csdesk.storage.enums import ServiceRole


class AlertKind(StrEnum):
    QUEUE = "queue"
    REFUND_DUE = "refund_due"
    AGENT_SILENT = "agent_silent"
    STAFFING = "staffing"
    TEST = "test"
    """"Send a test" from the alert settings: never deduplicated."""


class Severity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


class ThresholdError(ValueError):
    """A threshold the rules cannot use; ``field`` names it (``queue_depth``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


THRESHOLD_LIMITS: Final[Mapping[str, tuple[int, int]]] = MappingProxyType(
    {
        "queue_depth": (0, 100_000),
        "queue_wait_s": (0, 7 * 86_400),
        "refund_due_count": (0, 100_000),
        "agent_silent_s": (0, 86_400),
        "staffing_short": (0, 1_000),
    }
)


@dataclass(frozen=True)
class Thresholds:
    """When each rule fires; 0 switches a rule off."""

    queue_depth: int = 20
    """A role's queue holding more items than this."""
    queue_wait_s: int = 600
    """A role's oldest queued item waiting longer than this."""
    refund_due_count: int = 1
    """At least this many refunds auto-approving within the next hour."""
    agent_silent_s: int = 300
    """A buyer waiting this long on the agent holding the chat (no reply since the buyer's
    last message, or since the agent took it)."""
    staffing_short: int = 1
    """Agents needed (Erlang C) minus agents on shift, at least this many."""
    queue_depth_by_role: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    """A role's own queue threshold instead of ``queue_depth`` (refund: 5)."""

    def queue_limit(self, role: str) -> int:
        return self.queue_depth_by_role.get(role, self.queue_depth)

    @classmethod
    def from_json(cls, raw: object) -> Thresholds:
        """The defaults changed by ``raw`` (an object of the fields above); a bad value
        raises :class:`ThresholdError` naming it."""
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ThresholdError("thresholds", "must be an object")
        known = (*THRESHOLD_LIMITS, "queue_depth_by_role")
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in known:
                raise ThresholdError(str(key), f"unknown threshold (known: {', '.join(known)})")
            if key == "queue_depth_by_role":
                values[key] = MappingProxyType(_by_role(value))
            else:
                values[key] = _whole(key, value, *THRESHOLD_LIMITS[key])
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return {
            "queue_depth": self.queue_depth,
            "queue_wait_s": self.queue_wait_s,
            "refund_due_count": self.refund_due_count,
            "agent_silent_s": self.agent_silent_s,
            "staffing_short": self.staffing_short,
            "queue_depth_by_role": dict(self.queue_depth_by_role),
        }


def _whole(key: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ThresholdError(key, f"must be a whole number from {low} to {high}")
    return value


def _by_role(raw: object) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        raise ThresholdError("queue_depth_by_role", "must be an object of role: number")
    roles = [r.value for r in ServiceRole]
    out: dict[str, int] = {}
    for role, value in raw.items():
        key = f"queue_depth_by_role.{role}"
        if role not in roles:
            raise ThresholdError(key, f"unknown role (roles: {', '.join(roles)})")
        out[role] = _whole(key, value, *THRESHOLD_LIMITS["queue_depth"])
    return out


# --- facts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleHealth:
    role: str
    queued: int
    oldest_wait_s: float
    agents_on_shift: int
    agents_needed: int


@dataclass(frozen=True)
class WaitingBuyer:
    """A buyer-facing item held by an agent, with the buyer waiting on them since
    ``waiting_since``."""

    agent_id: int
    agent_name: str
    conversation_id: int
    waiting_since: datetime


@dataclass(frozen=True)
class ShopHealth:
    roles: tuple[RoleHealth, ...] = ()
    refunds_due: int = 0
    """Pending refunds the platform auto-approves within the next hour."""
    refunds_due_fen: int = 0
    waiting: tuple[WaitingBuyer, ...] = ()


# --- alerts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    key: str
    kind: AlertKind
    severity: Severity
    title: str
    text: str
    detail: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind.value,
            "severity": self.severity.value,
            "title": self.title,
            "text": self.text,
            "detail": dict(self.detail),
        }


def _role_zh(role: str) -> str:
    try:
        return ROLE_ZH[ServiceRole(role)]
    except ValueError:
        return role


def _queue_alerts(roles: Iterable[RoleHealth], limits: Thresholds) -> list[Alert]:
    out = []
    for health in roles:
        depth_limit = limits.queue_limit(health.role)
        deep = depth_limit > 0 and health.queued > depth_limit
        slow = limits.queue_wait_s > 0 and health.oldest_wait_s > limits.queue_wait_s
        if not (deep or slow):
            continue
        name = _role_zh(health.role)
        parts = [f"{name}队列 {health.queued} 条排队"]
        if deep:
            parts[0] += f"（阈值 {depth_limit}）"
        parts.append(f"最久已等 {fmt_duration(health.oldest_wait_s)}")
        if slow:
            parts[-1] += f"（阈值 {fmt_duration(limits.queue_wait_s)}）"
        severity = (
            Severity.CRITICAL
            if (deep and health.queued > 2 * depth_limit)
            or (slow and health.oldest_wait_s > 2 * limits.queue_wait_s)
            else Severity.WARNING
        )
        out.append(
            Alert(
                key=f"queue:{health.role}",
                kind=AlertKind.QUEUE,
                severity=severity,
                title=f"{name}队列积压",
                text="，".join(parts),
                detail=MappingProxyType(
                    {
                        "role": health.role,
                        "queued": health.queued,
                        "oldest_wait_s": round(health.oldest_wait_s, 1),
                        "queue_depth": depth_limit,
                        "queue_wait_s": limits.queue_wait_s,
                    }
                ),
            )
        )
    return out


def _refund_alert(health: ShopHealth, limits: Thresholds) -> list[Alert]:
    if limits.refund_due_count <= 0 or health.refunds_due < limits.refund_due_count:
        return []
    return [
        Alert(
            key="refund_due",
            kind=AlertKind.REFUND_DUE,
            severity=Severity.CRITICAL,
            title="退款即将自动通过",
            text=(
                f"{health.refunds_due} 笔退款将在 1 小时内由平台自动通过，"
                f"共 {fmt_fen(health.refunds_due_fen)}，请尽快审核"
            ),
            detail=MappingProxyType(
                {
                    "count": health.refunds_due,
                    "amount": round(health.refunds_due_fen / 100, 2),
                    "refund_due_count": limits.refund_due_count,
                }
            ),
        )
    ]


def _silent_alerts(
    waiting: Iterable[WaitingBuyer], limits: Thresholds, now: datetime
) -> list[Alert]:
    if limits.agent_silent_s <= 0:
        return []
    longest: dict[int, tuple[float, WaitingBuyer, int]] = {}
    for buyer in waiting:
        waited = (now - require_aware(buyer.waiting_since)).total_seconds()
        if waited < limits.agent_silent_s:
            continue
        best = longest.get(buyer.agent_id)
        count = best[2] + 1 if best else 1
        if best is None or waited > best[0]:
            longest[buyer.agent_id] = (waited, buyer, count)
        else:
            longest[buyer.agent_id] = (best[0], best[1], count)
    out = []
    for agent_id, (waited, buyer, count) in sorted(longest.items()):
        out.append(
            Alert(
                key=f"agent_silent:{agent_id}",
                kind=AlertKind.AGENT_SILENT,
                severity=Severity.WARNING,
                title=f"客服 {buyer.agent_name} 久未回复",
                text=(
                    f"{buyer.agent_name} 有 {count} 位买家在等回复，"
                    f"最久已等 {fmt_duration(waited)}（阈值 {fmt_duration(limits.agent_silent_s)}）"
                ),
                detail=MappingProxyType(
                    {
                        "agent_id": agent_id,
                        "conversation_id": buyer.conversation_id,
                        "waiting": count,
                        "silent_s": round(waited, 1),
                        "agent_silent_s": limits.agent_silent_s,
                    }
                ),
            )
        )
    return out


def _staffing_alerts(roles: Iterable[RoleHealth], limits: Thresholds) -> list[Alert]:
    if limits.staffing_short <= 0:
        return []
    out = []
    for health in roles:
        short = health.agents_needed - health.agents_on_shift
        if short < limits.staffing_short:
            continue
        name = _role_zh(health.role)
        out.append(
            Alert(
                key=f"staffing:{health.role}",
                kind=AlertKind.STAFFING,
                severity=Severity.CRITICAL if health.agents_on_shift == 0 else Severity.WARNING,
                title=f"{name}人手不足",
                text=(
                    f"{name}需要 {health.agents_needed} 人（Erlang C），"
                    f"在岗 {health.agents_on_shift} 人，缺 {short} 人"
                ),
                detail=MappingProxyType(
                    {
                        "role": health.role,
                        "agents_needed": health.agents_needed,
                        "agents_on_shift": health.agents_on_shift,
                        "short": short,
                    }
                ),
            )
        )
    return out


def evaluate(health: ShopHealth, limits: Thresholds, now: datetime) -> tuple[Alert, ...]:
    """Every alert that holds at ``now``, in a fixed order (by kind, then key)."""
    now = require_aware(now)
    alerts = [
        *_queue_alerts(health.roles, limits),
        *_refund_alert(health, limits),
        *_silent_alerts(health.waiting, limits, now),
        *_staffing_alerts(health.roles, limits),
    ]
    order = list(AlertKind)
    return tuple(sorted(alerts, key=lambda a: (order.index(a.kind), a.key)))


def trial_alert(shop_name: str) -> Alert:
    """What "send a test" sends."""
    return Alert(
        key="test",
        kind=AlertKind.TEST,
        severity=Severity.WARNING,
        title="测试告警",
        text=f"这是来自 csdesk（{shop_name}）的测试告警：收到即表示告警通道已接通。",
    )


__all__ = [
    "THRESHOLD_LIMITS",
    "Alert",
    "AlertKind",
    "RoleHealth",
    "Severity",
    "ShopHealth",
    "ThresholdError",
    "Thresholds",
    "WaitingBuyer",
    "evaluate",
    "trial_alert",
]
