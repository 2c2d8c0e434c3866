"""The durable outbox of signed POSTs: staged with what they deliver, claimed, recorded.

- :func:`stage_message`: a buyer-visible message (agent reply, quick reply and cards sent
  as replies, 转接提示 and other auto messages) gets its delivery row in the message's own
  transaction (``messages.add_message`` calls it), so a committed message is never lost on
  its way out, and a rolled-back one never leaves. A shop without a channel gets no row:
  the message is stored and shown, and goes nowhere.
- :func:`stage_webhooks`: an integrator's copy of a desk event, once per subscription
  (a stable ``delivery_id`` makes a second insert a no-op).
- :func:`claim` then :func:`record_attempt` around each attempt (``jobs/deliveries.py``
  makes the POST); :func:`retry` sends a dead letter again, from the console.

States: ``sending`` (due at ``next_attempt_at``), ``delivered`` (a 2xx), ``failed`` (no
2xx within ``OutboundSettings.max_age_s``: the dead letter).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.conversations import MessageSpec
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.shops import check_channel_url, new_secret
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.errors import BadInputError, ConflictError, NotFoundError
from csdesk.outbound import policy
from csdesk.outbound.webhook_events import SUBSCRIBABLE, WEBHOOK_TEST, delivery_id_for
from csdesk.reads.deliveries import (
    DELIVERED,
    FAILED,
    KIND_MESSAGE,
    KIND_WEBHOOK,
    SENDING,
    delivery_json,
)
from csdesk.settings import OutboundSettings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import MessageSender
from csdesk.storage.models import (
    Buyer,
    Conversation,
    Delivery,
    Message,
    Shop,
    WebhookSubscription,
)

BUYER_VISIBLE: Final = frozenset({MessageSender.AGENT, MessageSender.AUTO})
MESSAGE_OUTBOUND: Final = "message.outbound"
MAX_SUBSCRIPTIONS: Final = 20


def _body(
    delivery_id: str, event_type: str, shop_id: str, occurred_at: datetime, data: dict[str, Any]
) -> str:
    return json.dumps(
        {
            "delivery_id": delivery_id,
            "type": event_type,
            "shop_id": shop_id,
            "occurred_at": occurred_at.isoformat(),
            "data": data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _new_row(
    *,
    shop_id: str,
    delivery_id: str,
    kind: str,
    event_type: str,
    body: str,
    now: datetime,
    message_id: int | None = None,
    conversation_id: int | None = None,
    subscription_id: int | None = None,
) -> dict[str, Any]:
    return {
        "shop_id": shop_id,
        "delivery_id": delivery_id,
        "kind": kind,
        "event_type": event_type,
        "message_id": message_id,
        "conversation_id": conversation_id,
        "subscription_id": subscription_id,
        "body": body,
        "state": SENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "window_started_at": now,
        "created_at": now,
    }


async def stage_message(
    session: AsyncSession, conversation: Conversation, message_id: int, message: MessageSpec
) -> dict[str, Any] | None:
    """The delivery of a buyer-visible message, in the caller's transaction; None when the
    shop has no channel (or the conversation no buyer to send to). Returns its state as the
    console shows it."""
    if message.sender not in BUYER_VISIBLE or conversation.buyer_id is None:
        return None
    shop = await session.get(Shop, conversation.shop_id)
    if shop is None or not shop.channel_url:
        return None
    buyer = await session.get(Buyer, conversation.buyer_id)
    delivery_id = "msg_" + uuid.uuid4().hex
    body = _body(
        delivery_id,
        MESSAGE_OUTBOUND,
        conversation.shop_id,
        message.sent_at,
        {
            "buyer_nick": buyer.nick if buyer is not None else None,
            "conversation_id": conversation.id,
            "message_id": message_id,
            "channel": conversation.channel.value,
            "sender": message.sender.value,
            "kind": message.kind,
            "text": message.text,
            # Images (``type: image``: the desk's ``url``, ``sha256``, size) and cards
            # (``type: card``: the card's fields), as the message carries them.
            "attachments": [dict(item) for item in message.attachments],
        },
    )
    row = Delivery(
        **_new_row(
            shop_id=conversation.shop_id,
            delivery_id=delivery_id,
            kind=KIND_MESSAGE,
            event_type=MESSAGE_OUTBOUND,
            body=body,
            now=message.sent_at,
            message_id=message_id,
            conversation_id=conversation.id,
        )
    )
    session.add(row)
    return {"id": delivery_id, "kind": KIND_MESSAGE, "state": SENDING, "attempts": 0}


# -- one attempt ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A delivery this sender holds for one attempt (until ``lease`` runs out)."""

    id: int
    delivery_id: str
    kind: str
    event_type: str
    body: bytes
    attempts: int
    url: str | None
    secret: str | None
    """None when there is nowhere to send it (channel cleared, subscription paused)."""


