"""Outbound deliveries: the job that makes one attempt, and the sweep behind it.

``deliver`` is enqueued when a message with a delivery is announced (``jobs/listeners.py``),
by the console's retry, and by itself for the next try after a failure (deferred by the
backoff). ``deliver_due`` runs every 5 s and takes whatever is due that no
job took: retries whose job was lost with a process, deliveries committed just before a
crash (kill -9 between the commit and the POST), leases of senders that died mid-attempt.
A claim is a conditional UPDATE, so a job and the sweep never both make the same attempt;
a sender that dies after the receiver answered but before recording it makes the receiver
see the delivery again, with the same ``delivery_id`` to drop it by.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from csdesk.actions.deliveries import claim, record_attempt, stage_webhooks
from csdesk.actions.outbox import Deps
from csdesk.clock import utcnow
from csdesk.jobs.base import JobContext
from csdesk.outbound.http import post_signed
from csdesk.outbound.media_urls import sign_images
from csdesk.reads.deliveries import KIND_MESSAGE, due

log = logging.getLogger(__name__)
DELIVER = "deliver"
_rng = random.Random()


def _http(ctx: JobContext) -> aiohttp.ClientSession | None:
    client = ctx.get("http")
    return client if isinstance(client, aiohttp.ClientSession) and not client.closed else None


def deliver_job_id(delivery_id: str, attempts: int) -> str:
    return f"deliver:{delivery_id}:{attempts}"


async def _attempt(ctx: JobContext, client: aiohttp.ClientSession, delivery_id: str) -> int:
    settings = ctx["settings"].outbound
    lease_s = max(settings.lease_s, settings.timeout_s + 5)
    claimed = await claim(ctx["sessions"], delivery_id, utcnow(), lease_s)
    if claimed is None:
        return 0
    if claimed.url is None or claimed.secret is None:
        status: int | None = None
        error: str | None = (
            "no channel configured for the shop (csdesk channel set)"
            if claimed.kind == "message"
            else "the webhook subscription is paused"
        )
    else:
        body = claimed.body
        if claimed.kind == KIND_MESSAGE:
            # The stored body names images by the console's URL (a login); the platform
            # gets signed public ones, fresh for each attempt.
            app_settings = ctx["settings"]
            body = sign_images(
                body,
                app_settings.media_urls.base_url(app_settings.web),
                app_settings.auth.secret_key,
                time.time(),
                app_settings.media_urls.ttl_s,
            )
        answer = await post_signed(
            client,
            claimed.url,
            claimed.secret,
            body,
            timeout_s=settings.timeout_s,
            delivery_id=claimed.delivery_id,
            event_type=claimed.event_type,
        )
        status, error = answer.status, answer.error
    deps = Deps(ctx["sessions"], ctx["bus"], ctx["queue"])
    recorded = await record_attempt(deps, claimed, status, error, utcnow(), settings, _rng.random)
    if recorded.next_attempt_at is not None:
        runner = ctx.get("jobs")
        if runner is not None:
            delay = max(0.0, (recorded.next_attempt_at - utcnow()).total_seconds())
            await runner.enqueue(
                DELIVER,
                delivery_id,
                defer_s=delay,
                job_id=deliver_job_id(delivery_id, claimed.attempts),
            )
    return 1 if recorded.state == "delivered" else 0


async def _with_client(
    ctx: JobContext, work: Callable[[aiohttp.ClientSession], Awaitable[int]]
) -> int:
    client = _http(ctx)
    if client is not None:
        return await work(client)
    async with aiohttp.ClientSession() as own:
        return await work(own)


async def deliver(ctx: JobContext, delivery_id: str) -> int:
    """One attempt at one delivery, if it is due and nobody else holds it. Returns 1 when
    it was delivered."""
    return await _with_client(ctx, lambda client: _attempt(ctx, client, delivery_id))


SWEEP_PARALLEL = 8


async def deliver_due(ctx: JobContext) -> int:
    """Every delivery that is due, a few at a time; returns how many were delivered."""
    settings = ctx["settings"].outbound
    gate = asyncio.Semaphore(SWEEP_PARALLEL)

    async def one(client: aiohttp.ClientSession, delivery_id: str) -> int:
        async with gate:
            try:
                return await _attempt(ctx, client, delivery_id)
            except Exception:
                log.exception("delivery %s: attempt failed", delivery_id)
                return 0

    async def run(client: aiohttp.ClientSession) -> int:
        total = 0
        for _ in range(20):  # bounded: a sweep never runs for ever under a flood
            ids = await due(ctx["sessions"], utcnow(), settings.sweep_batch)
            if not ids:
                break
            results = await asyncio.gather(*(one(client, i) for i in ids))
            total += sum(results)
            if len(ids) < settings.sweep_batch:
                break
        return total

    return await _with_client(ctx, run)


async def webhook_fan_out(
    ctx: JobContext, shop_id: str, event_type: str, key: str, data: dict[str, Any]
) -> int:
    """An integrator event: its deliveries (one per subscription taking it), then a first
    attempt at each."""
    added = await stage_webhooks(ctx["sessions"], shop_id, event_type, key, data, utcnow())
    done = 0
    for delivery_id in added:
        done += await deliver(ctx, delivery_id)
    return done
