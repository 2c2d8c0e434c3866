"""Images that leave the desk: the platform gets a signed, expiring URL it can fetch
without a login; the console keeps the login-only ``/api/v1/media/...``.

Against a local fake platform over real HTTP, on the four backends (in-process jobs, or a
real arq worker beside the web app when Redis is configured). The platform's fetch is an
anonymous client of its own (no token, no cookie).
"""

from __future__ import annotations

import dataclasses
import io
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image
from pytest_aiohttp import AiohttpClient

from csdesk.actions.shops import ensure_shop, set_channel
from csdesk.actions.users import issue_token
from csdesk.app import create_app
from csdesk.clock import utcnow
from csdesk.keys import SESSIONS_KEY
from csdesk.outbound.media_urls import signed_url
from csdesk.settings import MediaUrlSettings, Settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole
from tests.conftest import TEST_SHOP
from tests.fake_platform import FakePlatform
from tests.helpers import make_agent, post_event, settle
from tests.outbound_support import FAST, Agent
from tests.processes import free_port

OTHER_SHOP = "other-shop"


@pytest.fixture
def desk_port() -> int:
    return free_port()


@pytest.fixture
def fast_settings(settings: Settings, desk_port: int) -> Settings:
    return dataclasses.replace(
        settings,
        outbound=FAST,
        media_urls=MediaUrlSettings(public_url=f"http://127.0.0.1:{desk_port}/"),
    )


@pytest.fixture
async def desk(
    fast_settings: Settings, aiohttp_client: AiohttpClient, desk_port: int
) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(fast_settings), server_kwargs={"port": desk_port})


@pytest.fixture
def sessions(desk: TestClient[Any, Any]) -> SessionFactory:
    factory: SessionFactory = desk.app[SESSIONS_KEY]
    return factory


@pytest.fixture
async def channel(sessions: SessionFactory, platform: FakePlatform, worker: None) -> str:
    await ensure_shop(sessions, TEST_SHOP, "测试店")
    made = await set_channel(sessions, TEST_SHOP, platform.url, utcnow())
    platform.secret = made.outbound_secret
    return made.outbound_secret


async def open_chat(desk: TestClient[Any, Any], sessions: SessionFactory) -> tuple[Agent, int]:
    await make_agent(sessions, TEST_SHOP, "xiaomei", [ServiceRole.PRESALES])
    agent = Agent(desk, await issue_token(sessions, "xiaomei"))
    await post_event(desk, "message.received", {"buyer_nick": "买家小王", "text": "尺码怎么选"})
    await settle(desk)
    mine = await agent.call("GET", "/api/v1/workbench")
    conversation_id: int = mine["conversations"][0]["id"]
    return agent, conversation_id


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), colour).save(out, format="PNG")
    return out.getvalue()


async def _upload(desk: TestClient[Any, Any], agent: Agent, data: bytes) -> dict[str, Any]:
    response = await desk.post(
        "/api/v1/media?name=size.png",
        data=data,
        headers={**agent.headers, "Content-Type": "image/png"},
    )
    assert response.status == 201, await response.text()
    image: dict[str, Any] = await response.json()
    return image


async def _anonymous_get(url: str) -> tuple[int, bytes, str]:
    # The platform's side: a client of its own, with no token and no cookie.
    async with (
        aiohttp.ClientSession() as platform_side,
        platform_side.get(url, allow_redirects=False) as response,
    ):
        return response.status, await response.read(), response.content_type


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    path = parts.path
    if "path" in changes:
        path = changes.pop("path")
    query.update(changes)
    encoded = "&".join(f"{k}={v}" for k, v in query.items())
    return parts._replace(path=path, query=encoded).geturl()


