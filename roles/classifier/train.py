"""Train the triage model from the shipped corpus (scikit-learn, deterministic).

``python -m csdesk.roles.classifier.train`` reads ``corpus/train.tsv`` (never the
held-out split), fits tf-idf over unit n-grams and two multinomial logistic regressions
(intent, risk), and writes ``model.json.gz``. Same corpus, same artifact: lbfgs on a fixed
problem has no randomness. Takes a few seconds on one core. ``--cv`` prints the
4-fold cross-validation report on the training split instead (what chooses settings);
``--sweep`` the high-risk recall and precision at several thresholds on the same folds.

Why this model: linear weights over character n-grams are small (a few MB of JSON
before gzip), score in microseconds with a sparse dot product, and every decision can be
explained by the n-grams that carried it. fastText would be comparable in accuracy on a
few thousand lines but ships a native extension and a binary format of its own.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from csdesk.roles.classifier import corpus
from csdesk.roles.classifier.corpus import Example
from csdesk.roles.classifier.evaluate import Report, evaluate
from csdesk.roles.classifier.features import model_text, ngrams, rule_tokens
from csdesk.roles.classifier.model import ARTIFACT, FORMAT, TriageModel
from csdesk.roles.triage_rules import Intent, Risk


@dataclass(frozen=True)
class Params:
    max_n: int = 3
    min_df: int = 2
    intent_c: float = 40.0
    risk_c: float = 40.0
    high_risk_threshold: float = 0.15
    medium_risk_threshold: float = 0.5
    high_risk_weight: float = 1.0
    """Class weight of ``high`` in the risk model's loss (the others weigh 1)."""


DEFAULT_PARAMS = Params()


def corpus_digest(examples: Sequence[Example]) -> str:
    h = hashlib.sha256()
    for ex in examples:
        h.update(f"{ex.text}\t{ex.intent}\t{ex.risk}\n".encode())
    return h.hexdigest()[:16]


def rule_evidence(text: str) -> list[str]:
    """The built-in rules' verdict on ``text`` as model tokens (never a shop's rules:
    the model learns the defaults; a shop's own phrases override it at run time)."""
    from csdesk.roles.triage import classify_rules, default_rules

    verdict = classify_rules(text, default_rules())
    return rule_tokens(verdict.intent.value, verdict.risk.value)


def _analyzer(max_n: int) -> Any:
    def analyze(text: str) -> list[str]:
        return ngrams(model_text(text), max_n) + rule_evidence(text)

    return analyze


