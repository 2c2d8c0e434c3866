"""No import cycle between csdesk's top-level subpackages (actions, routing, ingest, web,
storage, roles, qc, ...): the folders form layers, each importing only those below it.

Every import statement counts wherever it is: at module level, inside a function (a
function-local import only hides a cycle from the interpreter, not from the design), and
under ``TYPE_CHECKING``. Top-level modules (``app``, ``keys``, ``settings``, ``clock``,
``errors``, ``platform_events``...) are not folders: they are the composition root, the
shared keys and leaf helpers, and are left out of the graph.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import csdesk

PACKAGE = Path(csdesk.__file__).parent
KNOWN_EDGES = {
    ("auth", "actions"): (
        "csdesk/auth/middleware.py",
        "the login middleware is the web edge's (it authenticates through actions.users, "
        "which records token use); it belongs in csdesk/web/ with the other request "
        "handling, where the web-edge work (issue 10, door) moves it",
    ),
}
"""Edges tolerated for now, each limited to the one file named, with the reason. A new
import along such an edge from any other file still fails."""


def folders() -> list[str]:
    return sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())


def _imported(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative: resolve against the importing module's package
        base = module.split(".")[: -node.level]
        target = ".".join([*base, *([node.module] if node.module else [])])
    else:
        target = node.module or ""
    if target == "csdesk":
        return [f"csdesk.{alias.name}" for alias in node.names]
    return [target]


def folder_imports() -> dict[str, dict[str, str]]:
    """folder → {imported folder: one ``file:line`` that does it}."""
    units = set(folders())
    edges: dict[str, dict[str, str]] = defaultdict(dict)
    for unit in units:
        for path in sorted((PACKAGE / unit).rglob("*.py")):
            relative = path.relative_to(PACKAGE)
            module = ".".join(("csdesk", *relative.with_suffix("").parts))
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(relative))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                for target in _imported(node, module):
                    parts = target.split(".")
                    inside = len(parts) >= 2 and parts[0] == "csdesk" and parts[1] in units
                    if not inside or parts[1] == unit:
                        continue
                    known = KNOWN_EDGES.get((unit, parts[1]))
                    if known is not None and f"csdesk/{relative.as_posix()}" == known[0]:
                        continue
                    edges[unit].setdefault(parts[1], f"{relative}:{node.lineno}")
    return edges


def cycles(edges: dict[str, dict[str, str]]) -> list[list[str]]:
    """Strongly connected groups of more than one folder (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in edges.get(node, {}):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted({*edges, *(t for e in edges.values() for t in e)}):
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycle_between_folders() -> None:
    edges = folder_imports()
    found = cycles(edges)
    explained = [
        " <-> ".join(group)
        + ":\n"
        + "\n".join(
            f"    {a} -> {b} at {edges[a][b]}" for a in group for b in group if b in edges[a]
        )
        for group in found
    ]
    assert found == [], "folder import cycles:\n" + "\n".join(explained)


def test_a_cycle_is_seen_through_a_third_folder() -> None:
    edges = {"a": {"b": "x"}, "b": {"c": "y"}, "c": {"a": "z"}, "d": {"a": "w"}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b": "x"}, "b": {}}) == []
