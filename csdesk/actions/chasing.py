"""催付: one chaser per buyer (an exclusive claim that expires), attempts and outcomes.

A claim keeps the buyer's chases for its holder only while it binds
(``routing.assignment.chase_claim_binds``: the holder is on shift and holds the chase's
role). Going off shift releases the holder's claims (:func:`release_claims`); a claim that
no longer binds is taken over by whoever takes the buyer's next chase (:func:`claim_buyer`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.routing.assignment import chase_claim_binds
from csdesk.storage.kinds import CHASE_CLAIM
from csdesk.storage.models import AgentProfile, BuyerClaim


async def claim_holder(
    session: AsyncSession, shop_id: str, buyer_id: int, now: datetime, kind: str = CHASE_CLAIM
) -> int | None:
    """The agent holding an unexpired claim on this buyer, if any (binding or not)."""
    return await session.scalar(
        select(BuyerClaim.agent_id).where(
            BuyerClaim.shop_id == shop_id,
            BuyerClaim.buyer_id == buyer_id,
            BuyerClaim.kind == kind,
            BuyerClaim.expires_at > now,
        )
    )


async def binding_holder(
    session: AsyncSession, shop_id: str, buyer_id: int, role: str, now: datetime
) -> tuple[int | None, bool]:
    """The buyer's chase claim holder and whether the claim keeps a chase of ``role`` for
    them now (``chase_claim_binds``); ``(None, False)`` when nobody holds the buyer."""
    row = (
        await session.execute(
            select(BuyerClaim.agent_id, AgentProfile.status, AgentProfile.service_roles)
            .outerjoin(AgentProfile, AgentProfile.user_id == BuyerClaim.agent_id)
            .where(
                BuyerClaim.shop_id == shop_id,
                BuyerClaim.buyer_id == buyer_id,
                BuyerClaim.kind == CHASE_CLAIM,
                BuyerClaim.expires_at > now,
            )
        )
    ).first()
    if row is None:
        return None, False
    holder, status, roles = row
    return holder, chase_claim_binds(status, roles or (), role)


async def claim_buyer(
    session: AsyncSession,
    shop_id: str,
    buyer_id: int,
    agent_id: int,
    now: datetime,
    ttl: timedelta,
    kind: str = CHASE_CLAIM,
    *,
    role: str | None = None,
) -> int:
    """Try to become this buyer's chaser; returns who holds the claim afterwards.

    One statement decides: insert, or take over only an expired claim (or renew one's own,
    or, given the chase's ``role``, take over a claim that does not bind for it: its holder
    went off shift or cannot work this chase). Concurrent claimers serialize on the unique
    key, so exactly one wins (no 抢单).
    """
    takeover = BuyerClaim.expires_at <= now
    if role is not None:
        holder, binds = await binding_holder(session, shop_id, buyer_id, role, now)
        if holder is not None and holder != agent_id and not binds:
            takeover = takeover | (BuyerClaim.agent_id == holder)
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
        where=takeover | (BuyerClaim.agent_id == agent_id),
    )
    await session.execute(statement)
    holder_now = await claim_holder(session, shop_id, buyer_id, now, kind)
    assert holder_now is not None
    return holder_now


async def release_claims(
    session: AsyncSession, shop_id: str, agent_id: int, now: datetime
) -> list[int]:
    """The agent went off shift: their chase claims end now (the buyers' next chases are
    anyone's on shift). Returns the buyers let go."""
    held = list(
        await session.scalars(
            select(BuyerClaim.buyer_id).where(
                BuyerClaim.shop_id == shop_id,
                BuyerClaim.agent_id == agent_id,
                BuyerClaim.kind == CHASE_CLAIM,
                BuyerClaim.expires_at > now,
            )
        )
    )
    if held:
        await session.execute(
            update(BuyerClaim)
            .where(
                BuyerClaim.shop_id == shop_id,
                BuyerClaim.agent_id == agent_id,
                BuyerClaim.kind == CHASE_CLAIM,
                BuyerClaim.expires_at > now,
            )
            .values(expires_at=now)
            .execution_options(synchronize_session=False)
        )
    return held
