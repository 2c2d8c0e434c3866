"""Triage: one buyer utterance → intent, role, risk, with the reasons (``csdesk triage``).

Pure and deterministic. The pipeline:

1. normalize: NFKC (full-width → half-width), Traditional → Simplified (OpenCC ``t2s``),
   lower case; punctuation and meaningless symbols become clause breaks; emoji that some
   phrase uses (😡) are kept as words.
2. match every phrase and negation cue at once with an Aho-Corasick automaton, keep the
   longest non-overlapping matches (退货退款 is one refund phrase, not 退货 + 退款).
3. drop negated phrases. A cue (不要, 不用, 没有, 不会 ...) at most ``negation_gap``
   characters before the phrase, or right after it (换货不用了), in the same clause,
   cancels it. Decision: "不要退款了" withdraws a refund request; it is *not* a refund
   request and, with nothing else said, it is ``other`` (the platform's own
   ``refund.cancelled`` event closes the refund; the chat itself needs no refund action).
   Complaints about inaction (还不退款, 为什么不退) are explicit refund phrases, which win
   over the cue because they are longer.
4. sum weights per intent; the heaviest wins, ties go by ``precedence``; nothing (or less
   than ``min_weight``) → ``other``.
5. risk = the highest of: the winner's own risk (complaint high, quality medium), every
   surviving phrase's risk (threats high, impatience and anger medium), many ``!``.

``score`` is the winner's share of all matched weight, smoothed, in [0, 1): a confidence-
like number. ``reasons`` name every phrase that counted, with its weight.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, cast

# The model's analyzer (stdlib only; numpy and the artifact load on first use).
from csdesk.roles.classifier.features import rule_tokens
from csdesk.roles.triage_rules import (
    DEFAULT_INTENT_RISK,
    DEFAULT_INTENT_ROLES,
    DEFAULT_NEGATION_AFTER,
    DEFAULT_NEGATION_BEFORE,
    DEFAULT_PHRASES,
    DEFAULT_PRECEDENCE,
    Intent,
    PhraseRule,
    Risk,
    max_risk,
)
from csdesk.storage.enums import ServiceRole

if TYPE_CHECKING:
    from csdesk.roles.classifier.model import ModelPrediction, TriageModel

__all__ = [
    "Intent",
    "PhraseRule",
    "Risk",
    "TriageResult",
    "TriageRules",
    "classify",
    "classify_rules",
    "default_rules",
    "normalize",
    "with_model",
]

# Zero-width joiners and variation selectors decorate emoji; they carry nothing.
_INVISIBLE = frozenset("\u200b\u200c\u200d\ufe0e\ufe0f")


class Converter(Protocol):
    def convert(self, text: str) -> str: ...


class Automaton(Protocol):
    def iter(self, text: str) -> Iterator[tuple[int, Any]]: ...


@dataclass(frozen=True)
class TriageRules:
    """Everything the classifier needs, editable per shop.

    Build a shop's rules with ``csdesk.roles.config.build_triage_rules(overrides)`` (or
    ``RoutingConfig.from_overrides({"triage": ...}).triage``). The OpenCC converter and the
    Aho-Corasick automaton are built on first use and cached on the object: rules are
    immutable, so the caches never go stale, and edited rules get their own automaton.
    """

    phrases: tuple[PhraseRule, ...] = DEFAULT_PHRASES
    intent_roles: Mapping[Intent, ServiceRole] = field(default_factory=lambda: DEFAULT_INTENT_ROLES)
    precedence: tuple[Intent, ...] = DEFAULT_PRECEDENCE
    intent_risk: Mapping[Intent, Risk] = field(default_factory=lambda: DEFAULT_INTENT_RISK)
    negation_before: tuple[str, ...] = DEFAULT_NEGATION_BEFORE
    negation_after: tuple[str, ...] = DEFAULT_NEGATION_AFTER
    negation_gap: int = 2
    """Characters allowed between a cue and its phrase (不会给差评: 给)."""
    corroboration: float = 0.25
    """Weight share of every phrase after an intent's heaviest one: more phrases for the same
    intent corroborate it (快递 + 到哪了), they do not add up to outvote an explicit act
    (投诉) said once."""
    min_weight: float = 1.0
    """Below this total weight the message is ``other``: one weak hint is not an intent."""
    smoothing: float = 1.0
    """Added to the denominator of ``score`` so a single match is not 100 % confident."""
    exclamations_for_medium: int = 2
    """This many ``!`` in one message raise the risk to medium (退款！！！)."""
    proactive_call_risk: Risk = Risk.HIGH
    """Buyers at or above this risk get a proactive hotline call (seeds/003 呼叫)."""
    opencc_config: str = "t2s"
    use_model: bool = True
    """Combine the phrase rules with the learned model (``csdesk.roles.classifier``)."""
    model_min_confidence: float = 0.2
    """Below this probability the model's intent is not trusted: the rules' intent stands,
    or ``fallback_intent`` when the rules found none."""
    fallback_intent: Intent = Intent.OTHER
    """Where an utterance nobody is sure about goes (``other`` → presales by default)."""

    def problems(self) -> Iterator[tuple[str, str]]:
        """Configuration problems as (key, message); nothing when the rules are usable."""
        if len(self.precedence) != len(Intent) or set(self.precedence) != set(Intent):
            yield "precedence", "must list every intent exactly once"
        missing = [i.value for i in Intent if i not in self.intent_roles]
        if missing:
            yield "intent_roles", f"no role for intents: {', '.join(missing)}"
        if self.negation_gap < 0:
            yield "negation_gap", "must be >= 0"
        if not 0 <= self.corroboration <= 1:
            yield "corroboration", "must be between 0 and 1"
        if self.min_weight < 0:
            yield "min_weight", "must be >= 0"
        if self.smoothing < 0:
            yield "smoothing", "must be >= 0"
        if self.exclamations_for_medium < 1:
            yield "exclamations_for_medium", "must be >= 1"
        if not 0 <= self.model_min_confidence <= 1:
            yield "model_min_confidence", "must be between 0 and 1"
        if self.opencc_config not in ("t2s", "tw2s", "hk2s", "tw2sp"):
            yield "opencc_config", "must be one of t2s, tw2s, hk2s, tw2sp"
        for rule in self.phrases:
            if not normalize_phrase(rule.phrase, self):
                yield f"phrases.{rule.phrase}", "is empty after normalization"
            if rule.weight < 0 or not math.isfinite(rule.weight):
                yield f"phrases.{rule.phrase}.weight", "must be a finite number >= 0"

    def role_for(self, intent: Intent) -> ServiceRole:
        return self.intent_roles[intent]

    @cached_property
    def model(self) -> TriageModel | None:
        """The learned model, or None when this shop switched it off."""
        if not self.use_model:
            return None
        from csdesk.roles.classifier.model import shipped_model

        return shipped_model()

    @cached_property
    def shop_phrases(self) -> frozenset[PhraseRule]:
        """Phrases a shop wrote or edited on purpose: they win over the model."""
        return frozenset(self.phrases) - _DEFAULT_PHRASE_SET

    @cached_property
    def removed_phrases(self) -> tuple[PhraseRule, ...]:
        """Built-in phrases this shop deleted on purpose: the model must not bring them back."""
        kept = {rule.phrase for rule in self.phrases}
        return tuple(rule for rule in DEFAULT_PHRASES if rule.phrase not in kept)

    @cached_property
    def converter(self) -> Converter:
        import opencc  # deferred: only classification needs the native converter

        return cast(Converter, opencc.OpenCC(self.opencc_config))

    @cached_property
    def kept_symbols(self) -> frozenset[str]:
        """Non-word characters that carry meaning because some phrase uses them (😡)."""
        return frozenset(
            ch
            for rule in self.phrases
            for ch in unicodedata.normalize("NFKC", rule.phrase)
            if not ch.isalnum() and not ch.isspace() and ch not in _INVISIBLE
        )

    @cached_property
    def automaton(self) -> Automaton:
        """Phrases and negation cues, normalized like buyer text, in one automaton.

        Values are ``(key, PhraseRule)`` or ``(key, "before"|"after"|"both")`` for cues.
        When two phrases normalize to the same key the later one wins, so shop overrides
        (appended after the defaults) replace a default even when written in Traditional.
        A phrase also shadows a cue with the same key.
        """
        import ahocorasick

        before, after = set(self.negation_before), set(self.negation_after)
        entries: dict[str, PhraseRule | str] = {}
        for cue in sorted(before | after):
            kind = (
                "both" if cue in before and cue in after else "before" if cue in before else "after"
            )
            key = normalize_phrase(cue, self)
            if key:
                entries[key] = kind
        for rule in self.phrases:
            key = normalize_phrase(rule.phrase, self)
            if key:
                entries[key] = rule
        automaton = ahocorasick.Automaton()
        for key, value in entries.items():
            automaton.add_word(key, (key, value))
        automaton.make_automaton()
        return cast(Automaton, automaton)


_DEFAULT_PHRASE_SET = frozenset(DEFAULT_PHRASES)


def with_model(rules: TriageRules, model: TriageModel) -> TriageRules:
    """``rules`` with another learned model (a shop's own, retrained on its corrections).

    The model is not a config field (a shop cannot write one in JSON); it fills the cache
    slot of ``TriageRules.model`` on a copy, which is where ``model`` looks first.
    """
    copy = dataclasses.replace(rules)
    for compiled in ("automaton", "converter", "kept_symbols", "shop_phrases", "removed_phrases"):
        if compiled in rules.__dict__:  # immutable rules: share what is already built
            copy.__dict__[compiled] = rules.__dict__[compiled]
    copy.__dict__["model"] = model if rules.use_model else None
    return copy


@functools.cache
def default_rules() -> TriageRules:
    """The built-in rules, built once per process (immutable, so sharing is safe)."""
    return TriageRules()


@dataclass(frozen=True)
class TriageResult:
    text: str
    intent: Intent
    role: ServiceRole
    risk: Risk
    score: float
    reasons: list[str]
    proactive_call: bool = False
    """High-risk buyer: the hotline should call proactively (seeds/003 呼叫 二)."""
    normalized: str = ""
    phrases: tuple[PhraseRule, ...] = ()
    """The phrase rules that counted (matched and not negated)."""
    negated: frozenset[Intent] = frozenset()
    """Intents whose phrases the buyer negated (不要退款): the model cannot read that."""

    def to_json(self) -> dict[str, object]:
        """Exactly the contract's keys: ``text, intent, role, risk, score, reasons``."""
        return {
            "text": self.text,
            "intent": self.intent.value,
            "role": self.role.value,
            "risk": self.risk.value,
            "score": self.score,
            "reasons": list(self.reasons),
        }


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _clean(text: str, rules: TriageRules) -> str:
    kept = rules.kept_symbols
    out: list[str] = []
    for ch in text:
        if ch in _INVISIBLE:
            continue
        out.append(ch if ch.isalnum() or ch in kept else " ")
    return " ".join("".join(out).split())


def normalize(text: str, rules: TriageRules | None = None) -> str:
    """Buyer text as the automaton sees it: Simplified, half-width, lower case; punctuation
    and unknown symbols become single spaces, which act as clause breaks."""
    rules = rules or default_rules()
    return _clean(_fold(text, rules), rules)


def _fold(text: str, rules: TriageRules) -> str:
    return rules.converter.convert(unicodedata.normalize("NFKC", text)).lower()


def normalize_phrase(phrase: str, rules: TriageRules) -> str:
    """A rule phrase in the same form as normalized buyer text."""
    return normalize(phrase, rules)


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    key: str
    value: PhraseRule | str  # a rule, or a cue kind

    @property
    def is_cue(self) -> bool:
        return isinstance(self.value, str)


def _matches(text: str, rules: TriageRules) -> list[_Match]:
    found: list[_Match] = []
    for end_index, (key, value) in rules.automaton.iter(text):
        start, end = end_index - len(key) + 1, end_index + 1
        # Latin and digit phrases (tk, cp, 12315) must be whole tokens: "tk" inside
        # "stk", or "12315" inside a phone number, is not a match.
        if _is_ascii_alnum(key[0]) and start > 0 and _is_ascii_alnum(text[start - 1]):
            continue
        if _is_ascii_alnum(key[-1]) and end < len(text) and _is_ascii_alnum(text[end]):
            continue
        found.append(_Match(start, end, key, value))
    # Longest first, then leftmost: a longer phrase owns its characters.
    chosen: list[_Match] = []
    taken = [False] * len(text)
    for m in sorted(found, key=lambda m: (m.start - m.end, m.start)):
        if not any(taken[m.start : m.end]):
            chosen.append(m)
            for i in range(m.start, m.end):
                taken[i] = True
    return sorted(chosen, key=lambda m: m.start)


def _negating_cue(m: _Match, cues: list[_Match], text: str, gap: int) -> _Match | None:
    for cue in cues:
        if cue.value in ("before", "both") and cue.end <= m.start:
            between = text[cue.end : m.start]
            if len(between) <= gap and " " not in between:
                return cue
        if cue.value in ("after", "both") and cue.start >= m.end:
            between = text[m.end : cue.start]
            if len(between) <= gap and " " not in between:
                return cue
    return None


def _aggregate(weights: list[float], corroboration: float) -> float:
    """The heaviest phrase counts fully, the others by ``corroboration`` (order-free)."""
    ordered = sorted(weights, reverse=True)
    return ordered[0] + corroboration * sum(ordered[1:])


def _fmt(weight: float) -> str:
    return f"{weight:.1f}"


def classify_rules(
    text: str, rules: TriageRules | None = None, *, folded: str | None = None
) -> TriageResult:
    """The phrase rules alone (steps 1-5 of the module docstring). ``folded``: ``text``
    already NFKC-normalized, converted and lower-cased (``classify`` shares that step)."""
    rules = rules or default_rules()
    norm = _clean(_fold(text, rules) if folded is None else folded, rules)
    matches = _matches(norm, rules)
    cues = [m for m in matches if m.is_cue]

    found: dict[Intent, list[float]] = {}
    counted: list[PhraseRule] = []
    negated_intents: set[Intent] = set()
    risk_signals: list[tuple[Risk, str]] = []
    reasons: list[str] = []
    negated = False
    seen: set[str] = set()
    for m in matches:
        if not isinstance(m.value, PhraseRule) or m.key in seen:
            continue  # a repeated phrase (退款退款) counts once
        seen.add(m.key)
        rule = m.value
        if rule.intent is None and rule.risk is None:
            continue  # a shield: it only keeps shorter phrases and cues from matching
        note = f" ({rule.note})" if rule.note else ""
        cue = _negating_cue(m, cues, norm, rules.negation_gap) if rule.negatable else None
        if cue is not None:
            target = rule.intent.value if rule.intent else f"risk {rule.risk}"
            reasons.append(f"{m.key} → {target} ignored: negated by {cue.key}")
            negated = True
            if rule.intent is not None:
                negated_intents.add(rule.intent)
            continue
        counted.append(rule)
        parts = []
        if rule.intent is not None:
            found.setdefault(rule.intent, []).append(rule.weight)
            parts.append(f"{rule.intent.value} +{_fmt(rule.weight)}")
        if rule.risk is not None:
            risk_signals.append((rule.risk, m.key))
            parts.append(f"risk {rule.risk.value}")
        reasons.append(f"{m.key} → {', '.join(parts)}{note}")

    weights = {i: _aggregate(ws, rules.corroboration) for i, ws in found.items()}
    intent = Intent.OTHER
    score = 0.0
    total = sum(weights.values())
    if weights and max(weights.values()) >= rules.min_weight:
        top = max(weights.values())
        tied = [i for i in rules.precedence if math.isclose(weights.get(i, 0.0), top)]
        intent = tied[0]
        if len(tied) > 1:
            others = ", ".join(i.value for i in tied[1:])
            reasons.append(f"tie at {_fmt(top)}: {intent.value} over {others} by precedence")
        score = round(top / (total + rules.smoothing), 3)
    elif not weights and negated:
        reasons.append("every match was negated → other")
    elif not weights:
        reasons.append("no phrase matched → other")
    else:
        reasons.append(f"total weight below {_fmt(rules.min_weight)} → other")

    baseline = rules.intent_risk.get(intent, Risk.LOW)
    if baseline is not Risk.LOW:
        reasons.append(f"{intent.value} → risk {baseline.value}")
    bangs = unicodedata.normalize("NFKC", text).count("!")
    bang_risk = Risk.MEDIUM if bangs >= rules.exclamations_for_medium else Risk.LOW
    if bang_risk is Risk.MEDIUM:
        reasons.append(f"!×{bangs} → risk medium")
    risk = max_risk(baseline, bang_risk, *(r for r, _ in risk_signals))

    return TriageResult(
        text=text,
        intent=intent,
        role=rules.role_for(intent),
        risk=risk,
        score=score,
        reasons=reasons,
        proactive_call=risk.rank >= rules.proactive_call_risk.rank,
        normalized=norm,
        phrases=tuple(counted),
        negated=frozenset(negated_intents),
    )


def _removed_carrying(intent: Intent, verdict: TriageResult, rules: TriageRules) -> list[str]:
    """Phrases the shop deleted that are in the message and name the model's ``intent``
    (when the rules did not reach that intent another way)."""
    if intent is verdict.intent or not rules.removed_phrases:
        return []
    return [
        rule.phrase
        for rule in rules.removed_phrases
        if rule.intent is intent
        and (key := normalize_phrase(rule.phrase, rules))
        and key in verdict.normalized
    ]


def classify(text: str, rules: TriageRules | None = None) -> TriageResult:
    """Classify one buyer utterance: phrase rules and the learned model together.

    Deterministic: same text and rules, same result. How the two combine (docs/triage.md):

    - the built-in rules' verdict is evidence for the model (two features it was trained
      with), so the model has learned where a built-in phrase is reliable;
    - a phrase the shop wrote or edited on purpose wins: its intent stands;
    - otherwise the model's intent, when its probability reaches ``model_min_confidence``;
      below that the rules' intent, or the shop's ``fallback_intent`` if they found none;
    - risk is the highest of the rules' risk, the model's risk and the intent's own risk:
      a missed angry buyer costs a bad review, a false alarm a phone call.
    """
    rules = rules or default_rules()
    model = rules.model
    if model is None:
        return classify_rules(text, rules)
    folded = _fold(text, rules)
    verdict = classify_rules(text, rules, folded=folded)
    prediction = model.predict(
        text,
        rule_tokens(verdict.intent.value, verdict.risk.value),
        # the model was trained on t2s text: share the conversion only when it is the same
        folded=folded if rules.opencc_config == "t2s" else None,
    )
    reasons = list(verdict.reasons)
    reasons.append(_model_reason(prediction))
    shop_phrases = (
        [
            rule.phrase
            for rule in verdict.phrases
            if rule in rules.shop_phrases and rule.intent is verdict.intent
        ]
        if rules.shop_phrases
        else []
    )
    intent: Intent
    score: float
    if shop_phrases and verdict.intent is not Intent.OTHER:
        intent, score = verdict.intent, verdict.score
        reasons.append(f"shop phrase {', '.join(shop_phrases)} → {intent.value} wins")
    elif removed := _removed_carrying(prediction.intent, verdict, rules):
        # The model learned tk → refund from the corpus; a shop that deleted the phrase tk
        # said it means something else there. The rules' verdict stands.
        reasons.append(
            f"model ignored: the shop removed {', '.join(removed)} → {verdict.intent.value}"
        )
        return dataclasses.replace(verdict, reasons=reasons)
    elif prediction.intent in verdict.negated and prediction.intent is not verdict.intent:
        # The model sees 退款 in 不要退款; the rules saw the negation. Their verdict stands.
        reasons.append(
            f"model ignored: the buyer negated {prediction.intent.value} → {verdict.intent.value}"
        )
        return dataclasses.replace(verdict, reasons=reasons)
    elif not _has_words(verdict.normalized):
        # Emoji and punctuation only (😡😡😡): nothing for the model to read.
        reasons.append("model ignored: no words → rules")
        return dataclasses.replace(verdict, reasons=reasons)
    elif prediction.confidence >= rules.model_min_confidence:
        intent, score = prediction.intent, min(round(prediction.confidence, 3), 0.999)
    else:
        found = verdict.intent is not Intent.OTHER
        intent = verdict.intent if found else rules.fallback_intent
        score = verdict.score
        source = "rules" if found else "fallback"
        reasons.append(
            f"model unsure ({prediction.confidence:.2f} < {rules.model_min_confidence:.2f})"
            f" → {source}: {intent.value}"
        )
    baseline = rules.intent_risk.get(intent, Risk.LOW)
    if intent is not verdict.intent and baseline is not Risk.LOW:
        reasons.append(f"{intent.value} → risk {baseline.value}")
    model_risk = prediction.risk
    threats = any(rule.risk is Risk.HIGH for rule in verdict.phrases)
    if Intent.COMPLAINT in verdict.negated and not threats and model_risk is Risk.HIGH:
        # 我不会给差评的: the model reads 差评, the rules read 不会. No threat, no alarm.
        model_risk = Risk.MEDIUM if verdict.risk is Risk.MEDIUM else Risk.LOW
        reasons.append("model risk high ignored: the buyer negated the threat")
    elif prediction.risk is not Risk.LOW:
        evidence = ", ".join(f"{_gram(c.ngram)} +{c.weight:.2f}" for c in prediction.risk_evidence)
        reasons.append(
            f"model risk {prediction.risk.value} (p(high) {prediction.high_risk_probability:.2f}"
            + (f"; {evidence})" if evidence else ")")
        )
    risk = max_risk(verdict.risk, model_risk, baseline)
    return TriageResult(
        text=text,
        intent=intent,
        role=rules.role_for(intent),
        risk=risk,
        score=score,
        reasons=reasons,
        proactive_call=risk.rank >= rules.proactive_call_risk.rank,
        normalized=verdict.normalized,
        phrases=verdict.phrases,
    )


def _has_words(normalized: str) -> bool:
    return any(map(str.isalnum, normalized))


def _gram(ngram: str) -> str:
    """An n-gram as a reader knows it: rule features by name, boundaries dropped."""
    if ngram.startswith("§rule:"):
        return f"rule {ngram.removeprefix('§rule:')}"
    if ngram.startswith("§rule-risk:"):
        return f"rule risk {ngram.removeprefix('§rule-risk:')}"
    return ngram.replace("<", "^").replace(">", "$").replace("\ue000", "#")


def _model_reason(prediction: ModelPrediction) -> str:
    evidence = ", ".join(f"{_gram(c.ngram)} +{c.weight:.2f}" for c in prediction.intent_evidence)
    return f"model: {prediction.intent.value} {prediction.confidence:.2f}" + (
        f" ({evidence})" if evidence else ""
    )
