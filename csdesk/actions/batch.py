"""Helpers shared by the batch writers: one multi-row INSERT per call, ids in input order.

They use Core ``insert(table)``, not the ORM's bulk path: the ORM leaves None values out
and groups rows by which columns are set, which splits a batch of orders (paid or not,
invoice or not ...) into thousands of small statements. Core sends every row with the same
columns, so SQLAlchemy packs a batch into a few multi-row INSERTs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from csdesk.storage.models import Base

Row = Mapping[str, Any]


def table_of(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


async def insert_rows(session: AsyncSession, model: type[Base], rows: Sequence[Row]) -> None:
    """Insert without reading anything back (the cheapest path, for rows nobody refers to)."""
    if rows:
        await session.execute(insert(table_of(model)), list(rows))


async def insert_returning_ids_by_key(
    session: AsyncSession,
    model: type[Base],
    id_column: InstrumentedAttribute[int],
    key_column: InstrumentedAttribute[str] | InstrumentedAttribute[int | None],
    rows: Sequence[Row],
) -> list[int]:
    """Insert ``rows`` and return their ids in input order, matched through a unique key.

    SQLite does not promise that RETURNING yields rows in VALUES order, and SQLAlchemy's
    ``sort_by_parameter_order`` falls back to one statement per row there (~10x slower),
    so rows that carry a natural key (nick, sku, external id) are matched by it instead.
    """
    if not rows:
        return []
    table = table_of(model)
    key = table.c[key_column.key]
    result = await session.execute(insert(table).returning(key, table.c[id_column.key]), list(rows))
    id_by_key: dict[object, int] = dict(result.all())
    return [id_by_key[row[key.key]] for row in rows]


async def insert_returning_ids_in_order(
    session: AsyncSession,
    model: type[Base],
    id_column: InstrumentedAttribute[int],
    rows: Sequence[Row],
) -> list[int]:
    """Insert ``rows`` and return their ids in input order, for rows without a natural key."""
    if not rows:
        return []
    table = table_of(model)
    result = await session.execute(
        insert(table).returning(table.c[id_column.key], sort_by_parameter_order=True),
        list(rows),
    )
    return list(result.scalars())
