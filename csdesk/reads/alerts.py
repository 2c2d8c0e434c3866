"""Alerts as read (告警): the shop's health the alert rules judge, the alert settings (with
the robot secret never shown), and the list of alerts raised with each delivery's outcome.
Raising, delivering and changing the settings are ``actions.alerts``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.alerts import robots
from csdesk.alerts.rules import RoleHealth, ShopHealth, ThresholdError, Thresholds, WaitingBuyer
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.reads.dashboard import health_figures
from csdesk.storage.alert_models import AlertConfig, AlertDelivery, AlertRecord
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus, MessageSender
from csdesk.storage.kinds import BUYER_FACING_KINDS
from csdesk.storage.models import Conversation, Message, User

READ_ACCESS: Final = "alerts.read"
LIST_LIMIT: Final = 100
DEFAULT_DEDUPE_WINDOW_S: Final = 1800
DEFAULT_MAX_PER_HOUR: Final = 20


async def shop_health(session: AsyncSession, shop_id: str, now: datetime) -> ShopHealth:
    """What the rules judge: per role queue and staffing (the owner dashboard's figures),
    refunds due within the hour, and buyers waiting on the agent holding their chat."""
    roles, refunds_due = await health_figures(session, shop_id, now)
    return ShopHealth(
        roles=tuple(
            RoleHealth(
                role=role,
                queued=f.queued,
                oldest_wait_s=f.oldest_wait_s,
                agents_on_shift=f.agents_on_shift,
                agents_needed=f.agents_needed,
            )
            for role, f in roles.items()
        ),
        refunds_due=refunds_due.count,
        refunds_due_fen=refunds_due.fen,
        waiting=tuple(await waiting_buyers(session, shop_id)),
    )


async def waiting_buyers(session: AsyncSession, shop_id: str) -> list[WaitingBuyer]:
    """Buyer-facing items held by an agent with the buyer waiting on them: no agent reply
    since the buyer's last message (or since the agent took it, when the buyer wrote
    before that). The board's "agent silent" and "unanswered" lists, per agent."""
    last_reply = (
        select(
            Message.conversation_id.label("conversation_id"),
            func.max(Message.sent_at).label("at"),
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.shop_id == shop_id,
            Conversation.status == ConversationStatus.ASSIGNED,
            Message.sender == MessageSender.AGENT,
        )
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Conversation.id,
            Conversation.assigned_agent_id,
            Conversation.assigned_at,
            Conversation.last_buyer_message_at,
            last_reply.c.at,
            User.display_name,
        )
        .outerjoin(last_reply, last_reply.c.conversation_id == Conversation.id)
        .join(User, User.id == Conversation.assigned_agent_id)
        .where(
            Conversation.shop_id == shop_id,
            Conversation.status == ConversationStatus.ASSIGNED,
            Conversation.kind.in_(BUYER_FACING_KINDS),
            Conversation.last_buyer_message_at.is_not(None),
            or_(last_reply.c.at.is_(None), last_reply.c.at < Conversation.last_buyer_message_at),
        )
    )
    waiting = []
    for item_id, agent_id, assigned_at, buyer_at, _, name in rows:
        if agent_id is None or assigned_at is None or buyer_at is None:
            continue
        waiting.append(WaitingBuyer(agent_id, name, item_id, max(assigned_at, buyer_at)))
    return waiting


async def enabled_shops(session: AsyncSession) -> list[str]:
    """Shops whose alerts are on (with a configuration saved)."""
    return list(
        await session.scalars(
            select(AlertConfig.shop_id)
            .where(AlertConfig.enabled.is_(True))
            .order_by(AlertConfig.shop_id)
        )
    )


def thresholds_of(config: AlertConfig | None) -> Thresholds:
    if config is None:
        return Thresholds()
    try:
        return Thresholds.from_json(config.thresholds)
    except ThresholdError:
        return Thresholds()  # saved values are checked; a later default change is no reason to stop


def config_json(config: AlertConfig | None) -> dict[str, Any]:
    """The settings as the page and the API show them: the secret only as set or not."""
    if config is None:
        return {
            "configured": False,
            "enabled": True,
            "dingtalk_url": None,
            "dingtalk_secret_set": False,
            "wecom_url": None,
            "thresholds": Thresholds().to_json(),
            "dedupe_window_s": DEFAULT_DEDUPE_WINDOW_S,
            "max_per_hour": DEFAULT_MAX_PER_HOUR,
            "updated_at": None,
        }
    return {
        "configured": True,
        "enabled": config.enabled,
        "dingtalk_url": config.dingtalk_url,
        "dingtalk_secret_set": bool(config.dingtalk_secret),
        "wecom_url": config.wecom_url,
        "thresholds": thresholds_of(config).to_json(),
        "dedupe_window_s": config.dedupe_window_s,
        "max_per_hour": config.max_per_hour,
        "updated_at": config.updated_at.isoformat(),
    }


