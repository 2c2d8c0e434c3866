"""Learning from a shop's own corrections (the pure core; storage and scheduling wire it).

When an agent or supervisor relabels a conversation's intent, or transfers it to another
role, the buyer's message with the corrected intent is a labelled example for that shop
(``Correction``). ``retrain`` fits a candidate on the base training corpus plus the shop's
corrections (each repeated ``CORRECTION_WEIGHT`` times: one shop's few examples must be
able to move the model on their own phrases), scores it on the fixed held-out split
through the real ``classify``, and makes it active only if that score does not drop below
the active model's. Every trained version is kept, so ``rollback`` can return to the
previous one (or to the shipped model). Pure: facts in, new history out, ``now`` passed in;
the caller persists ``ShopModels`` and its artifacts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csdesk.roles.classifier.corpus import Example
from csdesk.roles.classifier.evaluate import evaluate
from csdesk.roles.classifier.model import TriageModel, shipped_model
from csdesk.roles.triage import TriageRules, default_rules, with_model
from csdesk.roles.triage_rules import DEFAULT_INTENT_RISK, Intent, Risk
from csdesk.storage.enums import ServiceRole

CORRECTION_WEIGHT = 5


@dataclass(frozen=True)
class Correction:
    text: str
    intent: Intent
    at: datetime


@dataclass(frozen=True)
class ModelVersion:
    version: int
    trained_at: datetime
    corrections: int
    heldout_score: float
    """Intent accuracy on the held-out split, through ``classify``."""
    artifact: dict[str, Any]

    def model(self) -> TriageModel:
        return TriageModel.from_json(self.artifact)


@dataclass(frozen=True)
class ShopModels:
    """A shop's trained versions, oldest first, and which one is active (None: shipped)."""

    versions: tuple[ModelVersion, ...] = ()
    active: int | None = None
    previous: tuple[int | None, ...] = ()
    """Versions that were active before, most recent last (what ``rollback`` returns to)."""

    def active_version(self) -> ModelVersion | None:
        return next((v for v in self.versions if v.version == self.active), None)

    def rules(self, base: TriageRules | None = None) -> TriageRules:
        """The shop's triage rules with its active model."""
        base = base or default_rules()
        active = self.active_version()
        return with_model(base, active.model()) if active is not None else base


@dataclass(frozen=True)
class RetrainOutcome:
    swapped: bool
    candidate_score: float
    active_score: float
    version: int


def heldout_score(model: TriageModel, heldout: Sequence[Example], base: TriageRules) -> float:
    return evaluate(heldout, with_model(base, model)).intent_accuracy


def _as_examples(corrections: Sequence[Correction]) -> list[Example]:
    out: list[Example] = []
    for c in corrections:
        risk = DEFAULT_INTENT_RISK.get(c.intent, Risk.LOW)
        out.extend([Example(c.text, c.intent, risk, origin="correction")] * CORRECTION_WEIGHT)
    return out


def train_candidate(
    corrections: Sequence[Correction],
    version: int,
    *,
    base_train: Sequence[Example],
    heldout: Sequence[Example],
    base: TriageRules | None = None,
) -> tuple[dict[str, Any], float]:
    """Fit a model on ``base_train`` + ``corrections``; its artifact and held-out score.
    Seconds of CPU: the caller runs it away from an event loop."""
    from csdesk.roles.classifier.train import fit  # scikit-learn: training only

    artifact = fit([*base_train, *_as_examples(corrections)], version=f"shop-{version}")
    score = heldout_score(TriageModel.from_json(artifact), heldout, base or default_rules())
    return artifact, score


SWAP_TOLERANCE = 0.002
"""How far below the live model's held-out intent accuracy a candidate may score and still
go live: 0.2 points, about 8 of the split's 3,919 lines. Teaching a shop's own phrase
moves a line or two of the split either way (noise, not unlearning); careless corrections
cost whole points."""


def should_swap(candidate_score: float, active_score: float) -> bool:
    """A shop's new model goes live only if it does not score worse on the fixed held-out
    split than the live one (beyond ``SWAP_TOLERANCE``): corrections may teach the shop's
    phrases, never unlearn what every shop needs."""
    return candidate_score >= active_score - SWAP_TOLERANCE


def transfer_label(
    intent_roles: Mapping[Intent, ServiceRole],
    to_role: ServiceRole,
    predicted: Intent | None,
    explicit: Intent | None = None,
) -> Intent | None:
    """What a transfer to ``to_role`` teaches about the buyer's message, if anything.

    An explicit intent (the agent picked one) is the label when it belongs to the target
    role. Otherwise a role with exactly one intent names it (转接到退款 → refund); a
    role with several (after-sales: logistics, quality, exchange, complaint) says too
    little to label the message, and a transfer to the role triage already chose for the
    predicted intent teaches nothing."""
    if explicit is not None:
        return explicit if intent_roles.get(explicit) is to_role else None
    if predicted is not None and intent_roles.get(predicted) is to_role:
        return None
    candidates = [intent for intent, role in intent_roles.items() if role is to_role]
    return candidates[0] if len(candidates) == 1 else None


def retrain(
    history: ShopModels,
    corrections: Sequence[Correction],
    now: datetime,
    *,
    base_train: Sequence[Example],
    heldout: Sequence[Example],
    base: TriageRules | None = None,
) -> tuple[ShopModels, RetrainOutcome]:
    """Train a candidate on ``base_train`` + ``corrections``; swap only if not worse."""
    base = base or default_rules()
    version = max((v.version for v in history.versions), default=0) + 1
    artifact, score = train_candidate(
        corrections, version, base_train=base_train, heldout=heldout, base=base
    )
    candidate = ModelVersion(
        version=version,
        trained_at=now,
        corrections=len(corrections),
        heldout_score=score,
        artifact=artifact,
    )
    active = history.active_version()
    active_score = (
        active.heldout_score
        if active is not None
        else heldout_score(shipped_model(), heldout, base)
    )
    swapped = should_swap(candidate.heldout_score, active_score)
    new_history = ShopModels(
        versions=(*history.versions, candidate),
        active=version if swapped else history.active,
        previous=(*history.previous, history.active) if swapped else history.previous,
    )
    return new_history, RetrainOutcome(swapped, candidate.heldout_score, active_score, version)


def rollback(history: ShopModels) -> ShopModels:
    """Back to the model that was active before the current one."""
    if not history.previous:
        raise ValueError("nothing to roll back to")
    return dataclasses.replace(history, active=history.previous[-1], previous=history.previous[:-1])
