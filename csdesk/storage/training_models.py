"""Training (培训) and points (积分制) tables: courses and their versions, course assets,
finding → course rules, assignments (each on the version the agent was given), quiz
attempts, reminders sent, and the append-only points ledger.

Imported by :mod:`csdesk.storage.models` so one ``Base.metadata`` holds every table. Writes
go through ``csdesk.actions.training``; every table carries ``shop_id``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from csdesk.storage.models import Base, JSONDict, shop_fk
from csdesk.storage.types import BigIntPK, str_enum


class CourseStatus(enum.StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"
    """Kept for the record and for open assignments; not offered for new ones."""


class CourseOrigin(enum.StrEnum):
    TRAINER = "trainer"
    SCRIPT_UPDATE = "script_update"
    """Made from a QC script change (话术更新), editable by the trainer."""


class AssignmentSource(enum.StrEnum):
    MANUAL = "manual"
    RULE = "rule"
    """A finding → course rule fired."""
    SCRIPT_UPDATE = "script_update"
    ONBOARDING = "onboarding"
    """A new agent's starter course (新人入职)."""


class AssignmentStatus(enum.StrEnum):
    ASSIGNED = "assigned"
    """Open: to read and pass (failed attempts keep it open)."""
    PASSED = "passed"
    CANCELLED = "cancelled"


class PointsSource(enum.StrEnum):
    """``csdesk.training.points.Source`` values."""

    FINDING = "finding"
    DISPUTE_REVERSAL = "dispute_reversal"
    PRAISE = "praise"
    RATING = "rating"
    RECOVERED_CHASE = "recovered_chase"
    COURSE_PASSED = "course_passed"
    AWARD = "award"


def _user_fk(*, nullable: bool = True) -> Mapped[Any]:
    return mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL" if nullable else "CASCADE"),
        nullable=nullable,
    )


class TrainingCourse(Base):
    """A course of the shop's catalog; its content lives in versions (never edited)."""

    __tablename__ = "training_course"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    title: Mapped[str] = mapped_column(String(120))
    """The current version's title (the catalog lists it without loading versions)."""
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    categories: Mapped[list[Any]] = mapped_column(default=list)
    """QC categories the course addresses: its effect is measured on these."""
    roles: Mapped[list[Any]] = mapped_column(default=list)
    """Service roles it is for (a starter course goes to new agents of these roles)."""
    starter: Mapped[bool] = mapped_column(Boolean, default=False)
    due_days: Mapped[int] = mapped_column(Integer, default=7)
    """Default days from assignment to due."""
    status: Mapped[CourseStatus] = mapped_column(str_enum(CourseStatus))
    origin: Mapped[CourseOrigin] = mapped_column(str_enum(CourseOrigin))
    script_role: Mapped[str | None] = mapped_column(String(32))
    script_version: Mapped[int | None] = mapped_column(Integer)
    """For an update course: the script version it teaches (one course per role and version)."""
    created_by: Mapped[int | None] = _user_fk()
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint(
            "shop_id", "script_role", "script_version", name="uq_training_course_script"
        ),
    )


