"""Alerts (告警): the settings a shop keeps, the alerts an evaluation raises, and each
robot delivery's claim and outcome. The rules are pure (``alerts.rules``); sending is the
job's (``jobs.alerts``), between :func:`claim_delivery` and :func:`record_outcome`.

* **Dedupe.** An alert whose key (``queue:refund``) was raised within the shop's dedupe
  window is not raised again; its ``last_seen_at`` moves instead. Evaluations of one shop
  take turns (the transaction's first statement updates the shop's ``alert_config`` row),
  so two workers evaluating at once cannot both raise it.
* **Rate limit.** Per shop and robot, at most ``max_per_hour`` deliveries in any hour; an
  alert over it is still raised (the console shows it) and its delivery is logged
  ``rate_limited``, not sent.
* **Retries.** A failed attempt (no answer, non-2xx, ``errcode`` ≠ 0) is tried again after
  30 s, 1 min, 5 min, 15 min, 30 min; after the sixth the delivery is ``failed``. Every
  attempt is logged on the delivery with its outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, Outbox, transaction
from csdesk.alerts import robots, rules
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.errors import BadInputError, ConflictError
from csdesk.reads import alerts as read
from csdesk.storage.alert_models import AlertConfig, AlertDelivery, AlertRecord
from csdesk.storage.models import Shop

CONFIGURE_ACCESS: Final = "alerts.configure"
AUDIT_CONFIG: Final = "alerts.config"
DEDUPE_RANGE: Final = (60, 7 * 86_400)
RATE_RANGE: Final = (1, 600)
LOG_KEEP: Final = 20
"""Attempts kept on a delivery's log (six at most are made; room for a retried claim)."""
KEEP_DAYS: Final = 90
"""Alerts (and their deliveries) older than this are deleted by the daily purge."""


# --- settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertSettings:
    """What the settings form or ``PUT /api/v1/alerts/config`` sends, checked."""

    enabled: bool
    dingtalk_url: str | None
    dingtalk_secret: str | None
    keep_secret: bool
    """The secret was not sent: keep the stored one (it is never shown, so a form that
    did not change it sends nothing)."""
    wecom_url: str | None
    thresholds: rules.Thresholds
    dedupe_window_s: int
    max_per_hour: int


def _url(data: dict[str, Any], name: str, channel: robots.Channel) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise BadInputError(name, "must be a string (the robot's webhook address)")
    try:
        return robots.check_webhook_url(channel, value)
    except robots.RobotUrlError as exc:
        raise BadInputError(name, str(exc)) from None


def _whole(data: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInputError(name, f"must be a whole number from {low} to {high}")
    return value


def parse_settings(data: dict[str, Any]) -> AlertSettings:
    """Refuse a bad field by name (``dingtalk_url``, ``thresholds.queue_depth`` ...)."""
    known = {
        "enabled",
        "dingtalk_url",
        "dingtalk_secret",
        "wecom_url",
        "thresholds",
        "dedupe_window_s",
        "max_per_hour",
    }
    for key in data:
        if key not in known:
            raise BadInputError(key, f"unknown setting (known: {', '.join(sorted(known))})")
    # Required: the settings are replaced whole, and an empty document must not quietly
    # drop the shop's robots.
    if "enabled" not in data:
        raise BadInputError("enabled", "is required: true (alerts on) or false")
    enabled = data["enabled"]
    if not isinstance(enabled, bool):
        raise BadInputError("enabled", "must be true or false")
    secret = data.get("dingtalk_secret")
    if secret is not None:
        if not isinstance(secret, str):
            raise BadInputError("dingtalk_secret", "must be a string")
        if len(secret) > robots.MAX_SECRET:
            raise BadInputError("dingtalk_secret", f"at most {robots.MAX_SECRET} characters")
        if any(ch.isspace() for ch in secret):
            raise BadInputError("dingtalk_secret", "must not contain spaces (copy it whole)")
    try:
        thresholds = rules.Thresholds.from_json(data.get("thresholds"))
    except rules.ThresholdError as exc:
        field = exc.field if exc.field == "thresholds" else f"thresholds.{exc.field}"
        raise BadInputError(field, exc.message) from None
    dingtalk_url = _url(data, "dingtalk_url", robots.Channel.DINGTALK)
    if secret and dingtalk_url is None:
        raise BadInputError("dingtalk_url", "a 加签 secret needs the robot's webhook address")
    return AlertSettings(
        enabled=enabled,
        dingtalk_url=dingtalk_url,
        dingtalk_secret=secret or None,
        keep_secret=secret is None,
        wecom_url=_url(data, "wecom_url", robots.Channel.WECOM),
        thresholds=thresholds,
        dedupe_window_s=_whole(
            data, "dedupe_window_s", read.DEFAULT_DEDUPE_WINDOW_S, *DEDUPE_RANGE
        ),
        max_per_hour=_whole(data, "max_per_hour", read.DEFAULT_MAX_PER_HOUR, *RATE_RANGE),
    )


async def save_settings(
    deps: Deps, actor: CurrentUser, settings: AlertSettings, now: datetime
) -> dict[str, Any]:
    """Replace the shop's alert settings (owners and admins); audited without the secret."""
    require(actor, CONFIGURE_ACCESS)
    async with transaction(deps) as (session, _outbox):
        config = await session.get(AlertConfig, actor.shop_id, with_for_update=True)
        before = read.config_json(config)
        if config is None:
            config = AlertConfig(shop_id=actor.shop_id, updated_at=now)
            session.add(config)
        config.enabled = settings.enabled
        config.dingtalk_url = settings.dingtalk_url
        if settings.dingtalk_url is None:
            config.dingtalk_secret = None
        elif not settings.keep_secret:
            config.dingtalk_secret = settings.dingtalk_secret
        config.wecom_url = settings.wecom_url
        config.thresholds = settings.thresholds.to_json()
        config.dedupe_window_s = settings.dedupe_window_s
        config.max_per_hour = settings.max_per_hour
        config.updated_at = now
        config.updated_by = actor.id
        after = read.config_json(config)
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action=AUDIT_CONFIG,
            target_type="shop",
            target_id=actor.shop_id,
            at=now,
            detail={
                "before": before,
                "after": after,
                "secret_changed": not settings.keep_secret or settings.dingtalk_url is None,
            },
        )
    return after


