"""The access matrix (``tests/data/access_matrix.txt``, see ``tests/access_matrix.py``):
one row per route of the app, one column per kind of caller, checked three ways.

1. Every route has a row and every row a route: a new route without its row fails here.
2. Every row agrees with the access table (``auth/access.py``): a role its rule leaves out
   gets 403, a role it names never does; anonymous callers get 401 (API) or the redirect
   to /login (pages) unless the route is public (or signed by the platform instead);
   another shop's admin never learns anything about shop A's objects (only 400 or 404).
3. The server, over real HTTP, answers each caller as the row says.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from csdesk.auth.access import ACCESS
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from tests import access_matrix
from tests.access_matrix import CALLERS, Row

ROLES = tuple(caller for caller in CALLERS if caller in {r.value for r in UserRole})
SHOP_A_OBJECTS = re.compile(r"\{(conversation_id|buyer_id|user_id|agent_id)\}")
ROWS = access_matrix.load()


def _anonymous_answer(row: Row) -> frozenset[int]:
    machine = row.path.startswith("/api/") or row.path == "/metrics"
    return frozenset({401} if machine else {302})


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_route_has_exactly_one_row(client: TestClient[Any, Any]) -> None:
    keys = [row.key for row in ROWS]
    assert len(keys) == len(set(keys)), "a route listed twice"
    routed = access_matrix.routed(client)
    missing = sorted(routed - set(keys))
    assert not missing, (
        f"routes without a row in {access_matrix.TABLE.name} (run `python -m "
        f"tests.access_matrix`, name their rule, review): {missing}"
    )
    assert not sorted(set(keys) - routed), "rows for routes that no longer exist"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.method} {row.path}")
def test_the_row_agrees_with_the_access_table(row: Row) -> None:
    assert row.rule in ACCESS or row.rule in {"public", "signed-in", "signature"}, row.rule
    if row.rule == "signature":
        # Platform webhooks: the shop's HMAC signature, not a login; unsigned is 401 for all.
        assert set(row.answers.values()) == {frozenset({401})}
        return
    if row.rule == "public":
        assert not row.answers["anonymous"] & {401, 302}
    else:
        assert row.answers["anonymous"] == _anonymous_answer(row)
    if row.rule in ACCESS:
        allowed = {role.value for role in ACCESS[row.rule].roles}
        for role in ROLES:
            if role in allowed:
                assert 403 not in row.answers[role], (role, "is allowed by", row.rule)
            else:
                assert row.answers[role] == {403}, (role, "is not allowed by", row.rule)
    other = row.answers["other_admin"]
    if SHOP_A_OBJECTS.search(row.path):
        assert other <= {400, 404}, "another shop's admin must learn nothing of shop A's objects"
    else:
        assert other == row.answers["admin"], "another shop's admin acts in their own shop"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_server_answers_every_caller_as_the_matrix_says(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    world = await access_matrix.build_world(client, sessions)
    wrong: list[str] = []
    for row in ROWS:
        for caller in CALLERS:
            status = await access_matrix.ask(client, world, row, caller)
            if status not in row.answers[caller]:
                expected = "|".join(map(str, sorted(row.answers[caller])))
                wrong.append(f"{row.method} {row.path} as {caller}: {status}, not {expected}")
    assert not wrong, "\n".join(wrong)
