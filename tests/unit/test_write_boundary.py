"""Writes happen in ``csdesk/actions/`` (and the ``csdesk/storage/`` plumbing) only.

The rule, checked on the parsed source of every module of csdesk (``roles/``, ``qc/`` and
``seed/`` through their own directories), outside those two folders:

- no ORM unit-of-work write: a call of ``add``, ``add_all``, ``delete`` or ``merge`` on
  something named like a session (``session.add(row)``, ``self._session.delete(x)``);
- no SQL write statement built: sqlalchemy's ``insert``, ``update`` or ``delete``
  (imported from ``sqlalchemy`` or one of its dialects, called by any name), or ``text()``
  of a literal starting with INSERT, UPDATE or DELETE;
- no driver-level write statement of ``storage.direct`` (``DirectInsert``,
  ``DirectUpdate``, ``DirectUpdateEach``).

Reads (``select``, ``session.get``, ``session.execute(select(...))``) are fine anywhere.
What this cannot see, said plainly: assigning an attribute of a loaded ORM object
(``order.status = ...``) is a write once the session flushes, and a parser cannot tell a
model from any other object. Those stay a review rule: state changes are functions in
``actions/`` (``orders.mark_paid``, ``refunds.cancel_refund``, ``closing.close_conversation``)
that handlers call.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).parents[2]
SOURCE_ROOTS = ("csdesk", "roles", "qc", "training", "seed")
"""``csdesk/roles`` and the like are symlinks to the top-level folders: walked once, there."""
WRITERS = ("csdesk/actions/", "csdesk/storage/")
UNIT_OF_WORK_WRITES = frozenset({"add", "add_all", "delete", "merge"})
SQL_WRITES = frozenset({"insert", "update", "delete"})
DIRECT_WRITES = frozenset({"DirectInsert", "DirectUpdate", "DirectUpdateEach"})


def modules() -> Iterator[tuple[str, ast.Module]]:
    for root in SOURCE_ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            relative = path.relative_to(REPO)
            if any((REPO / Path(*relative.parts[:n])).is_symlink() for n in range(1, 4)):
                continue
            name = relative.as_posix()
            if not name.startswith(WRITERS):
                yield name, ast.parse(path.read_text(encoding="utf-8"), filename=name)


def _sql_write_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to sqlalchemy's write constructs, and module aliases that carry them
    (``from sqlalchemy.dialects import postgresql`` → ``postgresql.insert``)."""
    functions: set[str] = set()
    modules_: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            for alias in node.names:
                if alias.name in SQL_WRITES:
                    functions.add(alias.asname or alias.name)
                elif alias.name in ("postgresql", "sqlite", "mysql"):
                    modules_.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sqlalchemy"):
                    modules_.add((alias.asname or alias.name).split(".")[0])
    return functions, modules_


def _named_like_a_session(node: ast.expr) -> bool:
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return "session" in name.lower()


def writes(tree: ast.Module) -> Iterator[tuple[int, str]]:
    functions, sa_modules = _sql_write_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in UNIT_OF_WORK_WRITES
            and _named_like_a_session(func.value)
        ):
            yield node.lineno, f"session.{func.attr}()"
        elif isinstance(func, ast.Name) and func.id in functions:
            yield node.lineno, f"sqlalchemy {func.id}()"
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in SQL_WRITES
            and isinstance(func.value, ast.Name)
            and func.value.id in sa_modules
        ):
            yield node.lineno, f"sqlalchemy {func.value.id}.{func.attr}()"
        elif isinstance(func, ast.Name) and func.id in DIRECT_WRITES:
            yield node.lineno, f"storage.direct {func.id}"
        elif isinstance(func, ast.Name) and func.id == "text" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                verb = first.value.lstrip().split(" ", 1)[0].upper()
                if verb in {"INSERT", "UPDATE", "DELETE"}:
                    yield node.lineno, f"text({verb} ...)"


def test_writes_only_in_actions_and_storage() -> None:
    found = [f"{name}:{line}: {what}" for name, tree in modules() for line, what in writes(tree)]
    assert found == [], "writes outside csdesk/actions/ and csdesk/storage/:\n" + "\n".join(found)


SAMPLES = {
    "session.add(row)": True,
    "self._session.delete(row)": True,
    "await session.execute(update(Order).values(status=1))": True,
    "postgresql.insert(Buyer)": True,
    "text('DELETE FROM buyer')": True,
    "_X = DirectUpdate(table, ('status',))": True,
    "await session.execute(select(Order))": False,
    "queue.remove(shop, role, 1)": False,
    "ids.add(3)": False,
    "text('SELECT 1')": False,
}


def test_the_rule_sees_what_it_claims_to() -> None:
    """The check itself, on samples: each write form found, reads and other calls not."""
    header = (
        "from sqlalchemy import insert, update, delete, select, text\n"
        "from sqlalchemy.dialects import postgresql\n"
    )
    for source, is_write in SAMPLES.items():
        found = list(writes(ast.parse(header + source)))
        assert bool(found) is is_write, (source, found)
