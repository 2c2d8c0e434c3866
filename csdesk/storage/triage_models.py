"""Learned-triage tables: a shop's corrections, its trained model versions, which is live.

Imported by :mod:`csdesk.storage.models` so one ``Base.metadata`` holds every table. Writes
go through ``csdesk.actions.triage_learning``; every table carries ``shop_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from csdesk.storage.models import Base, JSONDict, shop_fk
from csdesk.storage.types import BigIntPK


class TriageCorrection(Base):
    """A buyer message whose intent a person corrected (a transfer or a relabel): one
    labelled example for the shop's model. One per conversation, the latest correction
    wins (a conversation bounced twice teaches its final answer, not both)."""

    __tablename__ = "triage_correction"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    predicted_intent: Mapped[str | None] = mapped_column(String(32))
    intent: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    """``transfer`` or ``relabel``."""
    by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    corrected_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("conversation_id", name="uq_triage_correction_conv"),)


class TriageModelVersion(Base):
    """One trained model of a shop (kept whether or not it went live, for the record and
    for rollback). ``artifact`` is the model's JSON, gzip-compressed (about 1 MB)."""

    __tablename__ = "triage_model_version"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    version: Mapped[int] = mapped_column(Integer)
    trained_at: Mapped[datetime]
    corrections: Mapped[int] = mapped_column(Integer)
    heldout_score: Mapped[float] = mapped_column(Float)
    baseline_score: Mapped[float] = mapped_column(Float)
    """The held-out score of the model that was live when this one was trained."""
    swapped: Mapped[bool]
    artifact: Mapped[bytes | None] = mapped_column(LargeBinary)
    """None once pruned (old versions that never went live keep their numbers only)."""

    __table_args__ = (UniqueConstraint("shop_id", "version", name="uq_triage_model_shop_ver"),)


class ShopTriageModel(Base):
    """Which of a shop's versions is live (None: the shipped model) and what was before."""

    __tablename__ = "shop_triage_model"
    shop_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True
    )
    active_version: Mapped[int | None] = mapped_column(Integer)
    previous: Mapped[list[Any]] = mapped_column(default=list)
    """Versions live before, most recent last (``None`` for the shipped model)."""
    trained_through: Mapped[datetime | None]
    """Corrections up to this time are in the last training run (the nightly job skips a
    shop with none newer)."""
    updated_at: Mapped[datetime]
    last_outcome: Mapped[JSONDict] = mapped_column(default=dict)
