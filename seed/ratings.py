"""What simulated buyers say when they rate the service (服务评价): mostly 4-5 stars, some
1-2, with the kind of comment a buyer leaves. Shared by the demo seed (a week of rated
history) and the demo's live traffic; pure, every choice from the caller's ``rng``."""

from __future__ import annotations

import random
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

SCORES: Final = (5, 4, 3, 2, 1)
WEIGHTS: Final = (0.55, 0.25, 0.08, 0.06, 0.06)
"""A shop with good service: four in five buyers satisfied, about one in eight not."""
RATED_SHARE: Final = 0.4
"""Buyers who rate at all after a conversation."""
COMMENTS: Final[Mapping[int, tuple[str | None, ...]]] = MappingProxyType(
    {
        5: (None, None, "客服很耐心，回复很快", "问题一下就解决了，赞", "服务态度很好👍"),
        4: (None, "还不错", "回复稍微有点慢，总体满意"),
        3: (None, "一般吧", "等了挺久才有人回"),
        2: ("回复太慢，问了好几遍", "答非所问", "说帮我查，结果没下文了"),
        1: ("态度很差，再也不买了", "客服不理人，要投诉", "问题根本没解决"),
    }
)


def buyer_rating(rng: random.Random) -> tuple[int, str | None]:
    """One rating: the stars and a comment (``None``: the buyer wrote nothing)."""
    score = rng.choices(SCORES, WEIGHTS)[0]
    return score, rng.choice(COMMENTS[score])


__all__ = ["COMMENTS", "RATED_SHARE", "SCORES", "WEIGHTS", "buyer_rating"]