async def claim(
    sessions: SessionFactory, delivery_id: str, now: datetime, lease_s: float
) -> Claimed | None:
    """Take a due delivery for one attempt: a conditional UPDATE, so of two senders (a job
    and the sweep, two workers) one gets it. None if not due or not ``sending``."""
    async with sessions.begin() as session:
        result = await session.execute(
            update(Delivery)
            .where(
                Delivery.delivery_id == delivery_id,
                Delivery.state == SENDING,
                Delivery.next_attempt_at <= now,
            )
            .values(
                next_attempt_at=now + timedelta(seconds=lease_s),
                attempts=Delivery.attempts + 1,
                last_attempt_at=now,
            )
            .returning(
                Delivery.id,
                Delivery.kind,
                Delivery.event_type,
                Delivery.body,
                Delivery.attempts,
                Delivery.shop_id,
                Delivery.subscription_id,
            )
            .execution_options(synchronize_session=False)
        )
        row = result.first()
        if row is None:
            return None
        row_id, kind, event_type, body, attempts, shop_id, subscription_id = row
        url: str | None = None
        secret: str | None = None
        if kind == KIND_MESSAGE:
            target = (
                await session.execute(
                    select(Shop.channel_url, Shop.outbound_secret).where(Shop.id == shop_id)
                )
            ).first()
            if target is not None:
                url, secret = target
        else:
            target = (
                await session.execute(
                    select(WebhookSubscription.url, WebhookSubscription.secret).where(
                        WebhookSubscription.id == subscription_id,
                        WebhookSubscription.active.is_(True),
                    )
                )
            ).first()
            if target is not None:
                url, secret = target
    return Claimed(row_id, delivery_id, kind, event_type, body.encode(), attempts, url, secret)


@dataclass(frozen=True)
class Recorded:
    state: str
    next_attempt_at: datetime | None
    """When the next attempt is due (``sending``), else None."""


async def _readers(session: AsyncSession, row: Delivery) -> tuple[str, ...]:
    conversation = (
        await session.get(Conversation, row.conversation_id) if row.conversation_id else None
    )
    readers = set(ev.conversation_readers(conversation.assigned_agent_id if conversation else None))
    if row.message_id is not None:
        author = await session.scalar(select(Message.author_id).where(Message.id == row.message_id))
        if author is not None:
            readers.add(ev.to_user(author))
    return tuple(sorted(readers))


async def _announce(session: AsyncSession, row: Delivery, outbox: Any) -> None:
    """A message's delivery state to those who see the conversation (``message.delivery``)."""
    if row.kind != KIND_MESSAGE or row.message_id is None:
        return
    outbox.publish(
        BusEvent(
            ev.MESSAGE_DELIVERY,
            row.shop_id,
            await _readers(session, row),
            {
                "conversation_id": row.conversation_id,
                "message_id": row.message_id,
                "delivery": delivery_json(row),
            },
        )
    )


