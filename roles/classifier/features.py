"""Model text and its n-grams: the one analyzer training and scoring share.

Normalization follows the phrase rules (NFKC, OpenCC ``t2s``, lower case) and adds what a
model needs and the rules do not: masked tokens (``[订单x]``, ``[ORDERID_123]``, ``[电话x]``)
become one placeholder unit by kind, long digit runs (order and phone numbers) become one
number unit, emoji and ``!``/``?`` are kept (they carry anger and impatience), every other
symbol is a clause break.

Units are single CJK characters, emoji, ``!``/``?``, and whole ASCII words (``tk``,
``kd``, ``wifi``, ``12315``), so a pinyin abbreviation is one unit rather than letters.
Features are unit n-grams (1..``max_n``) inside each clause, with clause boundaries ``<``
and ``>`` as units of the n-grams of length two and more.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from typing import Protocol, cast

_MASKED = re.compile(r"\[([^\[\]]{1,30})\]")
_UNITS = re.compile(r"[a-z0-9_]+|\S")
_INVISIBLE = frozenset("\u200b\u200c\u200d\ufe0e\ufe0f")

_MARK = "\ue000"  # private use: no buyer types it, so a placeholder cannot be forged

# Masked-token kinds, by what the token's text names (Simplified, after t2s).
_MASK_KINDS = (
    (("订单", "order", "单号"), _MARK + "order"),
    (("金额", "价格", "amount", "money"), _MARK + "money"),
    (("电话", "手机", "phone", "tel"), _MARK + "phone"),
    (("地址", "站点", "address"), _MARK + "address"),
    (("姓名", "name", "公司"), _MARK + "name"),
    (("日期", "时间", "date", "time"), _MARK + "time"),
    (("链接", "url", "link"), _MARK + "link"),
    (("图片", "视频", "语音", "表情", "image"), _MARK + "media"),
    (("数字", "num"), _MARK + "number"),
)


class Converter(Protocol):
    def convert(self, text: str) -> str: ...


@functools.cache
def _t2s() -> Converter:
    import opencc  # deferred like the rules': only classification needs it

    return cast(Converter, opencc.OpenCC("t2s"))


def _mask_kind(inner: str) -> str:
    for names, kind in _MASK_KINDS:
        if any(name in inner for name in names):
            return kind
    return _MARK + "masked"


def _keep(ch: str) -> bool:
    return ch.isalnum() or ch in "!?_" or ch == _MARK or unicodedata.category(ch) == "So"


class _KeepTable(dict[int, str | None]):
    """``str.translate`` table built as characters are met: invisible characters go, kept
    ones stay, every other symbol becomes a space (a clause break). One C-level pass per
    message instead of a Python call per character."""

    _LIMIT = 1 << 16  # distinct code points remembered; rarer ones are worked out each time

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        value = None if ch in _INVISIBLE else ch if _keep(ch) else " "
        if len(self) < self._LIMIT:
            self[code] = value
        return value


_KEEP_TABLE = _KeepTable()


def fold(text: str) -> str:
    """NFKC, Traditional → Simplified, lower case: the step the phrase rules share."""
    return _t2s().convert(unicodedata.normalize("NFKC", text)).lower()


def model_text(text: str, folded: str | None = None) -> str:
    """Buyer text as the model sees it (see the module docstring). ``folded``: ``text``
    already through ``fold`` (the rules did it), so OpenCC runs once per message."""
    folded = fold(text) if folded is None else folded
    if "[" in folded:
        folded = _MASKED.sub(lambda m: f" {_mask_kind(m.group(1))} ", folded)
    return " ".join(folded.translate(_KEEP_TABLE).split())


def _unit(token: str) -> str:
    if token.isascii() and token.isdigit() and len(token) >= 6:
        return "#"  # an order, phone or tracking number: its digits mean nothing
    return token


def units(clause: str) -> list[str]:
    out: list[str] = []
    for token in _UNITS.findall(clause):
        if not token.isascii():
            out.append(token)
        else:
            out.append(_unit(token))
    return out


def _clause_units(text: str) -> list[list[str]]:
    """Clauses of unit lists; a masked placeholder is rejoined into one unit."""
    clauses: list[list[str]] = []
    for clause in text.split(" "):
        if clause.startswith(_MARK):
            clauses.append([clause])
            continue
        clauses.append(units(clause))
    return clauses


_ASCII_WORD = re.compile(r"[a-z0-9_]")


def ngrams(text: str, max_n: int = 3) -> list[str]:
    """The n-grams of already normalized model text (``model_text``)."""
    grams: list[str] = []
    for part in text.split(" "):
        if not part:
            continue
        if not part.startswith(_MARK) and not _ASCII_WORD.search(part):
            # Every character is a unit (the common case): n-grams are slices.
            grams.extend(part)
            padded = "<" + part + ">"
            for n in range(2, max_n + 1):
                grams.extend([padded[i : i + n] for i in range(len(padded) - n + 1)])
            continue
        clause = [part] if part.startswith(_MARK) else units(part)
        grams.extend(clause)
        padded_units = ["<", *clause, ">"]
        for n in range(2, max_n + 1):
            grams.extend(
                ["".join(padded_units[i : i + n]) for i in range(len(padded_units) - n + 1)]
            )
    return grams


def rule_tokens(intent: str, risk: str) -> list[str]:
    """The built-in phrase rules' verdict as two more features: the model learns how far
    to trust each rule intent (a stacked, explainable combination)."""
    return [f"§rule:{intent}", f"§rule-risk:{risk}"]


def counts(
    text: str, max_n: int = 3, extra: list[str] | None = None, folded: str | None = None
) -> Counter[str]:
    grams = ngrams(model_text(text, folded), max_n)
    if extra:
        grams.extend(extra)
    return Counter(grams)
