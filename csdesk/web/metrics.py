"""``GET /metrics``: the shop's live state in the Prometheus text format.

The gauges are read from the database at scrape time, so every web process behind the load
balancer answers the same for the shop (queues, agents, refund exposure, event backlog); the
``csdesk_process_*`` families are this process's own (events it applied, websockets it holds)
and are labelled with its live-queue owner id so a scrape of each process can be summed.
Needs a login like every other route (a bearer token for the scraper); supervisors and up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.keys import PROCESSOR_KEY, SESSIONS_KEY
from csdesk.realtime import HUB_KEY
from csdesk.routing.queues import QUEUE_KEY, WorkQueue
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import (
    AgentStatus,
    ConversationStatus,
    EventStatus,
    RefundStatus,
    ServiceRole,
)
from csdesk.storage.models import AgentProfile, Conversation, PlatformEvent, Refund

routes = web.RouteTableDef()

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
DUE_SOON: Final = timedelta(hours=1)


@dataclass(frozen=True)
class ShopState:
    queued: dict[str, int]
    oldest_wait_s: dict[str, float]
    open_items: dict[str, int]
    agents: dict[str, int]
    open_refunds: int
    refund_exposure_fen: int
    refunds_due_within_hour: int
    events: dict[str, int]
    index_depth: dict[str, int] = field(default_factory=dict)
    """What the queue index holds per role (beside ``queued``, the database's count)."""
    index_intact: bool = True


async def index_state(queue: WorkQueue, shop_id: str) -> tuple[dict[str, int], bool]:
    """The queue index's depth per role, and whether it is the one last built."""
    depths = {role.value: await queue.depth(shop_id, role.value) for role in ServiceRole}
    return depths, await queue.built(shop_id)


async def shop_state(sessions: SessionFactory, shop_id: str, now: datetime) -> ShopState:
    async with sessions() as session:
        queued: dict[str, int] = {}
        oldest: dict[str, float] = {}
        for role, count, first in await session.execute(
            select(Conversation.role, func.count(), func.min(Conversation.enqueued_at))
            .where(
                Conversation.shop_id == shop_id,
                Conversation.status == ConversationStatus.QUEUED,
            )
            .group_by(Conversation.role)
        ):
            queued[role] = int(count)
            oldest[role] = max(0.0, (now - first).total_seconds()) if first else 0.0
        open_items = {
            status.value: int(count)
            for status, count in await session.execute(
                select(Conversation.status, func.count())
                .where(
                    Conversation.shop_id == shop_id,
                    Conversation.status != ConversationStatus.CLOSED,
                )
                .group_by(Conversation.status)
            )
        }
        agents = {
            status.value: int(count)
            for status, count in await session.execute(
                select(AgentProfile.status, func.count())
                .where(AgentProfile.shop_id == shop_id)
                .group_by(AgentProfile.status)
            )
        }
        refunds = (
            await session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(Refund.amount_fen), 0),
                    func.count().filter(Refund.deadline_at <= now + DUE_SOON),
                ).where(
                    Refund.shop_id == shop_id,
                    Refund.status == RefundStatus.REQUESTED,
                )
            )
        ).one()
        events = {
            status.value: int(count)
            for status, count in await session.execute(
                select(PlatformEvent.status, func.count())
                .where(
                    PlatformEvent.shop_id == shop_id,
                    PlatformEvent.status != EventStatus.PROCESSED,
                )
                .group_by(PlatformEvent.status)
            )
        }
    return ShopState(
        queued=queued,
        oldest_wait_s=oldest,
        open_items=open_items,
        agents=agents,
        open_refunds=int(refunds[0]),
        refund_exposure_fen=int(refunds[1]),
        refunds_due_within_hour=int(refunds[2]),
        events=events,
    )


