"""``GET /metrics``: the shop's live state in the Prometheus text format.

The gauges are read from the database at scrape time, so every web process behind the load
balancer answers the same for the shop (queues, agents, refund exposure, event backlog); the
``csdesk_process_*`` families are this process's own (events it applied, websockets it holds)
and are labelled with its live-queue owner id so a scrape of each process can be summed.
Needs a login like every other route (a bearer token for the scraper); supervisors and up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.keys import PROCESSOR_KEY, SESSIONS_KEY
from csdesk.reads.metrics import ShopState, shop_state
from csdesk.realtime import HUB_KEY
from csdesk.routing.queues import QUEUE_KEY
from csdesk.storage.enums import AgentStatus, ConversationStatus, EventStatus, ServiceRole

routes = web.RouteTableDef()

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"


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
        if s.outbound is not None:
            kinds = ["message", "webhook"]
            yield _gauge(
                "csdesk_outbound_sending",
                "Outbound deliveries being tried (message: buyer-visible messages to the shop's "
                "channel; webhook: integrator webhooks).",
                "kind",
                kinds,
                s.outbound.sending,
            )
            yield _gauge(
                "csdesk_outbound_failed",
                "Outbound deliveries dead-lettered after the retry window; each can be retried "
                "(POST /api/v1/deliveries/{delivery_id}/retry).",
                "kind",
                kinds,
                s.outbound.failed,
            )
            yield _gauge(
                "csdesk_outbound_oldest_sending_seconds",
                "Age of the oldest delivery still being tried.",
                "kind",
                kinds,
                s.outbound.oldest_sending_s,
            )
            yield GaugeMetricFamily(
                "csdesk_outbound_channel_configured",
                "1 when the shop has a channel (csdesk channel set): without one, buyer-visible "
                "messages are stored and sent nowhere.",
                value=1 if s.outbound.channel_configured else 0,
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
    state = await shop_state(
        request.app[SESSIONS_KEY], request.app[QUEUE_KEY], user.shop_id, utcnow()
    )
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
