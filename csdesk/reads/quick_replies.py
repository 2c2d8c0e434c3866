"""Quick replies (快捷短语): which phrases an agent sees, and their variables.

The library is the shop's stored groups (``quick_reply_group`` without an owner, edited by
supervisors) or, until a supervisor first edits it, the built-in defaults
(``quick_reply_library.LIBRARY``, shown with ``id`` null); plus each agent's personal
groups, their hotkeys (Alt+1 … Alt+9) and how often each phrase was sent.

Variables are filled from the conversation's focus order: the order the conversation is
about, else the buyer's latest order. A variable with no value stays unresolved, and a
reply still carrying one is refused (it must not go out blank or as ``{订单号}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import Integer as Integer_
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import can
from csdesk.auth.current import CurrentUser
from csdesk.clock import SHOP_TZ
from csdesk.reads.quick_reply_library import LIBRARY, Phrase
from csdesk.routing import facts as loaded
from csdesk.storage.console_models import (
    MediaFile,
    QuickReply,
    QuickReplyGroup,
    QuickReplyHotkey,
    QuickReplyUse,
)
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import OrderStatus, ServiceRole
from csdesk.storage.models import AgentProfile, Buyer, Conversation, Order, PlatformEvent

BUYER_NICK: Final = "买家昵称"
ORDER_NO: Final = "订单号"
TRACKING_NO: Final = "物流单号"
EXPECTED_SHIPPING: Final = "预计发货"
VARIABLES: Final = (BUYER_NICK, ORDER_NO, TRACKING_NO, EXPECTED_SHIPPING)
SHIP_WITHIN: Final = timedelta(hours=48)
"""Tmall's default promise: paid orders ship within 48 hours (预计发货 = paid + 48 h)."""

_VARIABLE_RE: Final = re.compile(r"\{(" + "|".join(map(re.escape, VARIABLES)) + r")\}")


def phrases_for(
    roles: Iterable[ServiceRole | str], library: Sequence[Phrase] = LIBRARY
) -> list[Phrase]:
    """The phrases of these service roles (and the common ones), in library order."""
    held = {ServiceRole(role) for role in roles}
    return [p for p in library if not p.roles or p.roles & held]


def grouped(phrases: Iterable[Phrase]) -> list[tuple[str, list[Phrase]]]:
    """Phrases by group, groups in order of first appearance."""
    groups: dict[str, list[Phrase]] = {}
    for phrase in phrases:
        groups.setdefault(phrase.group, []).append(phrase)
    return list(groups.items())


def unresolved(text: str) -> list[str]:
    """The variables still in ``text`` (each once, in order of appearance)."""
    return list(dict.fromkeys(_VARIABLE_RE.findall(text)))


@dataclass(frozen=True)
class Filled:
    text: str
    missing: tuple[str, ...]
    """Variables without a value: they stay in ``text`` and block sending."""


def fill(text: str, values: Mapping[str, str | None]) -> Filled:
    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value:
            return value
        missing.append(match.group(1))
        return match.group(0)

    filled = _VARIABLE_RE.sub(substitute, text)
    return Filled(filled, tuple(dict.fromkeys(missing)))


def _shop_date(value: datetime, tz: ZoneInfo) -> str:
    local = value.astimezone(tz)
    return f"{local.month}月{local.day}日"


def expected_shipping(order: Order, tz: ZoneInfo = SHOP_TZ) -> str | None:
    """预计发货 in shop-local days: the ship date once shipped, else paid + 48 h."""
    if order.shipped_at is not None:
        return _shop_date(order.shipped_at, tz)
    if order.status is OrderStatus.PAID and order.paid_at is not None:
        return _shop_date(order.paid_at + SHIP_WITHIN, tz)
    return None


async def tracking_numbers(
    session: AsyncSession, shop_id: str, external_ids: Sequence[str]
) -> dict[str, str]:
    """物流单号 per order, from the ``order.shipped`` events that carried one."""
    if not external_ids:
        return {}
    order_ref = PlatformEvent.payload["order_id"].as_string()
    rows = await session.execute(
        select(order_ref, PlatformEvent.payload["tracking_no"].as_string())
        .where(
            PlatformEvent.shop_id == shop_id,
            PlatformEvent.type == "order.shipped",
            order_ref.in_(list(external_ids)),
        )
        .order_by(PlatformEvent.id)
    )
    return {order_id: number for order_id, number in rows if order_id and number}


