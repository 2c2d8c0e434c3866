"""Redis member encoding: zero-padded ids sort as strings exactly as they do as numbers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from csdesk.routing.queues.redis import member

BIGINT_IDS = st.integers(0, 2**63 - 1)


@given(BIGINT_IDS, BIGINT_IDS)
def test_member_order_is_numeric_order(a: int, b: int) -> None:
    assert (member(a) < member(b)) == (a < b)
    assert int(member(a)) == a


def test_member_has_fixed_width() -> None:
    assert member(0) == "0" * 20
    assert member(9) < member(10)
    assert len(member(2**63 - 1)) == 20
