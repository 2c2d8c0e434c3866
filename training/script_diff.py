"""The update course (话术更新课程) made from a change of a role's QC script: what changed
between two versions (``csdesk.qc.scripts.Script.to_json``), as pages in Markdown and a
short quiz, for the trainer to edit and for everyone holding the role to take. Staff settle
into habits after 3-6 months and new hires copy the old ones (seeds/003): a changed script
is retrained, not just published.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from csdesk.training.courses import CourseContent, Page, Question, QuestionKind

ROLE_NAMES: Final[Mapping[str, str]] = {
    "presales": "售前接待",
    "order_review": "订单审核",
    "payment_chasing": "订单催付",
    "aftersales_triage": "售后接待",
    "refund": "退款",
    "hotline": "热线",
}
FLAG_NAMES: Final[Mapping[str, str]] = {
    "require_greeting": "首句问候",
    "require_order_confirm": "核对订单",
    "require_closing": "结束语",
    "require_rating_invite": "邀请评价",
    "check_extreme_words": "极限词检查（广告法）",
    "check_pushy": "催付不得强迫",
    "chase_opening": "电话催付开场白（您好、致歉、自报家门、说明订单）",
}
SECONDS_NAMES: Final[Mapping[str, str]] = {
    "first_response_s": "首次响应时限",
    "long_gap_s": "等待超过此时长须致歉",
    "followup_s": "承诺回复的时限",
}
_DISTRACTORS: Final = ("我帮您查一下", "感谢您的耐心等待", "请您稍等", "很高兴为您服务")


class ChangeKind(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class Change:
    area: str
    """``forbidden_phrases``, ``abusive_phrases``, a flag, a time limit, or ``rules``."""
    key: str
    kind: ChangeKind
    before: Any
    after: Any


def diff_scripts(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Every difference that matters to an agent, in a stable order."""
    changes: list[Change] = []
    old_phrases = dict(before.get("forbidden_phrases") or {})
    new_phrases = dict(after.get("forbidden_phrases") or {})
    for phrase in sorted(new_phrases.keys() - old_phrases.keys()):
        changes.append(
            Change("forbidden_phrases", phrase, ChangeKind.ADDED, None, new_phrases[phrase])
        )
    for phrase in sorted(old_phrases.keys() - new_phrases.keys()):
        changes.append(
            Change("forbidden_phrases", phrase, ChangeKind.REMOVED, old_phrases[phrase], None)
        )
    for phrase in sorted(old_phrases.keys() & new_phrases.keys()):
        if old_phrases[phrase] != new_phrases[phrase]:
            changes.append(
                Change(
                    "forbidden_phrases",
                    phrase,
                    ChangeKind.CHANGED,
                    old_phrases[phrase],
                    new_phrases[phrase],
                )
            )
    old_abusive = set(before.get("abusive_phrases") or ())
    new_abusive = set(after.get("abusive_phrases") or ())
    for phrase in sorted(new_abusive - old_abusive):
        changes.append(Change("abusive_phrases", phrase, ChangeKind.ADDED, None, phrase))
    for phrase in sorted(old_abusive - new_abusive):
        changes.append(Change("abusive_phrases", phrase, ChangeKind.REMOVED, phrase, None))
    for key in (*FLAG_NAMES, *SECONDS_NAMES):
        if before.get(key) != after.get(key):
            changes.append(Change(key, key, ChangeKind.CHANGED, before.get(key), after.get(key)))
    old_rules = dict(before.get("rules") or {})
    new_rules = dict(after.get("rules") or {})
    for rule_id in sorted(old_rules.keys() | new_rules.keys()):
        a, b = old_rules.get(rule_id), new_rules.get(rule_id)
        if a == b:
            continue
        kind = (
            ChangeKind.ADDED
            if a is None
            else ChangeKind.REMOVED
            if b is None
            else ChangeKind.CHANGED
        )
        changes.append(Change("rules", rule_id, kind, a, b))
    return changes


def _line(change: Change) -> str:
    if change.area == "forbidden_phrases":
        if change.kind is ChangeKind.ADDED:
            return f"- **新增禁用语**「{change.key}」：{change.after}"
        if change.kind is ChangeKind.REMOVED:
            return f"- 不再列为禁用语：「{change.key}」"
        return f"- 禁用语「{change.key}」的说明改为：{change.after}"
    if change.area == "abusive_phrases":
        verb = "新增" if change.kind is ChangeKind.ADDED else "移除"
        return f"- {verb}严重违规用语（一票否决）：「{change.key}」"
    if change.area in FLAG_NAMES:
        state = "必须做到" if change.after else "不再检查"
        return f"- {FLAG_NAMES[change.area]}：{state}"
    if change.area in SECONDS_NAMES:
        return f"- {SECONDS_NAMES[change.area]}：{change.before} 秒 → **{change.after} 秒**"
    after = change.after or {}
    if change.kind is ChangeKind.REMOVED:
        return f"- 质检规则 `{change.key}` 已取消"
    points = after.get("points")
    why = after.get("why") or ""
    return f"- 质检规则 `{change.key}`：扣 {points} 分，{why}".rstrip("，")


def update_course(role: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> CourseContent:
    """The update course of one role's script change (``after`` is the new version)."""
    changes = diff_scripts(before, after)
    name = ROLE_NAMES.get(role, role)
    old_v, new_v = before.get("version", "?"), after.get("version", "?")
    lines = [_line(c) for c in changes] or ["- 本次更新没有影响接待要求的改动。"]
    body = "\n".join(
        [
            f"{name}的质检话术从第 {old_v} 版更新到第 {new_v} 版。以下是与你的接待相关的改动，"
            "请逐条对照自己的习惯用语：",
            "",
            *lines,
            "",
            "> 质检从新版本生效起按新话术检查。工作 3-6 个月后容易形成固定习惯，"
            "请特别留意新增的禁用语，并用建议的说法代替。",
        ]
    )
    pages = [Page(f"{name}话术更新：第 {new_v} 版", body)]
    added = [c for c in changes if c.area == "forbidden_phrases" and c.kind is ChangeKind.ADDED]
    if added:
        target = added[0].key
        options = [target, *[d for d in _DISTRACTORS if d != target][:3]]
        questions = [
            Question(
                key="q1",
                text="以下哪一句是本次新增的禁用语？",
                kind=QuestionKind.SINGLE,
                options=tuple(options),
                answer=frozenset({0}),
                explanation=f"「{target}」：{added[0].after}",
            )
        ]
    else:
        questions = [
            Question(
                key="q1",
                text="话术更新后，接待时应当怎样做？",
                kind=QuestionKind.SINGLE,
                options=(
                    "按新版话术接待，质检按新版本检查",
                    "沿用以前的习惯，质检不会变",
                    "只有新人需要按新版话术",
                ),
                answer=frozenset({0}),
                explanation="新版本发布后，所有担任该岗位的同事都按新版话术接待。",
            )
        ]
    return CourseContent(
        title=f"{name}话术更新（第 {new_v} 版）",
        summary=f"{name}质检话术第 {old_v} → {new_v} 版的改动，以及测验。",
        pages=tuple(pages),
        questions=tuple(questions),
        pass_mark=100,
    )
