"""whatif_run: what-if simulations asked for from the console (parameters, who, when,
state, progress, result)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 18:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import csdesk.storage.types

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "whatif_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "requested_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("requested_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["user_account.id"],
            name=op.f("fk_whatif_run_requested_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shop.id"], name=op.f("fk_whatif_run_shop_id_shop"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatif_run")),
    )
    with op.batch_alter_table("whatif_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whatif_run_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(
            "ix_whatif_run_shop_requested", ["shop_id", "requested_at"], unique=False
        )
        batch_op.create_index("ix_whatif_run_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("whatif_run", schema=None) as batch_op:
        batch_op.drop_index("ix_whatif_run_status")
        batch_op.drop_index("ix_whatif_run_shop_requested")
        batch_op.drop_index(batch_op.f("ix_whatif_run_shop_id"))
    op.drop_table("whatif_run")
