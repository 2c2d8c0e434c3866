"""``content_digest``: one SHA-256 over every table, equal for equal data on any backend.

Values are normalised before hashing, so SQLite and PostgreSQL agree: datetimes as UTC ISO
strings, dates as ISO days, JSON re-serialised with sorted keys, enums by value, binary
data (course images) by its SHA-256. Rows are
sorted after normalisation (string collation differs between the engines). Excluded are only values
that are random by design: password hashes (salted) and the hashes and CSRF tokens of API
tokens and web sessions. Surrogate ids are included: compare databases seeded fresh.
"""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import Base

EXCLUDED_COLUMNS = frozenset(
    {
        ("user_account", "password_hash"),
        ("api_token", "token_hash"),
        ("web_session", "key_hash"),
        ("web_session", "csrf_token"),
    }
)


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):  # after datetime, which is a date too
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes | memoryview):  # a course image: its SHA-256 stands for it
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


def canonical_row(values: tuple[Any, ...]) -> str:
    return json.dumps(
        [_normalise(v) for v in values], ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


async def content_digest(sessions: SessionFactory) -> str:
    """SHA-256 (hex) of all tables' contents in a stable order."""
    digest = hashlib.sha256()
    async with sessions() as session:
        for table in sorted(Base.metadata.sorted_tables, key=lambda t: t.name):
            columns = sorted(
                (c for c in table.columns if (table.name, c.name) not in EXCLUDED_COLUMNS),
                key=lambda c: c.name,
            )
            result = await session.execute(select(*columns))
            rows = sorted(canonical_row(tuple(row)) for row in result)
            digest.update(f"{table.name}:{','.join(c.name for c in columns)}\n".encode())
            for row in rows:
                digest.update(row.encode())
                digest.update(b"\n")
    return digest.hexdigest()