async def test_an_image_reply_reaches_the_platform_with_a_url_it_can_fetch(
    desk: TestClient[Any, Any],
    sessions: SessionFactory,
    platform: FakePlatform,
    channel: str,
    fast_settings: Settings,
    desk_port: int,
) -> None:
    agent, conversation_id = await open_chat(desk, sessions)
    picture = _png((200, 30, 30))
    image = await _upload(desk, agent, picture)
    answer = await agent.call(
        "POST",
        f"/api/v1/conversations/{conversation_id}/reply",
        {"text": "亲，尺码表请看图", "image_id": image["id"]},
        201,
    )
    await platform.wait_for(1)
    [body] = platform.bodies()
    [sent] = body["data"]["attachments"]
    url = sent["url"]
    assert url.startswith(f"http://127.0.0.1:{desk_port}/media/{TEST_SHOP}/{image['id']}?")
    assert sent["url_expires_at"] > time.time() + 6 * 24 * 3600  # about 7 days
    assert sent["sha256"] == image.get("sha256", sent["sha256"])

    # The platform fetches it with no login and gets the very bytes.
    status, data, content_type = await _anonymous_get(url)
    assert (status, content_type) == (200, "image/png")
    assert data == picture

    # The console keeps the session-protected URL, which an anonymous caller cannot read.
    page = await agent.call("GET", f"/api/v1/conversations/{conversation_id}/messages")
    [shown] = [m for m in page["items"] if m["id"] == answer["message"]["id"]]
    assert shown["attachments"][0]["url"] == f"/api/v1/media/{image['id']}"
    assert (await _anonymous_get(str(desk.make_url(shown["attachments"][0]["url"]))))[0] == 401

    # Any change to the URL is refused: the signature, the expiry, the image, the shop.
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    expires = parse_qs(urlsplit(url).query)["expires"][0]
    flipped = ("0" if signature[-1] != "0" else "1") + signature[1:]
    tampered = [
        _with(url, signature=flipped),
        _with(url, expires=str(int(expires) + 3600)),
        _with(url, path=f"/media/{TEST_SHOP}/{image['id'] + 1}"),
        _with(url, path=f"/media/{OTHER_SHOP}/{image['id']}"),
        url.split("?")[0],
        _with(url, signature="not-hex"),
    ]
    for forged in tampered:
        status, data, _ = await _anonymous_get(forged)
        assert status == 403, forged
        assert picture not in data

    # A URL the desk made whose time has passed: 410 Gone.
    base = f"http://127.0.0.1:{desk_port}"
    secret = fast_settings.auth.secret_key
    expired = signed_url(base, secret, TEST_SHOP, image["id"], int(time.time()) - 5)
    status, data, _ = await _anonymous_get(expired)
    assert status == 410
    assert picture not in data
    # The same URL still in its time is served: the expiry alone made the difference.
    still_good = signed_url(base, secret, TEST_SHOP, image["id"], int(time.time()) + 60)
    assert (await _anonymous_get(still_good))[:2] == (200, picture)


async def test_a_signed_url_never_reaches_another_shops_image(
    desk: TestClient[Any, Any], sessions: SessionFactory, fast_settings: Settings, desk_port: int
) -> None:
    await ensure_shop(sessions, TEST_SHOP, "测试店")
    await ensure_shop(sessions, OTHER_SHOP, "别的店")
    await make_agent(sessions, TEST_SHOP, "a-agent", [ServiceRole.PRESALES])
    await make_agent(sessions, OTHER_SHOP, "b-agent", [ServiceRole.PRESALES])
    mine = await _upload(desk, Agent(desk, await issue_token(sessions, "a-agent")), _png((1, 2, 3)))
    theirs_bytes = _png((9, 9, 9))
    theirs = await _upload(desk, Agent(desk, await issue_token(sessions, "b-agent")), theirs_bytes)
    base = f"http://127.0.0.1:{desk_port}"
    secret = fast_settings.auth.secret_key
    later = int(time.time()) + 600

    # Shop A's valid URL with shop B's image id swapped in: the signature no longer fits.
    own = signed_url(base, secret, TEST_SHOP, mine["id"], later)
    assert (await _anonymous_get(own))[0] == 200
    swapped = _with(own, path=f"/media/{TEST_SHOP}/{theirs['id']}")
    status, data, _ = await _anonymous_get(swapped)
    assert status == 403
    assert theirs_bytes not in data
    # Even a correctly signed URL naming shop A with B's image id finds nothing: the image is
    # looked up in the shop the URL names.
    status, data, _ = await _anonymous_get(signed_url(base, secret, TEST_SHOP, theirs["id"], later))
    assert status == 404
    assert theirs_bytes not in data
    # A URL signed with another secret (another desk's) is refused.
    foreign = signed_url(base, "another-secret", OTHER_SHOP, theirs["id"], later)
    assert (await _anonymous_get(foreign))[0] == 403