async def focus_order(session: AsyncSession, conversation: Conversation) -> Order | None:
    """The order a conversation is about, else the buyer's latest one."""
    if conversation.order_id is not None:
        order = await session.get(Order, conversation.order_id)
        if order is not None:
            return order
    if conversation.buyer_id is None:
        return None
    return await loaded.latest_order(session, conversation.shop_id, conversation.buyer_id)


async def variable_values(
    session: AsyncSession, conversation: Conversation, tz: ZoneInfo = SHOP_TZ
) -> tuple[dict[str, str | None], Order | None]:
    """Every variable's value for this conversation (None when unknown) and the focus order."""
    buyer = await session.get(Buyer, conversation.buyer_id) if conversation.buyer_id else None
    order = await focus_order(session, conversation)
    tracking = (
        await tracking_numbers(session, conversation.shop_id, [order.external_id])
        if order is not None
        else {}
    )
    values: dict[str, str | None] = {
        BUYER_NICK: buyer.nick if buyer else None,
        ORDER_NO: order.external_id if order else None,
        TRACKING_NO: tracking.get(order.external_id) if order else None,
        EXPECTED_SHIPPING: expected_shipping(order, tz) if order else None,
    }
    return values, order


USAGE_WINDOW: Final = timedelta(days=30)
"""The library page's recent-use column: sends in the last 30 days."""
MAX_HOTKEYS: Final = 9


def media_url(media_id: int) -> str:
    return f"/api/v1/media/{media_id}"


def image_json(media: MediaFile) -> dict[str, Any]:
    return {
        "id": media.id,
        "url": media_url(media.id),
        "name": media.name,
        "content_type": media.content_type,
        "size": media.size,
        "width": media.width,
        "height": media.height,
    }


@dataclass(frozen=True)
class LibraryPhrase:
    id: int | None
    """None for a built-in phrase of a shop that has not stored its library yet."""
    code: str
    text: str
    image: dict[str, Any] | None = None
    use_count: int = 0
    last_used_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "text": self.text,
            "image": self.image,
            "use_count": self.use_count,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
        }


@dataclass(frozen=True)
class LibraryGroup:
    id: int | None
    name: str
    scope: str
    """``shop`` (shop-wide) or ``personal`` (mine)."""
    roles: frozenset[str]
    phrases: tuple[LibraryPhrase, ...]


def builtin_groups(library: Sequence[Phrase] = LIBRARY) -> list[LibraryGroup]:
    """The built-in library as groups (a group's roles are its phrases' roles)."""
    return [
        LibraryGroup(
            None,
            name,
            "shop",
            frozenset(role.value for role in items[0].roles),
            tuple(LibraryPhrase(None, p.code, p.text) for p in items),
        )
        for name, items in grouped(library)
    ]


def visible_to(group: LibraryGroup, roles: frozenset[str] | None) -> bool:
    """Personal groups always; shop-wide ones when they are for every role or one I hold
    (``roles`` None: people without an agent profile see everything)."""
    return (
        group.scope == "personal" or roles is None or not group.roles or bool(group.roles & roles)
    )


async def has_stored_library(session: AsyncSession, shop_id: str) -> bool:
    found = await session.scalar(
        select(QuickReplyGroup.id)
        .where(QuickReplyGroup.shop_id == shop_id, QuickReplyGroup.owner_id.is_(None))
        .limit(1)
    )
    return found is not None


async def load_groups(session: AsyncSession, shop_id: str, user_id: int) -> list[LibraryGroup]:
    """Shop-wide groups (stored, else built-in), then my personal groups, in their order."""
    rows = list(
        await session.scalars(
            select(QuickReplyGroup)
            .where(
                QuickReplyGroup.shop_id == shop_id,
                (QuickReplyGroup.owner_id.is_(None)) | (QuickReplyGroup.owner_id == user_id),
            )
            .order_by(QuickReplyGroup.position, QuickReplyGroup.id)
        )
    )
    stored_shop = any(g.owner_id is None for g in rows)
    phrases = (
        list(
            await session.scalars(
                select(QuickReply)
                .where(QuickReply.group_id.in_([g.id for g in rows]))
                .order_by(QuickReply.position, QuickReply.id)
            )
        )
        if rows
        else []
    )
    image_ids = {p.image_id for p in phrases if p.image_id is not None}
    images = (
        {
            m.id: image_json(m)
            for m in await session.scalars(select(MediaFile).where(MediaFile.id.in_(image_ids)))
        }
        if image_ids
        else {}
    )
    by_group: dict[int, list[LibraryPhrase]] = {}
    for p in phrases:
        by_group.setdefault(p.group_id, []).append(
            LibraryPhrase(
                p.id,
                p.code,
                p.text,
                images.get(p.image_id) if p.image_id is not None else None,
                p.use_count,
                p.last_used_at,
            )
        )
    groups = [] if stored_shop else builtin_groups()
    shop = [g for g in rows if g.owner_id is None]
    personal = [g for g in rows if g.owner_id is not None]
    for g in shop + personal:
        groups.append(
            LibraryGroup(
                g.id,
                g.name,
                "shop" if g.owner_id is None else "personal",
                frozenset(str(r) for r in g.roles or ()),
                tuple(by_group.get(g.id, ())),
            )
        )
    return groups