# --- raising ----------------------------------------------------------------------------


@dataclass
class Raised:
    """What an evaluation did: alerts raised (ids) and deliveries to send now."""

    alert_ids: list[int] = field(default_factory=list)
    delivery_ids: list[int] = field(default_factory=list)
    repeats: int = 0


def _robots(config: AlertConfig) -> list[robots.Channel]:
    found = []
    if config.dingtalk_url:
        found.append(robots.Channel.DINGTALK)
    if config.wecom_url:
        found.append(robots.Channel.WECOM)
    return found


async def _raise(
    session: AsyncSession,
    outbox: Outbox,
    config: AlertConfig,
    alert: rules.Alert,
    now: datetime,
    raised_by: int | None,
    raised: Raised,
) -> AlertRecord:
    record = AlertRecord(
        shop_id=config.shop_id,
        key=alert.key,
        kind=alert.kind.value,
        severity=alert.severity.value,
        title=alert.title,
        text=alert.text,
        detail=dict(alert.detail),
        raised_at=now,
        last_seen_at=now,
        raised_by=raised_by,
    )
    session.add(record)
    await session.flush()
    deliveries = []
    for channel in _robots(config):
        sent = await read.sent_in_last_hour(session, config.shop_id, channel.value, now)
        limited = robots.over_rate(sent, config.max_per_hour)
        delivery = AlertDelivery(
            shop_id=config.shop_id,
            alert_id=record.id,
            channel=channel.value,
            status=(
                robots.DeliveryStatus.RATE_LIMITED if limited else robots.DeliveryStatus.PENDING
            ).value,
            attempts=0,
            next_attempt_at=None if limited else now,
            last_error=(
                f"over the limit of {config.max_per_hour} messages an hour: not sent"
                if limited
                else None
            ),
            log=[],
            created_at=now,
        )
        session.add(delivery)
        deliveries.append(delivery)
    await session.flush()
    raised.alert_ids.append(record.id)
    raised.delivery_ids += [
        d.id for d in deliveries if d.status == robots.DeliveryStatus.PENDING.value
    ]
    outbox.publish(
        BusEvent(
            ev.ALERT_RAISED,
            config.shop_id,
            (ev.SUPERVISORS,),
            {"alert": read.alert_json(record, deliveries)},
        )
    )
    return record


async def evaluate_shop(deps: Deps, shop_id: str, now: datetime) -> Raised:
    """Judge the shop's health against its thresholds and raise what holds and is new."""
    raised = Raised()
    async with transaction(deps) as (session, outbox):
        # The shop's turn first: an UPDATE takes SQLite's write lock and PostgreSQL's row
        # lock, so what the dedupe check reads below cannot change under it.
        taken = await session.execute(
            update(AlertConfig)
            .where(AlertConfig.shop_id == shop_id, AlertConfig.enabled.is_(True))
            .values(evaluated_at=now)
        )
        if getattr(taken, "rowcount", 0) != 1:
            return raised
        config = await session.get(AlertConfig, shop_id, populate_existing=True)
        assert config is not None
        health = await read.shop_health(session, shop_id, now)
        for alert in rules.evaluate(health, read.thresholds_of(config), now):
            last = await read.last_raised(session, shop_id, alert.key)
            if last is not None and robots.is_repeat(last.raised_at, now, config.dedupe_window_s):
                last.last_seen_at = now
                raised.repeats += 1
                continue
            await _raise(session, outbox, config, alert, now, None, raised)
    return raised


