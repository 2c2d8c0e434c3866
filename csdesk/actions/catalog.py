"""Products (商品): what the shop sells and which gifts the current campaign promises.

Writers here take the caller's ``AsyncSession`` and never commit: the caller decides how
many rows share a transaction (one event, or a seeding batch of a thousand).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.batch import insert_returning_ids_by_key
from csdesk.storage.models import Product


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    title: str
    category: str
    price_fen: int
    gifts: tuple[str, ...] = ()
    """Gifts the current campaign promises with this item (order review checks against them)."""

    def __post_init__(self) -> None:
        if not self.sku:
            raise ValueError("product sku must not be empty")
        if self.price_fen <= 0:
            raise ValueError(f"product {self.sku}: price_fen must be positive")


async def add_products(
    session: AsyncSession, shop_id: str, products: Sequence[ProductSpec]
) -> list[int]:
    """Insert products (SKUs must be new in the shop); returns their ids in input order."""
    rows = [
        {
            "shop_id": shop_id,
            "sku": product.sku,
            "title": product.title,
            "category": product.category,
            "price_fen": product.price_fen,
            "gifts": list(product.gifts),
        }
        for product in products
    ]
    return await insert_returning_ids_by_key(session, Product, Product.id, Product.sku, rows)
