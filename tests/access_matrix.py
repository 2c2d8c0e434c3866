"""The access matrix: every route × every kind of caller, with the answer expected, in one
table (``tests/data/access_matrix.txt``), checked over real HTTP by
``tests/integration/test_access_matrix.py``.

Rows come from the app's route table: a route without a row fails the suite (so does a row
without a route). Columns are the callers: anonymous, each login role of shop A, and the
admin of another shop B. Each row also names the access rule (``auth/access.py:ACCESS``)
the route is gated by, or ``public``; the test checks the row against the rule too (a role
the rule leaves out must get 403, an anonymous caller 401 or the redirect to /login, and
another shop's admin must not see shop A's objects).

The requests are the same for every caller: path parameters name shop A's objects (the
agent's open chat, a buyer, a colleague), JSON bodies are ``{}`` (so a permitted caller
gets 400 for what is missing, nothing changes), forms are empty. A cell may list answers
that depend on the order of the calls (``200|409``: the owner deactivates a colleague, the
admin then finds them deactivated).

Regenerate after adding a route, then review the diff like code:
``python -m tests.access_matrix`` (writes the table from what the server answers now,
keeping the rule column, and prints the rows whose rule it cannot tell).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aiohttp.test_utils import TestClient, TestServer

from csdesk.actions.shops import ensure_shop
from csdesk.actions.users import create_user, issue_token
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole, UserRole

TABLE: Final = Path(__file__).parent / "data" / "access_matrix.txt"
CALLERS: Final = (
    "anonymous",
    "agent",
    "supervisor",
    "qc_inspector",
    "trainer",
    "owner",
    "admin",
    "other_admin",
)
SHOP_A: Final = "test-shop"
SHOP_B: Final = "other-shop"
MISSING_ID: Final = 987654321
"""Objects the matrix does not build (QC findings, scores, sessions ...): a permitted caller
gets 404, a refused one 403."""


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    rule: str
    answers: dict[str, frozenset[int]]

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


def _cell(raw: str) -> frozenset[int]:
    return frozenset(int(code) for code in raw.split("|"))


def parse(text: str) -> list[Row]:
    rows: list[Row] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        method, path, rule, *cells = line.split()
        if method == "method":
            assert tuple(cells) == CALLERS, f"columns must be {CALLERS}"
            continue
        assert len(cells) == len(CALLERS), f"{method} {path}: {len(cells)} cells"
        rows.append(Row(method, path, rule, dict(zip(CALLERS, map(_cell, cells), strict=True))))
    return rows


def load() -> list[Row]:
    return parse(TABLE.read_text(encoding="utf-8"))


def format_table(rows: list[Row]) -> str:
    def cell(codes: frozenset[int]) -> str:
        return "|".join(str(code) for code in sorted(codes))

    lines = [
        ["method", "path", "rule", *CALLERS],
        *([r.method, r.path, r.rule, *(cell(r.answers[c]) for c in CALLERS)] for r in rows),
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    head = (
        "# The access matrix (see tests/access_matrix.py). Regenerate with\n"
        "# `python -m tests.access_matrix`, then review the diff.\n"
    )
    body = "\n".join(
        "  ".join(
            [*(line[i].ljust(widths[i]) for i in range(3)), *(f"{c:>7}" for c in line[3:])]
        ).rstrip()
        for line in lines
    )
    return head + body + "\n"


# -- the world the requests run in ----------------------------------------------------------


@dataclass(frozen=True)
class World:
    tokens: dict[str, str]
    """Caller → bearer token (no entry for anonymous)."""
    params: dict[str, str]
    """Path parameter → the value used in every row."""


async def build_world(client: TestClient[Any, Any], sessions: SessionFactory) -> World:
    """Shop A with one login per role (the agent online, holding a buyer's chat), a
    colleague to act on, a buyer; shop B with its admin. Through the app's own actions and
    a signed platform event."""
    from tests.helpers import make_agent, post_event, settle

    await ensure_shop(sessions, SHOP_A, "测试店")
    await ensure_shop(sessions, SHOP_B, "别的店")
    tokens: dict[str, str] = {}
    agent_id = await make_agent(sessions, SHOP_A, "m-agent", list(ServiceRole))
    tokens["agent"] = await issue_token(sessions, "m-agent")
    for role in ("supervisor", "qc_inspector", "trainer", "owner", "admin"):
        await create_user(
            sessions, shop_id=SHOP_A, username=f"m-{role}", role=UserRole(role), password=None
        )
        tokens[role] = await issue_token(sessions, f"m-{role}")
    await create_user(
        sessions, shop_id=SHOP_B, username="m-other", role=UserRole.ADMIN, password=None
    )
    tokens["other_admin"] = await issue_token(sessions, "m-other")
    colleague = await create_user(
        sessions, shop_id=SHOP_A, username="m-colleague", role=UserRole.AGENT, password=None
    )
    await post_event(
        client, "message.received", {"buyer_nick": "矩阵买家", "text": "在吗，这个杯子保温多久"}
    )
    await settle(client)
    from sqlalchemy import select

    from csdesk.storage.models import Buyer, Conversation

    async with sessions() as session:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.assigned_agent_id == agent_id)
        )
        buyer_id = await session.scalar(select(Buyer.id).where(Buyer.nick == "矩阵买家"))
    assert conversation is not None, "the agent should hold the buyer's chat"
    params = {
        "conversation_id": str(conversation.id),
        "buyer_id": str(buyer_id),
        "user_id": str(colleague.id),
        "agent_id": str(agent_id),
        "token_id": str(MISSING_ID),
        "event_id": "no-such-event",
        "finding_id": str(MISSING_ID),
        "score_id": str(MISSING_ID),
        "session_id": str(MISSING_ID),
        "proposal_id": str(MISSING_ID),
        "team_id": str(MISSING_ID),
        "group_id": str(MISSING_ID),
        "phrase_id": str(MISSING_ID),
        "media_id": str(MISSING_ID),
        "shop_id": SHOP_A,
        "slot": "1",
        "metric": "chasing.chased",
        "assignment_id": str(MISSING_ID),
        "course_id": str(MISSING_ID),
        "delivery_id": str(MISSING_ID),
        "rule_id": str(MISSING_ID),
        "subscription_id": str(MISSING_ID),
        "schedule_id": str(MISSING_ID),
        "run_id": str(MISSING_ID),
        "name": "no-such-campaign",
        "role": "presales",
        "day": "2026-11-11",
    }
    return World(tokens=tokens, params=params)


def concrete(path: str, params: dict[str, str]) -> str:
    if path == "/static":
        return "/static/console/api.js"
    for name, value in params.items():
        path = path.replace(f"{{{name}}}", value)
    assert "{" not in path, f"no value for a parameter of {path}"
    return path


FORM_ROUTES: Final = frozenset({("POST", "/login"), ("POST", "/logout"), ("POST", "/console/lang")})


async def ask(client: TestClient[Any, Any], world: World, row: Row, caller: str) -> int:
    headers = {}
    if caller != "anonymous":
        headers["Authorization"] = f"Bearer {world.tokens[caller]}"
    path = concrete(row.path, world.params)
    kwargs: dict[str, Any] = {"headers": headers, "allow_redirects": False}
    if row.method in ("POST", "PUT", "PATCH"):
        if row.key in FORM_ROUTES:
            kwargs["data"] = {}
        else:
            kwargs["json"] = {}
    async with client.request(row.method, path, **kwargs) as response:
        await response.read()
        return response.status


def routed(client: TestClient[Any, Any]) -> set[tuple[str, str]]:
    return {
        (route.method, route.resource.canonical)
        for route in client.app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }


# -- regenerating the table ------------------------------------------------------------------


def _rules_seen() -> Generator[list[str], None, None]:
    """Which access rules the app asks about while a request runs (for regenerating only:
    the rule column is then reviewed by hand)."""
    from csdesk.auth import access

    seen: list[str] = []
    original = access.rule_for

    def recording(action: str) -> access.Rule:
        seen.append(action)
        return original(action)

    access.rule_for = recording
    try:
        yield seen
    finally:
        access.rule_for = original


async def regenerate() -> None:
    import tempfile

    from csdesk.app import create_app
    from csdesk.keys import SESSIONS_KEY
    from csdesk.settings import sqlite_url
    from csdesk.storage import migrate
    from tests.conftest import make_settings

    previous = {r.key: r.rule for r in load() if r.rule != "?"} if TABLE.exists() else {}
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        await asyncio.to_thread(migrate.upgrade, sqlite_url(data))
        client = TestClient(TestServer(create_app(make_settings(data, sqlite_url(data), None))))
        await client.start_server()
        try:
            world = await build_world(client, client.app[SESSIONS_KEY])
            rows: list[Row] = []
            unknown: list[str] = []
            for method, path in sorted(routed(client), key=lambda k: (k[1], k[0])):
                probe = Row(method, path, "?", {})
                answers: dict[str, frozenset[int]] = {}
                recorded: list[str] = []
                for caller in CALLERS:
                    rules = _rules_seen()
                    seen = next(rules)
                    answers[caller] = frozenset({await ask(client, world, probe, caller)})
                    recorded.extend(seen)
                    rules.close()
                rule = previous.get((method, path)) or (recorded[0] if recorded else "?")
                if rule == "?":
                    unknown.append(f"{method} {path}")
                rows.append(Row(method, path, rule, answers))
        finally:
            await client.close()
    TABLE.write_text(format_table(rows), encoding="utf-8")
    print(f"wrote {len(rows)} rows to {TABLE}", file=sys.stderr)
    for line in unknown:
        print(f"no rule seen (name it, or `public`): {line}", file=sys.stderr)


if __name__ == "__main__":
    import os

    os.environ.setdefault("CSDESK_INSECURE_FAST_PASSWORD_HASH", "1")
    asyncio.run(regenerate())
