"""Alert jobs: the periodic evaluation (each shop's health against its thresholds) and the
robot deliveries (first attempts, and retries when due). The HTTP calls to the robots are
made here, between the action that claims a delivery and the one that records its outcome
(``actions.alerts``); the rules and the message formats are pure (``csdesk.alerts``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Final

import aiohttp

from csdesk.actions import alerts
from csdesk.actions.outbox import Deps
from csdesk.alerts import robots
from csdesk.jobs.base import JobContext, job_now
from csdesk.reads import alerts as read

log = logging.getLogger(__name__)

SEND_TIMEOUT_S: Final = 10.0
"""A robot that has not answered by then counts as a failed attempt (retried later)."""


def _deps(ctx: JobContext) -> Deps:
    return Deps(sessions=ctx["sessions"], bus=ctx["bus"], queue=ctx["queue"])


async def evaluate_alerts(ctx: JobContext) -> int:
    """Every shop with alerts on: raise what holds and is new, then send it. Returns the
    alerts raised."""
    now = job_now(ctx)
    deps = _deps(ctx)
    async with deps.sessions() as session:
        shops = await read.enabled_shops(session)
    raised = 0
    to_send: list[int] = []
    for shop_id in shops:
        try:
            result = await alerts.evaluate_shop(deps, shop_id, now)
        except Exception:
            # One shop's failure (a bad row, a lost connection) does not silence the others.
            log.exception("alerts: evaluating shop %s failed", shop_id)
            continue
        raised += len(result.alert_ids)
        to_send += result.delivery_ids
    if to_send:
        await send_deliveries(ctx, to_send, now)
    return raised


async def deliver_alerts(ctx: JobContext, *delivery_ids: int) -> int:
    """Send these deliveries (none named: every pending one that is due). Returns how
    many reached their robot."""
    now = job_now(ctx)
    ids = list(delivery_ids)
    if not ids:
        async with ctx["sessions"]() as session:
            ids = await read.due_deliveries(session, now)
    return await send_deliveries(ctx, ids, now) if ids else 0


async def send_deliveries(ctx: JobContext, delivery_ids: Sequence[int], now: datetime) -> int:
    deps = _deps(ctx)
    sent = 0
    timeout = aiohttp.ClientTimeout(total=SEND_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for delivery_id in delivery_ids:
            claimed = await alerts.claim_delivery(deps, delivery_id, now)
            if claimed is None:
                continue
            outcome = await post(http, claimed, now)
            await alerts.record_outcome(deps, delivery_id, outcome, now)
            if outcome.ok:
                sent += 1
            else:
                log.warning(
                    "alerts: delivery %s to %s failed (attempt %s): %s",
                    delivery_id,
                    claimed.channel.value,
                    claimed.attempt,
                    outcome.error,
                )
    return sent


async def post(
    http: aiohttp.ClientSession, claimed: alerts.Claimed, now: datetime
) -> robots.Outcome:
    """One attempt: the robot's answer read as DingTalk and WeCom mean it."""
    url = robots.request_url(claimed.channel, claimed.url, claimed.secret, now)
    body = robots.message_body(claimed.channel, claimed.title, claimed.text, None)
    try:
        async with http.post(
            url, data=body, headers={"Content-Type": "application/json; charset=utf-8"}
        ) as response:
            return robots.read_answer(response.status, await response.read())
    except (aiohttp.ClientError, TimeoutError) as exc:
        return robots.no_answer(f"no answer: {type(exc).__name__} {exc}".strip())


async def purge_old_alerts(ctx: JobContext) -> int:
    """Alerts older than ``actions.alerts.KEEP_DAYS``, with their deliveries."""
    return await alerts.purge_old_alerts(_deps(ctx), job_now(ctx))
