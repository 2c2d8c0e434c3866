"""indexes for the owner dashboard's widgets and series (time windows of one shop)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 16:00:00.000000

Each index serves reads of ``reads/dashboard_metrics.py`` and ``reads/dashboard_series.py``
measured by ``csdesk bench --only dashboard`` (docs/performance.md): pending refunds and
their deadline windows, refunds / orders / conversations / messages of one shop in a time
window (today, the last hour, the last 24 h, the last N days).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_refund_status_deadline", "refund", ["shop_id", "status", "deadline_at"]),
    ("ix_refund_requested", "refund", ["shop_id", "requested_at"]),
    ("ix_conversation_opened", "conversation", ["shop_id", "opened_at"]),
    ("ix_conversation_closed", "conversation", ["shop_id", "closed_at"]),
    ("ix_message_shop_sent", "message", ["shop_id", "sent_at"]),
    ("ix_shop_order_created", "shop_order", ["shop_id", "created_at"]),
    ("ix_shop_order_paid", "shop_order", ["shop_id", "paid_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