async def alert_config(sessions: SessionFactory, actor: CurrentUser) -> dict[str, Any]:
    require(actor, READ_ACCESS)
    async with sessions() as session:
        config = await session.get(AlertConfig, actor.shop_id)
    return {**config_json(config), "defaults": Thresholds().to_json()}


def delivery_json(d: AlertDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "channel": d.channel,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None,
        "last_error": d.last_error,
        "sent_at": d.sent_at.isoformat() if d.sent_at else None,
        "log": list(d.log or []),
    }


def alert_json(alert: AlertRecord, deliveries: Sequence[AlertDelivery]) -> dict[str, Any]:
    return {
        "id": alert.id,
        "key": alert.key,
        "kind": alert.kind,
        "severity": alert.severity,
        "title": alert.title,
        "text": alert.text,
        "detail": dict(alert.detail or {}),
        "raised_at": alert.raised_at.isoformat(),
        "last_seen_at": alert.last_seen_at.isoformat(),
        "test": alert.kind == "test",
        "deliveries": [delivery_json(d) for d in deliveries],
    }


async def recent_alerts(
    sessions: SessionFactory,
    actor: CurrentUser,
    now: datetime,
    *,
    limit: int = LIST_LIMIT,
    failed_only: bool = False,
) -> dict[str, Any]:
    """``GET /api/v1/alerts``: the latest alerts, newest first, each with its deliveries;
    ``failed_only``: only those with a delivery that failed or is being retried."""
    require(actor, READ_ACCESS)
    async with sessions() as session:
        query = select(AlertRecord).where(AlertRecord.shop_id == actor.shop_id)
        if failed_only:
            troubled = select(AlertDelivery.alert_id).where(
                AlertDelivery.shop_id == actor.shop_id,
                or_(
                    AlertDelivery.status == robots.DeliveryStatus.FAILED.value,
                    (AlertDelivery.status == robots.DeliveryStatus.PENDING.value)
                    & (AlertDelivery.attempts > 0),
                ),
            )
            query = query.where(AlertRecord.id.in_(troubled))
        alerts = list(
            await session.scalars(
                query.order_by(AlertRecord.raised_at.desc(), AlertRecord.id.desc()).limit(limit)
            )
        )
        by_alert: dict[int, list[AlertDelivery]] = {}
        if alerts:
            for delivery in await session.scalars(
                select(AlertDelivery)
                .where(AlertDelivery.alert_id.in_([a.id for a in alerts]))
                .order_by(AlertDelivery.id)
            ):
                by_alert.setdefault(delivery.alert_id, []).append(delivery)
        counts = await delivery_counts(session, actor.shop_id, now)
    return {
        "server_now": now.isoformat(),
        "alerts": [alert_json(a, by_alert.get(a.id, [])) for a in alerts],
        "deliveries": counts,
    }


async def delivery_counts(session: AsyncSession, shop_id: str, now: datetime) -> dict[str, int]:
    """Deliveries of the last 24 h by status (the page's summary line)."""
    rows = await session.execute(
        select(AlertDelivery.status, func.count())
        .where(
            AlertDelivery.shop_id == shop_id,
            AlertDelivery.created_at > now - timedelta(hours=24),
        )
        .group_by(AlertDelivery.status)
    )
    counts = {status.value: 0 for status in robots.DeliveryStatus}
    for status, count in rows:
        counts[str(status)] = int(count)
    return counts


async def last_raised(session: AsyncSession, shop_id: str, key: str) -> AlertRecord | None:
    return await session.scalar(
        select(AlertRecord)
        .where(AlertRecord.shop_id == shop_id, AlertRecord.key == key)
        .order_by(AlertRecord.raised_at.desc(), AlertRecord.id.desc())
        .limit(1)
    )


async def sent_in_last_hour(
    session: AsyncSession, shop_id: str, channel: str, now: datetime
) -> int:
    """Robot messages of the shop's channel that went out, or are going out, in the hour
    before ``now`` (the rate limit counts them)."""
    return int(
        await session.scalar(
            select(func.count()).where(
                AlertDelivery.shop_id == shop_id,
                AlertDelivery.channel == channel,
                AlertDelivery.created_at > now - timedelta(hours=1),
                AlertDelivery.status != robots.DeliveryStatus.RATE_LIMITED.value,
            )
        )
        or 0
    )


async def due_deliveries(session: AsyncSession, now: datetime, limit: int = 200) -> list[int]:
    """Pending deliveries whose (next) attempt is due, oldest first."""
    return list(
        await session.scalars(
            select(AlertDelivery.id)
            .where(
                AlertDelivery.status == robots.DeliveryStatus.PENDING.value,
                AlertDelivery.next_attempt_at <= now,
            )
            .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
            .limit(limit)
        )
    )


__all__ = [
    "READ_ACCESS",
    "alert_config",
    "alert_json",
    "config_json",
    "delivery_counts",
    "due_deliveries",
    "enabled_shops",
    "last_raised",
    "recent_alerts",
    "sent_in_last_hour",
    "shop_health",
    "thresholds_of",
    "waiting_buyers",
]
