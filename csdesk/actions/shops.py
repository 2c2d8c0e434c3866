"""Shops: the tenant every row belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from csdesk.clock import utcnow
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import Shop

DEFAULT_SHOP_ID = "demo-shop"


async def ensure_shop(
    sessions: SessionFactory,
    shop_id: str = DEFAULT_SHOP_ID,
    name: str = "演示旗舰店",
    *,
    now: datetime | None = None,
) -> Shop:
    """Return the shop, creating it on first use."""
    async with sessions.begin() as session:
        shop = await session.get(Shop, shop_id)
        if shop is None:
            shop = Shop(id=shop_id, name=name, created_at=now or utcnow(), config={})
            session.add(shop)
        return shop


async def default_shop_id(sessions: SessionFactory) -> str | None:
    """The first shop, for single-shop tools (the CLI) that are not told which one."""
    async with sessions() as session:
        return await session.scalar(select(Shop.id).order_by(Shop.created_at, Shop.id).limit(1))
