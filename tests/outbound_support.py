"""Shared by the outbound and webhook tests: fast retry settings, an API caller, polling,
and a real arq worker beside the app in server mode."""

from __future__ import annotations

import asyncio
import contextlib
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from arq.worker import create_worker

from csdesk.jobs.worker import WorkerSettings, worker_options
from csdesk.settings import OutboundSettings, Settings

FAST = OutboundSettings(backoff_s=0.1, max_backoff_s=0.3, max_age_s=600, lease_s=2, timeout_s=2)
"""Retries within tenths of a second, so a receiver's outage and recovery fit in a test."""


@contextlib.asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[None]:
    """Server mode: a real arq worker runs the jobs, as ``csdesk worker`` would; embedded:
    nothing to start (the app runs them in-process)."""
    if settings.run_jobs_in_process:
        yield
        return
    options = worker_options(settings) | {"handle_signals": False}
    arq_worker = create_worker(WorkerSettings, **options)
    task = asyncio.create_task(arq_worker.async_run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Call to deprecated close", DeprecationWarning)
            await arq_worker.close()


class Agent:
    """Someone calling the API with a bearer token."""

    def __init__(self, desk: TestClient[Any, Any], token: str) -> None:
        self.desk = desk
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = await self.desk.request(method, path, json=body, headers=self.headers)
        assert response.status == status, await response.text()
        return await response.json()

    async def reply(self, conversation_id: int, text: str) -> dict[str, Any]:
        answer = await self.call(
            "POST", f"/api/v1/conversations/{conversation_id}/reply", {"text": text}, 201
        )
        message: dict[str, Any] = answer["message"]
        return message

    async def delivery_of(self, conversation_id: int, message_id: int) -> dict[str, Any] | None:
        page = await self.call("GET", f"/api/v1/conversations/{conversation_id}/messages")
        for item in page["items"]:
            if item["id"] == message_id:
                found: dict[str, Any] | None = item.get("delivery")
                return found
        raise AssertionError(f"message {message_id} not in the transcript")


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = 15.0) -> None:
    """Until ``check()`` holds (a broken build fails after ``timeout_s`` instead of hanging)."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
