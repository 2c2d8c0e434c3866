"""training (培训) and points (积分制): courses and versions, course assets, finding → course
rules, assignments on the version taken, quiz attempts, reminders sent, the points ledger

Chained after 0014 (outbound) once main had 0011 (triage learning), 0012 (service
ratings), 0013 (console library) and 0014.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 15:11:01.268092
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import csdesk.storage.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "points_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "finding",
                "dispute_reversal",
                "praise",
                "rating",
                "recovered_chase",
                "course_passed",
                "award",
                name="pointssource",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("ref", sa.String(length=64), nullable=True),
        sa.Column(
            "reverses_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["user_account.id"],
            name=op.f("fk_points_entry_agent_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_points_entry_created_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["points_entry.id"],
            name=op.f("fk_points_entry_reverses_id_points_entry"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shop.id"], name=op.f("fk_points_entry_shop_id_shop"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entry")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_points_entry_reverses_id")),
        sa.UniqueConstraint("shop_id", "source", "ref", name="uq_points_entry_source_ref"),
    )
    with op.batch_alter_table("points_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_points_entry_agent_at", ["shop_id", "agent_id", "at"], unique=False
        )
        batch_op.create_index("ix_points_entry_shop_at", ["shop_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_points_entry_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "training_course",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("starter", sa.Boolean(), nullable=False),
        sa.Column("due_days", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "archived", name="coursestatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column(
            "origin",
            sa.Enum("trainer", "script_update", name="courseorigin", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("script_role", sa.String(length=32), nullable=True),
        sa.Column("script_version", sa.Integer(), nullable=True),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_training_course_created_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shop.id"],
            name=op.f("fk_training_course_shop_id_shop"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_course")),
        sa.UniqueConstraint(
            "shop_id", "script_role", "script_version", name="uq_training_course_script"
        ),
    )
    with op.batch_alter_table("training_course", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_course_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "training_asset",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column(
            "course_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_course.id"],
            name=op.f("fk_training_asset_course_id_training_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_training_asset_created_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shop.id"],
            name=op.f("fk_training_asset_shop_id_shop"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_asset")),
        sa.UniqueConstraint("course_id", "name", name="uq_training_asset_name"),
    )
    with op.batch_alter_table("training_asset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_asset_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "training_course_version",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column(
            "course_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_training_course_version_author_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_course.id"],
            name=op.f("fk_training_course_version_course_id_training_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shop.id"],
            name=op.f("fk_training_course_version_shop_id_shop"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_course_version")),
        sa.UniqueConstraint("course_id", "version", name="uq_training_course_version"),
    )
    with op.batch_alter_table("training_course_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_course_version_course_id"), ["course_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_training_course_version_shop_id"), ["shop_id"], unique=False
        )

    op.create_table(
        "training_rule",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column(
            "course_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("due_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_course.id"],
            name=op.f("fk_training_rule_course_id_training_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_training_rule_created_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shop.id"], name=op.f("fk_training_rule_shop_id_shop"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_rule")),
    )
    with op.batch_alter_table("training_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_rule_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "training_assignment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column(
            "course_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "version_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "manual",
                "rule",
                "script_update",
                "onboarding",
                name="assignmentsource",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("finding_ids", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "assigned_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("assigned_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "assigned",
                "passed",
                "cancelled",
                name="assignmentstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("best_score", sa.Integer(), nullable=True),
        sa.Column("passed_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("boost_until", csdesk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["user_account.id"],
            name=op.f("fk_training_assignment_agent_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["user_account.id"],
            name=op.f("fk_training_assignment_assigned_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_course.id"],
            name=op.f("fk_training_assignment_course_id_training_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["training_rule.id"],
            name=op.f("fk_training_assignment_rule_id_training_rule"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shop.id"],
            name=op.f("fk_training_assignment_shop_id_shop"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["training_course_version.id"],
            name=op.f("fk_training_assignment_version_id_training_course_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_assignment")),
    )
    with op.batch_alter_table("training_assignment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_assignment_agent", ["shop_id", "agent_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_training_assignment_course_id"), ["course_id"], unique=False
        )
        batch_op.create_index("ix_training_assignment_due", ["status", "due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_training_assignment_shop_id"), ["shop_id"], unique=False
        )
        batch_op.create_index(
            "uq_training_assignment_open",
            ["course_id", "agent_id"],
            unique=True,
            sqlite_where=sa.text("status = 'assigned'"),
            postgresql_where=sa.text("status = 'assigned'"),
        )

    op.create_table(
        "training_attempt",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column(
            "assignment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "version_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["user_account.id"],
            name=op.f("fk_training_attempt_agent_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["training_assignment.id"],
            name=op.f("fk_training_attempt_assignment_id_training_assignment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shop.id"],
            name=op.f("fk_training_attempt_shop_id_shop"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["training_course_version.id"],
            name=op.f("fk_training_attempt_version_id_training_course_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_attempt")),
    )
    with op.batch_alter_table("training_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_attempt_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_training_attempt_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "training_reminder",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column(
            "assignment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sent_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["user_account.id"],
            name=op.f("fk_training_reminder_agent_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["training_assignment.id"],
            name=op.f("fk_training_reminder_assignment_id_training_assignment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shop.id"],
            name=op.f("fk_training_reminder_shop_id_shop"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_reminder")),
        sa.UniqueConstraint("assignment_id", "kind", name="uq_training_reminder_kind"),
    )
    with op.batch_alter_table("training_reminder", schema=None) as batch_op:
        batch_op.create_index("ix_training_reminder_agent", ["agent_id", "seen_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_reminder_shop_id"), ["shop_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_reminder_shop_id"))
        batch_op.drop_index("ix_training_reminder_agent")

    op.drop_table("training_reminder")
    with op.batch_alter_table("training_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_attempt_shop_id"))
        batch_op.drop_index(batch_op.f("ix_training_attempt_assignment_id"))

    op.drop_table("training_attempt")
    with op.batch_alter_table("training_assignment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_training_assignment_open",
            sqlite_where=sa.text("status = 'assigned'"),
            postgresql_where=sa.text("status = 'assigned'"),
        )
        batch_op.drop_index(batch_op.f("ix_training_assignment_shop_id"))
        batch_op.drop_index("ix_training_assignment_due")
        batch_op.drop_index(batch_op.f("ix_training_assignment_course_id"))
        batch_op.drop_index("ix_training_assignment_agent")

    op.drop_table("training_assignment")
    with op.batch_alter_table("training_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_rule_shop_id"))

    op.drop_table("training_rule")
    with op.batch_alter_table("training_course_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_course_version_shop_id"))
        batch_op.drop_index(batch_op.f("ix_training_course_version_course_id"))

    op.drop_table("training_course_version")
    with op.batch_alter_table("training_asset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_asset_shop_id"))

    op.drop_table("training_asset")
    with op.batch_alter_table("training_course", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_course_shop_id"))

    op.drop_table("training_course")
    with op.batch_alter_table("points_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_entry_shop_id"))
        batch_op.drop_index("ix_points_entry_shop_at")
        batch_op.drop_index("ix_points_entry_agent_at")

    op.drop_table("points_entry")
