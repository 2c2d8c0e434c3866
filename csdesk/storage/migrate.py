"""Alembic from code, so ``csdesk migrate`` works from an installed wheel (no alembic.ini)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def current_heads(database_url: str) -> set[str]:
    """Revisions the database is at (empty before the first migration)."""
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    async def read() -> set[str]:
        from alembic.runtime.migration import MigrationContext

        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: set(MigrationContext.configure(sync).get_current_heads())
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())
