"""``csdesk/reads/`` never writes: no session write (add, delete, flush, commit, a write
transaction), no INSERT / UPDATE / DELETE built, no row lock, and nothing imported from
``csdesk.actions`` (the writers use reads, never the other way round)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

READS = Path(__file__).resolve().parents[2] / "csdesk" / "reads"
WRITE_METHODS = frozenset(
    {"add", "add_all", "delete", "merge", "flush", "commit", "begin", "begin_nested"}
)
"""Session methods that write or open a write transaction (``sessions.begin()``)."""
WRITE_STATEMENTS = frozenset({"insert", "update", "delete"})
"""SQLAlchemy constructors of writing statements (``sqlalchemy``, its dialects)."""
LOCKS = frozenset({"with_for_update"})
"""A read that locks rows is a write waiting to happen: actions lock, reads do not."""


def problems(source: str) -> list[str]:
    """Every write-like construct in ``source``, as ``line: what``."""
    tree = ast.parse(source)
    sqlalchemy_names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.startswith("sqlalchemy")
    }
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "csdesk.actions" or node.module.startswith("csdesk.actions."):
                found.append(f"{node.lineno}: imports {node.module}")
            if node.module.startswith("sqlalchemy"):
                for alias in node.names:
                    if alias.name in WRITE_STATEMENTS:
                        found.append(f"{node.lineno}: imports {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("csdesk.actions"):
                    found.append(f"{node.lineno}: imports {alias.name}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name, receiver = node.func.attr, node.func.value
            if isinstance(receiver, ast.Name) and receiver.id in sqlalchemy_names:
                if name in WRITE_STATEMENTS:
                    found.append(f"{node.lineno}: builds {receiver.id}.{name}()")
            elif name in WRITE_METHODS:
                found.append(f"{node.lineno}: calls .{name}()")
        elif isinstance(node, ast.keyword) and node.arg in LOCKS:
            found.append(f"{node.lineno}: locks rows ({node.arg}=)")
        elif isinstance(node, ast.Attribute) and node.attr in LOCKS:
            found.append(f"{node.lineno}: locks rows (.{node.attr})")
    return found


def test_the_reads_package_has_modules() -> None:
    modules = sorted(p.name for p in READS.glob("*.py"))
    assert {"board.py", "queues.py", "metrics.py", "orders.py"} <= set(modules)


@pytest.mark.parametrize("path", sorted(READS.glob("*.py")), ids=lambda p: p.name)
def test_a_read_module_never_writes(path: Path) -> None:
    assert problems(path.read_text()) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("async def f(session):\n    session.add(x)\n", ["2: calls .add()"]),
        ("async def f(s):\n    await s.flush()\n", ["2: calls .flush()"]),
        ("async def f(s):\n    await s.commit()\n", ["2: calls .commit()"]),
        ("async def f(s):\n    await s.delete(x)\n", ["2: calls .delete()"]),
        ("async def f(f):\n    async with f.begin() as s:\n        pass\n", ["2: calls .begin()"]),
        ("from sqlalchemy import select, update\n", ["1: imports sqlalchemy.update"]),
        (
            "from sqlalchemy.dialects.postgresql import insert\n",
            ["1: imports sqlalchemy.dialects.postgresql.insert"],
        ),
        ("import sqlalchemy as sa\nsa.delete(T)\n", ["2: builds sa.delete()"]),
        ("from csdesk.actions.routing import place\n", ["1: imports csdesk.actions.routing"]),
        ("from csdesk.actions import routing\n", ["1: imports csdesk.actions"]),
        ("s.get(T, 1, with_for_update=True)\n", ["1: locks rows (with_for_update=)"]),
        ("select(T).with_for_update()\n", ["1: locks rows (.with_for_update)"]),
        ("from sqlalchemy import func, select\nselect(func.count())\n", []),
        ("data = {}\ndata.update(more)\nrows.insert(0, row)\n", []),
        ("async def f(s):\n    await s.get(T, 1)\n    await s.scalars(select(T))\n", []),
    ],
)
def test_the_check_finds_writes(source: str, expected: list[str]) -> None:
    assert problems(source) == expected
