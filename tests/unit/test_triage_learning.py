"""Learning from a shop's corrections: the pure core (csdesk.roles.classifier.learning)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from csdesk.roles.classifier import corpus
from csdesk.roles.classifier.learning import Correction, ShopModels, retrain, rollback
from csdesk.roles.classifier.model import shipped_model
from csdesk.roles.triage import Intent, classify

pytest.importorskip("sklearn")

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
PHRASE = "以旧换新可以吗"


def test_corrections_change_the_shops_model_a_worse_retrain_is_kept_out_and_rollback_restores() -> (
    None
):
    train, heldout = corpus.load_train(), corpus.load_heldout()
    shop_a, shop_b = ShopModels(), ShopModels()
    assert classify(PHRASE, shop_a.rules()).intent is Intent.PRESALE

    # the shop says trade-ins are exchanges for it
    corrections = [
        Correction(PHRASE, Intent.EXCHANGE, NOW),
        Correction("以旧换新怎么弄", Intent.EXCHANGE, NOW),
    ]
    shop_a, outcome = retrain(shop_a, corrections, NOW, base_train=train, heldout=heldout)
    assert outcome.swapped, outcome
    assert shop_a.active == outcome.version == 1
    assert classify(PHRASE, shop_a.rules()).intent is Intent.EXCHANGE
    assert shop_a.active_version() is not None
    assert shop_a.active_version().corrections == 2  # type: ignore[union-attr]

    # another shop is untouched: still the shipped model and its answer
    assert shop_b.rules().model is shipped_model()
    assert classify(PHRASE, shop_b.rules()).intent is Intent.PRESALE

    # a retrain on careless corrections scores worse on the held-out split: kept out
    careless = [
        Correction(ex.text, Intent.OTHER, NOW) for ex in train if ex.intent is Intent.REFUND
    ][:150]
    worse, outcome = retrain(
        shop_a, [*corrections, *careless], NOW, base_train=train, heldout=heldout
    )
    assert not outcome.swapped, outcome
    assert outcome.candidate_score < outcome.active_score
    assert worse.active == 1
    assert len(worse.versions) == 2  # the candidate is kept for the record
    assert classify(PHRASE, worse.rules()).intent is Intent.EXCHANGE

    # rollback: the model that was active before (here the shipped one)
    restored = rollback(worse)
    assert restored.active is None
    assert restored.rules().model is shipped_model()
    assert classify(PHRASE, restored.rules()).intent is Intent.PRESALE
    with pytest.raises(ValueError, match="nothing to roll back"):
        rollback(restored)
