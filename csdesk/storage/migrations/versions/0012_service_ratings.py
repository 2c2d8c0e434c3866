"""service ratings (服务评价) from rating.received, and a note on processed events

service_rating: every rating kept, linked to the rated conversation, its agent and role,
and the event it came with; one current rating per conversation (the latest).
platform_event.note: what a processed event did not do, and why (a rating with no
conversation to rate is stored unlinked).

Chained after 0011 (triage learning) once main had it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:08:05.783962
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import csdesk.storage.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_rating",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column(
            "source_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("buyer_nick", sa.String(length=64), nullable=False),
        sa.Column("buyer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("rated_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", csdesk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["user_account.id"],
            name=op.f("fk_service_rating_agent_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"],
            ["buyer.id"],
            name=op.f("fk_service_rating_buyer_id_buyer"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_service_rating_conversation_id_conversation"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shop.id"],
            name=op.f("fk_service_rating_shop_id_shop"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_event_id"],
            ["platform_event.id"],
            name=op.f("fk_service_rating_source_event_id_platform_event"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_rating")),
        sa.UniqueConstraint("source_event_id", name=op.f("uq_service_rating_source_event_id")),
    )
    with op.batch_alter_table("service_rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_rating_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_service_rating_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_rating_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index("ix_service_rating_shop_rated", ["shop_id", "rated_at"], unique=False)
        batch_op.create_index(
            "uq_service_rating_current",
            ["conversation_id"],
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )

    with op.batch_alter_table("platform_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("platform_event", schema=None) as batch_op:
        batch_op.drop_column("note")

    with op.batch_alter_table("service_rating", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_service_rating_current",
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )
        batch_op.drop_index("ix_service_rating_shop_rated")
        batch_op.drop_index(batch_op.f("ix_service_rating_shop_id"))
        batch_op.drop_index(batch_op.f("ix_service_rating_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_service_rating_agent_id"))

    op.drop_table("service_rating")
