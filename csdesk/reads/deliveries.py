"""Outbound deliveries as people see them: a message's state in the transcript (sending /
delivered / failed), the counts of the board and ``/metrics``, the due list of the sweep,
and the integrators' subscriptions with their delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import NotFoundError
from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import Delivery, Shop, WebhookSubscription

SENDING: Final = "sending"
DELIVERED: Final = "delivered"
FAILED: Final = "failed"
STATES: Final = (SENDING, DELIVERED, FAILED)
KIND_MESSAGE: Final = "message"
KIND_WEBHOOK: Final = "webhook"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def delivery_json(row: Delivery) -> dict[str, Any]:
    """One delivery's state (the console's mark on a message, a line of the delivery log)."""
    return {
        "id": row.delivery_id,
        "kind": row.kind,
        "event_type": row.event_type,
        "state": row.state,
        "attempts": row.attempts,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "last_attempt_at": _iso(row.last_attempt_at),
        "next_attempt_at": _iso(row.next_attempt_at) if row.state == SENDING else None,
        "created_at": _iso(row.created_at),
        "delivered_at": _iso(row.delivered_at),
        "failed_at": _iso(row.failed_at),
    }


async def for_messages(
    session: AsyncSession, message_ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """The delivery of each of these messages that has one (buyer-visible, channel set)."""
    if not message_ids:
        return {}
    rows = await session.scalars(
        select(Delivery).where(
            Delivery.message_id.in_(list(message_ids)), Delivery.kind == KIND_MESSAGE
        )
    )
    return {row.message_id: delivery_json(row) for row in rows if row.message_id is not None}


async def due(sessions: SessionFactory, now: datetime, limit: int) -> list[str]:
    """Deliveries whose next attempt is due (oldest first): the sweep's work."""
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Delivery.delivery_id)
                .where(Delivery.state == SENDING, Delivery.next_attempt_at <= now)
                .order_by(Delivery.next_attempt_at)
                .limit(limit)
            )
        )


@dataclass(frozen=True)
class DeliveryCounts:
    """Per kind (``message``, ``webhook``): deliveries still being tried and dead letters."""

    sending: dict[str, int]
    failed: dict[str, int]
    oldest_sending_s: dict[str, float]
    channel_configured: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "sending": self.sending,
            "failed": self.failed,
            "oldest_sending_s": self.oldest_sending_s,
            "channel_configured": self.channel_configured,
        }


async def counts(session: AsyncSession, shop_id: str, now: datetime) -> DeliveryCounts:
    """What the supervisor board and ``/metrics`` show (two indexed aggregates: delivered
    rows, which only grow, are never counted)."""
    sending = {KIND_MESSAGE: 0, KIND_WEBHOOK: 0}
    failed = {KIND_MESSAGE: 0, KIND_WEBHOOK: 0}
    oldest = {KIND_MESSAGE: 0.0, KIND_WEBHOOK: 0.0}
    rows = await session.execute(
        select(Delivery.kind, Delivery.state, func.count(), func.min(Delivery.created_at))
        .where(Delivery.shop_id == shop_id, Delivery.state.in_((SENDING, FAILED)))
        .group_by(Delivery.kind, Delivery.state)
    )
    for kind, state, count, first in rows:
        target = sending if state == SENDING else failed
        target[kind] = int(count)
        if state == SENDING and first is not None:
            oldest[kind] = max(0.0, round((now - first).total_seconds(), 1))
    channel = await session.scalar(select(Shop.channel_url).where(Shop.id == shop_id))
    return DeliveryCounts(sending, failed, oldest, channel is not None)


# -- integrator webhooks ------------------------------------------------------------------------


def subscription_json(row: WebhookSubscription) -> dict[str, Any]:
    """Never the secret: it is shown once, when the subscription is made."""
    return {
        "id": row.id,
        "url": row.url,
        "event_types": list(row.event_types),
        "description": row.description,
        "active": row.active,
        "created_at": row.created_at.isoformat(),
    }


@dataclass(frozen=True)
class WebhookPage:
    subscriptions: list[dict[str, Any]]
    channel: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"subscriptions": self.subscriptions, "channel": self.channel}


async def webhook_page(sessions: SessionFactory, actor: CurrentUser, now: datetime) -> WebhookPage:
    """The shop's subscriptions, each with its counts, and the outbound channel's state."""
    require(actor, "webhooks.admin")
    async with sessions() as session:
        subscriptions = list(
            await session.scalars(
                select(WebhookSubscription)
                .where(WebhookSubscription.shop_id == actor.shop_id)
                .order_by(WebhookSubscription.id)
            )
        )
        states: dict[tuple[int | None, str], int] = {}
        for sub_id, state, count in await session.execute(
            select(Delivery.subscription_id, Delivery.state, func.count())
            .where(Delivery.shop_id == actor.shop_id, Delivery.kind == KIND_WEBHOOK)
            .group_by(Delivery.subscription_id, Delivery.state)
        ):
            states[(sub_id, state)] = int(count)
        shop = await session.get(Shop, actor.shop_id)
        tally = await counts(session, actor.shop_id, now)
    items = []
    for row in subscriptions:
        item = subscription_json(row)
        item["deliveries"] = {state: states.get((row.id, state), 0) for state in STATES}
        items.append(item)
    channel = {
        "url": shop.channel_url if shop is not None else None,
        "sending": tally.sending[KIND_MESSAGE],
        "failed": tally.failed[KIND_MESSAGE],
    }
    return WebhookPage(items, channel)


async def delivery_log(
    sessions: SessionFactory,
    actor: CurrentUser,
    subscription_id: int,
    *,
    limit: int = 50,
    state: str | None = None,
) -> dict[str, Any]:
    """A subscription's latest deliveries, newest first, with what each attempt answered."""
    require(actor, "webhooks.admin")
    async with sessions() as session:
        subscription = await session.get(WebhookSubscription, subscription_id)
        if subscription is None or subscription.shop_id != actor.shop_id:
            raise NotFoundError(f"no webhook subscription {subscription_id}")
        query = select(Delivery).where(Delivery.subscription_id == subscription_id)
        if state is not None:
            query = query.where(Delivery.state == state)
        rows = list(await session.scalars(query.order_by(Delivery.id.desc()).limit(limit)))
    return {
        "subscription": subscription_json(subscription),
        "items": [delivery_json(row) for row in rows],
    }


async def subscribed_types(
    sessions: SessionFactory, shop_ids: Sequence[str]
) -> dict[str, set[str]]:
    """The event types each shop's active subscriptions take (the listener's filter)."""
    found: dict[str, set[str]] = {shop_id: set() for shop_id in shop_ids}
    async with sessions() as session:
        for shop_id, types in await session.execute(
            select(WebhookSubscription.shop_id, WebhookSubscription.event_types).where(
                WebhookSubscription.shop_id.in_(list(shop_ids)),
                WebhookSubscription.active.is_(True),
            )
        ):
            found.setdefault(shop_id, set()).update(types)
    return found
