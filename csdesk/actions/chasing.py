"""催付: one chaser per buyer (an exclusive claim that expires), attempts and outcomes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.storage.kinds import CHASE_CLAIM
from csdesk.storage.models import BuyerClaim


async def claim_holder(
    session: AsyncSession, shop_id: str, buyer_id: int, now: datetime, kind: str = CHASE_CLAIM
) -> int | None:
    """The agent holding an unexpired claim on this buyer, if any."""
    return await session.scalar(
        select(BuyerClaim.agent_id).where(
            BuyerClaim.shop_id == shop_id,
            BuyerClaim.buyer_id == buyer_id,
            BuyerClaim.kind == kind,
            BuyerClaim.expires_at > now,
        )
    )


async def claim_buyer(
    session: AsyncSession,
    shop_id: str,
    buyer_id: int,
    agent_id: int,
    now: datetime,
    ttl: timedelta,
    kind: str = CHASE_CLAIM,
) -> int:
    """Try to become this buyer's chaser; returns who holds the claim afterwards.

    One statement decides: insert, or take over only an expired claim (or renew one's own).
    Concurrent claimers serialize on the unique key, so exactly one wins (no 抢单).
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(BuyerClaim).values(
        shop_id=shop_id,
        buyer_id=buyer_id,
        kind=kind,
        agent_id=agent_id,
        claimed_at=now,
        expires_at=now + ttl,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["shop_id", "buyer_id", "kind"],
        set_={"agent_id": agent_id, "claimed_at": now, "expires_at": now + ttl},
        where=(BuyerClaim.expires_at <= now) | (BuyerClaim.agent_id == agent_id),
    )
    await session.execute(statement)
    holder = await claim_holder(session, shop_id, buyer_id, now, kind)
    assert holder is not None
    return holder
