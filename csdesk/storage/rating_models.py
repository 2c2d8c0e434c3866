"""Service ratings (服务评价): what buyers said of the service, from ``rating.received``.

Imported by :mod:`csdesk.storage.models` so one ``Base.metadata`` holds every table. Written
only by ``csdesk.actions.ratings``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from csdesk.storage.models import Base, shop_fk
from csdesk.storage.types import BigIntPK

CURRENT = text("is_current")
"""The predicate of ``uq_service_rating_current``: one current rating per conversation."""


class ServiceRating(Base):
    """One rating as the platform sent it (every one is kept).

    It rates the buyer's most recent conversation before it (``conversation_id``, with the
    agent who served it and the conversation's role); ``None`` when the buyer had none, or
    is unknown to the shop (then the rating is stored unlinked and still counts in the
    shop's satisfaction). A buyer may change a rating (the marketplace lets them turn a bad
    one into a good one): the latest by ``rated_at`` is the conversation's ``is_current``
    one, the one that counts; the earlier ones stay for the record.
    """

    __tablename__ = "service_rating"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    source_event_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("platform_event.id", ondelete="SET NULL"), unique=True
    )
    """The ``rating.received`` event (``platform_event.id``) it came with."""
    buyer_nick: Mapped[str] = mapped_column(String(64))
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyer.id", ondelete="SET NULL"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation.id", ondelete="SET NULL"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    """Who served the rated conversation (its agent, else the last agent who wrote in it)."""
    role: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[int] = mapped_column(Integer)
    """1-5 stars."""
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime]
    """When the buyer rated (the event's ``occurred_at``)."""
    received_at: Mapped[datetime]
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    """Counts in the KPIs: the conversation's latest rating (every unlinked rating)."""
    note: Mapped[str | None] = mapped_column(Text)
    """Why it is unlinked, or that a later rating replaced it."""

    __table_args__ = (
        Index("ix_service_rating_shop_rated", "shop_id", "rated_at"),
        Index(
            "uq_service_rating_current",
            "conversation_id",
            unique=True,
            sqlite_where=CURRENT,
            postgresql_where=CURRENT,
        ),
    )
