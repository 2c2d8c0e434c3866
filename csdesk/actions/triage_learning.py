"""Learning triage from a shop's own corrections: record them, retrain, roll back.

A transfer to another role or a relabelled intent is a labelled example for that shop
(``record_correction``, inside the transfer's or relabel's own transaction). The nightly
job (``jobs/triage.py``) and an owner's "retrain now" call ``retrain_shop``: it fits a
candidate on the shipped corpus plus the shop's corrections in a child process (seconds
of CPU must not stall an event loop), and makes it live only if its held-out score does
not drop (``roles.classifier.learning.should_swap``). Every version is kept with its
numbers; ``rollback`` returns to the one live before. Routing reads the live version
through ``routing.facts.load_shop_context``.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.triage_corrections import record_correction
from csdesk.actions.work_items import access_item_by_id
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, ConflictError
from csdesk.roles.classifier.learning import Correction, should_swap
from csdesk.roles.triage import default_rules
from csdesk.roles.triage_rules import Intent
from csdesk.storage.engine import SessionFactory
from csdesk.storage.triage_models import ShopTriageModel, TriageCorrection, TriageModelVersion

RELABEL_ACCESS: Final = "triage.relabel"
TRAIN_ACCESS: Final = "shop_config.edit"
KEEP_ARTIFACTS: Final = 5
"""Versions whose model is kept besides the live one and the rollback chain: older
candidates keep their numbers only (each artifact is about 1 MB)."""


def parse_intent(raw: object, field: str = "intent") -> Intent:
    if not isinstance(raw, str) or raw not in {i.value for i in Intent}:
        raise BadInputError(field, f"must be one of {', '.join(i.value for i in Intent)}")
    return Intent(raw)


async def relabel_intent(
    deps: Deps, actor: CurrentUser, conversation_id: int, intent: Intent, now: datetime
) -> dict[str, Any]:
    """The person handling a conversation says what the buyer really wanted. The label
    teaches the shop's model; the conversation stays where it is (a transfer moves it)."""
    require(actor, RELABEL_ACCESS)
    async with transaction(deps) as (session, _outbox):
        conversation = await access_item_by_id(
            session, actor, conversation_id, RELABEL_ACCESS, None, allow_closed=True
        )
        previous = conversation.intent
        learned = await record_correction(session, conversation, intent, "relabel", actor.id, now)
        conversation.intent = intent.value
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="triage.relabel",
            target_type="conversation",
            target_id=conversation.id,
            at=now,
            detail={"from": previous, "to": intent.value, "learned": learned},
        )
        return {
            "conversation_id": conversation.id,
            "intent": intent.value,
            "previous_intent": previous,
            "learned": learned,
        }


# -- retraining ---------------------------------------------------------------------------


def _train_in_child(corrections: list[tuple[str, str]], version: int) -> tuple[bytes, float]:
    """Runs in a child process: fit, score on the held-out split, gzip the artifact."""
    from csdesk.roles.classifier import corpus
    from csdesk.roles.classifier.learning import train_candidate

    examples = [Correction(text, Intent(intent), _EPOCH) for text, intent in corrections]
    artifact, score = train_candidate(
        examples, version, base_train=corpus.load_train(), heldout=corpus.load_heldout()
    )
    return gzip.compress(json.dumps(artifact).encode()), score


def _shipped_score_in_child() -> float:
    from csdesk.roles.classifier import corpus
    from csdesk.roles.classifier.learning import heldout_score
    from csdesk.roles.classifier.model import shipped_model

    return heldout_score(shipped_model(), corpus.load_heldout(), default_rules())


_EPOCH = datetime.fromtimestamp(0).astimezone()


async def _in_child(fn: Any, *args: Any) -> Any:
    # spawn, not fork: a forked copy of a running event loop and its connections is unsafe.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)


_shipped_score: list[float] = []
"""The shipped model's held-out score, once computed (the corpus ships with the code)."""


async def shipped_heldout_score() -> float:
    """The shipped model's held-out score (the same for every shop), computed once."""
    if not _shipped_score:
        _shipped_score.append(float(await _in_child(_shipped_score_in_child)))
    return _shipped_score[0]


async def _state(session: AsyncSession, shop_id: str, now: datetime) -> ShopTriageModel:
    state = await session.get(ShopTriageModel, shop_id, with_for_update=True)
    if state is None:
        state = ShopTriageModel(
            shop_id=shop_id, active_version=None, previous=[], updated_at=now, last_outcome={}
        )
        session.add(state)
    return state


