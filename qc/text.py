"""Agent text as the QC automaton sees it, with a way back to the original characters.

Pure. :func:`normalize` folds full-width to half-width (NFKC), Traditional to Simplified
(OpenCC ``t2s``) and case, and turns punctuation into spaces (clause breaks), exactly like
triage does for buyer text, so "沒辦法！" and "没办法!" are the same phrase. Unlike
triage's form it keeps one position per normalized character and remembers which original
character it came from, so a hit found in the normalized text is reported as a span of
the text the agent actually wrote.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, cast

_INVISIBLE = frozenset("\u200b\u200c\u200d\ufe0e\ufe0f")
BREAK = " "
"""What punctuation and other symbols become: a clause break."""


class Automaton(Protocol):
    def iter(self, text: str) -> Iterator[tuple[int, Any]]: ...


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


@functools.cache
def _t2s() -> _Converter:
    import opencc

    return cast(_Converter, opencc.OpenCC("t2s"))


@dataclass(frozen=True)
class Normalized:
    text: str
    """Simplified, half-width, lower case; every non-alphanumeric character a space."""
    origin: tuple[int, ...]
    """``origin[i]``: index in the original text of normalized character ``i``; one more
    entry at the end (the original length) so end offsets map too."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original ``[start, end)`` of normalized ``[start, end)``."""
        if end <= start:
            return self.origin[start], self.origin[start]
        return self.origin[start], self.origin[end - 1] + 1


def normalize(text: str) -> Normalized:
    folded: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        if ch in _INVISIBLE:
            continue
        for part in unicodedata.normalize("NFKC", ch):
            folded.append(part)
            origin.append(index)
    joined = "".join(folded)
    converted = _t2s().convert(joined)
    if len(converted) != len(joined):
        # A phrase conversion changed the length: convert character by character so
        # positions stay aligned (t2s maps single characters one to one).
        converted = "".join(_t2s().convert(ch) or ch for ch in joined)
    lowered = converted.lower()
    if len(lowered) != len(converted):  # "İ".lower() is two characters
        lowered = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in converted)
    cleaned = "".join(ch if ch.isalnum() else BREAK for ch in lowered)
    return Normalized(cleaned, (*origin, len(text)))


def normalize_phrase(phrase: str) -> str:
    """A phrase in the normalized form, breaks collapsed (``"请 稍等"`` → ``"请 稍等"``)."""
    return " ".join(normalize(phrase).text.split())


def build_automaton(entries: Iterable[tuple[str, object]]) -> Automaton | None:
    """An Aho-Corasick automaton over normalized phrases; the value of each key is the list
    of payloads given for it (one phrase may serve several rules)."""
    import ahocorasick

    payloads: dict[str, list[object]] = {}
    for phrase, payload in entries:
        key = normalize_phrase(phrase)
        if key:
            payloads.setdefault(key, []).append(payload)
    if not payloads:
        return None
    automaton = ahocorasick.Automaton()
    for key, values in payloads.items():
        automaton.add_word(key, (key, tuple(values)))
    automaton.make_automaton()
    return cast(Automaton, automaton)


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    """Normalized offsets, ``[start, end)``."""
    key: str
    payload: object


def matches(automaton: Automaton | None, text: str) -> list[Match]:
    """Every occurrence of every phrase in normalized ``text``, ordered by start."""
    if automaton is None:
        return []
    found: list[Match] = []
    for end_index, (key, payloads) in automaton.iter(text):
        start = end_index - len(key) + 1
        # Latin and digit phrases are whole tokens: "no1" is not in "no123".
        if key[0].isascii() and key[0].isalnum() and start > 0 and _ascii_alnum(text[start - 1]):
            continue
        if (
            key[-1].isascii()
            and key[-1].isalnum()
            and _ascii_alnum(text[end_index + 1 : end_index + 2])
        ):
            continue
        for payload in payloads:
            found.append(Match(start, end_index + 1, key, payload))
    found.sort(key=lambda m: (m.start, -m.end))
    return found


def _ascii_alnum(ch: str) -> bool:
    return len(ch) == 1 and ch.isascii() and ch.isalnum()


def clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause (between breaks) around normalized ``[start, end)``."""
    left = text.rfind(BREAK, 0, start) + 1
    right = text.find(BREAK, end)
    return left, (len(text) if right < 0 else right)
