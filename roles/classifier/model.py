"""The shipped triage model at run time: a sparse dot product, no scikit-learn.

The artifact (``model.json.gz``, written by ``csdesk.roles.classifier.train``) is plain
JSON: the n-gram vocabulary with each n-gram's idf and its weight for every intent and
every risk level, the biases, and the thresholds. Scoring repeats what scikit-learn's
``TfidfVectorizer(sublinear_tf=True)`` + ``LogisticRegression`` compute (a test checks the
two agree): tf-idf of the utterance's n-grams, L2-normalized, times the weights, softmax.
Only the n-grams present in the utterance are touched, so one utterance costs a few dozen
dictionary look-ups and one small matrix product.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from csdesk.roles.classifier.features import counts
from csdesk.roles.triage_rules import Intent, Risk

ARTIFACT = Path(__file__).resolve().parent / "model.json.gz"
FORMAT = "csdesk-triage-model/1"

FloatArray = npt.NDArray[np.float64]


class Contribution(NamedTuple):
    """One n-gram's push on a decision (tf-idf value × weight, rounded)."""

    ngram: str
    weight: float


@dataclass(frozen=True)
class ModelPrediction:
    intent: Intent
    confidence: float
    """The winning intent's probability."""
    risk: Risk
    high_risk_probability: float
    intent_evidence: tuple[Contribution, ...]
    """The n-grams that pushed the winning intent up most (tf-idf value × weight)."""
    risk_evidence: tuple[Contribution, ...]
    """Same for the predicted risk level, when it is above low."""
    runner_up: Intent | None = None


_TF = tuple(1.0 + math.log(n) if n else 0.0 for n in range(16))
_TF_CACHED = len(_TF)


def _tf(n: int) -> float:
    """Sublinear term frequency, as scikit-learn's ``sublinear_tf``."""
    return _TF[n] if n < len(_TF) else 1.0 + math.log(n)