async def record_attempt(
    deps: Deps,
    claimed: Claimed,
    status: int | None,
    error: str | None,
    now: datetime,
    settings: OutboundSettings,
    draw: Callable[[], float],
) -> Recorded:
    """What one attempt answered: delivered on a 2xx, else the next try (backoff with
    jitter) or, once the window is over, the dead letter ``failed``."""
    async with transaction(deps) as (session, outbox):
        row = await session.get(Delivery, claimed.id, with_for_update=True)
        if row is None or row.state != SENDING:
            return Recorded(row.state if row is not None else FAILED, None)
        row.last_status = status
        if status is not None and policy.success(status):
            row.state = DELIVERED
            row.delivered_at = now
            row.last_error = None
            next_at = None
        else:
            row.last_error = (error or "no answer")[:500]
            next_at = policy.next_attempt_at(
                row.attempts, row.window_started_at, now, settings, draw
            )
            if next_at is None:
                row.state = FAILED
                row.failed_at = now
            else:
                row.next_attempt_at = next_at
        await _announce(session, row, outbox)
        return Recorded(row.state, next_at)


# -- the console's retry -----------------------------------------------------------------------


async def retry(deps: Deps, actor: CurrentUser, delivery_id: str, now: datetime) -> dict[str, Any]:
    """Send a dead letter again (a new window of retries starts now). A message's: the agent
    holding its conversation, or a supervisor; a webhook's: owners and admins. 409 unless
    it is ``failed``. Audited."""
    async with transaction(deps) as (session, outbox):
        row = await session.scalar(
            select(Delivery).where(Delivery.delivery_id == delivery_id).with_for_update()
        )
        if row is None or row.shop_id != actor.shop_id:
            raise NotFoundError(f"no delivery {delivery_id}")
        if row.kind == KIND_MESSAGE:
            conversation = (
                await session.get(Conversation, row.conversation_id)
                if row.conversation_id is not None
                else None
            )
            if conversation is None:
                raise NotFoundError(f"no delivery {delivery_id}")
            require(actor, "deliveries.retry", conversation)
        else:
            require(actor, "webhooks.admin")
        if row.state != FAILED:
            raise ConflictError(f"delivery {delivery_id} is {row.state}, not failed")
        row.state = SENDING
        row.next_attempt_at = now
        row.window_started_at = now
        row.failed_at = None
        audit.record(
            session,
            shop_id=row.shop_id,
            actor_id=actor.id,
            action="delivery.retried",
            target_type="delivery",
            target_id=delivery_id,
            at=now,
            detail={"kind": row.kind, "attempts": row.attempts, "last_error": row.last_error},
        )
        await _announce(session, row, outbox)
        return delivery_json(row)


# -- integrator webhooks ---------------------------------------------------------------------


def _event_types(values: Any) -> list[str]:
    if not isinstance(values, list) or not values:
        raise BadInputError("event_types", f"a non-empty list of: {', '.join(SUBSCRIBABLE)}")
    chosen: list[str] = []
    for value in values:
        if value not in SUBSCRIBABLE:
            raise BadInputError(
                "event_types", f"unknown type {value!r}; one of {', '.join(SUBSCRIBABLE)}"
            )
        if value not in chosen:
            chosen.append(value)
    return chosen


@dataclass(frozen=True)
class NewSubscription:
    subscription: dict[str, Any]
    secret: str
    """Shown once."""


async def create_subscription(
    sessions: SessionFactory,
    actor: CurrentUser,
    url: str,
    event_types: Any,
    description: str,
    now: datetime,
) -> NewSubscription:
    from csdesk.reads.deliveries import subscription_json

    require(actor, "webhooks.admin")
    url = check_channel_url(url, "url")
    types = _event_types(event_types)
    description = description.strip()
    if len(description) > 200:
        raise BadInputError("description", "at most 200 characters")
    secret = new_secret()
    async with sessions.begin() as session:
        existing = list(
            await session.scalars(
                select(WebhookSubscription.id).where(WebhookSubscription.shop_id == actor.shop_id)
            )
        )
        if len(existing) >= MAX_SUBSCRIPTIONS:
            raise ConflictError(f"at most {MAX_SUBSCRIPTIONS} webhook subscriptions per shop")
        row = WebhookSubscription(
            shop_id=actor.shop_id,
            url=url,
            secret=secret,
            event_types=types,
            description=description,
            active=True,
            created_by=actor.id,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="webhook.created",
            target_type="webhook_subscription",
            target_id=row.id,
            at=now,
            detail={"url": url, "event_types": types},
        )
        return NewSubscription(subscription_json(row), secret)


