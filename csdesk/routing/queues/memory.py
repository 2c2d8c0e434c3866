"""In-process queue index for embedded mode: one sorted list per (shop, role)."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence

from csdesk.routing.queues.base import Claimed, QueueEntry, check_item, check_names

# An entry sorts as (sort_key, -item_id) ascending, so the best item (highest key, then lowest
# id) is the LAST one: claiming pops from the end of the list, which costs O(1).
_Entry = tuple[float, int]


class _RoleQueue:
    __slots__ = ("entries", "keys")

    def __init__(self) -> None:
        self.entries: list[_Entry] = []
        self.keys: dict[int, float] = {}

    def put(self, item_id: int, sort_key: float) -> None:
        old = self.keys.get(item_id)
        if old is not None:
            if old == sort_key:
                return
            self._drop_entry(item_id, old)
        self.keys[item_id] = sort_key
        bisect.insort(self.entries, (sort_key, -item_id))

    def discard(self, item_id: int) -> bool:
        old = self.keys.pop(item_id, None)
        if old is None:
            return False
        self._drop_entry(item_id, old)
        return True

    def _drop_entry(self, item_id: int, sort_key: float) -> None:
        index = bisect.bisect_left(self.entries, (sort_key, -item_id))
        del self.entries[index]

    def best_index(self, exclude: frozenset[int]) -> int | None:
        """Index of the best entry whose id is not excluded (looks at most len(exclude)+1)."""
        entries = self.entries
        for index in range(len(entries) - 1, -1, -1):
            if -entries[index][1] not in exclude:
                return index
        return None

    def pop_at(self, index: int) -> _Entry:
        entry = self.entries.pop(index)
        del self.keys[-entry[1]]
        return entry


class MemoryWorkQueue:
    """Sorted lists under one lock.

    Under asyncio the methods never await inside, so the loop cannot switch between reading
    the head and popping it: that alone keeps two coroutines from claiming one item. The lock
    extends the same guarantee to threads (the simulator, a sync tool); uncontended it costs
    well under a microsecond.
    """

    def __init__(self) -> None:
        self._shops: dict[str, dict[str, _RoleQueue]] = {}
        self._lock = threading.Lock()

    def _queue(self, shop_id: str, role: str) -> _RoleQueue | None:
        check_names(shop_id, role)
        return self._shops.get(shop_id, {}).get(role)

    async def push(self, shop_id: str, role: str, item_id: int, sort_key: float) -> None:
        check_names(shop_id, role)
        check_item(item_id, sort_key)
        with self._lock:
            self._shops.setdefault(shop_id, {}).setdefault(role, _RoleQueue()).put(
                item_id, float(sort_key)
            )

    async def remove(self, shop_id: str, role: str, item_id: int) -> bool:
        with self._lock:
            queue = self._queue(shop_id, role)
            return queue is not None and queue.discard(item_id)

    async def claim(
        self, shop_id: str, roles: Sequence[str], *, exclude: frozenset[int] = frozenset()
    ) -> Claimed | None:
        with self._lock:
            best: tuple[_Entry, str, _RoleQueue, int] | None = None
            for role in dict.fromkeys(roles):
                queue = self._queue(shop_id, role)
                if queue is None:
                    continue
                index = queue.best_index(exclude)
                # Strictly better only: on a full tie the role named first wins, as in Redis.
                if index is not None and (best is None or queue.entries[index] > best[0]):
                    best = (queue.entries[index], role, queue, index)
            if best is None:
                return None
            (sort_key, neg_id), role, queue, index = best
            queue.pop_at(index)
            return Claimed(role=role, item_id=-neg_id, sort_key=sort_key)

    async def claim_item(self, shop_id: str, role: str, item_id: int) -> bool:
        return await self.remove(shop_id, role, item_id)

    async def depth(self, shop_id: str, role: str) -> int:
        with self._lock:
            queue = self._queue(shop_id, role)
            return 0 if queue is None else len(queue.entries)

    async def peek(self, shop_id: str, role: str, limit: int = 10) -> list[tuple[int, float]]:
        with self._lock:
            queue = self._queue(shop_id, role)
            if queue is None or limit <= 0:
                return []
            return [(-neg_id, key) for key, neg_id in reversed(queue.entries[-limit:])]

    async def restore(self, shop_id: str, items: Iterable[QueueEntry]) -> None:
        for role, item_id, sort_key in items:
            await self.push(shop_id, role, item_id, sort_key)

    async def built(self, shop_id: str) -> bool:
        # It lives and dies with the process, which rebuilds it at start: never lost alone.
        check_names(shop_id, "built")
        return True

    async def rebuild(self, shop_id: str, items: Iterable[QueueEntry]) -> None:
        # Build aside (last entry wins for a repeated id, as a re-push would), then swap in
        # one assignment so claimers see either the old index or the new one.
        latest: dict[str, dict[int, float]] = {}
        for role, item_id, sort_key in items:
            check_names(shop_id, role)
            check_item(item_id, sort_key)
            latest.setdefault(role, {})[item_id] = float(sort_key)
        fresh: dict[str, _RoleQueue] = {}
        for role, keys in latest.items():
            queue = fresh[role] = _RoleQueue()
            queue.keys = keys
            queue.entries = sorted((key, -item_id) for item_id, key in keys.items())
        with self._lock:
            self._shops[shop_id] = fresh
