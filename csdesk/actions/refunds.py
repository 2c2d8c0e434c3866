"""Refund requests (退款): refund only (仅退款) or return and refund (退货退款).

The platform auto-approves a request the shop leaves unanswered; ``deadline_at`` is that
moment, computed from when it was asked and whether the goods had shipped.
Writers here take the caller's ``AsyncSession`` and never commit (see ``catalog``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.batch import insert_returning_ids_by_key
from csdesk.clock import require_aware
from csdesk.storage.enums import RefundKind, RefundStatus
from csdesk.storage.models import Refund

_FINAL = frozenset({RefundStatus.REJECTED, RefundStatus.REFUNDED, RefundStatus.CANCELLED})


@dataclass(frozen=True)
class RefundDeadlines:
    """How long the shop has to answer before the platform decides for the buyer."""

    unshipped: timedelta = timedelta(hours=24)
    """Goods not shipped yet: the buyer regretted, the warehouse can still intercept."""
    shipped: timedelta = timedelta(days=5)

    def deadline(self, requested_at: datetime, *, goods_shipped: bool) -> datetime:
        return require_aware(requested_at, "requested_at") + (
            self.shipped if goods_shipped else self.unshipped
        )


DEFAULT_REFUND_DEADLINES = RefundDeadlines()


@dataclass(frozen=True)
class RefundSpec:
    external_id: str
    """The marketplace's refund number (退款编号), unique within the shop."""
    order_id: int
    buyer_id: int
    kind: RefundKind
    status: RefundStatus
    amount_fen: int
    reason: str
    requested_at: datetime
    goods_shipped: bool
    """Whether the order had shipped when the buyer asked (decides the deadline)."""
    resolved_at: datetime | None = None
    deadline_at: datetime | None = None
    """Set only when the platform sent one; otherwise computed from ``RefundDeadlines``."""

    def __post_init__(self) -> None:
        if not self.external_id:
            raise ValueError("refund external_id must not be empty")
        if self.amount_fen <= 0:
            raise ValueError(f"refund {self.external_id}: amount_fen must be positive")
        if self.kind is RefundKind.RETURN_AND_REFUND and not self.goods_shipped:
            raise ValueError(f"refund {self.external_id}: nothing to return before shipping")
        if self.kind is RefundKind.REFUND_ONLY and self.status is RefundStatus.RETURN_RECEIVED:
            raise ValueError(f"refund {self.external_id}: refund-only has no return parcel")
        requested = require_aware(self.requested_at, "requested_at")
        if self.resolved_at is not None and require_aware(self.resolved_at) < requested:
            raise ValueError(f"refund {self.external_id}: resolved before it was requested")
        if self.status in _FINAL and self.resolved_at is None:
            raise ValueError(f"refund {self.external_id}: status {self.status} needs resolved_at")


async def record_refunds(
    session: AsyncSession,
    shop_id: str,
    refunds: Sequence[RefundSpec],
    *,
    deadlines: RefundDeadlines = DEFAULT_REFUND_DEADLINES,
) -> list[int]:
    """Insert refund requests new to the shop; returns their ids in input order."""
    rows = [
        {
            "shop_id": shop_id,
            "external_id": refund.external_id,
            "order_id": refund.order_id,
            "buyer_id": refund.buyer_id,
            "kind": refund.kind,
            "status": refund.status,
            "amount_fen": refund.amount_fen,
            "reason": refund.reason,
            "requested_at": refund.requested_at,
            "deadline_at": refund.deadline_at
            or deadlines.deadline(refund.requested_at, goods_shipped=refund.goods_shipped),
            "resolved_at": refund.resolved_at,
        }
        for refund in refunds
    ]
    return await insert_returning_ids_by_key(session, Refund, Refund.id, Refund.external_id, rows)


def cancel_refund(refund: Refund, at: datetime) -> bool:
    """``refund.cancelled``: the buyer withdrew the request. False if it was settled already
    (refunded, rejected, cancelled): nothing changes."""
    if refund.status in _FINAL:
        return False
    refund.status = RefundStatus.CANCELLED
    refund.resolved_at = max(at, refund.requested_at)
    return True


def receive_return(refund: Refund) -> bool:
    """``return.received``: the goods came back to the warehouse. False unless the refund
    was waiting for them (requested or approved)."""
    if refund.status not in (RefundStatus.REQUESTED, RefundStatus.APPROVED):
        return False
    refund.status = RefundStatus.RETURN_RECEIVED
    return True
