"""Alert (告警) and promotion-schedule tables.

* ``alert_config``: one row per shop: where alerts go (a DingTalk custom robot, a WeCom
  group robot), the robot secret, the thresholds, the dedupe window and the rate limit.
* ``alert``: each alert raised (a condition that held at an evaluation, or a test), kept
  for the console's list; ``key`` names the condition (``queue:refund``) for dedupe.
* ``alert_delivery``: one per alert and robot, with its outcome, attempts and next retry.
* ``promotion_schedule``: a promotion profile's scheduled start and end (大促排期).

Imported by :mod:`csdesk.storage.models` so one ``Base.metadata`` holds every table. Writes
go through ``csdesk.actions.alerts`` and ``csdesk.actions.promotions``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from csdesk.storage.models import Base, JSONDict, shop_fk
from csdesk.storage.types import BigIntPK


class AlertConfig(Base):
    __tablename__ = "alert_config"
    shop_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    dingtalk_url: Mapped[str | None] = mapped_column(String(500))
    """The custom robot's webhook (``https://oapi.dingtalk.com/robot/send?access_token=…``)."""
    dingtalk_secret: Mapped[str | None] = mapped_column(String(200))
    """加签 secret (``SEC…``); never shown again once saved."""
    wecom_url: Mapped[str | None] = mapped_column(String(500))
    """The WeCom group robot's webhook (``…/cgi-bin/webhook/send?key=…``)."""
    thresholds: Mapped[JSONDict] = mapped_column(default=dict)
    """The shop's changes to ``alerts.rules.Thresholds`` (validated on save)."""
    dedupe_window_s: Mapped[int] = mapped_column(Integer, default=1800)
    max_per_hour: Mapped[int] = mapped_column(Integer, default=20)
    """Robot messages per channel in any hour; more are logged as rate-limited, not sent."""
    evaluated_at: Mapped[datetime | None]
    """The last evaluation (its transaction writes this first: evaluations of one shop
    take turns, so two never raise the same alert)."""
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class AlertRecord(Base):
    __tablename__ = "alert"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    detail: Mapped[JSONDict] = mapped_column(default=dict)
    raised_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    """The last evaluation that still found the condition (repeats within the dedupe window
    update this instead of raising again)."""
    raised_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    """Who pressed "send a test"; None for the desk's own evaluations."""

    __table_args__ = (
        Index("ix_alert_shop_key_raised", "shop_id", "key", "raised_at"),
        Index("ix_alert_shop_raised", "shop_id", "raised_at"),
    )


class AlertDelivery(Base):
    __tablename__ = "alert_delivery"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    """``dingtalk`` or ``wecom``."""
    status: Mapped[str] = mapped_column(String(16))
    """``pending`` (to send, or to retry at ``next_attempt_at``), ``sent``, ``failed`` (gave
    up after the last attempt), ``rate_limited`` (over the shop's hourly limit: not sent)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    log: Mapped[list[Any]] = mapped_column(default=list)
    """Every attempt: ``{"at", "ok", "status", "error"}``."""
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_alert_delivery_due", "status", "next_attempt_at"),
        Index("ix_alert_delivery_shop_channel", "shop_id", "channel", "sent_at"),
    )


class PromotionSchedule(Base):
    __tablename__ = "promotion_schedule"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    profile: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    """``roles.promotion.ScheduleStatus``: scheduled, live, ended, cancelled, missed."""
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    switched_on_at: Mapped[datetime | None]
    switched_off_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_promotion_schedule_shop_status", "shop_id", "status"),)
