"""The inspector's scorecard (评分表): weighted sections of rated items, N/A, bonus points and
critical items that zero the score; the auto-scored items filled from the auto-check.

Pure. A score is out of 100: each section weighs ``weight`` points; within it the items
count by their rating over their maximum (N/A items drop out, and a section with every
item N/A gives its weight to the others in proportion). Bonus points (加分项, up to
``bonus_max``) are added, capped at 100. A failed critical item (致命项: rating 0) makes
the whole score 0 whatever else was earned.

Auto-scored items carry the hit categories they follow: no hit, full marks; each hit takes
2 off (a 5-point item: 1 hit → 3, 2 hits → 1, 3 → 0). Critical items follow fatal hits.
An item a role's script does not require (no rating invitation on the hotline) starts N/A.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from csdesk.qc.scripts import Category, Script

MAX_RATING: Final = 9
"""Ratings are single digits, so an inspector scores an item with one key."""
AUTO_HIT_COST: Final = 2


class ScorecardError(ValueError):
    """A rating that does not fit the card; ``field`` names it (``items.greeting.rating``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    weight: float


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    section: str
    max_rating: int = 5
    critical: bool = False
    """致命项: pass (1) or fail (0); a fail zeroes the score. Not weighted."""
    categories: tuple[str, ...] = ()
    """Auto-scored from these hit categories (critical items: from fatal hits)."""
    auto: bool = False

    @property
    def auto_scored(self) -> bool:
        return self.auto or bool(self.categories)


@dataclass(frozen=True)
class Scorecard:
    sections: tuple[Section, ...]
    items: tuple[Item, ...]
    bonus_max: int = 5
    comment_templates: tuple[str, ...] = ()
    by_key: Mapping[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {item.key: item for item in self.items})
        sections = {s.key for s in self.sections}
        for item in self.items:
            if not item.critical and item.section not in sections:
                raise ScorecardError(f"items.{item.key}.section", "no such section")
            if not 1 <= item.max_rating <= MAX_RATING:
                raise ScorecardError(f"items.{item.key}.max_rating", f"must be 1-{MAX_RATING}")

    def to_json(self) -> dict[str, object]:
        return {
            "sections": [
                {"key": s.key, "label": s.label, "weight": s.weight} for s in self.sections
            ],
            "items": [
                {
                    "key": i.key,
                    "label": i.label,
                    "section": i.section,
                    "max_rating": i.max_rating,
                    "critical": i.critical,
                    "categories": list(i.categories),
                    "auto": i.auto,
                    "auto_scored": i.auto_scored,
                }
                for i in self.items
            ],
            "bonus_max": self.bonus_max,
            "comment_templates": list(self.comment_templates),
        }


def scorecard_from_json(data: Mapping[str, object]) -> Scorecard:
    """The card as stored beside a script version (``Scorecard.to_json``)."""
    try:
        sections = tuple(
            Section(str(s["key"]), str(s["label"]), float(str(s["weight"])))
            for s in _dicts(data.get("sections"))
        )
        items = tuple(
            Item(
                key=str(i["key"]),
                label=str(i["label"]),
                section=str(i.get("section", "")),
                max_rating=int(str(i.get("max_rating", 5))),
                critical=bool(i.get("critical", False)),
                categories=tuple(str(c) for c in _list(i.get("categories"))),
                auto=bool(i.get("auto", False)),
            )
            for i in _dicts(data.get("items"))
        )
        bonus_max = int(str(data.get("bonus_max", 5)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ScorecardError("scorecard", f"malformed: {exc}") from None
    templates = tuple(str(t) for t in _list(data.get("comment_templates")))
    return Scorecard(sections, items, bonus_max, templates)


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _dicts(value: object) -> list[Mapping[str, object]]:
    return [v for v in _list(value) if isinstance(v, Mapping)]


def default_scorecard() -> Scorecard:
    """The built-in card: 服务规范 40, 响应及时 20, 服务用语 20, 业务能力 20; two critical items."""
    c = Category
    return Scorecard(
        sections=(
            Section("norms", "服务规范", 40),
            Section("timeliness", "响应及时", 20),
            Section("wording", "服务用语", 20),
            Section("skill", "业务能力", 20),
        ),
        items=(
            Item("greeting", "问候语", "norms", categories=(c.GREETING_MISSING,)),
            Item("order_confirm", "核对订单", "norms", categories=(c.ORDER_CONFIRM_MISSING,)),
            Item("closing", "结束语", "norms", categories=(c.CLOSING_MISSING,)),
            Item("rating_invite", "邀请评价", "norms", categories=(c.RATING_INVITE_MISSING,)),
            Item("first_response", "首次响应", "timeliness", categories=(c.SLOW_FIRST_RESPONSE,)),
            Item(
                "waiting",
                "等待致歉与跟进",
                "timeliness",
                categories=(c.LONG_GAP_NO_APOLOGY, c.FOLLOWUP_MISSED),
            ),
            Item("forbidden", "禁用语", "wording", categories=(c.FORBIDDEN_PHRASE,)),
            Item("extreme", "极限词", "wording", categories=(c.EXTREME_WORDS,)),
            Item("accuracy", "解答准确", "skill"),
            Item("solved", "问题解决", "skill"),
            Item("abuse", "辱骂或顶撞买家", "", max_rating=1, critical=True, auto=True),
            Item("privacy", "泄露买家隐私", "", max_rating=1, critical=True),
        ),
        bonus_max=5,
        comment_templates=(
            "首次回复缺少问候语，请使用“您好，欢迎光临”。",
            "结束前请询问买家是否还有其他问题并邀请评价。",
            "回复中使用了禁用语，请改用积极的表达。",
            "买家等待较久，回复时请先致歉。",
            "解答准确，态度热情，值得表扬。",
        ),
    )


def _required(item: Item, script: Script) -> bool:
    if item.key == "greeting":
        return script.require_greeting
    if item.key == "order_confirm":
        return script.require_order_confirm
    if item.key == "closing":
        return script.require_closing
    if item.key == "rating_invite":
        return script.require_rating_invite
    if item.key == "extreme":
        return script.check_extreme_words
    return True


@dataclass(frozen=True)
class HitFact:
    category: str
    severity: str


def auto_ratings(card: Scorecard, script: Script, hits: Iterable[HitFact]) -> dict[str, int | None]:
    """The starting rating of every auto-scored item (None: N/A for this role)."""
    hit_list = list(hits)
    ratings: dict[str, int | None] = {}
    for item in card.items:
        if not item.auto_scored:
            continue
        if item.critical:
            ratings[item.key] = 0 if any(h.severity == "fatal" for h in hit_list) else 1
            continue
        if not _required(item, script):
            ratings[item.key] = None
            continue
        count = sum(1 for h in hit_list if h.category in item.categories and h.severity != "fatal")
        ratings[item.key] = max(0, item.max_rating - AUTO_HIT_COST * count)
    return ratings


@dataclass(frozen=True)
class Total:
    total: float
    critical_failed: bool
    cost: Mapping[str, float]
    """Item key → points of the 100 it lost (critical items: 0, the zero is ``critical_failed``)."""


def check_rating(card: Scorecard, key: str, rating: object) -> int | None:
    """A rating as given for item ``key``: an int in 0..max, or None (N/A)."""
    item = card.by_key.get(key)
    if item is None:
        raise ScorecardError(f"items.{key}", "no such item on this scorecard")
    if rating is None:
        if item.critical:
            raise ScorecardError(f"items.{key}.rating", "a critical item cannot be N/A")
        return None
    if not isinstance(rating, int) or isinstance(rating, bool):
        raise ScorecardError(f"items.{key}.rating", "must be a whole number or null (N/A)")
    if not 0 <= rating <= item.max_rating:
        raise ScorecardError(f"items.{key}.rating", f"must be 0-{item.max_rating}")
    return rating


def total(card: Scorecard, ratings: Mapping[str, int | None], bonus: int = 0) -> Total:
    """The score of a filled card; unrated (missing) items count as N/A."""
    if not 0 <= bonus <= card.bonus_max:
        raise ScorecardError("bonus", f"must be 0-{card.bonus_max}")
    critical_failed = any(item.critical and ratings.get(item.key) == 0 for item in card.items)
    live: dict[str, tuple[float, float]] = {}
    for section in card.sections:
        rated = [
            (ratings[i.key], i.max_rating)
            for i in card.items
            if i.section == section.key and not i.critical and ratings.get(i.key) is not None
        ]
        if rated:
            live[section.key] = (
                float(sum(r for r, _ in rated if r is not None)),
                float(sum(m for _, m in rated)),
            )
    weights = {s.key: s.weight for s in card.sections if s.key in live}
    weight_sum = sum(weights.values())
    cost: dict[str, float] = {}
    earned = 0.0
    for key, (got, out_of) in live.items():
        share = 100.0 * weights[key] / weight_sum if weight_sum else 0.0
        earned += share * got / out_of
        for item in card.items:
            rating = ratings.get(item.key)
            if item.section == key and not item.critical and rating is not None:
                cost[item.key] = round(share * (item.max_rating - rating) / out_of, 2)
    score = 0.0 if critical_failed else min(100.0, round(earned + bonus, 2))
    return Total(score, critical_failed, cost)