def fit_pipeline(
    examples: Sequence[Example], params: Params = DEFAULT_PARAMS, *, version: str = "base"
) -> tuple[Any, Any, Any, dict[str, Any]]:
    """(vectorizer, intent model, risk model, artifact): the scikit-learn objects too, so a
    test can check the artifact scores exactly as they do."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [ex.text for ex in examples]
    vectorizer = TfidfVectorizer(
        analyzer=_analyzer(params.max_n), sublinear_tf=True, min_df=params.min_df
    )
    x = vectorizer.fit_transform(texts)
    intents = [i for i in Intent if any(ex.intent is i for ex in examples)]
    risks = list(Risk)
    # saga with a fixed seed: deterministic, and an order of magnitude faster than lbfgs
    # on this sparse problem.
    intent_model = LogisticRegression(
        C=params.intent_c, solver="saga", max_iter=3000, random_state=0
    )
    intent_model.fit(x, [intents.index(ex.intent) for ex in examples])
    risk_model = LogisticRegression(
        C=params.risk_c,
        solver="saga",
        max_iter=3000,
        random_state=0,
        class_weight={risks.index(Risk.HIGH): params.high_risk_weight}
        if params.high_risk_weight != 1.0
        else None,
    )
    risk_model.fit(x, [risks.index(ex.risk) for ex in examples])
    vocabulary: Mapping[str, int] = vectorizer.vocabulary_
    ngram_list = sorted(vocabulary, key=vocabulary.__getitem__)
    doc = {
        "format": FORMAT,
        "version": version,
        "max_n": params.max_n,
        "intents": [i.value for i in intents],
        "risks": [r.value for r in risks],
        "ngrams": ngram_list,
        "idf": [round(float(v), 6) for v in vectorizer.idf_],
        "intent_weights": [[round(float(w), 5) for w in row] for row in intent_model.coef_.T],
        "intent_bias": [round(float(b), 5) for b in intent_model.intercept_],
        "risk_weights": [[round(float(w), 5) for w in row] for row in risk_model.coef_.T],
        "risk_bias": [round(float(b), 5) for b in risk_model.intercept_],
        "high_risk_threshold": params.high_risk_threshold,
        "medium_risk_threshold": params.medium_risk_threshold,
        "meta": {
            "examples": len(examples),
            "corpus": corpus_digest(examples),
            "params": params.__dict__,
        },
    }
    return vectorizer, intent_model, risk_model, doc


def fit(
    examples: Sequence[Example], params: Params = DEFAULT_PARAMS, *, version: str = "base"
) -> dict[str, Any]:
    """The model artifact (a JSON document) trained on ``examples``."""
    return fit_pipeline(examples, params, version=version)[3]


def train_model(
    examples: Sequence[Example], params: Params = DEFAULT_PARAMS, *, version: str = "base"
) -> TriageModel:
    return TriageModel.from_json(fit(examples, params, version=version))


def write_artifact(doc: Mapping[str, Any], path: Path = ARTIFACT) -> None:
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # mtime=0: the same model writes the same bytes, so the artifact diffs honestly.
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(data)


CV_FOLDS = 4


def cross_validate(
    examples: Sequence[Example], params: Params = DEFAULT_PARAMS, folds: int = CV_FOLDS
) -> Report:
    """Score ``params`` by ``folds``-fold cross-validation on ``examples`` (the training
    split), through ``classify``: folds by a hand-written line's group, so a line and its
    variations stay together; legacy lines only train, as in the real split. This, never
    the held-out split, is what chooses settings."""
    from csdesk.roles.triage import default_rules, with_model

    def fold_of(ex: Example) -> int:
        return int(ex.group, 16) % folds if ex.group else -1

    total = Report()
    for fold in range(folds):
        fitting = [ex for ex in examples if fold_of(ex) != fold]
        scoring = [ex for ex in examples if fold_of(ex) == fold]
        model = train_model(fitting, params, version=f"cv{fold}")
        total.merge(evaluate(scoring, with_model(default_rules(), model)))
    return total


SWEPT_THRESHOLDS = (0.08, 0.1, 0.12, 0.15, 0.18, 0.2, 0.25, 0.3)


def threshold_sweep(
    examples: Sequence[Example],
    params: Params = DEFAULT_PARAMS,
    folds: int = CV_FOLDS,
    thresholds: Sequence[float] = SWEPT_THRESHOLDS,
) -> list[str]:
    """High-risk recall, precision and false alarms at each threshold on the same folds as
    ``cross_validate``: each buyer is flagged when ``classify`` flags it without the model's
    high-risk vote (rules, complaint intent) or when the model's P(high) reaches the
    threshold. One fit per fold, so the whole curve costs one cross-validation."""
    from csdesk.roles.triage import classify, default_rules, with_model

    def fold_of(ex: Example) -> int:
        return int(ex.group, 16) % folds if ex.group else -1

    scored: list[tuple[bool, bool, float]] = []  # (is high, flagged without model, P(high))
    for fold in range(folds):
        fitting = [ex for ex in examples if fold_of(ex) != fold]
        model = train_model(fitting, params, version=f"cv{fold}")
        silent = with_model(default_rules(), replace(model, high_risk_threshold=1.01))
        for ex in examples:
            if fold_of(ex) == fold:
                flagged = classify(ex.text, silent).risk is Risk.HIGH
                p_high = model.predict(ex.text, rule_evidence(ex.text)).high_risk_probability
                scored.append((ex.risk is Risk.HIGH, flagged, p_high))
    positives = sum(high for high, _, _ in scored)
    negatives = len(scored) - positives
    lines = []
    for threshold in thresholds:
        flags = [(high, flagged or p >= threshold) for high, flagged, p in scored]
        caught = sum(high and flag for high, flag in flags)
        raised = sum(flag for _, flag in flags)
        lines.append(
            f"threshold {threshold:.2f}: recall {caught / max(positives, 1):.1%},"
            f" precision {caught / max(raised, 1):.1%},"
            f" false alarms {(raised - caught) / max(negatives, 1):.1%}"
        )
    return lines


def main(argv: Sequence[str] = ()) -> int:
    train = corpus.load_train()
    if "--sweep" in argv:
        print("\n".join(threshold_sweep(train)))
        return 0
    if "--cv" in argv:
        print(cross_validate(train).summary())
        return 0
    doc = fit(train)
    write_artifact(doc)
    print(f"trained on {len(train)} examples, {len(doc['ngrams'])} n-grams", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
