"""Promotion mode (大促模式): switching the live profile, by hand or by its schedule, and
scheduling it. One step does every switch (:func:`switch_promotion`): the shop's
``config["promotion"]`` changes, the open items' scores follow (the old profile's points
out, the new one's in; queued items re-keyed), agents with new room are offered queued
work, the change is audited and published (``promotion.changed``).

Schedules: an owner (or admin) names a profile and a start and end in shop time; the switch
job (``jobs.promotions.switch_promotions``, every 10 s in both modes) runs
:func:`apply_schedules`, which switches it on at the start and off at the end
(``roles.promotion.schedule_steps``). Two schedules may not overlap.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, Outbox, transaction
from csdesk.actions.routing import current_points, offer_all_after_commit
from csdesk.actions.work_items import optional_text
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.clock import require_aware
from csdesk.errors import BadInputError, ConflictError, NotFoundError
from csdesk.reads import promotions as read
from csdesk.roles import promotion as rules
from csdesk.roles.config import RoutingConfig
from csdesk.roles.scoring import sort_key
from csdesk.routing import facts as loaded
from csdesk.storage.alert_models import PromotionSchedule
from csdesk.storage.enums import ConversationStatus
from csdesk.storage.kinds import OPEN
from csdesk.storage.models import Conversation, Shop

EDIT_ACCESS: Final = "promotions.edit"
MAX_SPAN: Final = timedelta(days=31)
MAX_NOTE: Final = 200
BY_SCHEDULE: Final = "schedule"


# --- the one switch ---------------------------------------------------------------------


async def repromote_open_items(
    session: AsyncSession, ctx: loaded.ShopContext, outbox: Outbox, now: datetime
) -> int:
    """Bring every open item's stored score to the promotion live in ``ctx`` (queued ones
    re-keyed in the queue index); returns how many moved."""
    moved = 0
    items = await session.scalars(
        select(Conversation).where(
            Conversation.shop_id == ctx.shop_id, Conversation.status.in_(OPEN)
        )
    )
    for item in items:
        changed = rules.repromote(
            item.priority_score, item.score_breakdown or [], item.role, ctx.promotion, ctx.routing
        )
        if changed is None:
            continue
        item.priority_score = changed.points
        item.score_breakdown = changed.breakdown
        moved += 1
        if item.status is ConversationStatus.QUEUED and item.enqueued_at is not None:
            key = sort_key(current_points(item, ctx, now), item.enqueued_at, ctx.routing)
            item.sort_key = key
            outbox.push(ctx.shop_id, item.role, item.id, key)
    return moved


async def after_promotion_change(
    session: AsyncSession,
    outbox: Outbox,
    shop_id: str,
    previous: str | None,
    now: datetime,
    *,
    by: str | int,
) -> int:
    """What follows a change of ``Shop.config["promotion"]`` already made in this
    transaction (by :func:`switch_promotion`, or a replaced shop configuration): scores,
    queued work for agents with new room, the live event. Returns the items re-scored."""
    await session.flush()
    ctx = await loaded.load_shop_context(session, shop_id)
    rescored = await repromote_open_items(session, ctx, outbox, now)
    offer_all_after_commit(outbox, shop_id)
    live = await read.live_promotion(session, ctx)
    outbox.publish(
        BusEvent(
            ev.PROMOTION_CHANGED,
            shop_id,
            (ev.SUPERVISORS,),
            {
                "promotion": live.to_json() if live else None,
                "previous": previous,
                "by": by,
                "rescored": rescored,
            },
        )
    )
    return rescored


async def switch_promotion(
    session: AsyncSession,
    outbox: Outbox,
    shop_id: str,
    new: str | None,
    now: datetime,
    *,
    actor_id: int | None,
    reason: str | None,
    schedule_id: int | None = None,
) -> int:
    """Make ``new`` (None: none) the shop's live promotion, inside the caller's
    transaction; audited (``promotion.switch``). Returns the items re-scored."""
    shop = await session.get(Shop, shop_id, with_for_update=True)
    if shop is None:
        raise NotFoundError(f"shop {shop_id}: not found")
    config = dict(shop.config or {})
    previous = config.get("promotion")
    previous = previous if isinstance(previous, str) else None
    if previous == new:
        return 0
    if new is None:
        config.pop("promotion", None)
    else:
        config["promotion"] = new
    shop.config = config
    by: str | int = actor_id if actor_id is not None else BY_SCHEDULE
    rescored = await after_promotion_change(session, outbox, shop_id, previous, now, by=by)
    audit.record(
        session,
        shop_id=shop_id,
        actor_id=actor_id,
        action="promotion.switch",
        target_type="shop",
        target_id=shop_id,
        at=now,
        reason=reason,
        detail={
            "from": previous,
            "to": new,
            "by": by,
            "schedule_id": schedule_id,
            "rescored": rescored,
        },
    )
    return rescored


# --- by hand ----------------------------------------------------------------------------


def _known_profile(routing: RoutingConfig, name: object, field: str) -> str:
    names = sorted(routing.scoring.promotions)
    if not isinstance(name, str) or name not in routing.scoring.promotions:
        raise BadInputError(field, f"must be one of the shop's profiles: {', '.join(names)}")
    return name


async def set_live(
    deps: Deps, actor: CurrentUser, profile: object, reason: str, now: datetime
) -> dict[str, Any]:
    """Switch a profile on now (``profile``: its key) or off (None), by hand."""
    require(actor, EDIT_ACCESS)
    why = optional_text(reason, "reason", max_chars=MAX_NOTE) or None
    async with transaction(deps) as (session, outbox):
        ctx = await loaded.load_shop_context(session, actor.shop_id)
        name = None if profile is None else _known_profile(ctx.routing, profile, "profile")
        rescored = await switch_promotion(
            session, outbox, actor.shop_id, name, now, actor_id=actor.id, reason=why
        )
        live = await read.live_promotion(
            session, await loaded.load_shop_context(session, actor.shop_id)
        )
    return {"live": live.to_json() if live else None, "rescored": rescored}


# --- schedules --------------------------------------------------------------------------


def parse_shop_time(value: object, field: str, routing: RoutingConfig) -> datetime:
    """``YYYY-MM-DDTHH:MM`` in shop time (or an ISO time with its offset), in UTC."""
    if not isinstance(value, str) or not value.strip():
        raise BadInputError(field, "is required: a date and time, YYYY-MM-DDTHH:MM (shop time)")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadInputError(
            field, f"expected YYYY-MM-DDTHH:MM (shop time), got {value!r}"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=routing.tz)
    return require_aware(parsed)


async def scheduled_profiles(session: AsyncSession, shop_id: str) -> dict[str, int]:
    """Profiles named by a schedule not yet over, with one entry id each: the shop's rules
    may not drop them (``actions.shop_config``)."""
    rows = await read.schedule_entries(session, shop_id, open_only=True)
    return {row.profile: row.id for row in rows}


async def schedule_promotion(
    deps: Deps,
    actor: CurrentUser,
    data: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """Schedule a profile from ``starts_at`` to ``ends_at`` (shop time); bad input is
    refused naming the field; an overlap with another schedule too (``starts_at``)."""
    require(actor, EDIT_ACCESS)
    raw_note = data.get("note")
    if raw_note is not None and not isinstance(raw_note, str):
        raise BadInputError("note", "must be a string")
    note = optional_text(raw_note, "note", max_chars=MAX_NOTE)
    async with transaction(deps) as (session, _outbox):
        ctx = await loaded.load_shop_context(session, actor.shop_id)
        profile = _known_profile(ctx.routing, data.get("profile"), "profile")
        starts = parse_shop_time(data.get("starts_at"), "starts_at", ctx.routing)
        ends = parse_shop_time(data.get("ends_at"), "ends_at", ctx.routing)
        if ends <= starts:
            raise BadInputError("ends_at", "must be later than starts_at")
        if ends <= now:
            raise BadInputError("ends_at", "is in the past")
        if ends - starts > MAX_SPAN:
            raise BadInputError("ends_at", f"at most {MAX_SPAN.days} days after starts_at")
        rows = await read.schedule_entries(session, actor.shop_id, open_only=True)
        clash = rules.overlapping(read.as_entries(rows), starts, ends)
        if clash is not None:
            tz = ctx.routing.tz
            raise BadInputError(
                "starts_at",
                f"overlaps schedule #{clash.id} ({rules.label_of(ctx.routing, clash.profile)} "
                f"{clash.starts_at.astimezone(tz):%Y-%m-%d %H:%M} – "
                f"{clash.ends_at.astimezone(tz):%Y-%m-%d %H:%M}); two promotions cannot overlap",
            )
        row = PromotionSchedule(
            shop_id=actor.shop_id,
            profile=profile,
            starts_at=starts,
            ends_at=ends,
            status=rules.ScheduleStatus.SCHEDULED.value,
            note=note or None,
            created_by=actor.id,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="promotion.schedule",
            target_type="promotion_schedule",
            target_id=row.id,
            at=now,
            reason=note or None,
            detail={
                "profile": profile,
                "starts_at": starts.isoformat(),
                "ends_at": ends.isoformat(),
            },
        )
        return read.schedule_json(row, ctx.routing, {actor.id: actor.display_name})


async def cancel_schedule(
    deps: Deps, actor: CurrentUser, schedule_id: int, reason: str, now: datetime
) -> dict[str, Any]:
    """Cancel a schedule; a live one ends now (its profile goes off if still live)."""
    require(actor, EDIT_ACCESS)
    why = optional_text(reason, "reason", max_chars=MAX_NOTE) or None
    async with transaction(deps) as (session, outbox):
        row = await session.get(PromotionSchedule, schedule_id, with_for_update=True)
        if row is None or row.shop_id != actor.shop_id:
            raise NotFoundError(f"promotion schedule {schedule_id}: not found")
        status = rules.ScheduleStatus(row.status)
        if status not in rules.OPEN_STATUSES:
            raise ConflictError(f"promotion schedule {schedule_id} is {status.value} already")
        row.status = rules.ScheduleStatus.CANCELLED.value
        if status is rules.ScheduleStatus.LIVE:
            row.switched_off_at = now
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="promotion.cancel",
            target_type="promotion_schedule",
            target_id=row.id,
            at=now,
            reason=why,
            detail={"profile": row.profile, "was": status.value},
        )
        ctx = await loaded.load_shop_context(session, actor.shop_id)
        if status is rules.ScheduleStatus.LIVE and ctx.promotion == row.profile:
            await switch_promotion(
                session,
                outbox,
                actor.shop_id,
                None,
                now,
                actor_id=actor.id,
                reason=why,
                schedule_id=row.id,
            )
        return read.schedule_json(row, ctx.routing, {})


async def _shops_with_schedules(deps: Deps) -> list[str]:
    async with deps.sessions() as session:
        return list(
            await session.scalars(
                select(PromotionSchedule.shop_id)
                .where(PromotionSchedule.status.in_([s.value for s in rules.OPEN_STATUSES]))
                .distinct()
                .order_by(PromotionSchedule.shop_id)
            )
        )


async def apply_schedules(deps: Deps, now: datetime) -> int:
    """The switch job's work: every schedule start and end that has come, in each shop.
    Each entry moves on by a conditional UPDATE, so two runs at once switch it once.
    Returns how many entries moved."""
    moved = 0
    for shop_id in await _shops_with_schedules(deps):
        async with transaction(deps) as (session, outbox):
            ctx = await loaded.load_shop_context(session, shop_id)
            rows = await read.schedule_entries(session, shop_id, open_only=True)
            by_id = {row.id: row for row in rows}
            for step in rules.schedule_steps(read.as_entries(rows), ctx.promotion, now):
                row = by_id[step.entry_id]
                if (
                    step.status is rules.ScheduleStatus.LIVE
                    and row.profile not in ctx.routing.scoring.promotions
                ):
                    step = rules.ScheduleStep(row.id, rules.ScheduleStatus.MISSED, False, None)
                values: dict[str, Any] = {"status": step.status.value}
                if step.status is rules.ScheduleStatus.LIVE:
                    values["switched_on_at"] = now
                elif step.status is rules.ScheduleStatus.ENDED:
                    values["switched_off_at"] = now
                taken = await session.execute(
                    update(PromotionSchedule)
                    .where(PromotionSchedule.id == row.id, PromotionSchedule.status == row.status)
                    .values(**values)
                )
                if getattr(taken, "rowcount", 0) != 1:
                    continue
                moved += 1
                if step.switch:
                    await switch_promotion(
                        session,
                        outbox,
                        shop_id,
                        step.live,
                        now,
                        actor_id=None,
                        reason=f"排期 #{row.id}",
                        schedule_id=row.id,
                    )
    return moved


__all__ = [
    "BY_SCHEDULE",
    "EDIT_ACCESS",
    "after_promotion_change",
    "apply_schedules",
    "cancel_schedule",
    "parse_shop_time",
    "repromote_open_items",
    "schedule_promotion",
    "scheduled_profiles",
    "set_live",
    "switch_promotion",
]