class TrainingCourseVersion(Base):
    __tablename__ = "training_course_version"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    course_id: Mapped[int] = mapped_column(
        ForeignKey("training_course.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[JSONDict] = mapped_column(default=dict)
    """``csdesk.training.courses.CourseContent.to_json()``."""
    note: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = _user_fk()
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("course_id", "version", name="uq_training_course_version"),)


class TrainingAsset(Base):
    """An image shipped with a course (``![…](asset:NAME)``); never replaced, so every
    version that names it shows the same picture."""

    __tablename__ = "training_asset"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    course_id: Mapped[int] = mapped_column(ForeignKey("training_course.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[int | None] = _user_fk()
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("course_id", "name", name="uq_training_asset_name"),)


class TrainingRule(Base):
    """课程分配规则: ``threshold`` standing findings of ``category`` in ``window_days``
    assign ``course_id``, due in ``due_days``."""

    __tablename__ = "training_rule"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    category: Mapped[str] = mapped_column(String(32))
    course_id: Mapped[int] = mapped_column(ForeignKey("training_course.id", ondelete="CASCADE"))
    threshold: Mapped[int] = mapped_column(Integer, default=1)
    window_days: Mapped[int] = mapped_column(Integer, default=14)
    due_days: Mapped[int] = mapped_column(Integer, default=7)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = _user_fk()
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


OPEN_ASSIGNMENT = text("status = 'assigned'")
"""The predicate of ``uq_training_assignment_open``: one open assignment per course and agent."""


class TrainingAssignment(Base):
    """A course given to one agent, on the version current then (kept when the course is
    edited later), with its due date, how it came, its best result and the QC boost."""

    __tablename__ = "training_assignment"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    course_id: Mapped[int] = mapped_column(
        ForeignKey("training_course.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("training_course_version.id", ondelete="CASCADE")
    )
    agent_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    source: Mapped[AssignmentSource] = mapped_column(str_enum(AssignmentSource))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("training_rule.id", ondelete="SET NULL"))
    finding_ids: Mapped[list[Any]] = mapped_column(default=list)
    """The QC findings that made a rule fire."""
    reason: Mapped[str] = mapped_column(Text, default="")
    assigned_by: Mapped[int | None] = _user_fk()
    assigned_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[AssignmentStatus] = mapped_column(str_enum(AssignmentStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    best_score: Mapped[int | None] = mapped_column(Integer)
    passed_at: Mapped[datetime | None]
    boost_until: Mapped[datetime | None]
    """After passing, the agent's QC sample rate is raised until then."""
    cancelled_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_training_assignment_agent", "shop_id", "agent_id", "status"),
        Index("ix_training_assignment_due", "status", "due_at"),
        Index(
            "uq_training_assignment_open",
            "course_id",
            "agent_id",
            unique=True,
            sqlite_where=OPEN_ASSIGNMENT,
            postgresql_where=OPEN_ASSIGNMENT,
        ),
    )

    @property
    def assigned_agent_id(self) -> int:
        """The access table's own-only check: an agent reads and takes their own courses."""
        return self.agent_id


class TrainingAttempt(Base):
    """One submitted quiz, graded at once against the assignment's version."""

    __tablename__ = "training_attempt"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("training_assignment.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(
        ForeignKey("training_course_version.id", ondelete="CASCADE")
    )
    answers: Mapped[JSONDict] = mapped_column(default=dict)
    result: Mapped[JSONDict] = mapped_column(default=dict)
    """``csdesk.training.courses.QuizResult.to_json()``."""
    score: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    submitted_at: Mapped[datetime]

    @property
    def assigned_agent_id(self) -> int:
        return self.agent_id


class TrainingReminder(Base):
    """A reminder sent (due soon / overdue): the unique key makes each go out once."""

    __tablename__ = "training_reminder"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("training_assignment.id", ondelete="CASCADE")
    )
    agent_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime]
    seen_at: Mapped[datetime | None]
    """The agent saw the console notice."""

    __table_args__ = (
        UniqueConstraint("assignment_id", "kind", name="uq_training_reminder_kind"),
        Index("ix_training_reminder_agent", "agent_id", "seen_at"),
    )


class PointsEntry(Base):
    """积分台账: one line of an agent's points. Append-only: nothing is ever updated or
    deleted; a reversal is a new line (``reverses_id``) with the opposite points. The unique
    (source, ref) keeps an automatic entry from being written twice."""

    __tablename__ = "points_entry"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    agent_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[PointsSource] = mapped_column(str_enum(PointsSource))
    ref: Mapped[str | None] = mapped_column(String(64))
    """What it is about: ``qc_finding:12``, ``conversation:7``, ``training_assignment:3``."""
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("points_entry.id", ondelete="SET NULL"), unique=True
    )
    created_by: Mapped[int | None] = _user_fk()
    at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("shop_id", "source", "ref", name="uq_points_entry_source_ref"),
        Index("ix_points_entry_agent_at", "shop_id", "agent_id", "at"),
        Index("ix_points_entry_shop_at", "shop_id", "at"),
    )

    @property
    def assigned_agent_id(self) -> int:
        return self.agent_id
