"""Shops: the tenant every row belongs to."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.clock import utcnow
from csdesk.errors import BadInputError, ConflictError, NotFoundError
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import Shop

DEFAULT_SHOP_ID = "demo-shop"


async def ensure_shop(
    sessions: SessionFactory,
    shop_id: str = DEFAULT_SHOP_ID,
    name: str = "演示旗舰店",
    *,
    now: datetime | None = None,
) -> Shop:
    """Return the shop, creating it on first use."""
    async with sessions.begin() as session:
        shop = await session.get(Shop, shop_id)
        if shop is None:
            shop = Shop(id=shop_id, name=name, created_at=now or utcnow(), config={})
            session.add(shop)
        return shop


async def default_shop_id(sessions: SessionFactory) -> str | None:
    """The first shop, for single-shop tools (the CLI) that are not told which one."""
    async with sessions() as session:
        return await session.scalar(select(Shop.id).order_by(Shop.created_at, Shop.id).limit(1))


# -- secrets: inbound webhook secret, its rotation, the outbound channel ----------------------

SHOP_ID_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}")
"""As platform events carry it (``ingest.schema``): matched in full."""
MAX_URL_CHARS: Final = 2000
DEFAULT_ROTATION_GRACE_S: Final = 24 * 3600
"""How long the previous inbound secret stays valid after a rotation: a day is time to
roll the new one out to every sender of the platform's side."""


def new_secret() -> str:
    """A fresh HMAC key: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def check_shop_id(shop_id: str, field: str = "shop_id") -> str:
    if not SHOP_ID_RE.fullmatch(shop_id):
        raise BadInputError(
            field, "1-64 letters, digits and . _ : -, starting with a letter or digit"
        )
    return shop_id


def check_channel_url(url: str, field: str = "url") -> str:
    """An absolute http(s) URL with a host; nothing else can be POSTed to."""
    url = url.strip()
    if not url or len(url) > MAX_URL_CHARS:
        raise BadInputError(field, f"must be an http(s) URL of at most {MAX_URL_CHARS} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInputError(field, f"must be an absolute http:// or https:// URL, got {url!r}")
    if any(c.isspace() for c in url):
        raise BadInputError(field, "must not contain spaces")
    return url


@dataclass(frozen=True)
class ShopSecret:
    """A secret as the CLI prints it once (``--json``: this object)."""

    shop_id: str
    name: str
    secret: str
    previous_valid_until: datetime | None = None


async def add_shop(
    sessions: SessionFactory, shop_id: str, name: str | None, now: datetime
) -> ShopSecret:
    """``csdesk shop add``: a new shop with its own inbound webhook secret (returned once)."""
    check_shop_id(shop_id, "ID")
    name = (name or shop_id).strip()
    if not name or len(name) > 200:
        raise BadInputError("name", "must be 1-200 characters")
    secret = new_secret()
    async with sessions.begin() as session:
        if await session.get(Shop, shop_id) is not None:
            raise ConflictError(
                f"shop {shop_id!r} already exists (`csdesk shop rotate-secret {shop_id}` gives "
                "it a new inbound secret)",
                field="ID",
            )
        session.add(Shop(id=shop_id, name=name, created_at=now, config={}, webhook_secret=secret))
        await session.flush()
        audit.record(
            session,
            shop_id=shop_id,
            actor_id=None,
            action="shop.created",
            target_type="shop",
            target_id=shop_id,
            at=now,
            detail={"name": name},
        )
    return ShopSecret(shop_id, name, secret)


async def _shop_for_update(session: AsyncSession, shop_id: str) -> Shop:
    shop = await session.get(Shop, shop_id, with_for_update=True)
    if shop is None:
        raise NotFoundError(f"no shop {shop_id!r} (`csdesk shop add {shop_id}` creates it)")
    return shop


async def rotate_webhook_secret(
    sessions: SessionFactory,
    shop_id: str,
    now: datetime,
    *,
    grace_s: float = DEFAULT_ROTATION_GRACE_S,
) -> ShopSecret:
    """A new inbound secret. The one it replaces (the shop's own, or
    ``CSDESK_WEBHOOK_SECRET`` for a shop that had none: then nothing to keep) stays valid
    for ``grace_s`` so senders can switch without a gap; 0 ends it at once."""
    if not 0 <= grace_s <= 30 * 86400:
        raise BadInputError("grace", "must be from 0 to 30 days")
    secret = new_secret()
    async with sessions.begin() as session:
        shop = await _shop_for_update(session, shop_id)
        previous = shop.webhook_secret
        shop.webhook_secret = secret
        if previous is not None and grace_s > 0:
            shop.webhook_secret_previous = previous
            shop.webhook_previous_until = now + timedelta(seconds=grace_s)
        else:
            shop.webhook_secret_previous = None
            shop.webhook_previous_until = None
        until = shop.webhook_previous_until
        audit.record(
            session,
            shop_id=shop_id,
            actor_id=None,
            action="shop.webhook_secret_rotated",
            target_type="shop",
            target_id=shop_id,
            at=now,
            detail={"previous_valid_until": until.isoformat() if until else None},
        )
        return ShopSecret(shop.id, shop.name, secret, until)


@dataclass(frozen=True)
class ChannelSet:
    shop_id: str
    url: str
    outbound_secret: str


async def set_channel(
    sessions: SessionFactory, shop_id: str, url: str, now: datetime
) -> ChannelSet:
    """``csdesk channel set``: where the shop's buyer-visible messages go, with a new
    outbound secret (returned once). Deliveries not yet made go to the new URL, signed
    with the new secret."""
    url = check_channel_url(url, "URL")
    secret = new_secret()
    async with sessions.begin() as session:
        shop = await _shop_for_update(session, shop_id)
        shop.channel_url = url
        shop.outbound_secret = secret
        audit.record(
            session,
            shop_id=shop_id,
            actor_id=None,
            action="channel.set",
            target_type="shop",
            target_id=shop_id,
            at=now,
            detail={"url": url},
        )
    return ChannelSet(shop_id, url, secret)


async def clear_channel(sessions: SessionFactory, shop_id: str, now: datetime) -> None:
    """No channel: buyer-visible messages are stored and shown, and sent nowhere."""
    async with sessions.begin() as session:
        shop = await _shop_for_update(session, shop_id)
        shop.channel_url = None
        shop.outbound_secret = None
        audit.record(
            session,
            shop_id=shop_id,
            actor_id=None,
            action="channel.cleared",
            target_type="shop",
            target_id=shop_id,
            at=now,
        )
