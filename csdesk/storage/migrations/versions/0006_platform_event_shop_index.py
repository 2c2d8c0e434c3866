"""drop platform_event's index on shop_id alone (the unique (shop_id, event_id) covers it)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 05:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_platform_event_shop_id", table_name="platform_event")


def downgrade() -> None:
    op.create_index("ix_platform_event_shop_id", "platform_event", ["shop_id"], unique=False)
