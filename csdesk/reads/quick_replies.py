"""Quick replies (快捷短语): which phrases an agent sees, and their variables.

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
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.current import CurrentUser
from csdesk.clock import SHOP_TZ
from csdesk.reads.quick_reply_library import LIBRARY, Phrase
from csdesk.routing import facts as loaded
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


async def quick_reply_library(sessions: SessionFactory, user: CurrentUser) -> dict[str, Any]:
    """The phrases of the roles I hold (everything for people without an agent profile)."""
    async with sessions() as session:
        profile = await session.get(AgentProfile, user.id)
    phrases = (
        phrases_for(profile.service_roles)
        if profile is not None and profile.service_roles
        else list(LIBRARY)
    )
    return {
        "variables": list(VARIABLES),
        "groups": [
            {
                "name": name,
                "phrases": [{"code": p.code, "text": p.text} for p in items],
            }
            for name, items in grouped(phrases)
        ],
    }
