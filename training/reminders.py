"""Which reminders an assignment is owed now (提醒): one ``due_soon`` notice within the
shop's lead time before the due date, one ``overdue`` notice once it has passed; each at
most once (``sent`` holds what went out before). A course passed or cancelled is owed
nothing, and an assignment first seen after its due date gets only ``overdue``."""

from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import datetime, timedelta


class Notice(enum.StrEnum):
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


def notices_due(
    due_at: datetime,
    now: datetime,
    *,
    open_: bool,
    sent: Collection[str],
    lead: timedelta,
) -> list[Notice]:
    if not open_:
        return []
    owed: list[Notice] = []
    if due_at - lead <= now < due_at and Notice.DUE_SOON not in sent:
        owed.append(Notice.DUE_SOON)
    if now >= due_at and Notice.OVERDUE not in sent:
        owed.append(Notice.OVERDUE)
    return owed


def is_overdue(due_at: datetime, now: datetime, *, open_: bool) -> bool:
    return open_ and now >= due_at
