"""``csdesk demo``: embedded mode ready to click through on a fresh machine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import func, select

from csdesk.settings import Settings
from csdesk.storage import migrate
from csdesk.storage.engine import create_engine, create_session_factory
from csdesk.storage.models import Order

ProgressFn = Callable[[str, int, int], None]


async def prepare_demo(
    settings: Settings, progress: ProgressFn | None = None
) -> list[tuple[str, str, str]]:
    """Migrate, seed on first run, and return the demo logins (username, password, role)."""
    from csdesk.seed.generator import SeedOptions, demo_logins, seed_demo

    await asyncio.to_thread(migrate.upgrade, settings.database.url)
    engine = create_engine(settings.database)
    try:
        sessions = create_session_factory(engine)
        async with sessions() as session:
            has_orders = bool(await session.scalar(select(func.count()).select_from(Order)))
        if not has_orders:
            await seed_demo(sessions, SeedOptions(), progress)
    finally:
        await engine.dispose()
    return demo_logins()
