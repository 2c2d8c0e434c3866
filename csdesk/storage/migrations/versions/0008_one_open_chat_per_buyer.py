"""one open chat per buyer: a partial unique index on conversation (shop_id, buyer_id)

Two web processes applying the same buyer's messages at once each opened a chat; the index
makes the database refuse the second. Buyers who already have several open chats keep one
(the assigned one, else the oldest): the others' messages move into it and they are closed
with disposition ``merged``, so the index can be built.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:30:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from csdesk.storage.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_CHAT = "kind = 'chat' AND status IN ('scheduled', 'queued', 'assigned')"


def _merge_duplicate_open_chats() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            f"SELECT id, shop_id, buyer_id, status FROM conversation "
            f"WHERE buyer_id IS NOT NULL AND {OPEN_CHAT} ORDER BY shop_id, buyer_id, id"
        )
    ).all()
    by_buyer: dict[tuple[str, int], list[tuple[int, str]]] = {}
    for conversation_id, shop_id, buyer_id, status in rows:
        by_buyer.setdefault((shop_id, buyer_id), []).append((conversation_id, status))
    now = datetime.now(UTC)
    for chats in by_buyer.values():
        if len(chats) < 2:
            continue
        keep = next((cid for cid, status in chats if status == "assigned"), chats[0][0])
        for duplicate, _ in chats:
            if duplicate == keep:
                continue
            bind.execute(
                sa.text("UPDATE message SET conversation_id = :keep WHERE conversation_id = :dup"),
                {"keep": keep, "dup": duplicate},
            )
            bind.execute(
                sa.text(
                    "UPDATE conversation SET status = 'closed', closed_at = :now, "
                    "disposition = 'merged' WHERE id = :dup"
                ).bindparams(sa.bindparam("now", type_=UTCDateTime())),
                {"now": now, "dup": duplicate},
            )


def upgrade() -> None:
    _merge_duplicate_open_chats()
    op.create_index(
        "uq_conversation_open_chat",
        "conversation",
        ["shop_id", "buyer_id"],
        unique=True,
        sqlite_where=sa.text(OPEN_CHAT),
        postgresql_where=sa.text(OPEN_CHAT),
    )


def downgrade() -> None:
    op.drop_index("uq_conversation_open_chat", table_name="conversation")
