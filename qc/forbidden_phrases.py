"""Forbidden phrases (禁用语 / 服务态度提醒): which of the shop's phrases a reply uses.

Pure. One list, two readers: the pre-send check in the workbench
(``csdesk.actions.workbench.reply`` holds a reply that uses one) and the QC auto-check
(``csdesk.qc.check``, category ``forbidden_phrase``) both take the shop's
``routing.console.forbidden_phrases`` (defaults in ``csdesk.roles.config``, phrase →
why) and both match through :func:`forbidden_spans`, so an agent is never held for what QC
would pass, nor passed for what QC will count.

Matching is over the normalized text (:mod:`csdesk.qc.text`: full-width, Traditional,
case folded; punctuation breaks a phrase) with one Aho-Corasick automaton, and it reads
the context, because precision matters as much as recall:

- a polite question is not a refusal: "不知道您对这个订单需要了解什么" (the hotline script of
  seeds/003) or "不知道是否方便" is not the forbidden "不知道"; neither is the buyer's own
  not knowing ("如果您不知道怎么操作，我教您");
- a negated phrase is not said: "不是没办法", "不用您自己去";
- the agent doing it themselves is not pushing it back: "我自己看了一下";
- a quoted phrase is cited, not said: 您说的“没办法”是指哪一步？
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from csdesk.qc.text import (
    Automaton,
    Normalized,
    build_automaton,
    matches,
    normalize,
    normalize_phrase,
)

NEGATIONS = ("不用", "不需要", "无需", "不必", "不会", "不是", "并非", "绝不", "不能说", "不要说")
"""Right before any phrase (in its clause), these cancel it."""

SOFTENERS = "也还都就真的确实"
"""Adverbs between a subject and the phrase (您也不知道), skipped when reading the context."""


@dataclass(frozen=True)
class _Context:
    before: tuple[str, ...] = ()
    """The phrase is fine when its clause, up to it, ends with one of these."""
    after: tuple[str, ...] = ()
    """… or when what follows it in the clause starts with one of these."""


# Context that makes a default phrase harmless, keyed by the phrase as normalized.
# A shop's own phrases get the generic rules only (negation, quotes).
_CONTEXT: dict[str, _Context] = {
    "不知道": _Context(
        before=("您", "你们", "亲", "怕", "担心", "如果", "万一", "要是", "买家"),
        after=("您", "亲", "是否", "能否", "可否", "方不方便", "有没有", "是不是", "什么时候方便"),
    ),
    "没办法": _Context(
        before=("您", "你", "您那边", "你那边", "如果", "万一", "要是", "怕", "实在"),
        after=("的话",),
    ),
    "自己看": _Context(before=("我", "我们", "我这边", "我先", "让我", "我来", "我们自己")),
}


_VARIANTS: dict[str, tuple[str, ...]] = {
    "没办法": ("没有办法", "没法子"),
    "不知道": ("不晓得",),
}
"""Other spellings of a default phrase, matched (and reported) as the phrase itself."""


_CANONICAL: dict[str, str] = {v: p for p, variants in _VARIANTS.items() for v in variants}


@dataclass(frozen=True)
class PhraseHit:
    phrase: str
    """As the shop wrote it."""
    reason: str
    """Why it is held, and what to say instead."""

    def to_json(self) -> dict[str, str]:
        return {"phrase": self.phrase, "reason": self.reason}


@dataclass(frozen=True)
class PhraseSpan:
    hit: PhraseHit
    start: int
    end: int
    """``[start, end)`` in the original text."""


@functools.lru_cache(maxsize=32)
def _automaton(phrases: tuple[tuple[str, str], ...]) -> Automaton | None:
    entries: list[tuple[str, object]] = []
    for phrase, reason in phrases:
        hit = PhraseHit(phrase, reason)
        entries.append((phrase, hit))
        entries.extend((variant, hit) for variant in _VARIANTS.get(normalize_phrase(phrase), ()))
    return build_automaton(entries)


_OPEN_QUOTES, _CLOSE_QUOTES = "“「『\"'‘", "”」』\"'’"


def quoted(original: str, start: int, end: int) -> bool:
    """Whether original ``[start, end)`` sits between a pair of quotation marks."""
    for opening, closing in zip(_OPEN_QUOTES, _CLOSE_QUOTES, strict=True):
        left = original.rfind(opening, 0, start)
        if left < 0:
            continue
        if opening == closing:
            if original.count(opening, 0, start) % 2 == 1 and original.find(closing, end) >= 0:
                return True
        elif original.rfind(closing, left, start) < 0 and original.find(closing, end) >= 0:
            return True
    return False


def _clause_before(text: str, start: int) -> str:
    left = text.rfind(" ", 0, start) + 1
    return text[left:start]


def _clause_after(text: str, end: int) -> str:
    right = text.find(" ", end)
    return text[end : (len(text) if right < 0 else right)]


def harmless(norm: Normalized, original: str, key: str, start: int, end: int) -> bool:
    """Whether the phrase ``key`` at normalized ``[start, end)`` is negated, quoted, or
    (for the default phrases) in a context that makes it polite."""
    before = _clause_before(norm.text, start)
    if before.endswith(NEGATIONS):
        return True
    span = norm.span(start, end)
    if quoted(original, *span):
        return True
    context = _CONTEXT.get(_CANONICAL.get(key, key))
    if context is None:
        return False
    subject = before.rstrip(SOFTENERS)
    if context.before and (before.endswith(context.before) or subject.endswith(context.before)):
        return True
    return bool(context.after) and _clause_after(norm.text, end).startswith(context.after)


def forbidden_spans(text: str, phrases: Mapping[str, str]) -> list[PhraseSpan]:
    """Every use of the shop's phrases (phrase → why) in ``text``, with original offsets,
    harmless ones (see the module docstring) left out. Overlaps: the longest phrase wins."""
    automaton = _automaton(tuple(sorted(phrases.items())))
    if automaton is None:
        return []
    norm = normalize(text)
    found: list[PhraseSpan] = []
    taken_until = -1
    candidates = sorted(matches(automaton, norm.text), key=lambda m: (m.start, -(m.end - m.start)))
    for match in candidates:
        if match.start < taken_until:
            continue
        if harmless(norm, text, match.key, match.start, match.end):
            continue
        hit = match.payload
        assert isinstance(hit, PhraseHit)
        start, end = norm.span(match.start, match.end)
        found.append(PhraseSpan(hit, start, end))
        taken_until = match.end
    return found


def find_forbidden(text: str, phrases: Mapping[str, str]) -> list[PhraseHit]:
    """The shop's phrases (phrase → why) used in ``text``, in order of appearance, each
    once: what the pre-send check holds a reply for."""
    seen: dict[str, PhraseHit] = {}
    for span in forbidden_spans(text, phrases):
        seen.setdefault(span.hit.phrase, span.hit)
    return list(seen.values())
