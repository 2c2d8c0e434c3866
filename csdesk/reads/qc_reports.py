"""QC reports for the QC lead, trainers and the owner: finding rate per agent, role,
category or script version over time (with a server-drawn SVG chart), the auto-check's top
rules, inspector throughput, dispute rate and outcomes; every table exports to CSV and XLSX.

Days are the shop's local days. A finding rate is findings per submitted score of the
same slice (an agent's findings over that agent's scored conversations; a category's over
every scored conversation).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import escape
from typing import Any, Final
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import select

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.clock import parse_date
from csdesk.errors import BadInputError
from csdesk.reads.qc import names
from csdesk.reads.qc_base import REPORTS
from csdesk.routing import facts as loaded
from csdesk.storage.engine import SessionFactory
from csdesk.storage.qc_models import (
    QcCheck,
    QcDispute,
    QcFinding,
    QcHit,
    QcScore,
    QcScriptVersion,
    ScoreStatus,
)

DIMENSIONS: Final = ("agent", "role", "category", "version")
MAX_DAYS: Final = 92
TABLES: Final = ("rates", "top_rules", "throughput", "disputes")
CHART_SERIES: Final = 6
"""The chart draws the busiest slices; the table lists them all."""


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def parse_range(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    def one(raw: str | None, field: str, default: date) -> date:
        if not raw:
            return default
        try:
            return parse_date(raw)
        except ValueError:
            raise BadInputError(field, "must be a date, YYYY-MM-DD") from None

    last = one(end, "end", today)
    first = one(start, "start", last - timedelta(days=13))
    if first > last:
        raise BadInputError("start", "must not be after end")
    if (last - first).days >= MAX_DAYS:
        raise BadInputError("start", f"a report spans at most {MAX_DAYS} days")
    return first, last


def _day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


async def report(
    sessions: SessionFactory,
    actor: CurrentUser,
    *,
    by: str = "agent",
    start: str | None = None,
    end: str | None = None,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Table]]:
    require(actor, REPORTS)
    if by not in DIMENSIONS:
        raise BadInputError("by", f"must be one of {', '.join(DIMENSIONS)}")
    async with sessions() as session:
        tz = (await loaded.load_shop_context(session, actor.shop_id)).routing.tz
        first, last = parse_range(start, end, _day(now, tz))
        since = datetime.combine(first, time.min, tzinfo=tz)
        until = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
        shop = actor.shop_id
        scores = list(
            await session.execute(
                select(
                    QcScore.id,
                    QcScore.submitted_at,
                    QcScore.agent_id,
                    QcScore.inspector_id,
                    QcScore.script_version_id,
                    QcCheck.role,
                )
                .join(QcCheck, QcCheck.conversation_id == QcScore.conversation_id)
                .where(
                    QcScore.shop_id == shop,
                    QcScore.status == ScoreStatus.SUBMITTED,
                    QcScore.submitted_at >= since,
                    QcScore.submitted_at < until,
                )
            )
        )
        findings = list(
            await session.execute(
                select(
                    QcFinding.id,
                    QcFinding.created_at,
                    QcFinding.agent_id,
                    QcFinding.category,
                    QcFinding.script_version_id,
                    QcCheck.role,
                    QcFinding.status,
                )
                .join(QcCheck, QcCheck.conversation_id == QcFinding.conversation_id)
                .where(
                    QcFinding.shop_id == shop,
                    QcFinding.created_at >= since,
                    QcFinding.created_at < until,
                )
            )
        )
        hits = list(
            await session.execute(
                select(QcHit.rule, QcHit.category, QcHit.severity).where(
                    QcHit.shop_id == shop, QcHit.checked_at >= since, QcHit.checked_at < until
                )
            )
        )
        checked = len(
            list(
                await session.scalars(
                    select(QcCheck.id).where(
                        QcCheck.shop_id == shop,
                        QcCheck.checked_at >= since,
                        QcCheck.checked_at < until,
                    )
                )
            )
        )
        disputes = list(
            await session.execute(
                select(QcDispute.resolution, QcDispute.opened_at).where(
                    QcDispute.shop_id == shop,
                    QcDispute.opened_at >= since,
                    QcDispute.opened_at < until,
                )
            )
        )
        versions = {
            row[0]: f"{row[1]}.v{row[2]}"
            for row in await session.execute(
                select(QcScriptVersion.id, QcScriptVersion.role, QcScriptVersion.version).where(
                    QcScriptVersion.shop_id == shop
                )
            )
        }
        people = await names(
            session, [s[2] for s in scores] + [s[3] for s in scores] + [f[2] for f in findings]
        )

    def slice_key(agent_id: int | None, role: str, version_id: int, category: str) -> str:
        if by == "agent":
            return people.get(agent_id, f"#{agent_id}") if agent_id else "—"
        if by == "role":
            return role
        if by == "version":
            return versions.get(version_id, str(version_id))
        return category

    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    scored: dict[tuple[str, date], int] = Counter()
    for _id, submitted_at, agent_id, _inspector, version_id, role in scores:
        if submitted_at is not None:
            scored[(slice_key(agent_id, role, version_id, "*"), _day(submitted_at, tz))] += 1
    found: dict[tuple[str, date], int] = Counter()
    for _id, created_at, agent_id, category, version_id, role, _status in findings:
        found[(slice_key(agent_id, role, version_id, category), _day(created_at, tz))] += 1
    keys = sorted({k for k, _ in found} | ({k for k, _ in scored} if by != "category" else set()))

    def base(key: str, day: date | None) -> int:
        slice_key = "*" if by == "category" else key
        if day is None:
            return sum(v for (k, _d), v in scored.items() if k == slice_key)
        return scored.get((slice_key, day), 0)

    series = {
        key: [
            {
                "day": day.isoformat(),
                "findings": found.get((key, day), 0),
                "scored": base(key, day),
                "rate": round(found.get((key, day), 0) / base(key, day), 3)
                if base(key, day)
                else None,
            }
            for day in days
        ]
        for key in keys
    }
    rate_rows = []
    for key in keys:
        total_found = sum(v for (k, _d), v in found.items() if k == key)
        total_scored = base(key, None)
        rate_rows.append(
            (
                key,
                total_found,
                total_scored,
                round(total_found / total_scored, 3) if total_scored else None,
            )
        )
    rate_rows.sort(key=lambda r: (-r[1], r[0]))

    rules = Counter((h[0], h[1], h[2]) for h in hits)
    top_rules = [
        (rule, category, severity, count, round(count / checked, 3) if checked else None)
        for (rule, category, severity), count in rules.most_common(10)
    ]

    per_inspector: dict[str, int] = Counter(
        people.get(s[3], f"#{s[3]}") if s[3] else "—" for s in scores
    )
    throughput = [
        (who, count, round(count / len(days), 2))
        for who, count in sorted(per_inspector.items(), key=lambda x: -x[1])
    ]

    outcomes: dict[str, int] = defaultdict(int)
    for resolution, _opened in disputes:
        outcomes[resolution.value if resolution else "pending"] += 1
    dispute_rows = [
        ("findings", len(findings)),
        ("disputed", len(disputes)),
        ("dispute_rate", round(len(disputes) / len(findings), 3) if findings else None),
        *sorted(outcomes.items()),
    ]
    tables = {
        "rates": Table(f"finding rate by {by}", (by, "findings", "scored", "rate"), rate_rows),
        "top_rules": Table(
            "top rules fired", ("rule", "category", "severity", "hits", "per_checked"), top_rules
        ),
        "throughput": Table("inspector throughput", ("inspector", "scored", "per_day"), throughput),
        "disputes": Table("disputes", ("measure", "value"), dispute_rows),
    }
    return {  # the JSON view, and the tables for export
        "by": by,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "checked": checked,
        "series": series,
        "tables": {
            name: {"title": t.title, "headers": list(t.headers), "rows": [list(r) for r in t.rows]}
            for name, t in tables.items()
        },
    }, tables


def export(table: Table, fmt: str) -> tuple[bytes, str]:
    """The table as CSV (UTF-8 with BOM, so spreadsheet programs read Chinese) or XLSX."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(table.headers)
        writer.writerows(table.rows)
        return ("\ufeff" + buffer.getvalue()).encode(), "text/csv; charset=utf-8"
    if fmt == "xlsx":
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = table.title[:31]
        sheet.append(list(table.headers))
        for row in table.rows:
            sheet.append(list(row))
        out = io.BytesIO()
        book.save(out)
        return out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    raise BadInputError("format", "must be csv or xlsx")


