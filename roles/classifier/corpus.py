"""The labelled triage corpus: hand-written utterances, generated variations, a fixed split.

Sources (``corpus/written/*.tsv``) are written by hand, one utterance a line, under
``@ intent risk [alt]`` section headers; after a TAB a line may override ``risk``,
``intent risk`` or ``intent risk alt``. ``alt`` names a second intent that is also right
(a threat wrapped around a refund request is a refund, a complaint is acceptable too).
``corpus/legacy.tsv`` is the project's earlier labelled set (the phrase rules were tuned on
it), so it only ever trains.

Variations multiply the hand-written lines the way real buyers decorate them: a pasted
order header, a greeting, Traditional script, typos and pinyin abbreviations, emoji,
punctuation and spacing. They keep the label. Each hand-written line and its variations
share one group, and the split is by a stable hash of the group, so no line and no variation
of it appears on both sides.

``build()`` is deterministic; ``python -m csdesk.roles.classifier.corpus`` rewrites
``corpus/train.tsv`` and ``corpus/heldout.tsv`` (a test checks they are current). Training
reads only ``train.tsv``; ``heldout.tsv`` is for the report and the acceptance test.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import random
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csdesk.roles.triage_rules import Intent, Risk

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
WRITTEN_DIR = CORPUS_DIR / "written"
LEGACY = CORPUS_DIR / "legacy.tsv"
TRAIN = CORPUS_DIR / "train.tsv"
HELDOUT = CORPUS_DIR / "heldout.tsv"

HELDOUT_PERCENT = 28
"""Share of hand-written groups held out (by hash), with all their variations."""
COLUMNS = ("text", "intent", "risk", "alt", "origin", "group")


@dataclass(frozen=True)
class Example:
    text: str
    intent: Intent
    risk: Risk
    alt: Intent | None = None
    origin: str = "written"  # written | variant | legacy
    group: str = ""

    def accepts(self, intent: Intent) -> bool:
        return intent is self.intent or intent is self.alt


def _group_of(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def is_heldout(group: str) -> bool:
    return int(group, 16) % 100 < HELDOUT_PERCENT


def _parse_override(
    fields: list[str], intent: Intent, risk: Risk, alt: Intent | None
) -> tuple[Intent, Risk, Intent | None]:
    if len(fields) == 1:
        return intent, Risk(fields[0]), alt
    if len(fields) == 2:
        return Intent(fields[0]), Risk(fields[1]), None
    if len(fields) == 3:
        return Intent(fields[0]), Risk(fields[1]), Intent(fields[2])
    raise ValueError(f"bad label override {fields!r}")


def read_written(path: Path) -> Iterator[Example]:
    """The hand-written lines of one source file, labelled."""
    intent: Intent | None = None
    risk = Risk.LOW
    alt: Intent | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.rstrip()
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("@ "):
            head = line[2:].split()
            intent, risk = Intent(head[0]), Risk(head[1])
            alt = Intent(head[2]) if len(head) > 2 else None
            continue
        if intent is None:
            raise ValueError(f"{path.name}:{number}: utterance before any @ section")
        text, _, label = line.partition("\t")
        try:
            labels = (
                _parse_override(label.split(), intent, risk, alt)
                if label
                else (
                    intent,
                    risk,
                    alt,
                )
            )
        except ValueError as exc:
            raise ValueError(f"{path.name}:{number}: {exc}") from None
        yield Example(text.strip(), *labels, origin="written", group=_group_of(text.strip()))


def read_legacy() -> Iterator[Example]:
    with LEGACY.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            yield Example(
                row["text"], Intent(row["intent"]), Risk(row["risk"]), origin="legacy", group=""
            )


# --- variations ---------------------------------------------------------------------

_HEADERS = (
    "订单号:[订单x] 金额:[金额x] ",
    "订单号：[订单x]，金额：[金额x]，",
    "订单号:[ORDERID_{n}] ",
    "[订单x] ",
    "订单编号[订单x] ",
    "商品:[链接x] 订单号:[订单x] ",
    "订单号:[订单x] 下单时间:[时间x] ",
    "【订单】[订单x] 【金额】[金额x] ",
    "单号[数字x] ",
    "我的订单[订单x] ",
)
_GREETINGS = (
    "亲 ",
    "亲亲 ",
    "你好 ",
    "您好，",
    "在吗 ",
    "在吗？",
    "客服 ",
    "老板 ",
    "hello ",
    "喂 ",
    "你好客服 ",
    "打扰一下 ",
    "问一下 ",
    "不好意思 ",
    "那个 ",
    "请问 ",
    "hi ",
    "掌柜的 ",
    "亲 在不在 ",
    "你好 在吗 ",
)
_SUFFIX_CALM = (
    " 谢谢",
    " 谢谢亲",
    "🙏",
    "😊",
    " 麻烦了",
    "～",
    "。",
    "?",
    " 亲",
    " 哈",
    " 辛苦",
    "😄",
    " 谢谢啦",
    " thx",
    "[表情]",
    "~~",
)
_SUFFIX_UPSET = ("！！", "!!!", "😡", "😤", "？？？", " 急", " 快点", "🤬", " 急急急", "...")
# Typos and abbreviations buyers really type (first occurrence replaced).
_TYPOS = (
    ("发货", ("fh", "法货", "发huo", "發貨")),
    ("快递", ("kd", "快第", "快滴")),
    ("物流", ("wl", "物留")),
    ("退款", ("tk", "退宽", "退kuan")),
    ("退货", ("th", "退huo")),
    ("换货", ("hh", "换huo")),
    ("发票", ("fp", "发漂")),
    ("付款", ("fk", "付宽")),
    ("怎么", ("咋", "怎末", "zm", "怎麽")),
    ("什么", ("啥", "神马", "sm")),
    ("地址", ("dz", "地止")),
    ("没有", ("木有", "没")),
    ("你们", ("你门", "恁")),
    ("客服", ("kf",)),
    ("谢谢", ("3q", "xx", "谢了")),
    ("可以", ("阔以", "ky")),
    ("知道", ("造",)),
    ("这样", ("酱紫",)),
    ("好的", ("hd", "好滴")),
    ("差评", ("cp", "差平")),
    ("投诉", ("ts", "头诉")),
    ("电话", ("dh", "电化")),
    ("质量", ("zl",)),
    ("优惠", ("yh",)),
    ("是不是", ("是8是",)),
    ("一下", ("一哈", "下")),
    ("吗", ("嘛", "么")),
    ("了", ("啦", "咯")),
)


@functools.cache
def _converter(style: str) -> Any:
    import opencc

    return opencc.OpenCC(style)


def _traditional(text: str, style: str) -> str:
    return str(_converter(style).convert(text))


_MASKED = re.compile(r"(\[[^\[\]]{1,30}\])")


def _typo(text: str, rng: random.Random) -> str | None:
    """One typo or abbreviation, never inside a masked token ([电话x] stays)."""
    parts = _MASKED.split(text)
    plain = "\x00".join(parts[0::2])
    options = [(a, b) for a, b in _TYPOS if a in plain]
    if not options:
        return None
    word, replacements = rng.choice(options)
    plain = plain.replace(word, rng.choice(replacements), 1)
    pieces = plain.split("\x00")
    out = [piece for pair in zip(pieces, [*parts[1::2], ""], strict=True) for piece in pair]
    return "".join(out)


def _respace(text: str, rng: random.Random) -> str:
    choice = rng.randrange(4)
    if choice == 0:
        return text.replace(" ", "")
    if choice == 1:
        return text.replace(" ", "，")
    if choice == 2:
        return text.replace(" ", "。。") + "。"
    return text.replace(" ", "  ") + " "


def _variant(base: Example, rng: random.Random) -> str | None:
    text = base.text
    kinds = ["header", "greeting", "suffix", "traditional", "typo", "respace"]
    picked = rng.sample(kinds, rng.choice((1, 1, 2)))
    for kind in picked:
        if kind == "header" and "[订单x]" not in text and "ORDERID" not in text:
            header = rng.choice(_HEADERS).replace("{n}", str(rng.randrange(10000, 99999)))
            text = header + text
        elif kind == "greeting":
            text = rng.choice(_GREETINGS) + text
        elif kind == "suffix":
            pool = _SUFFIX_UPSET if base.risk is not Risk.LOW else _SUFFIX_CALM
            text = text + rng.choice(pool)
        elif kind == "traditional":
            text = _traditional(text, rng.choice(("s2t", "s2tw", "s2hk")))
        elif kind == "typo":
            text = _typo(text, rng) or text
        elif kind == "respace":
            text = _respace(text, rng)
    return text if text != base.text else None


VARIANT_SHARE = 0.7
"""Chance that a hand-written line gets one variation (a few get two)."""


def variations(base: Example) -> Iterator[Example]:
    rng = random.Random(base.group)  # seeded per line: stable whatever else changes
    count = (1 if rng.random() < VARIANT_SHARE else 0) + (1 if rng.random() < 0.12 else 0)
    for _ in range(count):
        text = _variant(base, rng)
        if text is not None:
            yield Example(
                text, base.intent, base.risk, base.alt, origin="variant", group=base.group
            )


# --- the split ------------------------------------------------------------------------


def written_examples() -> list[Example]:
    return [ex for path in sorted(WRITTEN_DIR.glob("*.tsv")) for ex in read_written(path)]


def build() -> tuple[list[Example], list[Example]]:
    """(train, heldout): every text once; legacy lines train only."""
    seen: set[str] = set()
    train: list[Example] = []
    heldout: list[Example] = []

    def keep(ex: Example, into: list[Example]) -> None:
        key = ex.text.strip()
        if key and key not in seen:
            seen.add(key)
            into.append(ex)

    written = written_examples()
    for ex in written:  # hand-written lines first: a variation never displaces one
        keep(ex, heldout if is_heldout(ex.group) else train)
    for ex in written:
        for variant in variations(ex):
            keep(variant, heldout if is_heldout(ex.group) else train)
    for ex in read_legacy():
        keep(ex, train)
    return train, heldout


def write(path: Path, examples: Iterable[Example]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n")
        out.writerow(COLUMNS)
        for ex in examples:
            alt = ex.alt.value if ex.alt else ""
            out.writerow([ex.text, ex.intent.value, ex.risk.value, alt, ex.origin, ex.group])


def read(path: Path) -> list[Example]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        Example(
            r["text"],
            Intent(r["intent"]),
            Risk(r["risk"]),
            Intent(r["alt"]) if r["alt"] else None,
            r["origin"],
            r["group"],
        )
        for r in rows
    ]


def load_train() -> list[Example]:
    return read(TRAIN)


def load_heldout() -> list[Example]:
    return read(HELDOUT)


def main() -> int:
    train, heldout = build()
    write(TRAIN, train)
    write(HELDOUT, heldout)
    print(f"train {len(train)}, heldout {len(heldout)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
