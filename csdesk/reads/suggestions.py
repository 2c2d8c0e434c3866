"""Reply suggestions (回复建议): the quick reply most likely to answer the buyer, from the
conversation's triaged intent. Offered above the reply box with the reason; the agent takes
it with one key (Tab in an empty box) or edits it first; it is never sent by itself.

:func:`suggest` is pure: the intent, the buyer's last words, the library and the variable
values in; the best phrase and why out. A phrase qualifies when its group serves the intent
(:data:`INTENT_GROUPS`); among those, the shop's usual answer for the intent
(:data:`PREFERRED_CODES`) and phrases whose variables all have values (a shipped order gets
the tracking-number phrase, an unshipped one the shipping-date phrase) come first, then
words shared with the buyer, then how often the shop sends it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from csdesk.reads.quick_replies import LibraryGroup, LibraryPhrase, fill

INTENT_GROUPS: Final[Mapping[str, tuple[str, ...]]] = {
    "presale": ("售前咨询",),
    "howto": ("售后",),
    "payment": ("催付",),
    "address_change": ("订单核对",),
    "invoice": ("发票",),
    "logistics": ("物流",),
    "exchange": ("售后",),
    "quality": ("售后",),
    "refund": ("退款",),
    "complaint": ("售后", "欢迎语"),
    "callback": ("热线",),
    "other": ("欢迎语",),
}
"""Which groups answer which triage intent (the built-in library's group names)."""
PREFERRED_CODES: Final[Mapping[str, tuple[str, ...]]] = {
    "howto": ("az", "kj"),
    "address_change": ("gdz", "hd"),
    "exchange": ("hh",),
    "quality": ("zl",),
    "complaint": ("zl", "hyd"),
    "logistics": ("wl", "wfh", "wl2"),
    "refund": ("tk", "tk2"),
    "presale": ("kc", "yh"),
    "other": ("hy",),
}
"""Within those groups, the phrase a shop usually sends first for the intent."""


@dataclass(frozen=True)
class Suggestion:
    phrase: LibraryPhrase
    group: str
    intent: str
    matched: tuple[str, ...]
    """Words (two-character pieces) the phrase shares with the buyer's message."""
    missing: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "phrase": self.phrase.to_json(),
            "group": self.group,
            "reason": {
                "intent": self.intent,
                "group": self.group,
                "matched": list(self.matched),
                "uses": self.phrase.use_count,
                "missing": list(self.missing),
            },
        }


def _bigrams(text: str) -> set[str]:
    clean = "".join(ch for ch in text if ch.isalnum())
    return {clean[i : i + 2] for i in range(len(clean) - 1)}


def suggest(
    intent: str | None,
    buyer_text: str,
    groups: Sequence[LibraryGroup],
    values: Mapping[str, str | None],
) -> Suggestion | None:
    """The best phrase for ``intent`` in ``groups``, or None when no group serves it."""
    if not intent:
        return None
    wanted = INTENT_GROUPS.get(intent, ())
    preferred = PREFERRED_CODES.get(intent, ())
    asked = _bigrams(buyer_text)
    best: tuple[float, int, Suggestion] | None = None
    order = 0
    for group in groups:
        if group.name not in wanted:
            continue
        for phrase in group.phrases:
            order += 1
            filled = fill(phrase.text, values)
            shared = asked & _bigrams(filled.text)
            score = 10.0
            if phrase.code in preferred:
                score += 5 - preferred.index(phrase.code) * 0.5
            score += -8.0 if filled.missing else 3.0
            score += min(len(shared), 5)
            score += min(math.log2(1 + phrase.use_count), 3.0)
            candidate = Suggestion(
                phrase, group.name, intent, tuple(sorted(shared)), filled.missing
            )
            if best is None or (score, -order) > (best[0], best[1]):
                best = (score, -order, candidate)
    return best[2] if best is not None else None


__all__ = ["INTENT_GROUPS", "PREFERRED_CODES", "Suggestion", "suggest"]
