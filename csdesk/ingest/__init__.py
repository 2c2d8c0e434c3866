"""Platform events in: validation, durable group-commit acceptance, ordered processing."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from csdesk.actions.outbox import Deps
from csdesk.actions.sweeps import reconcile_queue_index
from csdesk.clock import utcnow
from csdesk.ingest.acceptor import EventAcceptor
from csdesk.ingest.engine import RoutingEngine
from csdesk.ingest.gate import WriteGate
from csdesk.ingest.message_runs import start_batch
from csdesk.ingest.processor import EventProcessor
from csdesk.ingest.secrets import SecretCache
from csdesk.keys import (
    ACCEPTOR_KEY,
    BUS_KEY,
    PROCESSOR_KEY,
    SECRETS_KEY,
    SESSIONS_KEY,
    SETTINGS_KEY,
)
from csdesk.routing.queues import QUEUE_KEY


async def ingest_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: the acceptor (group commit) and this process's event processor."""
    database = app[SETTINGS_KEY].database
    gate = WriteGate(enabled=database.is_sqlite)
    processor = EventProcessor(
        app[SESSIONS_KEY],
        app[BUS_KEY],
        app[QUEUE_KEY],
        RoutingEngine(app[QUEUE_KEY]).handle_event,
        gate=gate,
        start_batch=start_batch if database.fast_path else None,
        inline=database.fast_path,
    )
    acceptor = EventAcceptor(
        app[SESSIONS_KEY],
        on_accepted=processor.notify,
        apply_now=processor.apply_now,
        gate=gate,
        fast_path=database.fast_path,
    )
    await processor.start()
    await acceptor.start()
    # The queue index is derived state: rebuild it from the database before traffic.
    await reconcile_queue_index(
        Deps(app[SESSIONS_KEY], app[BUS_KEY], app[QUEUE_KEY]), utcnow(), rebuild=True
    )
    app[PROCESSOR_KEY] = processor
    app[ACCEPTOR_KEY] = acceptor
    app[SECRETS_KEY] = SecretCache(app[SESSIONS_KEY])
    yield
    await acceptor.stop()
    await processor.stop()
