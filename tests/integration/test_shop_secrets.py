"""Per-shop inbound secrets over signed HTTP: a shop's events are verified with its own
secret (another shop's is a 401), two secrets work during a rotation, a signed timestamp
outside the replay window is a 401, and ``CSDESK_WEBHOOK_SECRET`` stays the secret of
shops without their own."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from csdesk.actions.shops import add_shop, ensure_shop, rotate_webhook_secret
from csdesk.app import create_app
from csdesk.clock import utcnow
from csdesk.ingest.signature import sign, sign_timestamped
from csdesk.keys import SECRETS_KEY, SESSIONS_KEY
from csdesk.settings import Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import Shop
from tests.conftest import WEBHOOK_SECRET
from tests.helpers import event_body, post_raw

RECHECK_S = 1.05
"""Past ``SecretCache.recheck_s``: a rotation is seen within it."""
MESSAGE = {"buyer_nick": "买家小王", "text": "在吗"}


def _stamped(body: bytes, secret: str, *, age_s: float = 0) -> str:
    return sign_timestamped(body, secret, int(time.time() - age_s))


async def _post(client: TestClient[Any, Any], shop: str, secret: str, **kwargs: Any) -> int:
    body = event_body("message.received", MESSAGE, shop_id=shop)
    signature = _stamped(body, secret, **kwargs) if kwargs else sign(body, secret)
    return (await post_raw(client, body, signature=signature)).status


async def test_a_shops_events_need_its_own_secret(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    a = await add_shop(sessions, "shop-a", "甲店", utcnow())
    b = await add_shop(sessions, "shop-b", "乙店", utcnow())
    await ensure_shop(sessions, "shop-c", "丙店")  # no secret of its own
    assert await _post(client, "shop-a", a.secret) == 202
    assert await _post(client, "shop-b", b.secret) == 202
    # Shop A's secret cannot post for shop B, nor the deployment's secret for either.
    assert await _post(client, "shop-b", a.secret) == 401
    assert await _post(client, "shop-a", b.secret) == 401
    assert await _post(client, "shop-a", WEBHOOK_SECRET) == 401
    # A shop without its own secret keeps CSDESK_WEBHOOK_SECRET, and only that.
    assert await _post(client, "shop-c", WEBHOOK_SECRET) == 202
    assert await _post(client, "shop-c", a.secret) == 401
    # The timestamped form is checked with the same secrets.
    assert await _post(client, "shop-b", b.secret, age_s=1) == 202
    assert await _post(client, "shop-b", a.secret, age_s=1) == 401


async def test_during_a_rotation_both_secrets_work_then_only_the_new_one(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    old = (await add_shop(sessions, "shop-a", "甲店", utcnow())).secret
    assert await _post(client, "shop-a", old) == 202  # cached in the web process now
    rotated = await rotate_webhook_secret(sessions, "shop-a", utcnow(), grace_s=3600)
    assert rotated.previous_valid_until is not None
    # The new one works as soon as the platform has it (a failed check re-reads the shop,
    # at most once a second per shop), and the old one still.
    await asyncio.sleep(RECHECK_S)
    assert await _post(client, "shop-a", rotated.secret) == 202
    assert await _post(client, "shop-a", old) == 202
    # The grace period over: the old secret is refused.
    async with sessions.begin() as session:
        shop = await session.get(Shop, "shop-a")
        assert shop is not None
        shop.webhook_previous_until = utcnow() - timedelta(seconds=1)
    # The web process re-reads the shop (its cache lives seconds); the old one is out.
    client.app[SECRETS_KEY].forget("shop-a")
    assert await _post(client, "shop-a", old) == 401
    assert await _post(client, "shop-a", rotated.secret) == 202
    # A rotation without grace ends the previous secret at once.
    again = await rotate_webhook_secret(sessions, "shop-a", utcnow(), grace_s=0)
    await asyncio.sleep(RECHECK_S)
    assert await _post(client, "shop-a", again.secret) == 202
    assert await _post(client, "shop-a", rotated.secret) == 401


async def test_a_signed_time_outside_the_window_is_refused(
    client: TestClient[Any, Any], sessions: SessionFactory
) -> None:
    secret = (await add_shop(sessions, "shop-a", "甲店", utcnow())).secret
    body = event_body("message.received", MESSAGE, shop_id="shop-a")
    fresh = _stamped(body, secret)
    assert (await post_raw(client, body, signature=fresh)).status == 202
    # The very same signed request replayed inside the window: a duplicate, nothing applied.
    replay = await post_raw(client, body, signature=fresh)
    assert replay.status == 200
    assert (await replay.json())["duplicate"] is True
    # Captured and replayed later (default window 300 s), or stamped in the future.
    for age_s in (301, 3600, -301):
        other = event_body("message.received", MESSAGE, shop_id="shop-a")
        refused = await post_raw(client, other, signature=_stamped(other, secret, age_s=age_s))
        assert refused.status == 401
        assert "replay window" in (await refused.json())["error"]
    # A time signed as something else than digits is no signature at all.
    assert (await post_raw(client, body, signature="t=abc,sha256=00")).status == 401


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_requiring_timestamps_refuses_the_body_only_form(
    settings: Settings, aiohttp_client: AiohttpClient
) -> None:
    strict = dataclasses.replace(
        settings, webhook=dataclasses.replace(settings.webhook, require_timestamp=True)
    )
    client = await aiohttp_client(create_app(strict))
    sessions: SessionFactory = client.app[SESSIONS_KEY]
    secret = (await add_shop(sessions, "shop-a", "甲店", utcnow())).secret
    untimed = await post_raw(
        client,
        body := event_body("message.received", MESSAGE, shop_id="shop-a"),
        signature=sign(body, secret),
    )
    assert untimed.status == 401
    assert "timestamp is required" in (await untimed.json())["error"]
    assert await _post(client, "shop-a", secret, age_s=0.5) == 202