async def retrain_shop(
    sessions: SessionFactory,
    shop_id: str,
    now: datetime,
    *,
    actor_id: int | None = None,
    only_if_new: bool = True,
) -> dict[str, Any] | None:
    """Retrain ``shop_id``'s model on its corrections; None when there is nothing new to
    learn (``only_if_new``) or no correction at all."""
    async with sessions() as session:
        corrections = (
            await session.execute(
                select(
                    TriageCorrection.text, TriageCorrection.intent, TriageCorrection.corrected_at
                )
                .where(TriageCorrection.shop_id == shop_id)
                .order_by(TriageCorrection.id)
            )
        ).all()
        state = await session.get(ShopTriageModel, shop_id)
        latest_version = await session.scalar(
            select(func.max(TriageModelVersion.version)).where(
                TriageModelVersion.shop_id == shop_id
            )
        )
        active_score = None
        if state is not None and state.active_version is not None:
            active_score = await session.scalar(
                select(TriageModelVersion.heldout_score).where(
                    TriageModelVersion.shop_id == shop_id,
                    TriageModelVersion.version == state.active_version,
                )
            )
    if not corrections:
        return None
    newest = max(row.corrected_at for row in corrections)
    trained_through = state.trained_through if state is not None else None
    if only_if_new and trained_through is not None and newest <= trained_through:
        return None
    version = (latest_version or 0) + 1
    if active_score is None:
        active_score = await shipped_heldout_score()
    artifact, score = await _in_child(
        _train_in_child, [(row.text, row.intent) for row in corrections], version
    )
    swapped = should_swap(score, active_score)
    async with sessions.begin() as session:
        state = await _state(session, shop_id, now)
        if await session.scalar(
            select(TriageModelVersion.id).where(
                TriageModelVersion.shop_id == shop_id, TriageModelVersion.version == version
            )
        ):
            raise ConflictError(f"triage model: version {version} was trained meanwhile")
        session.add(
            TriageModelVersion(
                shop_id=shop_id,
                version=version,
                trained_at=now,
                corrections=len(corrections),
                heldout_score=score,
                baseline_score=active_score,
                swapped=swapped,
                artifact=artifact,
            )
        )
        if swapped:
            state.previous = [*state.previous, state.active_version]
            state.active_version = version
        state.trained_through = newest
        state.updated_at = now
        outcome = {
            "version": version,
            "swapped": swapped,
            "heldout_score": round(score, 4),
            "baseline_score": round(active_score, 4),
            "corrections": len(corrections),
        }
        state.last_outcome = outcome
        await session.flush()
        await _prune(session, state)
        audit.record(
            session,
            shop_id=shop_id,
            actor_id=actor_id,
            action="triage.retrain",
            target_type="triage_model",
            target_id=version,
            at=now,
            detail=outcome,
        )
    return outcome


async def _prune(session: AsyncSession, state: ShopTriageModel) -> None:
    keep = {v for v in (state.active_version, *state.previous) if v is not None}
    versions = (
        await session.scalars(
            select(TriageModelVersion)
            .where(
                TriageModelVersion.shop_id == state.shop_id,
                TriageModelVersion.artifact.is_not(None),
            )
            .order_by(TriageModelVersion.version.desc())
        )
    ).all()
    recent = {v.version for v in versions[:KEEP_ARTIFACTS]}
    for row in versions:
        if row.version not in keep and row.version not in recent:
            row.artifact = None


async def retrain_now(
    sessions: SessionFactory, actor: CurrentUser, now: datetime
) -> dict[str, Any]:
    """An owner's "retrain now" (the nightly job does the same for every shop)."""
    require(actor, TRAIN_ACCESS)
    outcome = await retrain_shop(sessions, actor.shop_id, now, actor_id=actor.id, only_if_new=False)
    if outcome is None:
        raise ConflictError("triage model: no corrections yet (transfer or relabel first)")
    return outcome


async def retrain_due_shops(sessions: SessionFactory, now: datetime) -> int:
    """Every shop with corrections newer than its last training run; returns how many
    were retrained."""
    async with sessions() as session:
        shop_ids = (await session.scalars(select(TriageCorrection.shop_id).distinct())).all()
    done = 0
    for shop_id in sorted(shop_ids):
        if await retrain_shop(sessions, shop_id, now) is not None:
            done += 1
    return done


async def rollback(sessions: SessionFactory, actor: CurrentUser, now: datetime) -> dict[str, Any]:
    """Back to the model live before the current one (or the shipped model)."""
    require(actor, TRAIN_ACCESS)
    async with sessions.begin() as session:
        state = await session.get(ShopTriageModel, actor.shop_id, with_for_update=True)
        if state is None or not state.previous:
            raise ConflictError("triage model: nothing to roll back to")
        current = state.active_version
        state.active_version = state.previous[-1]
        state.previous = state.previous[:-1]
        state.updated_at = now
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="triage.rollback",
            target_type="triage_model",
            target_id=str(current),
            at=now,
            detail={"from": current, "to": state.active_version},
        )
        return {"active_version": state.active_version, "rolled_back": current}
