"""The learned triage model: corpus and split, artifact, scoring, combination with rules,
and the held-out report through the real entry point (``triage.classify``)."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from csdesk.roles.classifier import corpus
from csdesk.roles.classifier.evaluate import Report, evaluate
from csdesk.roles.classifier.features import model_text, ngrams
from csdesk.roles.classifier.model import shipped_model
from csdesk.roles.config import build_triage_rules
from csdesk.roles.triage import (
    Intent,
    Risk,
    TriageRules,
    classify,
    classify_rules,
    default_rules,
)


@pytest.fixture(scope="module")
def heldout_report() -> Report:
    return evaluate(corpus.load_heldout())


# --- corpus and split ------------------------------------------------------------------


def test_corpus_is_large_and_the_split_is_fixed_and_disjoint() -> None:
    train, heldout = corpus.load_train(), corpus.load_heldout()
    assert len(train) + len(heldout) >= 3000
    assert len(heldout) >= 600
    assert not {ex.text for ex in train} & {ex.text for ex in heldout}
    # a hand-written line and its variations never straddle the split
    assert not {ex.group for ex in train if ex.group} & {ex.group for ex in heldout}
    assert all(corpus.is_heldout(ex.group) for ex in heldout)
    assert all(ex.origin != "legacy" for ex in heldout)
    origins = Counter(ex.origin for ex in [*train, *heldout])
    assert origins["written"] + origins["legacy"] > origins["variant"], origins
    thin = {i.value: n for i in Intent if (n := sum(ex.intent is i for ex in heldout)) < 25}
    assert not thin, f"intents with fewer than 25 held-out examples: {thin}"


def test_materialized_split_matches_the_sources() -> None:
    """Edit corpus/written/*.tsv, then ``python -m csdesk.roles.classifier.corpus``."""
    train, heldout = corpus.build()
    assert corpus.load_train() == train
    assert corpus.load_heldout() == heldout


def test_variations_keep_masked_tokens_whole() -> None:
    for ex in corpus.load_train() + corpus.load_heldout():
        if ex.origin == "variant":
            assert "电化x" not in ex.text, ex.text


# --- features and artifact -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("訂單號:[ORDERID_10243] 發貨了嗎！", "订单号 \ue000order 发货了吗!"),
        ("TK 13812345678", "tk 13812345678"),
        ("[金额x]😡", "\ue000money 😡"),
    ],
)
def test_model_text(text: str, expected: str) -> None:
    assert model_text(text) == expected


def test_ngrams_treat_words_numbers_and_placeholders_as_units() -> None:
    grams = ngrams(model_text("tk 13812345678 [订单x] 退款"))
    assert "tk" in grams
    assert "t" not in grams
    assert "#" in grams  # a long number is one unit, its digits mean nothing
    assert "\ue000order" in grams
    assert "<退款" in grams
    assert "退款>" in grams


def test_shipped_artifact_was_trained_on_the_current_corpus() -> None:
    train_module = pytest.importorskip("csdesk.roles.classifier.train")
    model = shipped_model()
    assert model.meta["corpus"] == train_module.corpus_digest(corpus.load_train()), (
        "retrain: python -m csdesk.roles.classifier.train"
    )
    assert model.meta["examples"] == len(corpus.load_train())


def test_scoring_without_sklearn_matches_sklearn_and_training_is_deterministic() -> None:
    pytest.importorskip("sklearn")
    from csdesk.roles.classifier.model import TriageModel
    from csdesk.roles.classifier.train import fit_pipeline, rule_evidence

    sample = corpus.load_train()[::6]
    vectorizer, intent_model, risk_model, doc = fit_pipeline(sample)
    assert json.dumps(fit_pipeline(sample)[3]) == json.dumps(doc)
    model = TriageModel.from_json(doc)
    for ex in corpus.load_heldout()[:60]:
        x = vectorizer.transform([ex.text])
        intents, risks = model.probabilities(ex.text, rule_evidence(ex.text))
        assert np.allclose(intents, intent_model.predict_proba(x)[0], atol=1e-3), ex.text
        assert np.allclose(risks, risk_model.predict_proba(x)[0], atol=1e-3), ex.text


# --- combination with the rules ---------------------------------------------------------


def test_a_phrase_the_shop_deleted_does_not_come_back_through_the_model() -> None:
    rules = build_triage_rules({"phrases": {"tk": None}})
    assert classify("tk", default_rules()).intent is Intent.REFUND
    deleted = classify("tk", rules)
    assert deleted.intent is Intent.OTHER
    assert "model ignored: the shop removed tk → other" in deleted.reasons
    # the shop's other refund phrases, and the model on them, are untouched
    assert classify("我要退款", rules).intent is Intent.REFUND


def test_rules_alone_when_the_model_is_off() -> None:
    rules = build_triage_rules({"use_model": False})
    for text in ["物流三天没动了", "公司要专票", "找小二处理"]:
        assert classify(text, rules) == classify_rules(text, rules)


def test_a_shop_phrase_wins_over_the_model() -> None:
    rules = build_triage_rules({"phrases": {"找小二": {"intent": "callback", "weight": 3}}})
    result = classify("我要找小二", rules)
    assert result.intent is Intent.CALLBACK
    assert "shop phrase 找小二 → callback wins" in result.reasons
    assert classify("我要找小二").intent is Intent.COMPLAINT  # other shops: the model


def test_low_confidence_routes_by_the_shops_fallback() -> None:
    unsure = build_triage_rules({"model_min_confidence": 1.0, "fallback_intent": "callback"})
    result = classify("这件事 说来话长", unsure)
    assert result.intent is Intent.CALLBACK
    assert any(r.startswith("model unsure") and "fallback: callback" in r for r in result.reasons)
    # with a rule match, the rules' intent stands instead of the fallback
    ruled = classify("我要退款", unsure)
    assert ruled.intent is Intent.REFUND
    assert any(r.startswith("model unsure") and "rules: refund" in r for r in ruled.reasons)


@pytest.mark.parametrize(
    ("text", "intent", "risk"),
    [
        ("不要退款了", Intent.OTHER, Risk.LOW),  # the rules read the negation
        ("我不会给差评的 放心吧", Intent.OTHER, Risk.LOW),
        ("😡😡😡", Intent.OTHER, Risk.MEDIUM),  # no words: the rules' emoji cue
    ],
)
def test_negation_and_wordless_messages_stay_with_the_rules(
    text: str, intent: Intent, risk: Risk
) -> None:
    result = classify(text)
    assert (result.intent, result.risk) == (intent, risk), result.reasons
    assert any(r.startswith("model ignored") or "ignored" in r for r in result.reasons)


def test_reasons_name_the_ngrams_that_carried_the_model_with_weights() -> None:
    result = classify("订单号:[订单x] 金额:[金额x] 物流三天没动了")
    assert result.intent is Intent.LOGISTICS
    model_reason = next(r for r in result.reasons if r.startswith("model: logistics "))
    assert " +" in model_reason, model_reason
    assert result.to_json().keys() == {"text", "intent", "role", "risk", "score", "reasons"}
    assert 0 < result.score < 1


def test_risk_is_the_highest_of_rules_and_model() -> None:
    result = classify("再不退款我就申请平台介入")
    assert result.risk is Risk.HIGH
    assert result.proactive_call
    assert classify_rules("再不退款我就申请平台介入").risk is not Risk.HIGH  # model caught it


# --- short messages: no alarm without words that carry one ----------------------------


@pytest.mark.parametrize(
    "text",
    ["第一条", "第二条", "第三个", "二楼", "选第二个", "2号", "收到", "嗯嗯", "ok", "上面那条"],
)
def test_short_neutral_messages_raise_no_alarm(text: str) -> None:
    result = classify(text)
    assert result.risk is not Risk.HIGH, result.reasons
    assert result.intent is not Intent.COMPLAINT, result.reasons


@pytest.mark.parametrize("text", ["我要投诉", "12315见", "骗子", "垃圾店", "二货客服", "无语"])
def test_short_threats_and_insults_stay_high(text: str) -> None:
    assert classify(text).risk is Risk.HIGH


# --- the held-out report -----------------------------------------------------------------


def test_heldout_scores_do_not_regress(heldout_report: Report) -> None:
    """Floors at the scores measured when the model was shipped (docs/triage.md)."""
    print("\n" + heldout_report.summary() + "\n" + heldout_report.table())
    # Measured after pass 9 (3,919 lines): intent 88.5 %, role 92.2 %, high-risk recall
    # 91.3 % at precision 82.3 %, false alarms 5.1 %; floors about half a point below.
    assert heldout_report.n >= 600
    assert heldout_report.intent_accuracy >= 0.880
    assert heldout_report.role_accuracy >= 0.917
    assert heldout_report.high_recall >= 0.908
    assert heldout_report.high_precision >= 0.818
    assert heldout_report.false_alarm_rate <= 0.056
    rules_only = evaluate(corpus.load_heldout(), TriageRules(use_model=False))
    assert heldout_report.intent_accuracy > rules_only.intent_accuracy + 0.15


@pytest.mark.xfail(strict=True, reason="issue 16 goals not reached yet: see docs/triage.md")
def test_heldout_meets_the_issue_goals(heldout_report: Report) -> None:
    assert heldout_report.intent_accuracy >= 0.90
    assert heldout_report.role_accuracy >= 0.93
    assert heldout_report.high_recall >= 0.95
    assert heldout_report.high_precision >= 0.80


def test_default_rules_share_one_model() -> None:
    assert default_rules().model is shipped_model()
    assert build_triage_rules({"min_weight": 2.0}).model is shipped_model()


def _reference_ngrams(text: str, max_n: int) -> list[str]:
    """The n-grams by their definition: units per clause, joined (the scorer slices
    strings when every unit is one character; both must agree)."""
    from csdesk.roles.classifier.features import units

    grams: list[str] = []
    for part in text.split(" "):
        clause = [part] if part.startswith("\ue000") else units(part)
        if not clause:
            continue
        grams.extend(clause)
        padded = ["<", *clause, ">"]
        for n in range(2, max_n + 1):
            grams.extend("".join(padded[i : i + n]) for i in range(len(padded) - n + 1))
    return grams


@pytest.mark.parametrize("max_n", [1, 2, 3, 4])
def test_ngrams_fast_path_matches_their_definition(max_n: int) -> None:
    texts = [ex.text for ex in corpus.load_heldout()[::7]] + [
        "tk退款 13812345678 [订单x]怎么还没到😡!!",
        "",
        "。。。",
        "a",
        "退",
    ]
    for text in texts:
        normalized = model_text(text)
        assert ngrams(normalized, max_n) == _reference_ngrams(normalized, max_n), text


def test_threshold_sweep_trades_recall_for_precision() -> None:
    pytest.importorskip("sklearn")
    from csdesk.roles.classifier.train import threshold_sweep

    low, high = threshold_sweep(corpus.load_train()[::8], folds=2, thresholds=(0.05, 0.6))

    def recall(line: str) -> float:
        return float(line.split("recall ")[1].split("%")[0])

    assert low.startswith("threshold 0.05: recall ")
    assert high.startswith("threshold 0.60: ")
    assert recall(low) >= recall(high)
