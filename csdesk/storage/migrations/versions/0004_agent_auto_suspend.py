"""agent_profile.auto_suspend_at, auto_suspended: 自动挂起 at N concurrent chats

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_profile") as batch_op:
        batch_op.add_column(sa.Column("auto_suspend_at", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("auto_suspended", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_profile") as batch_op:
        batch_op.drop_column("auto_suspended")
        batch_op.drop_column("auto_suspend_at")
