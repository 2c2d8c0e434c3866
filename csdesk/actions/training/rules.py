"""The shop's finding → course rules (课程分配规则) and training settings, kept by
trainers (owners, admins); audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, transaction
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, NotFoundError
from csdesk.reads.training_base import MANAGE, known_categories, rule_row_json
from csdesk.storage.models import Shop
from csdesk.storage.training_models import TrainingCourse, TrainingRule
from csdesk.training.courses import CourseError
from csdesk.training.rules import parse_rule
from csdesk.training.settings import parse_training_settings


async def save_rule(
    deps: Deps,
    actor: CurrentUser,
    body: Mapping[str, Any],
    now: datetime,
    *,
    rule_id: int | None = None,
) -> dict[str, Any]:
    """Create a rule, or replace rule ``rule_id``'s terms."""
    require(actor, MANAGE)
    async with transaction(deps) as (session, _outbox):
        try:
            spec = parse_rule(body, await known_categories(session, actor.shop_id))
        except CourseError as exc:
            raise BadInputError(exc.field, exc.message) from None
        course = await session.get(TrainingCourse, spec.course_id)
        if course is None or course.shop_id != actor.shop_id:
            raise BadInputError("course_id", f"course {spec.course_id} is not in the catalog")
        if rule_id is None:
            row = TrainingRule(shop_id=actor.shop_id, created_by=actor.id, created_at=now)
            session.add(row)
        else:
            found = await session.get(TrainingRule, rule_id, with_for_update=True)
            if found is None or found.shop_id != actor.shop_id:
                raise NotFoundError(f"rule {rule_id}: not found")
            row = found
        row.category = spec.category
        row.course_id = spec.course_id
        row.threshold = spec.threshold
        row.window_days = spec.window_days
        row.due_days = spec.due_days
        row.active = spec.active
        row.updated_at = now
        await session.flush()
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="training.rule.save",
            target_type="training_rule",
            target_id=row.id,
            at=now,
            detail={
                "category": spec.category,
                "course_id": spec.course_id,
                "threshold": spec.threshold,
                "window_days": spec.window_days,
                "due_days": spec.due_days,
                "active": spec.active,
            },
        )
        return rule_row_json(row, course.title)


async def save_settings(
    deps: Deps, actor: CurrentUser, section: object, now: datetime
) -> dict[str, Any]:
    """Replace the shop's ``training`` settings (boost, reminders, effect, points rules)."""
    require(actor, MANAGE)
    if not isinstance(section, dict):
        raise BadInputError("training", "must be an object")
    try:
        settings = parse_training_settings({"training": section})
    except CourseError as exc:
        raise BadInputError(exc.field, exc.message) from None
    async with transaction(deps) as (session, _outbox):
        shop = await session.get(Shop, actor.shop_id, with_for_update=True)
        if shop is None:
            raise NotFoundError(f"shop {actor.shop_id}: not found")
        config = dict(shop.config or {})
        before = config.get("training")
        config["training"] = settings.to_json()
        shop.config = config
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="training.settings",
            target_type="shop",
            target_id=actor.shop_id,
            at=now,
            detail={"before": before, "after": config["training"]},
        )
        return settings.to_json()
