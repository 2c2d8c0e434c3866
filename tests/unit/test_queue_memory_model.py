"""Property test: the memory queue against a plain model, under random interleavings.

Every operation runs as its own coroutine that yields to the loop a random number of times
first, so claims, pushes and removals interleave in hypothesis-chosen orders. The queue's
calls never suspend inside, so the order in which they complete is the order in which they
happened; the model replays that order and must give the same answer to every call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from csdesk.routing.queues import Claimed, MemoryWorkQueue, QueueEntry

SHOPS = ("s1", "s2")
ROLES = ("presales", "refund", "hotline")

Op = tuple[Any, ...]


@dataclass
class Model:
    queues: dict[tuple[str, str], dict[int, float]] = field(default_factory=dict)

    def _q(self, shop: str, role: str) -> dict[int, float]:
        return self.queues.setdefault((shop, role), {})

    def push(self, shop: str, role: str, item_id: int, key: float) -> None:
        self._q(shop, role)[item_id] = key

    def remove(self, shop: str, role: str, item_id: int) -> bool:
        return self._q(shop, role).pop(item_id, None) is not None

    claim_item = remove

    def claim(self, shop: str, roles: tuple[str, ...], exclude: frozenset[int]) -> Claimed | None:
        best: tuple[tuple[float, int], str, int] | None = None
        for role in roles:
            for item_id, key in self._q(shop, role).items():
                rank = (key, -item_id)
                if item_id not in exclude and (best is None or rank > best[0]):
                    best = (rank, role, item_id)
        if best is None:
            return None
        (key, _), role, item_id = best
        del self._q(shop, role)[item_id]
        return Claimed(role, item_id, key)

    def depth(self, shop: str, role: str) -> int:
        return len(self._q(shop, role))

    def peek(self, shop: str, role: str, limit: int) -> list[tuple[int, float]]:
        ordered = sorted(self._q(shop, role).items(), key=lambda pair: (-pair[1], pair[0]))
        return ordered[: max(limit, 0)]

    def rebuild(self, shop: str, entries: list[QueueEntry]) -> None:
        for key in [k for k in self.queues if k[0] == shop]:
            del self.queues[key]
        for role, item_id, sort_key in entries:
            self.push(shop, role, item_id, sort_key)


shops = st.sampled_from(SHOPS)
roles = st.sampled_from(ROLES)
item_ids = st.integers(0, 12)
# Mostly a few round keys (ties to break), sometimes any float but NaN.
sort_keys = st.one_of(st.integers(-2, 2).map(float), st.floats(allow_nan=False))

operations = st.one_of(
    st.tuples(st.just("push"), shops, roles, item_ids, sort_keys),
    st.tuples(st.just("push"), shops, roles, item_ids, sort_keys),
    st.tuples(
        st.just("claim"),
        shops,
        st.lists(roles, min_size=0, max_size=4).map(tuple),
        st.frozensets(item_ids, max_size=3),
    ),
    st.tuples(st.just("claim_item"), shops, roles, item_ids),
    st.tuples(st.just("remove"), shops, roles, item_ids),
    st.tuples(st.just("depth"), shops, roles),
    st.tuples(st.just("peek"), shops, roles, st.integers(-1, 6)),
    st.tuples(
        st.just("rebuild"), shops, st.lists(st.tuples(roles, item_ids, sort_keys), max_size=8)
    ),
)


async def _apply(queue: MemoryWorkQueue, op: Op) -> Any:
    name, *args = op
    if name == "claim":
        shop, claim_roles, exclude = args
        return await queue.claim(shop, claim_roles, exclude=exclude)
    return await getattr(queue, name)(*args)


def _apply_model(model: Model, op: Op) -> Any:
    name, *args = op
    if name == "claim":
        shop, claim_roles, exclude = args
        return model.claim(shop, tuple(dict.fromkeys(claim_roles)), exclude)
    return getattr(model, name)(*args)


async def _run_interleaved(steps: list[tuple[Op, int]]) -> list[tuple[Op, Any]]:
    queue = MemoryWorkQueue()
    happened: list[tuple[Op, Any]] = []

    async def actor(op: Op, yields: int) -> None:
        for _ in range(yields):
            await asyncio.sleep(0)
        happened.append((op, await _apply(queue, op)))

    await asyncio.gather(*(actor(op, yields) for op, yields in steps))
    # Whatever is left must drain in model order too.
    for shop in SHOPS:
        op: Op = ("claim", shop, ROLES, frozenset())
        while (result := await _apply(queue, op)) is not None:
            happened.append((op, result))
        happened.append((op, None))
    return happened


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(operations, st.integers(0, 4)), max_size=60))
def test_memory_queue_matches_the_model(steps: list[tuple[Op, int]]) -> None:
    happened = asyncio.run(_run_interleaved(steps))

    model = Model()
    for op, result in happened:
        assert result == _apply_model(model, op), op
