"""QC (质检) tables: script versions, auto-check results, the daily sample, scores, findings,
disputes, calibration sessions and improvement proposals.

Imported by :mod:`csdesk.storage.models` so one ``Base.metadata`` holds every table. Writes
go through ``csdesk.actions.qc_*``; every table carries ``shop_id``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from csdesk.storage.models import Base, JSONDict, shop_fk
from csdesk.storage.types import BigIntPK, str_enum


class SampleStatus(enum.StrEnum):
    PENDING = "pending"
    """In an inspector's queue, not scored yet (a draft may exist)."""
    SCORED = "scored"


class ScoreStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class FindingStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    DISPUTED = "disputed"
    UPHELD = "upheld"
    REVERSED = "reversed"
    AMENDED = "amended"


class DisputeResolution(enum.StrEnum):
    UPHOLD = "uphold"
    REVERSE = "reverse"
    AMEND = "amend"


class CalibrationStatus(enum.StrEnum):
    OPEN = "open"
    """Inspectors score blind: nobody sees another's scores."""
    CLOSED = "closed"
    """α and drift computed; every score visible."""


class ProposalStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


def _user_fk(*, nullable: bool = True) -> Mapped[Any]:
    return mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL" if nullable else "CASCADE"),
        nullable=nullable,
    )


def _conversation_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"), index=True)


class QcScriptVersion(Base):
    """One version of a role's script (话术) in a shop; never edited, a change is a new row."""

    __tablename__ = "qc_script_version"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    role: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    script: Mapped[JSONDict] = mapped_column(default=dict)
    """``csdesk.qc.scripts.Script.to_json()``."""
    scorecard: Mapped[JSONDict] = mapped_column(default=dict)
    """``csdesk.qc.scorecard.Scorecard.to_json()``: what inspectors score under it."""
    note: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = _user_fk()
    """None: made by csdesk (the built-in version, or the shop's phrase list changed)."""
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("shop_id", "role", "version", name="uq_qc_script_version_role"),
    )


class QcCheck(Base):
    """The auto-check of one closed conversation (one per conversation: idempotent)."""

    __tablename__ = "qc_check"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), unique=True
    )
    script_version_id: Mapped[int] = mapped_column(
        ForeignKey("qc_script_version.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[int | None] = _user_fk()
    """Who closed it (the conversation's agent): the lot it is sampled in."""
    score: Mapped[int] = mapped_column(Integer)
    fatal_hits: Mapped[int] = mapped_column(Integer, default=0)
    hit_count: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime]
    checked_at: Mapped[datetime]

    __table_args__ = (Index("ix_qc_check_shop_closed", "shop_id", "closed_at"),)


class QcHit(Base):
    """One auto-check hit; counts against the author of the message."""

    __tablename__ = "qc_hit"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    check_id: Mapped[int] = mapped_column(ForeignKey("qc_check.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = _conversation_fk()
    category: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer)
    message_index: Mapped[int] = mapped_column(Integer)
    """Index in the checked transcript (buyer and agent messages, in order)."""
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    span_start: Mapped[int] = mapped_column(Integer)
    span_end: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = _user_fk()
    checked_at: Mapped[datetime]

    __table_args__ = (Index("ix_qc_hit_shop_category", "shop_id", "category", "checked_at"),)


class QcSample(Base):
    """A conversation the daily job picked for inspection, and why."""

    __tablename__ = "qc_sample"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), unique=True
    )
    day: Mapped[date] = mapped_column(Date)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    """``[{"reason", "detail"}]`` (``csdesk.qc.sampling.Why``)."""
    spotlight: Mapped[bool] = mapped_column(Boolean, default=False)
    plan: Mapped[str] = mapped_column(String(200), default="")
    """The lot's size rule (ISO 2859-1 level II, AQL 2.5 …)."""
    lot: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[int | None] = _user_fk()
    inspector_id: Mapped[int | None] = _user_fk()
    status: Mapped[SampleStatus] = mapped_column(str_enum(SampleStatus))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_qc_sample_queue", "shop_id", "inspector_id", "status"),)


class QcSampleDay(Base):
    """One shop's day sampled: the lots and their plans (the job runs once per day)."""

    __tablename__ = "qc_sample_day"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    day: Mapped[date] = mapped_column(Date)
    lots: Mapped[list[Any]] = mapped_column(default=list)
    """``[{"key", "size", "sample_size", "rule"}]``."""
    picked: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("shop_id", "day", name="uq_qc_sample_day_shop_day"),)