async def hotkeys_of(session: AsyncSession, user_id: int) -> dict[int, int]:
    """My favourites: slot (1-9) → quick reply id."""
    rows = await session.execute(
        select(QuickReplyHotkey.slot, QuickReplyHotkey.quick_reply_id).where(
            QuickReplyHotkey.user_id == user_id
        )
    )
    return {int(slot): int(phrase_id) for slot, phrase_id in rows.all()}


async def recent_uses(
    session: AsyncSession, shop_id: str, since: datetime
) -> dict[int, tuple[int, int]]:
    """Per phrase: sends since ``since`` and how many of them were edited before sending."""
    rows = await session.execute(
        select(
            QuickReplyUse.quick_reply_id,
            func.count(),
            func.sum(func.cast(QuickReplyUse.edited, Integer_())),
        )
        .where(QuickReplyUse.shop_id == shop_id, QuickReplyUse.used_at >= since)
        .group_by(QuickReplyUse.quick_reply_id)
    )
    return {phrase_id: (int(count), int(edited or 0)) for phrase_id, count, edited in rows}


async def quick_reply_library(
    sessions: SessionFactory,
    user: CurrentUser,
    now: datetime | None = None,
    *,
    every_role: bool = False,
) -> dict[str, Any]:
    """The picker's library: shop-wide groups of the roles I hold (everything for people
    without an agent profile, or with ``every_role`` for the library page), my personal
    groups, my hotkeys; with ``now``, each phrase's sends in the last 30 days too."""
    async with sessions() as session:
        profile = await session.get(AgentProfile, user.id)
        groups = await load_groups(session, user.shop_id, user.id)
        stored = await has_stored_library(session, user.shop_id)
        hotkeys = await hotkeys_of(session, user.id)
        recent = (
            await recent_uses(session, user.shop_id, now - USAGE_WINDOW) if now is not None else {}
        )
    held = (
        frozenset(str(r) for r in profile.service_roles)
        if profile is not None and profile.service_roles and not every_role
        else None
    )
    slot_of = {phrase_id: slot for slot, phrase_id in hotkeys.items()}
    shown = [g for g in groups if visible_to(g, held)]

    def phrase_json(phrase: LibraryPhrase) -> dict[str, Any]:
        data = phrase.to_json()
        data["hotkey"] = slot_of.get(phrase.id) if phrase.id is not None else None
        if now is not None:
            uses, edited = recent.get(phrase.id, (0, 0)) if phrase.id is not None else (0, 0)
            data["uses_30d"] = uses
            data["edited_30d"] = edited
        return data

    return {
        "variables": list(VARIABLES),
        "stored": stored,
        "can_edit_shop": can(user, "quick_replies.edit"),
        "max_hotkeys": MAX_HOTKEYS,
        "groups": [
            {
                "id": g.id,
                "name": g.name,
                "scope": g.scope,
                "roles": sorted(g.roles),
                "phrases": [phrase_json(p) for p in g.phrases],
            }
            for g in shown
        ],
        "hotkeys": [{"slot": slot, "phrase_id": pid} for slot, pid in sorted(hotkeys.items())],
    }


async def media_file(
    sessions: SessionFactory, user: CurrentUser, media_id: int
) -> MediaFile | None:
    """An uploaded image of the user's shop (None: no such image there)."""
    async with sessions() as session:
        media = await session.get(MediaFile, media_id)
    return media if media is not None and media.shop_id == user.shop_id else None


async def shop_media_file(
    sessions: SessionFactory, shop_id: str, media_id: int
) -> MediaFile | None:
    """An uploaded image of ``shop_id`` (for a signed public URL, which names its shop)."""
    async with sessions() as session:
        media = await session.get(MediaFile, media_id)
    return media if media is not None and media.shop_id == shop_id else None


def content_disposition(kind: str, name: str) -> str:
    """``inline`` or ``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266)."""
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
