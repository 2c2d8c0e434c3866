"""index conversations by agent, status and channel (placement counts each agent's open load)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 06:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_conversation_agent_load",
        "conversation",
        ["assigned_agent_id", "status", "channel"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_agent_load", table_name="conversation")
