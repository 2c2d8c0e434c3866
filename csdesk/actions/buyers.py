"""Buyers (买家), keyed by their marketplace nick (旺旺名) within a shop.

Writers here take the caller's ``AsyncSession`` and never commit (see ``catalog``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.batch import insert_returning_ids_by_key
from csdesk.clock import require_aware
from csdesk.storage.enums import BuyerTier
from csdesk.storage.models import Buyer

# Comfortably below SQLite's bound-parameter limit for the lookup of existing nicks.
_LOOKUP_CHUNK = 900


@dataclass(frozen=True)
class BuyerSpec:
    nick: str
    created_at: datetime
    tier: BuyerTier = BuyerTier.NORMAL
    name: str | None = None
    phone: str | None = None
    """PII: shown masked; revealing it needs a reason and is audited."""
    address: str | None = None
    """PII, like ``phone``."""

    def __post_init__(self) -> None:
        if not self.nick:
            raise ValueError("buyer nick must not be empty")
        require_aware(self.created_at, "buyer created_at")


async def ensure_buyers(
    session: AsyncSession, shop_id: str, buyers: Sequence[BuyerSpec]
) -> list[int]:
    """Ids of the buyers with these nicks, inserting the ones the shop does not know yet.

    Known buyers keep their stored data (a chat message carries only a nick; it must not
    wipe the name and address an order brought in). Returns ids in input order.
    """
    nicks = [buyer.nick for buyer in buyers]
    if len(set(nicks)) != len(nicks):
        raise ValueError("buyer nicks in one call must be unique")
    known: dict[str, int] = {}
    for start in range(0, len(nicks), _LOOKUP_CHUNK):
        chunk = nicks[start : start + _LOOKUP_CHUNK]
        result = await session.execute(
            select(Buyer.nick, Buyer.id).where(Buyer.shop_id == shop_id, Buyer.nick.in_(chunk))
        )
        known.update(result.all())
    new_buyers = [buyer for buyer in buyers if buyer.nick not in known]
    rows = [
        {
            "shop_id": shop_id,
            "nick": buyer.nick,
            "tier": buyer.tier,
            "name": buyer.name,
            "phone": buyer.phone,
            "address": buyer.address,
            "created_at": buyer.created_at,
        }
        for buyer in new_buyers
    ]
    new_ids = await insert_returning_ids_by_key(session, Buyer, Buyer.id, Buyer.nick, rows)
    known.update(zip((buyer.nick for buyer in new_buyers), new_ids, strict=True))
    return [known[nick] for nick in nicks]


async def ensure_buyer(session: AsyncSession, shop_id: str, spec: BuyerSpec) -> tuple[Buyer, bool]:
    """One buyer by nick, inserted if new; returns it and whether it was created.

    The live path (one event at a time): a lookup first, since most messages come from
    known buyers; ``ON CONFLICT DO NOTHING`` makes two processes racing on a new nick safe.
    """
    buyer = await session.scalar(
        select(Buyer).where(Buyer.shop_id == shop_id, Buyer.nick == spec.nick)
    )
    if buyer is not None:
        return buyer, False
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    created = await session.scalar(
        insert(Buyer)
        .values(
            shop_id=shop_id,
            nick=spec.nick,
            tier=spec.tier,
            name=spec.name,
            phone=spec.phone,
            address=spec.address,
            created_at=spec.created_at,
        )
        .on_conflict_do_nothing(index_elements=["shop_id", "nick"])
        .returning(Buyer)
    )
    if created is not None:
        return created, True
    buyer = await session.scalar(
        select(Buyer).where(Buyer.shop_id == shop_id, Buyer.nick == spec.nick)
    )
    assert buyer is not None  # the racing insert committed before ours looked
    return buyer, False


def refresh_tier(buyer: Buyer, tier: str | None) -> None:
    """The tier the platform reports now (88VIP comes and goes); None: it did not say."""
    if tier and buyer.tier != BuyerTier(tier):
        buyer.tier = BuyerTier(tier)