async def _own_subscription(
    session: AsyncSession, actor: CurrentUser, subscription_id: int
) -> WebhookSubscription:
    require(actor, "webhooks.admin")
    row = await session.get(WebhookSubscription, subscription_id, with_for_update=True)
    if row is None or row.shop_id != actor.shop_id:
        raise NotFoundError(f"no webhook subscription {subscription_id}")
    return row


async def update_subscription(
    sessions: SessionFactory,
    actor: CurrentUser,
    subscription_id: int,
    now: datetime,
    *,
    active: bool | None = None,
    event_types: Any = None,
) -> dict[str, Any]:
    """Pause or resume (a paused one's pending deliveries wait, failing, until resumed or
    dead-lettered), or change the types it receives."""
    from csdesk.reads.deliveries import subscription_json

    async with sessions.begin() as session:
        row = await _own_subscription(session, actor, subscription_id)
        if active is not None:
            row.active = active
        if event_types is not None:
            row.event_types = _event_types(event_types)
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="webhook.updated",
            target_type="webhook_subscription",
            target_id=row.id,
            at=now,
            detail={"active": row.active, "event_types": list(row.event_types)},
        )
        return subscription_json(row)


async def delete_subscription(
    sessions: SessionFactory, actor: CurrentUser, subscription_id: int, now: datetime
) -> None:
    """Gone with its delivery log and whatever it had not delivered."""
    async with sessions.begin() as session:
        row = await _own_subscription(session, actor, subscription_id)
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="webhook.deleted",
            target_type="webhook_subscription",
            target_id=row.id,
            at=now,
            detail={"url": row.url},
        )
        await session.delete(row)


async def send_test(
    sessions: SessionFactory, actor: CurrentUser, subscription_id: int, now: datetime
) -> str:
    """A ``webhook.test`` delivery to this subscription (whatever types it takes)."""
    async with sessions.begin() as session:
        row = await _own_subscription(session, actor, subscription_id)
        delivery_id = "whk_test_" + uuid.uuid4().hex
        session.add(
            Delivery(
                **_new_row(
                    shop_id=row.shop_id,
                    delivery_id=delivery_id,
                    kind=KIND_WEBHOOK,
                    event_type=WEBHOOK_TEST,
                    body=_body(
                        delivery_id,
                        WEBHOOK_TEST,
                        row.shop_id,
                        now,
                        {"subscription_id": row.id, "sent_by": actor.username},
                    ),
                    now=now,
                    subscription_id=row.id,
                )
            )
        )
    return delivery_id


async def stage_webhooks(
    sessions: SessionFactory,
    shop_id: str,
    event_type: str,
    key: str,
    data: dict[str, Any],
    now: datetime,
) -> list[str]:
    """One delivery per active subscription of the shop that takes ``event_type``; a key
    staged before (the same occurrence seen by another process) adds nothing. Returns the
    delivery ids this call added."""
    async with sessions.begin() as session:
        subscriptions = [
            row
            for row in await session.scalars(
                select(WebhookSubscription).where(
                    WebhookSubscription.shop_id == shop_id,
                    WebhookSubscription.active.is_(True),
                )
            )
            if event_type in row.event_types
        ]
        if not subscriptions:
            return []
        rows = []
        for subscription in subscriptions:
            delivery_id = delivery_id_for(subscription.id, key)
            rows.append(
                _new_row(
                    shop_id=shop_id,
                    delivery_id=delivery_id,
                    kind=KIND_WEBHOOK,
                    event_type=event_type,
                    body=_body(delivery_id, event_type, shop_id, now, data),
                    now=now,
                    conversation_id=data.get("conversation_id")
                    if isinstance(data.get("conversation_id"), int)
                    else None,
                    subscription_id=subscription.id,
                )
            )
        insert = (
            postgresql.insert(Delivery)
            if session.get_bind().dialect.name == "postgresql"
            else sqlite.insert(Delivery)
        )
        added = await session.scalars(
            insert.values(rows)
            .on_conflict_do_nothing(index_elements=["delivery_id"])
            .returning(Delivery.delivery_id)
        )
        return list(added)
