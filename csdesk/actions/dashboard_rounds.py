"""Rebuilding a shop's reply rounds (``response_round``) and chats' ``converted_at`` from
its messages and orders, for rows written in bulk without the message and payment paths
(the demo seed's history). The live paths keep them as they go (``actions.messages``,
``actions.orders.stamp_conversions``); migration 0019 backfilled existing databases with
the same definitions."""

from __future__ import annotations

from typing import Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# A round begins at a buyer message whose previous buyer-or-agent message in its
# conversation (by sent_at, then id) is none or an agent's; the first agent message after
# it answers it.
_ROUNDS: Final = text(
    """
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
    WHERE m.shop_id = :shop_id AND m.sender IN ('buyer', 'agent')
) t
WHERE t.sender = 'buyer' AND (t.previous IS NULL OR t.previous = 'agent')
"""
)
_CONVERTED: Final = text(
    """
UPDATE conversation SET converted_at = (
    SELECT MIN(o.paid_at) FROM shop_order o
     WHERE o.shop_id = conversation.shop_id AND o.buyer_id = conversation.buyer_id
       AND o.paid_at >= conversation.opened_at
)
WHERE shop_id = :shop_id AND kind = 'chat' AND buyer_id IS NOT NULL
"""
)


async def rebuild(session: AsyncSession, shop_id: str) -> None:
    """The shop's rounds and conversions, derived again from its messages and orders."""
    await session.execute(
        text("DELETE FROM response_round WHERE shop_id = :shop_id"), {"shop_id": shop_id}
    )
    await session.execute(_ROUNDS, {"shop_id": shop_id})
    await session.execute(_CONVERTED, {"shop_id": shop_id})


__all__ = ["rebuild"]