class QcScore(Base):
    """An inspector's scorecard of one conversation; the trail of changes rides along."""

    __tablename__ = "qc_score"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    conversation_id: Mapped[int] = _conversation_fk()
    sample_id: Mapped[int | None] = mapped_column(ForeignKey("qc_sample.id", ondelete="SET NULL"))
    inspector_id: Mapped[int | None] = _user_fk()
    agent_id: Mapped[int | None] = _user_fk()
    script_version_id: Mapped[int] = mapped_column(
        ForeignKey("qc_script_version.id", ondelete="CASCADE")
    )
    status: Mapped[ScoreStatus] = mapped_column(str_enum(ScoreStatus))
    items: Mapped[JSONDict] = mapped_column(default=dict)
    """Item key → ``{"rating" (None: N/A), "auto_rating", "override_reason", "comment",
    "message_id"}``."""
    bonus: Mapped[int] = mapped_column(Integer, default=0)
    critical_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    total: Mapped[float] = mapped_column(Float, default=0.0)
    comment: Mapped[str] = mapped_column(Text, default="")
    history: Mapped[list[Any]] = mapped_column(default=list)
    """``[{"at", "by", "what", "total"}]``: submit, and each dispute outcome that moved it."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("conversation_id", "inspector_id", name="uq_qc_score_inspector"),
    )


class QcFinding(Base):
    """What a submitted score found wrong, counted against one agent (the message's author)."""

    __tablename__ = "qc_finding"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    score_id: Mapped[int] = mapped_column(ForeignKey("qc_score.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = _conversation_fk()
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    item: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    points: Mapped[float] = mapped_column(Float, default=0.0)
    """What it cost the score (weighted points out of 100)."""
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    evidence: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    script_version_id: Mapped[int] = mapped_column(
        ForeignKey("qc_script_version.id", ondelete="CASCADE")
    )
    status: Mapped[FindingStatus] = mapped_column(str_enum(FindingStatus))
    created_at: Mapped[datetime]
    respond_by: Mapped[datetime]
    """The agent may acknowledge or dispute until then (the shop's ``qc.dispute_days``)."""
    seen_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_qc_finding_agent_status", "shop_id", "agent_id", "status"),)

    @property
    def assigned_agent_id(self) -> int | None:
        """The access table's own-only check: an agent acts on findings against them."""
        return self.agent_id


class QcDispute(Base):
    """An agent's dispute of one finding and the QC lead's resolution."""

    __tablename__ = "qc_dispute"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("qc_finding.id", ondelete="CASCADE"), unique=True
    )
    agent_id: Mapped[int | None] = _user_fk()
    comment: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime]
    due_by: Mapped[datetime]
    """The QC lead answers by then."""
    resolution: Mapped[DisputeResolution | None] = mapped_column(str_enum(DisputeResolution))
    resolution_comment: Mapped[str | None] = mapped_column(Text)
    amended_rating: Mapped[int | None] = mapped_column(Integer)
    resolver_id: Mapped[int | None] = _user_fk()
    resolved_at: Mapped[datetime | None]


class QcCalibrationSession(Base):
    """校准: several inspectors score the same conversations blind; α says how alike."""

    __tablename__ = "qc_calibration_session"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    title: Mapped[str] = mapped_column(String(200))
    conversation_ids: Mapped[list[Any]] = mapped_column(default=list)
    inspector_ids: Mapped[list[Any]] = mapped_column(default=list)
    script_version_id: Mapped[int] = mapped_column(
        ForeignKey("qc_script_version.id", ondelete="CASCADE")
    )
    status: Mapped[CalibrationStatus] = mapped_column(str_enum(CalibrationStatus))
    result: Mapped[JSONDict] = mapped_column(default=dict)
    """On close: ``{"overall": α…, "items": {key: α…}, "drift": [...]}``."""
    created_by: Mapped[int | None] = _user_fk()
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class QcCalibrationScore(Base):
    __tablename__ = "qc_calibration_score"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    session_id: Mapped[int] = mapped_column(
        ForeignKey("qc_calibration_session.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    inspector_id: Mapped[int] = _user_fk(nullable=False)
    items: Mapped[JSONDict] = mapped_column(default=dict)
    bonus: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)
    submitted_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint(
            "session_id", "conversation_id", "inspector_id", name="uq_qc_calibration_score_unit"
        ),
    )


class QcProposal(Base):
    """流程优化: an improvement raised from a group of findings, tracked to done."""

    __tablename__ = "qc_proposal"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    finding_ids: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[ProposalStatus] = mapped_column(str_enum(ProposalStatus))
    raised_by: Mapped[int | None] = _user_fk()
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