_COLORS: Final = ("#1a73e8", "#c0392b", "#27ae60", "#8e44ad", "#e67e22", "#16a085")


def _text(
    x: float, y: float, text: str, size: int, anchor: str = "start", fill: str = "#222"
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'font-family="sans-serif" fill="{fill}">{escape(text)}</text>'
    )


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#999"/>'


def chart_svg(
    series: dict[str, list[dict[str, Any]]],
    title: str,
    *,
    names: Mapping[str, str] | None = None,
    width: int = 720,
    height: int = 260,
) -> str:
    """A line chart of each slice's finding rate per day: plain SVG, drawn on the server;
    ``names`` gives the legend's name of a slice key (a role's name for ``presales``)."""
    names = names or {}
    busiest = sorted(series, key=lambda k: -sum(p["findings"] for p in series[k]))[:CHART_SERIES]
    days: Sequence[str] = [p["day"] for p in next(iter(series.values()), [])]
    left, right, top, bottom = 44, 150, 28, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([p["rate"] or 0 for k in busiest for p in series[k]] + [0.0]) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        _line(left, top + plot_h, left + plot_w, top + plot_h),
        _line(left, top, left, top + plot_h),
        _text(left - 6, top + 4, f"{peak:.2f}", 10, "end"),
        _text(left - 6, top + plot_h, "0", 10, "end"),
    ]
    step = plot_w / max(1, len(days) - 1)
    for n, day in enumerate(days):
        if len(days) <= 16 or n % max(1, len(days) // 8) == 0:
            parts.append(_text(left + n * step, height - 10, day[5:], 9, "middle"))
    for index, key in enumerate(busiest):
        color = _COLORS[index % len(_COLORS)]
        points = " ".join(
            f"{left + n * step:.1f},{top + plot_h - (p['rate'] / peak) * plot_h:.1f}"
            for n, p in enumerate(series[key])
            if p["rate"] is not None
        )
        if points:
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>'
            )
        legend_y = top + index * 18
        parts.append(
            f'<rect x="{width - right + 10}" y="{legend_y}" width="10" height="10" fill="{color}"/>'
        )
        parts.append(_text(width - right + 26, legend_y + 9, names.get(key, key), 11))
    if not busiest:
        parts.append(_text(left + 10, top + plot_h / 2, "—", 12, fill="#666"))
    parts.append("</svg>")
    return "".join(parts)
