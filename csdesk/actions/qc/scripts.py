"""Script versions (话术): the role's current version, and publishing a new one.

The forbidden phrases are the shop's one list (``routing.console.forbidden_phrases``),
which the workbench's pre-send check reads; every script version keeps a copy. Publishing
a changed list writes it to the shop's configuration in the same transaction and gives
every role a new version with it; and when the list changed elsewhere (an owner's edit of
the shop configuration), the next check of a role first publishes a version that follows
it (author: none). So the auto-check always reads the list the pre-send check holds
replies for. A version is never edited: a score stays tied to the one it was made under.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.qc.common import text_field
from csdesk.actions.training.retraining import retrain_for_script
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError
from csdesk.qc.scorecard import Scorecard, default_scorecard, scorecard_from_json
from csdesk.qc.scripts import Script, ScriptError, default_script, script_from_json
from csdesk.reads.qc_base import LEAD, scorecard_of, script_of, version_json
from csdesk.roles.config import DEFAULT_FORBIDDEN_PHRASES
from csdesk.routing import facts as loaded
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole
from csdesk.storage.models import Shop
from csdesk.storage.qc_models import QcScriptVersion


async def _latest(session: AsyncSession, shop_id: str, role: str) -> QcScriptVersion | None:
    row: QcScriptVersion | None = await session.scalar(
        select(QcScriptVersion)
        .where(QcScriptVersion.shop_id == shop_id, QcScriptVersion.role == role)
        .order_by(QcScriptVersion.version.desc())
        .limit(1)
    )
    return row


async def _add_version(
    session: AsyncSession,
    shop_id: str,
    script: Script,
    scorecard: Scorecard,
    now: datetime,
    *,
    author_id: int | None,
    note: str,
) -> QcScriptVersion:
    row = QcScriptVersion(
        shop_id=shop_id,
        role=script.role.value,
        version=script.version,
        script=script.to_json(),
        scorecard=scorecard.to_json(),
        note=note or None,
        author_id=author_id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def current_version(
    session: AsyncSession, shop_id: str, role: ServiceRole, now: datetime
) -> QcScriptVersion:
    """The role's current version, made first when there is none yet (the built-in script)
    or when the shop's forbidden phrases changed since (see the module docstring)."""
    ctx = await loaded.load_shop_context(session, shop_id)
    phrases = dict(ctx.routing.console.active_forbidden_phrases)
    latest = await _latest(session, shop_id, role.value)
    if latest is not None and latest.script.get("forbidden_phrases") == phrases:
        return latest
    if latest is None:
        script = default_script(role, ctx.routing)
        scorecard, note = default_scorecard(), "built-in script"
    else:
        script = replace(script_of(latest), forbidden_phrases=phrases, version=latest.version + 1)
        scorecard, note = scorecard_of(latest), "follows the shop's forbidden phrases"
    try:
        async with session.begin_nested():
            row = await _add_version(
                session, shop_id, script, scorecard, now, author_id=None, note=note
            )
        if latest is not None:
            # A changed script retrains everyone holding the role (培训: 话术更新).
            await retrain_for_script(
                session,
                None,
                shop_id=shop_id,
                role=role.value,
                before=latest.script,
                after=row.script,
                now=now,
                by=None,
            )
        return row
    except IntegrityError:
        # Another check made the same version a moment ago: read theirs.
        latest = await _latest(session, shop_id, role.value)
        assert latest is not None
        return latest


def _shop_phrase_overrides(phrases: dict[str, str]) -> dict[str, str | None]:
    """The ``routing.console.forbidden_phrases`` override that makes the shop's list exactly
    ``phrases``: built-in phrases left out are switched off (None)."""
    overrides: dict[str, str | None] = {
        p: None for p in DEFAULT_FORBIDDEN_PHRASES if p not in phrases
    }
    overrides.update(phrases)
    return overrides


async def publish_script(
    sessions: SessionFactory,
    actor: CurrentUser,
    role: str,
    changes: dict[str, Any],
    now: datetime,
    *,
    note: str = "",
) -> dict[str, Any]:
    """A new version of ``role``'s script: the current one with ``changes`` (keys of
    ``Script.to_json``, plus ``scorecard``). Audited with the version before and after."""
    require(actor, LEAD)
    try:
        service_role = ServiceRole(role)
    except ValueError:
        raise BadInputError("role", f"unknown role {role!r}") from None
    note = text_field(note, "note", required=False, limit=500)
    script_changes = {k: v for k, v in changes.items() if k != "scorecard"}
    async with sessions.begin() as session:
        current = await current_version(session, actor.shop_id, service_role, now)
        try:
            script = script_from_json(script_changes, base=script_of(current))
        except ScriptError as exc:
            raise BadInputError(f"script.{exc.field}", exc.message) from None
        scorecard = scorecard_of(current)
        if "scorecard" in changes:
            raw = changes["scorecard"]
            if not isinstance(raw, dict):
                raise BadInputError("script.scorecard", "must be an object")
            try:
                scorecard = scorecard_from_json(raw)
            except ValueError as exc:
                raise BadInputError("script.scorecard", str(exc)) from None
        script = replace(script, version=current.version + 1)
        row = await _add_version(
            session, actor.shop_id, script, scorecard, now, author_id=actor.id, note=note
        )
        # Everyone holding the role retrains on the change (培训: 话术更新), once.
        await retrain_for_script(
            session,
            None,
            shop_id=actor.shop_id,
            role=service_role.value,
            before=current.script,
            after=row.script,
            now=now,
            by=actor.id,
        )
        phrases = dict(script.forbidden_phrases)
        if phrases != current.script.get("forbidden_phrases"):
            await _write_shop_phrases(session, actor.shop_id, phrases)
            # The list is the shop's: every other role gets a version with it now.
            for other in ServiceRole:
                if other is not service_role:
                    await current_version(session, actor.shop_id, other, now)
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="qc.script.publish",
            target_type="qc_script",
            target_id=script.version_key,
            at=now,
            reason=note or None,
            detail={"before": current.script, "after": row.script},
        )
        return version_json(row)


async def _write_shop_phrases(session: AsyncSession, shop_id: str, phrases: dict[str, str]) -> None:
    shop = await session.get(Shop, shop_id, with_for_update=True)
    assert shop is not None
    config = dict(shop.config or {})
    routing = dict(config.get("routing") or {})
    console = dict(routing.get("console") or {})
    console["forbidden_phrases"] = _shop_phrase_overrides(phrases)
    routing["console"] = console
    config["routing"] = routing
    shop.config = config


async def ensure_versions(
    sessions: SessionFactory, shop_id: str, now: datetime
) -> list[dict[str, Any]]:
    """Every role's current version (made where missing): what the script editor shows."""
    async with sessions.begin() as session:
        rows = [await current_version(session, shop_id, role, now) for role in ServiceRole]
        return [version_json(row) for row in rows]
