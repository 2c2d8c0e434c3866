"""indexes for the owner dashboard's widgets and series (time windows of one shop)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 16:00:00.000000

Each index serves reads of ``reads/dashboard_metrics.py`` and ``reads/dashboard_series.py``
measured by ``csdesk bench --only dashboard`` (docs/performance.md): pending refunds and
their deadline windows, refunds / orders / conversations / messages of one shop in a time
window (today, the last hour, the last 24 h, the last N days).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, str, list[str], list[str]], ...] = (
    # name, table, key columns, covered columns (PostgreSQL INCLUDE: the dashboard's counts
    # read them from the index alone; SQLite ignores it).
    (
        "ix_refund_status_deadline",
        "refund",
        ["shop_id", "status", "deadline_at"],
        ["amount_fen", "kind", "reason"],
    ),
    ("ix_refund_requested", "refund", ["shop_id", "requested_at"], ["kind"]),
    (
        "ix_conversation_opened",
        "conversation",
        ["shop_id", "opened_at"],
        ["kind", "role", "status", "buyer_id", "assigned_at", "first_response_at"],
    ),
    (
        "ix_conversation_closed",
        "conversation",
        ["shop_id", "closed_at"],
        ["role", "status", "assigned_at", "refund_id", "disposition"],
    ),
    (
        "ix_conversation_kind_opened",
        "conversation",
        ["shop_id", "kind", "opened_at"],
        ["assigned_agent_id", "attempts", "recovered_fen"],
    ),
    (
        "ix_message_shop_sent",
        "message",
        ["shop_id", "sent_at"],
        ["sender", "conversation_id", "id"],
    ),
    ("ix_shop_order_created", "shop_order", ["shop_id", "created_at"], []),
    ("ix_shop_order_paid", "shop_order", ["shop_id", "paid_at"], ["buyer_id"]),
)

QUEUED = sa.text("status = 'queued'")
UNANSWERED = sa.text("status IN ('queued', 'assigned') AND first_response_at IS NULL")
PARTIAL: tuple[tuple[str, list[str], list[str], sa.TextClause], ...] = (
    # The queues (depth, oldest wait per role) and the open items nobody answered yet (SLA
    # breaches): a few rows of the shop's many, each in an index of its own.
    ("ix_conversation_queued", ["shop_id", "role", "enqueued_at"], [], QUEUED),
    ("ix_conversation_unanswered", ["shop_id", "due_at"], ["role"], UNANSWERED),
)


def upgrade() -> None:
    for name, table, columns, covered in INDEXES:
        op.create_index(name, table, columns, unique=False, postgresql_include=covered)
    for name, columns, covered, where in PARTIAL:
        op.create_index(
            name,
            "conversation",
            columns,
            unique=False,
            postgresql_include=covered,
            postgresql_where=where,
            sqlite_where=where,
        )


def downgrade() -> None:
    for name, _, _, _ in reversed(PARTIAL):
        op.drop_index(name, table_name="conversation")
    for name, table, _, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
