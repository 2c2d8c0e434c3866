"""Backups of the embedded (SQLite) database: ``csdesk backup FILE`` / ``csdesk restore FILE``.

SQLite's online backup API copies a consistent snapshot page by page while the desk keeps
running (readers and the writer are not stopped; a page written meanwhile makes SQLite
copy it again). The copy is then verified by reading it back: ``PRAGMA integrity_check``,
the schema revision, and every table counted. Server mode (PostgreSQL) is backed up with
PostgreSQL's own tools: docs/operations.md.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

PAGES_PER_STEP: Final = 1024
"""Pages copied per step; between steps the desk's own writes go ahead."""


class BackupError(Exception):
    """The file is not a usable csdesk backup (or cannot be written): bad input."""


@dataclass(frozen=True)
class Verified:
    path: Path
    bytes: int
    revision: str
    tables: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "bytes": self.bytes,
            "revision": self.revision,
            "integrity": "ok",
            "tables": self.tables,
        }


def verify(path: Path) -> Verified:
    """Read a backup back: intact, a csdesk schema, every table readable (with its count)."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: cannot open ({exc})") from None
    try:
        try:
            result = connection.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path}: not a SQLite database ({exc})") from None
        if result != [("ok",)]:
            raise BackupError(f"{path}: damaged ({result[0][0]})")
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        if "alembic_version" not in names:
            raise BackupError(f"{path}: not a csdesk database (no schema revision)")
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        if revision is None:
            raise BackupError(f"{path}: not a csdesk database (no schema revision)")
        tables = {
            name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
            for name in names
            if name != "alembic_version"
        }
    finally:
        connection.close()
    return Verified(path=path, bytes=path.stat().st_size, revision=str(revision[0]), tables=tables)


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    source.backup(target, pages=PAGES_PER_STEP)


def backup(database: Path, target: Path, *, force: bool = False) -> Verified:
    """Copy the live ``database`` to ``target`` (a single self-contained file) and verify it."""
    if not database.is_file():
        raise BackupError(f"no database at {database} (run `csdesk migrate` first)")
    if target.exists() and not force:
        raise BackupError(f"{target} exists (use --force to overwrite it)")
    if target.exists() and target.resolve() == database.resolve():
        raise BackupError(f"{target} is the live database itself")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such directory")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(database, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            _copy(source, copy)
            # One file, readable without its -wal: a backup is moved around alone.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"{target}: backup failed ({exc})") from None
    finally:
        source.close()
    try:
        verify(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return verify(target)


def restore(backup_file: Path, database: Path, *, force: bool = False) -> Verified:
    """Replace ``database`` by the verified ``backup_file`` (stop the desk first). Refuses
    to overwrite an existing database without ``force``."""
    checked = verify(backup_file)
    if database.exists() and not force:
        raise BackupError(f"{database} exists (use --force to replace it with the backup)")
    database.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(database, timeout=30)
        try:
            _copy(source, target)
        finally:
            target.close()
    finally:
        source.close()
    restored = verify(database)
    if restored.tables != checked.tables or restored.revision != checked.revision:
        raise BackupError(f"{database}: the restored copy differs from {backup_file}")
    return restored
