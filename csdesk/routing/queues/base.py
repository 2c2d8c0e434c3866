"""The queue index: queued item ids per (shop, service role), best first.

The database is the source of truth (the queued conversation, chase or call row); this index
only answers "which item next" quickly and hands each item to exactly one claimer. It is
rebuilt from the database at start, so losing it (a Redis flush, a restart in embedded mode)
loses nothing. A loss must still be noticed: a rebuild marks the shop's index as built, and
:meth:`WorkQueue.built` turns false when the marker is gone with the rest (pushes after a
flush recreate role sets, never the marker), so the router restores it and offers the work.

Order: a HIGHER ``sort_key`` comes first; equal keys go to the LOWER item id (the older item).
The router folds linear aging into a time-invariant key, so nothing is re-sorted as time passes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

QueueEntry = tuple[str, int, float]
"""``(role, item_id, sort_key)``, as :meth:`WorkQueue.rebuild` takes them."""


@dataclass(frozen=True, slots=True)
class Claimed:
    """The item a claim took, and the role queue it came from."""

    role: str
    item_id: int
    sort_key: float


class WorkQueue(Protocol):
    """One ordered index per (shop_id, role). Every method is safe under concurrent callers."""

    async def push(self, shop_id: str, role: str, item_id: int, sort_key: float) -> None:
        """Queue ``item_id``, or move it to ``sort_key`` if it is already queued there."""
        ...

    async def remove(self, shop_id: str, role: str, item_id: int) -> bool:
        """Drop the item (the buyer left, the item was rerouted); False if it was not queued."""
        ...

    async def claim(
        self, shop_id: str, roles: Sequence[str], *, exclude: frozenset[int] = frozenset()
    ) -> Claimed | None:
        """Atomically take the best item across ``roles``, skipping ids in ``exclude``.

        An agent holding several roles takes the globally best item of them. No item is ever
        returned to two claimers. ``exclude`` should stay small (items this agent declined):
        each role queue looks at most ``len(exclude) + 1`` items from its head.
        """
        ...

    async def claim_item(self, shop_id: str, role: str, item_id: int) -> bool:
        """Atomically take this item (the sticky owner, or an agent clicking it); False if gone."""
        ...

    async def depth(self, shop_id: str, role: str) -> int: ...

    async def peek(self, shop_id: str, role: str, limit: int = 10) -> list[tuple[int, float]]:
        """The first ``limit`` ``(item_id, sort_key)`` pairs, best first, without claiming."""
        ...

    async def rebuild(self, shop_id: str, items: Iterable[QueueEntry]) -> None:
        """Replace everything queued for the shop by ``items`` (a role absent there ends empty),
        and mark the shop's index built.

        Readers see the old index or the new one, never a mix. Pushes that race with a rebuild
        may be lost, so rebuild from the database before taking traffic (or re-push after).
        """
        ...

    async def restore(self, shop_id: str, items: Iterable[QueueEntry]) -> None:
        """Add ``items`` (queue them, or move them to their key) and mark the index built.

        For a live index found lost: nothing is removed, so a push racing with the restore
        survives; an entry whose row moved on meanwhile is skipped at claim time, as always.
        """
        ...

    async def built(self, shop_id: str) -> bool:
        """False when the shop's index was never built here or has been lost since."""
        ...


QUEUE_KEY: web.AppKey[WorkQueue] = web.AppKey("queue")


def check_names(shop_id: str, role: str) -> None:
    """Shop and role become part of Redis key names; both implementations refuse the same input."""
    for name, value in (("shop_id", shop_id), ("role", role)):
        if not value or "{" in value or "}" in value:
            raise ValueError(f"{name} must be non-empty and free of braces: {value!r}")


def check_item(item_id: int, sort_key: float) -> None:
    """Ids are database ids; NaN has no place in an order, so it is refused, not queued."""
    if isinstance(item_id, bool) or not isinstance(item_id, int) or item_id < 0:
        raise ValueError(f"item_id must be a non-negative int: {item_id!r}")
    if math.isnan(sort_key):
        raise ValueError(f"sort_key must be a number, got NaN for item {item_id}")
