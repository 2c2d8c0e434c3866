"""The pre-send forbidden-phrase check (服务态度提醒): which of the shop's phrases a reply uses.

Pure. Text and phrases are normalized as triage normalizes buyer text (full-width to
half-width, Traditional to Simplified, lower case, punctuation as breaks), so "不知道",
"不知道!" and "不知道" in Traditional characters are the same phrase, and all phrases are
found in one pass of an Aho-Corasick automaton (pyahocorasick, as triage uses).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

from csdesk.roles.triage import normalize


class _Automaton(Protocol):
    def iter(self, text: str) -> Iterator[tuple[int, Any]]: ...


@dataclass(frozen=True)
class PhraseHit:
    phrase: str
    """As the shop wrote it."""
    reason: str
    """Why it is held, and what to say instead."""

    def to_json(self) -> dict[str, str]:
        return {"phrase": self.phrase, "reason": self.reason}


@functools.lru_cache(maxsize=32)
def _automaton(phrases: tuple[tuple[str, str], ...]) -> _Automaton | None:
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for phrase, reason in phrases:
        key = normalize(phrase)
        if key:
            automaton.add_word(key, (len(key), PhraseHit(phrase, reason)))
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return cast(_Automaton, automaton)


def find_forbidden(text: str, phrases: Mapping[str, str]) -> list[PhraseHit]:
    """The shop's phrases (phrase → why) found in ``text``, in order of appearance, each once."""
    automaton = _automaton(tuple(sorted(phrases.items())))
    if automaton is None:
        return []
    found: dict[str, tuple[int, PhraseHit]] = {}
    norm = normalize(text)
    for end, (length, hit) in automaton.iter(norm):
        start = end - length + 1
        if hit.phrase not in found or start < found[hit.phrase][0]:
            found[hit.phrase] = (start, hit)
    return [hit for _, hit in sorted(found.values(), key=lambda entry: entry[0])]
