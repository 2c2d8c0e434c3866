"""dashboard rounds: response_round (a buyer message waiting since asked_at, answered at
answered_at by agent_id) and conversation.converted_at (a chat's buyer paid then), written
as messages and payments are applied, so the 3-minute response rate and 询单转化率 count
indexed rows instead of pairing messages and searching orders; backfilled from the
messages and orders already there.

Chained after 0017 (alerts); the lead re-chains it after 0018.

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-07 18:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import csdesk.storage.types

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_ROUND = sa.text("answered_at IS NULL")

# A round begins at a buyer message whose previous buyer-or-agent message in its
# conversation (by sent_at, then id) is none or an agent's; it is answered by the first
# agent message after it. Window functions: SQLite 3.25+ and PostgreSQL both have them.
BACKFILL_ROUNDS = """
INSERT INTO response_round (id, shop_id, conversation_id, asked_at, answered_at, agent_id)
SELECT t.id, t.shop_id, t.conversation_id, t.sent_at, t.reply_at,
       (SELECT a.author_id FROM message a
         WHERE a.conversation_id = t.conversation_id AND a.sender = 'agent'
           AND a.sent_at = t.reply_at ORDER BY a.id LIMIT 1)
FROM (
    SELECT m.id, m.shop_id, m.conversation_id, m.sender, m.sent_at,
           LAG(m.sender) OVER (PARTITION BY m.conversation_id ORDER BY m.sent_at, m.id)
               AS previous,
           MIN(CASE WHEN m.sender = 'agent' THEN m.sent_at END) OVER (
               PARTITION BY m.conversation_id ORDER BY m.sent_at, m.id
               ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS reply_at
    FROM message m
    WHERE m.sender IN ('buyer', 'agent')
) t
WHERE t.sender = 'buyer' AND (t.previous IS NULL OR t.previous = 'agent')
"""

# A chat's first payment by its buyer at or after it opened.
BACKFILL_CONVERTED = """
UPDATE conversation SET converted_at = (
    SELECT MIN(o.paid_at) FROM shop_order o
     WHERE o.shop_id = conversation.shop_id AND o.buyer_id = conversation.buyer_id
       AND o.paid_at >= conversation.opened_at
)
WHERE kind = 'chat' AND buyer_id IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        "response_round",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column(
            "conversation_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("asked_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["agent_id"], ["user_account.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(BACKFILL_ROUNDS)
    op.create_index(
        "ix_response_round_asked",
        "response_round",
        ["shop_id", "asked_at"],
        unique=False,
        postgresql_include=["answered_at"],
    )
    op.create_index(
        "uq_response_round_open",
        "response_round",
        ["conversation_id"],
        unique=True,
        sqlite_where=OPEN_ROUND,
        postgresql_where=OPEN_ROUND,
    )
    with op.batch_alter_table("conversation") as batch:
        batch.add_column(
            sa.Column(
                "converted_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    op.execute(BACKFILL_CONVERTED)
    op.create_index(
        "ix_conversation_asks",
        "conversation",
        ["shop_id", "kind", "role", "opened_at"],
        unique=False,
        postgresql_include=["buyer_id", "converted_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_asks", table_name="conversation")
    with op.batch_alter_table("conversation") as batch:
        batch.drop_column("converted_at")
    op.drop_index("uq_response_round_open", table_name="response_round")
    op.drop_index("ix_response_round_asked", table_name="response_round")
    op.drop_table("response_round")
