"""``GET /metrics`` over real HTTP: Prometheus text a scraper can parse, the shop's queues,
refund exposure and event backlog as the database has them; supervisors and up only."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import UserRole
from tests.helpers import order_data, post_event, settle, token_for


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_show_the_shop_as_the_database_has_it(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    token = await token_for(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    # No agent online: two buyers' chats queue; one refund request waits for review.
    await post_event(client, "message.received", {"buyer_nick": "阿美", "text": "有货吗"})
    await post_event(client, "message.received", {"buyer_nick": "小杰", "text": "在吗"})
    await post_event(client, "order.created", order_data("T-9001", nick="小杰", amount="88.50"))
    await post_event(client, "order.paid", {"order_id": "T-9001"})
    await post_event(
        client,
        "refund.requested",
        {
            "refund_id": "R-9001",
            "order_id": "T-9001",
            "kind": "refund_only",
            "amount": "88.50",
            "reason": "不想要了",
        },
    )
    await settle(client)

    response = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = _samples(await response.text())
    assert samples[("csdesk_queue_depth", (("role", "presales"),))] == 2
    assert samples[("csdesk_queue_depth", (("role", "refund"),))] == 1
    assert samples[("csdesk_queue_depth", (("role", "hotline"),))] == 0
    assert samples[("csdesk_queue_oldest_wait_seconds", (("role", "presales"),))] >= 0
    assert samples[("csdesk_refunds_awaiting_review", ())] == 1
    assert samples[("csdesk_refund_exposure_yuan", ())] == 88.5
    assert samples[("csdesk_events_pending", (("status", "received"),))] == 0
    applied = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "csdesk_process_events_total"
    }
    assert sum(v for labels, v in applied.items() if ("outcome", "processed") in labels) == 5


async def test_metrics_need_a_login_and_a_supervisor(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str
) -> None:
    assert (await client.get("/metrics")).status == 401
    agent = await token_for(sessions, shop_id, "xiaoyu", UserRole.AGENT)
    forbidden = await client.get("/metrics", headers={"Authorization": f"Bearer {agent}"})
    assert forbidden.status == 403
