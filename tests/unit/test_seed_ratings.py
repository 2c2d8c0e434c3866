"""The simulated buyers' ratings (demo seed and live demo traffic): mostly 4-5 stars, some
1-2, each comment fitting its stars, reproducible from the seed."""

from __future__ import annotations

import random
from collections import Counter

from csdesk.seed.ratings import COMMENTS, SCORES, WEIGHTS, buyer_rating


def test_mostly_satisfied_some_not() -> None:
    draws = [buyer_rating(random.Random(f"r{n}")) for n in range(2000)]
    stars = Counter(score for score, _ in draws)
    assert set(stars) == set(SCORES)
    assert (stars[4] + stars[5]) / len(draws) > 0.7
    assert 0.05 < (stars[1] + stars[2]) / len(draws) < 0.25
    assert abs(sum(WEIGHTS) - 1) < 1e-9


def test_comments_fit_their_stars_and_draws_repeat() -> None:
    for _ in range(200):
        score, comment = buyer_rating(random.Random(7))
        assert comment in COMMENTS[score]
    rng_a, rng_b = random.Random(3), random.Random(3)
    assert [buyer_rating(rng_a) for _ in range(50)] == [buyer_rating(rng_b) for _ in range(50)]