def _softmax(scores: FloatArray) -> FloatArray:
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class TriageModel:
    """Weights for intents and risk levels over one n-gram vocabulary."""

    version: str
    max_n: int
    intents: tuple[Intent, ...]
    risks: tuple[Risk, ...]
    vocabulary: Mapping[str, int]
    idf: FloatArray
    intent_weights: FloatArray  # (vocabulary, intents)
    intent_bias: FloatArray
    risk_weights: FloatArray  # (vocabulary, risks)
    risk_bias: FloatArray
    high_risk_threshold: float
    """P(high) at or above this is high risk: set low, since a missed angry buyer costs
    more than a phone call."""
    medium_risk_threshold: float
    """P(medium) + P(high) at or above this is (at least) medium risk."""
    meta: Mapping[str, Any]

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TriageModel:
        if doc.get("format") != FORMAT:
            raise ValueError(f"not a triage model: format {doc.get('format')!r}")
        ngrams: Sequence[str] = doc["ngrams"]
        return cls(
            version=str(doc["version"]),
            max_n=int(doc["max_n"]),
            intents=tuple(Intent(i) for i in doc["intents"]),
            risks=tuple(Risk(r) for r in doc["risks"]),
            vocabulary={gram: i for i, gram in enumerate(ngrams)},
            idf=np.asarray(doc["idf"], dtype=np.float64),
            intent_weights=np.asarray(doc["intent_weights"], dtype=np.float64),
            intent_bias=np.asarray(doc["intent_bias"], dtype=np.float64),
            risk_weights=np.asarray(doc["risk_weights"], dtype=np.float64),
            risk_bias=np.asarray(doc["risk_bias"], dtype=np.float64),
            high_risk_threshold=float(doc["high_risk_threshold"]),
            medium_risk_threshold=float(doc["medium_risk_threshold"]),
            meta=dict(doc.get("meta", {})),
        )

    @classmethod
    def load(cls, path: Path = ARTIFACT) -> TriageModel:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return cls.from_json(json.load(fh))

    def features(
        self, text: str, extra: list[str] | None = None, folded: str | None = None
    ) -> tuple[list[str], npt.NDArray[np.intp], FloatArray]:
        """Known n-grams of ``text`` (plus ``extra`` tokens), their rows, and their
        L2-normalized tf-idf values."""
        lookup = self.vocabulary.get
        grams: list[str] = []
        rows: list[int] = []
        tfs: list[float] = []
        for gram, n in counts(text, self.max_n, extra, folded).items():
            row = lookup(gram)
            if row is not None:
                grams.append(gram)
                rows.append(row)
                tfs.append(_TF[n] if n < _TF_CACHED else _tf(n))
        index = np.array(rows, dtype=np.intp)
        values = np.array(tfs, dtype=np.float64) * self.idf[index]
        norm = math.sqrt(float(values @ values))
        if norm:
            values /= norm
        return grams, index, values

    @cached_property
    def _weights(self) -> FloatArray:
        """Intent and risk weights side by side: one gather and one product per call."""
        return np.ascontiguousarray(np.hstack([self.intent_weights, self.risk_weights]))

    @cached_property
    def _bias(self) -> FloatArray:
        return np.concatenate([self.intent_bias, self.risk_bias])

    @cached_property
    def _risk_columns(self) -> tuple[int, int]:
        """Columns of P(high) and P(medium) in the risk part of the scores."""
        return self.risks.index(Risk.HIGH), self.risks.index(Risk.MEDIUM)

    def probabilities(
        self, text: str, extra: list[str] | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """(intent, risk) probabilities, in the order of ``intents`` and ``risks``."""
        _, index, values = self.features(text, extra)
        scores = values @ self._weights[index] + self._bias
        split = len(self.intents)
        return _softmax(scores[:split]), _softmax(scores[split:])

    def predict(
        self,
        text: str,
        extra: list[str] | None = None,
        evidence: int = 3,
        folded: str | None = None,
    ) -> ModelPrediction:
        grams, index, values = self.features(text, extra, folded)
        rows = self._weights[index]
        scores = (values @ rows + self._bias).tolist()
        split = len(self.intents)
        # Plain floats from here: on a dozen numbers numpy's per-call cost is most of the work.
        intent_probs = _softmax_list(scores[:split])
        risk_probs = _softmax_list(scores[split:])
        # A stable sort: ties keep the order of ``intents``, as numpy's argsort did.
        best, second = sorted(range(split), key=intent_probs.__getitem__, reverse=True)[:2]
        high, medium = self._risk_columns
        p_high = risk_probs[high]
        p_medium = risk_probs[medium]
        if p_high >= self.high_risk_threshold:
            risk = Risk.HIGH
        elif p_medium + p_high >= self.medium_risk_threshold:
            risk = Risk.MEDIUM
        else:
            risk = Risk.LOW
        risk_evidence: tuple[Contribution, ...] = ()
        if risk is not Risk.LOW:
            column = split + (high if risk is Risk.HIGH else medium)
            risk_evidence = _top(grams, values * rows[:, column], evidence)
        return ModelPrediction(
            intent=self.intents[best],
            confidence=intent_probs[best],
            risk=risk,
            high_risk_probability=p_high,
            intent_evidence=_top(grams, values * rows[:, best], evidence),
            risk_evidence=risk_evidence,
            runner_up=self.intents[second],
        )


def _softmax_list(scores: list[float]) -> list[float]:
    top = max(scores)
    shifted = [math.exp(score - top) for score in scores]
    total = sum(shifted)
    return [value / total for value in shifted]


def _top(grams: list[str], contributions: FloatArray, k: int) -> tuple[Contribution, ...]:
    order = np.argsort(-contributions)[:k].tolist()
    values = contributions.tolist()
    return tuple(Contribution(grams[i], round(values[i], 2)) for i in order if values[i] > 0)


@functools.cache
def shipped_model() -> TriageModel:
    """The model that ships in the package, loaded once per process (immutable)."""
    return TriageModel.load(ARTIFACT)