class _Snapshot(Collector):
    """One scrape's values as metric families (a fresh registry per scrape: no global state
    shared between the apps a test suite creates)."""

    def __init__(
        self,
        state: ShopState,
        process_id: str,
        processed: dict[str, int],
        paths: dict[str, int],
        sockets: int,
    ) -> None:
        self._state = state
        self._process = process_id
        self._processed = processed
        self._paths = paths
        self._sockets = sockets

    def collect(self) -> Iterator[Metric]:
        s = self._state
        roles = [role.value for role in ServiceRole]
        yield _gauge(
            "csdesk_queue_depth", "Items waiting in each role's queue.", "role", roles, s.queued
        )
        yield _gauge(
            "csdesk_queue_index_depth",
            "Items the queue index (what agents claim from) holds per role; below"
            " csdesk_queue_depth means the index lost work (a Redis flush).",
            "role",
            roles,
            s.index_depth,
        )
        yield GaugeMetricFamily(
            "csdesk_queue_index_intact",
            "1 while the queue index is the one last built from the database; 0 once it was"
            " lost, until it is restored.",
            value=1 if s.index_intact else 0,
        )
        yield _gauge(
            "csdesk_queue_oldest_wait_seconds",
            "How long the longest-waiting queued item of each role has waited.",
            "role",
            roles,
            s.oldest_wait_s,
        )
        yield _gauge(
            "csdesk_open_items",
            "Open routable items (chats, calls, tasks) by status.",
            "status",
            [st.value for st in ConversationStatus if st is not ConversationStatus.CLOSED],
            s.open_items,
        )
        yield _gauge(
            "csdesk_agents",
            "Agents by status.",
            "status",
            [st.value for st in AgentStatus],
            s.agents,
        )
        yield GaugeMetricFamily(
            "csdesk_refunds_awaiting_review",
            "Refund requests the shop has not decided yet.",
            value=s.open_refunds,
        )
        yield GaugeMetricFamily(
            "csdesk_refund_exposure_yuan",
            "Amount of the refund requests not decided yet (they auto-approve at the deadline).",
            value=s.refund_exposure_fen / 100,
        )
        yield GaugeMetricFamily(
            "csdesk_refunds_due_within_hour",
            "Undecided refund requests whose platform deadline is within the hour (or past).",
            value=s.refunds_due_within_hour,
        )
        yield GaugeMetricFamily(
            "csdesk_events_failed",
            "Accepted platform events that failed; each waits for a supervisor to retry it "
            "(POST /api/v1/events/{event_id}/retry) once its cause is fixed.",
            value=s.events.get(EventStatus.FAILED.value, 0),
        )
        yield _gauge(
            "csdesk_events_pending",
            "Accepted platform events not processed: received (backlog) or failed.",
            "status",
            [EventStatus.RECEIVED.value, EventStatus.FAILED.value],
            s.events,
        )
        applied = CounterMetricFamily(
            "csdesk_process_events",
            "Events this web process applied since it started, by outcome.",
            labels=["process", "outcome"],
        )
        for outcome, n in sorted(self._processed.items()):
            applied.add_metric([self._process, outcome], n)
        yield applied
        paths = CounterMetricFamily(
            "csdesk_process_event_paths",
            "Events this web process applied in the acceptor's turn (at_once) or from its queue.",
            labels=["process", "path"],
        )
        for path, n in sorted(self._paths.items()):
            paths.add_metric([self._process, path], n)
        yield paths
        sockets = GaugeMetricFamily(
            "csdesk_process_live_connections",
            "Console websockets open on this web process.",
            labels=["process"],
        )
        sockets.add_metric([self._process], self._sockets)
        yield sockets


def _gauge(
    name: str, doc: str, label: str, keys: Iterable[str], values: dict[str, float] | dict[str, int]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key in keys:
        family.add_metric([key], float(values.get(key, 0)))
    return family


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, "metrics.read")
    state = await shop_state(request.app[SESSIONS_KEY], user.shop_id, utcnow())
    index_depth, index_intact = await index_state(request.app[QUEUE_KEY], user.shop_id)
    state = replace(state, index_depth=index_depth, index_intact=index_intact)
    hub = request.app.get(HUB_KEY)
    processor = request.app.get(PROCESSOR_KEY)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        _Snapshot(
            state,
            hub.process_id if hub is not None else "-",
            dict(processor.totals) if processor is not None else {},
            dict(processor.paths) if processor is not None else {},
            hub.connection_count if hub is not None else 0,
        )
    )
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE})