async def send_test(deps: Deps, actor: CurrentUser, now: datetime) -> dict[str, Any]:
    """ "Send a test": a test alert to every robot set (never deduplicated; rate-limited like
    any other). Returns the alert with its deliveries; the caller has them sent."""
    require(actor, CONFIGURE_ACCESS)
    raised = Raised()
    async with transaction(deps) as (session, outbox):
        config = await session.get(AlertConfig, actor.shop_id)
        if config is None or not _robots(config):
            raise BadInputError(
                "dingtalk_url", "set a DingTalk or WeCom robot and save first, then send a test"
            )
        shop = await session.get(Shop, actor.shop_id)
        name = shop.name if shop is not None else actor.shop_id
        record = await _raise(
            session, outbox, config, rules.trial_alert(name), now, actor.id, raised
        )
        deliveries = list(
            await session.scalars(
                select(AlertDelivery)
                .where(AlertDelivery.alert_id == record.id)
                .order_by(AlertDelivery.id)
            )
        )
        return {**read.alert_json(record, deliveries), "to_send": raised.delivery_ids}


# --- delivering -------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for one attempt: where to send it and what."""

    delivery_id: int
    shop_id: str
    channel: robots.Channel
    url: str
    secret: str | None
    title: str
    text: str
    attempt: int


async def claim_delivery(deps: Deps, delivery_id: int, now: datetime) -> Claimed | None:
    """Take a due delivery for one attempt (a conditional UPDATE: two workers never send it
    both); None when it is not due, already taken, or no longer pending. A delivery whose
    robot was removed from the settings meanwhile fails here."""
    async with transaction(deps) as (session, outbox):
        taken = await session.execute(
            update(AlertDelivery)
            .where(
                AlertDelivery.id == delivery_id,
                AlertDelivery.status == robots.DeliveryStatus.PENDING.value,
                AlertDelivery.next_attempt_at <= now,
            )
            .values(
                attempts=AlertDelivery.attempts + 1,
                next_attempt_at=now + timedelta(seconds=robots.CLAIM_LEASE_S),
            )
        )
        if getattr(taken, "rowcount", 0) != 1:
            return None
        delivery = await session.get(AlertDelivery, delivery_id, populate_existing=True)
        assert delivery is not None
        alert = await session.get(AlertRecord, delivery.alert_id)
        config = await session.get(AlertConfig, delivery.shop_id)
        channel = robots.Channel(delivery.channel)
        url = None
        if config is not None:
            url = config.dingtalk_url if channel is robots.Channel.DINGTALK else config.wecom_url
        if alert is None or config is None or not url:
            _finish(
                delivery,
                robots.no_answer("the robot was removed from the alert settings"),
                now,
                outbox,
                give_up=True,
            )
            return None
        return Claimed(
            delivery_id=delivery.id,
            shop_id=delivery.shop_id,
            channel=channel,
            url=url,
            secret=config.dingtalk_secret if channel is robots.Channel.DINGTALK else None,
            title=alert.title,
            text=alert.text,
            attempt=delivery.attempts,
        )


def _finish(
    delivery: AlertDelivery,
    outcome: robots.Outcome,
    now: datetime,
    outbox: Outbox,
    *,
    give_up: bool = False,
) -> None:
    delivery.log = [*(delivery.log or []), outcome.to_json(now)][-LOG_KEEP:]
    if outcome.ok:
        delivery.status = robots.DeliveryStatus.SENT.value
        delivery.sent_at = now
        delivery.next_attempt_at = None
        delivery.last_error = None
    else:
        retry = None if give_up else robots.retry_at(delivery.attempts, now)
        delivery.status = (
            robots.DeliveryStatus.PENDING if retry else robots.DeliveryStatus.FAILED
        ).value
        delivery.next_attempt_at = retry
        delivery.last_error = outcome.error
    outbox.publish(
        BusEvent(
            ev.ALERT_DELIVERY,
            delivery.shop_id,
            (ev.SUPERVISORS,),
            {"alert_id": delivery.alert_id, "delivery": read.delivery_json(delivery)},
        )
    )


async def record_outcome(
    deps: Deps, delivery_id: int, outcome: robots.Outcome, now: datetime
) -> str:
    """Log one attempt's outcome: sent, or pending again with the next retry, or failed
    after the last attempt. Returns the delivery's status."""
    async with transaction(deps) as (session, outbox):
        delivery = await session.get(AlertDelivery, delivery_id, with_for_update=True)
        if delivery is None:
            raise ConflictError(f"alert delivery {delivery_id} is gone")
        _finish(delivery, outcome, now, outbox)
        return delivery.status


async def purge_old_alerts(deps: Deps, now: datetime, *, keep_days: int = KEEP_DAYS) -> int:
    """Delete alerts raised more than ``keep_days`` ago, with their deliveries (the foreign
    key cascades); a pending retry of one that old has long been given up. Returns how
    many alerts went."""
    async with transaction(deps) as (session, _outbox):
        gone = await session.execute(
            delete(AlertRecord).where(AlertRecord.raised_at < now - timedelta(days=keep_days))
        )
        return int(getattr(gone, "rowcount", 0) or 0)


__all__ = [
    "AUDIT_CONFIG",
    "CONFIGURE_ACCESS",
    "KEEP_DAYS",
    "AlertSettings",
    "Claimed",
    "Raised",
    "claim_delivery",
    "evaluate_shop",
    "parse_settings",
    "purge_old_alerts",
    "record_outcome",
    "save_settings",
    "send_test",
]
