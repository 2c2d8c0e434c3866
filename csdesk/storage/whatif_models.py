"""What-if runs (模拟推演): a simulation of the shop's own day asked for from the console.

``whatif_run``: one row per run, with who asked and when, the adjustments it was asked
with, its state (``queued`` → ``running`` → ``done`` or ``failed``), its progress and, once
done, its result (the simulation's JSON per policy run, with the charts). Written by
``csdesk.actions.whatif``; run by the job ``csdesk.jobs.whatif.run_whatif``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from csdesk.storage.models import Base, JSONDict, shop_fk
from csdesk.storage.types import BigIntPK


class WhatIfRun(Base):
    __tablename__ = "whatif_run"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    status: Mapped[str] = mapped_column(String(16))
    """``queued``, ``running``, ``done``, ``failed``."""
    progress: Mapped[int] = mapped_column(Integer, default=0)
    """Percent done, 0-100."""
    parameters: Mapped[JSONDict] = mapped_column(default=dict)
    """The adjustments as asked (``csdesk.simulation.whatif.Adjustments.to_json``)."""
    result: Mapped[JSONDict | None]
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_whatif_run_shop_requested", "shop_id", "requested_at"),
        Index("ix_whatif_run_status", "status"),
    )
