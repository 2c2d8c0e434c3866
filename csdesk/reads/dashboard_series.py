"""The owner dashboard's time series: the last 24 hours, one point per minute.

Each series counts rows by the UTC minute of one timestamp (``storage.sql.utc_minute``),
grouped in the database: refund requests (by kind), buyer contacts (chats and calls
opened), orders placed and orders paid. Minute ``i`` of a series is ``start + i`` minutes;
the last point is the minute holding ``now`` (still filling).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import RefundKind
from csdesk.storage.kinds import BUYER_FACING_KINDS
from csdesk.storage.models import Conversation, Order, Refund
from csdesk.storage.sql import utc_minute

READ_ACCESS: Final = "dashboard.read"
MINUTES: Final = 24 * 60
STEP: Final = timedelta(minutes=1)
SERIES: Final = (
    "refund_only",
    "return_and_refund",
    "contacts",
    "orders_created",
    "orders_paid",
)
"""Every series, in the order the charts draw them."""


@dataclass(frozen=True, slots=True)
class Series:
    start: datetime
    """The first minute (UTC, on the minute)."""
    values: Mapping[str, tuple[int, ...]]
    """Per series, ``MINUTES`` counts."""

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "step_s": int(STEP.total_seconds()),
            "points": MINUTES,
            "series": {name: list(values) for name, values in self.values.items()},
        }


def window_start(now: datetime) -> datetime:
    """The first minute of the 24 h window whose last minute holds ``now``."""
    minute = now.replace(second=0, microsecond=0)
    return minute - (MINUTES - 1) * STEP


async def _per_minute(
    session: AsyncSession, column: Any, start: datetime, now: datetime, *where: Any
) -> list[int]:
    bucket = utc_minute(column)
    rows = await session.execute(
        select(bucket, func.count()).where(column >= start, column <= now, *where).group_by(bucket)
    )
    counts = [0] * MINUTES
    for minute, count in rows.all():
        at = datetime.fromisoformat(f"{minute}:00+00:00")
        index = int((at - start) / STEP)
        if 0 <= index < MINUTES:
            counts[index] += int(count)
    return counts


async def shop_series(session: AsyncSession, shop_id: str, now: datetime) -> Series:
    start = window_start(now)
    values: dict[str, tuple[int, ...]] = {}
    for kind in RefundKind:
        values[kind.value] = tuple(
            await _per_minute(
                session,
                Refund.requested_at,
                start,
                now,
                Refund.shop_id == shop_id,
                Refund.kind == kind,
            )
        )
    values["contacts"] = tuple(
        await _per_minute(
            session,
            Conversation.opened_at,
            start,
            now,
            Conversation.shop_id == shop_id,
            Conversation.kind.in_(BUYER_FACING_KINDS),
        )
    )
    values["orders_created"] = tuple(
        await _per_minute(session, Order.created_at, start, now, Order.shop_id == shop_id)
    )
    values["orders_paid"] = tuple(
        await _per_minute(session, Order.paid_at, start, now, Order.shop_id == shop_id)
    )
    return Series(start, values)


async def series(sessions: SessionFactory, actor: CurrentUser, now: datetime) -> Series:
    require(actor, READ_ACCESS)
    async with sessions() as session:
        return await shop_series(session, actor.shop_id, now)


__all__ = ["MINUTES", "SERIES", "STEP", "Series", "series", "shop_series", "window_start"]
