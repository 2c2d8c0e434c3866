"""Fixtures of the outbound and webhook tests: the app with fast retries, a real arq
worker beside it in server mode, a fake platform receiver."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from csdesk.app import create_app
from csdesk.settings import Settings
from tests.fake_platform import FakePlatform
from tests.outbound_support import FAST, running_worker


@pytest.fixture
def fast_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, outbound=FAST)


@pytest.fixture
async def desk(fast_settings: Settings, aiohttp_client: AiohttpClient) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(fast_settings))


@pytest.fixture
async def worker(fast_settings: Settings) -> AsyncIterator[None]:
    async with running_worker(fast_settings):
        yield


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    await fake.start()
    yield fake
    await fake.stop()
