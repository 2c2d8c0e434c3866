"""The points ledger (积分台账) is append-only: no module builds an UPDATE or DELETE of
``points_entry``, and the ledger's writer only ever adds lines (a reversal is a new line).

What this cannot see, said plainly: an attribute assigned on a loaded ``PointsEntry`` (a
parser cannot tell a model from any other object); ``actions/training/points.py`` assigns
none, and this checks that file for assignments to such attributes by name."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).parents[2]
ROOTS = ("csdesk", "roles", "qc", "training", "seed")
LEDGER_WRITER = REPO / "csdesk/actions/training/points.py"
COLUMNS = {"points", "reason", "source", "ref", "reverses_id", "agent_id", "at", "created_by"}


def _sources() -> list[tuple[str, ast.Module]]:
    found = []
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            relative = path.relative_to(REPO)
            if any((REPO / Path(*relative.parts[:n])).is_symlink() for n in range(1, 4)):
                continue
            found.append((relative.as_posix(), ast.parse(path.read_text(encoding="utf-8"))))
    return found


def ledger_writes(tree: ast.Module) -> list[int]:
    """Lines that build ``update(PointsEntry)`` or ``delete(PointsEntry)``."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        target = node.args[0]
        if (
            called in {"update", "delete"}
            and isinstance(target, ast.Name)
            and target.id == "PointsEntry"
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_nothing_updates_or_deletes_ledger_lines() -> None:
    offenders = [f"{name}:{line}" for name, tree in _sources() for line in ledger_writes(tree)]
    assert offenders == []


def test_the_ledger_writer_never_changes_a_line() -> None:
    tree = ast.parse(LEDGER_WRITER.read_text(encoding="utf-8"))
    changed = [
        f"line {node.lineno}: .{target.attr} ="
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AugAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Attribute) and target.attr in COLUMNS
    ]
    assert changed == []


def test_the_check_sees_an_update_and_a_delete() -> None:
    tree = ast.parse("q = update(PointsEntry).values(points=0)\nsa.delete(PointsEntry)\n")
    assert ledger_writes(tree) == [1, 2]
    assert ledger_writes(ast.parse("insert(PointsEntry)\nupdate(Other)\n")) == []
