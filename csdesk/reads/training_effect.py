"""The measured effect of one course (培训效果) for the trainer: per QC category, the
finding rate before and after each agent passed, per agent and pooled, with the sample
sizes, Newcombe's interval of the difference and a verdict only when the data supports one
(``csdesk.training.effect``), and a chart drawn on the server as SVG.

The facts: the agents who passed the course (their first pass), their scored chats (QC
scorecards submitted) in the windows by when the chat closed, and the standing findings of
the course's categories against them in those chats.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from html import escape
from typing import Any, Final

from sqlalchemy import func, select

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import NotFoundError
from csdesk.reads.training_base import CATALOG, names, training_settings
from csdesk.storage.engine import SessionFactory
from csdesk.storage.qc_models import QcCheck, QcFinding, QcScore, ScoreStatus
from csdesk.storage.training_models import (
    AssignmentStatus,
    TrainingAssignment,
    TrainingCourse,
    TrainingRule,
)
from csdesk.training.effect import Comparison, CourseEffect, ScoredChat, measure, wilson
from csdesk.training.rules import FindingFact, FindingState, stands


async def effect(
    sessions: SessionFactory, actor: CurrentUser, course_id: int, now: datetime
) -> dict[str, Any]:
    course, result, who = await _measured(sessions, actor, course_id, now)
    return effect_json(course, result, who)


async def effect_chart(
    sessions: SessionFactory,
    actor: CurrentUser,
    course_id: int,
    now: datetime,
    *,
    labels: dict[str, str],
    legend: tuple[str, str],
) -> str:
    course, result, _who = await _measured(sessions, actor, course_id, now)
    return chart_svg(list(result.pooled), labels, course.title, legend)


async def _measured(
    sessions: SessionFactory, actor: CurrentUser, course_id: int, now: datetime
) -> tuple[TrainingCourse, CourseEffect, dict[int, str]]:
    require(actor, CATALOG)
    async with sessions() as session:
        course = await session.get(TrainingCourse, course_id)
        if course is None or course.shop_id != actor.shop_id:
            raise NotFoundError(f"course {course_id}: not found")
        settings = await training_settings(session, actor.shop_id)
        window = timedelta(days=settings.effect_window_days)
        categories = list(course.categories)
        for category in await session.scalars(
            select(TrainingRule.category).where(TrainingRule.course_id == course.id)
        ):
            if category not in categories:
                categories.append(category)
        passed = {
            agent_id: when
            for agent_id, when in await session.execute(
                select(TrainingAssignment.agent_id, func.min(TrainingAssignment.passed_at))
                .where(
                    TrainingAssignment.course_id == course.id,
                    TrainingAssignment.status == AssignmentStatus.PASSED,
                )
                .group_by(TrainingAssignment.agent_id)
            )
            if when is not None
        }
        chats: list[ScoredChat] = []
        if passed:
            since = min(passed.values()) - window
            scored = list(
                await session.execute(
                    select(QcScore.conversation_id, QcScore.agent_id, QcCheck.closed_at)
                    .join(QcCheck, QcCheck.conversation_id == QcScore.conversation_id)
                    .where(
                        QcScore.shop_id == actor.shop_id,
                        QcScore.status == ScoreStatus.SUBMITTED,
                        QcScore.agent_id.in_(passed),
                        QcCheck.closed_at >= since,
                    )
                    .distinct()
                )
            )
            conversation_ids = {row[0] for row in scored}
            found: dict[tuple[int, int], set[str]] = defaultdict(set)
            for cid, agent, category, status, respond_by, pts, created_at in await session.execute(
                select(
                    QcFinding.conversation_id,
                    QcFinding.agent_id,
                    QcFinding.category,
                    QcFinding.status,
                    QcFinding.respond_by,
                    QcFinding.points,
                    QcFinding.created_at,
                ).where(
                    QcFinding.shop_id == actor.shop_id,
                    QcFinding.conversation_id.in_(conversation_ids),
                    QcFinding.agent_id.in_(passed),
                )
            ):
                if agent is None:
                    continue
                state = FindingState(status.value)
                fact = FindingFact(0, agent, category, state, created_at, respond_by, pts)
                if stands(fact, now):
                    found[(cid, agent)] |= {category}
            if not categories:
                categories = sorted({c for cats in found.values() for c in cats})
            chats = [
                ScoredChat(cid, agent, closed_at, frozenset(found.get((cid, agent), set())))
                for cid, agent, closed_at in scored
                if agent is not None
            ]
        result = measure(
            chats,
            passed,
            categories,
            now,
            window_days=settings.effect_window_days,
            min_chats=settings.effect_min_chats,
        )
        return course, result, await names(session, passed)


def effect_json(
    course: TrainingCourse, result: CourseEffect, who: dict[int, str]
) -> dict[str, Any]:
    return {
        "course": {"id": course.id, "title": course.title, "categories": list(course.categories)},
        "method": "newcombe_hybrid_score",
        "window_days": result.window_days,
        "min_chats": result.min_chats,
        "pooled": [c.to_json() for c in result.pooled],
        "agents": [
            {
                "agent": {"id": a.agent_id, "display_name": who.get(a.agent_id, f"#{a.agent_id}")},
                "passed_at": a.passed_at.isoformat(),
                "comparisons": [c.to_json() for c in a.comparisons],
            }
            for a in result.agents
        ],
    }


_BEFORE: Final = "#9aa5b1"
_AFTER: Final = "#1a73e8"


def _t(x: float, y: float, text: str, size: int = 11, anchor: str = "middle") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'font-family="sans-serif" fill="#222">{escape(text)}</text>'
    )


def chart_svg(
    pooled: list[Comparison], labels: dict[str, str], title: str, legend: tuple[str, str]
) -> str:
    """Pooled finding rate per category, before (grey) and after (blue) the course, per
    100 scored chats, each bar with its Wilson 95 % interval and its sample size."""
    width = max(360, 150 * len(pooled) + 80)
    height, top, bottom, left = 260, 40, 50, 48
    plot_h = height - top - bottom
    peak = 1.0
    for c in pooled:
        for counts in (c.before, c.after):
            if counts.chats:
                peak = max(peak, 100 * wilson(counts.with_category, counts.chats)[1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        'stroke="#999"/>',
        _t(left - 6, top + 4, f"{peak:.0f}", 10, "end"),
        _t(left - 6, top + plot_h, "0", 10, "end"),
        f'<rect x="{left}" y="8" width="10" height="10" fill="{_BEFORE}"/>',
        _t(left + 14, 17, legend[0], 11, "start"),
        f'<rect x="{left + 110}" y="8" width="10" height="10" fill="{_AFTER}"/>',
        _t(left + 124, 17, legend[1], 11, "start"),
    ]
    for n, c in enumerate(pooled):
        x0 = left + 20 + n * 150
        for k, (counts, color) in enumerate(((c.before, _BEFORE), (c.after, _AFTER))):
            x = x0 + k * 50
            rate = counts.rate or 0.0
            h = plot_h * rate / peak
            parts.append(
                f'<rect x="{x}" y="{top + plot_h - h:.1f}" width="40" height="{h:.1f}" '
                f'fill="{color}"><title>{rate:.1f} / 100 (n={counts.chats})</title></rect>'
            )
            if counts.chats:
                low, high = wilson(counts.with_category, counts.chats)
                y1 = top + plot_h - plot_h * 100 * low / peak
                y2 = top + plot_h - plot_h * 100 * high / peak
                parts.append(
                    f'<line x1="{x + 20}" y1="{y1:.1f}" x2="{x + 20}" y2="{y2:.1f}" '
                    'stroke="#333" stroke-width="1.5"/>'
                )
            parts.append(_t(x + 20, top + plot_h - h - 4, f"{rate:.1f}", 10))
            parts.append(_t(x + 20, top + plot_h + 14, f"n={counts.chats}", 9))
        parts.append(_t(x0 + 45, top + plot_h + 32, labels.get(c.category, c.category), 11))
    if not pooled:
        parts.append(_t(width / 2, top + plot_h / 2, "—", 12))
    parts.append("</svg>")
    return "".join(parts)
