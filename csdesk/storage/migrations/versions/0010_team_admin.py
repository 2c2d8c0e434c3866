"""team administration: one-time passwords, trainee agents, named API tokens

user_account.must_change_password (a password an admin set must be changed at first
login), agent_profile.trainee (the training issue's flag), api_token.name.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("agent_profile") as batch_op:
        batch_op.add_column(
            sa.Column("trainee", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.drop_column("name")
    with op.batch_alter_table("agent_profile") as batch_op:
        batch_op.drop_column("trainee")
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("must_change_password")
