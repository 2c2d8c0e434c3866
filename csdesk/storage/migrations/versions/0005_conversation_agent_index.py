"""index conversations by assigned agent (placement reads each candidate's load)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 02:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_conversation_agent", "conversation", ["assigned_agent_id", "assigned_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_agent", table_name="conversation")
