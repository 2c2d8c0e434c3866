"""The owner dashboard's charts: the last 24 hours per minute, drawn on the server as SVG.

Pure: series in (``reads.dashboard_series.Series``), markup out, labels translated by the
``gettext`` given. Each line carries ``data-series``, ``data-total`` (its points summed) and
``data-last`` (the current minute) so a test — or a screen reader's user — can read what
is drawn; a run of equal points is drawn as one segment, so quiet hours cost no bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import Final
from zoneinfo import ZoneInfo

from csdesk.reads.dashboard_series import MINUTES, STEP, Series
from csdesk.web.console.labels import N_

WIDTH: Final = 720
HEIGHT: Final = 180
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 26, 22
HOUR_TICKS: Final = 3
"""An hour label every this many hours."""


@dataclass(frozen=True, slots=True)
class Line:
    series: str
    label: str
    color: str


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: str
    lines: tuple[Line, ...]


CHARTS: Final = (
    Chart(
        "refunds",
        N_("Refund requests per minute"),
        (
            Line("refund_only", N_("Refund only"), "#c0392b"),
            Line("return_and_refund", N_("Return and refund"), "#e67e22"),
        ),
    ),
    Chart(
        "contacts",
        N_("Buyer chats and calls per minute"),
        (Line("contacts", N_("Contacts"), "#1a73e8"),),
    ),
    Chart(
        "orders",
        N_("Orders per minute"),
        (
            Line("orders_created", N_("Placed"), "#8e44ad"),
            Line("orders_paid", N_("Paid"), "#27ae60"),
        ),
    ),
)


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 10) -> str:
    return (
        f'<text x="{x:g}" y="{y:g}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="#555">{escape(text)}</text>'
    )


def _path(values: Sequence[int], peak: int) -> str:
    """``M x,y`` then a point wherever the value changes (and just before), so flat runs
    are single segments."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / (MINUTES - 1)

    def point(i: int) -> str:
        x = LEFT + i * step
        y = TOP + plot_h - (values[i] / peak) * plot_h
        return f"{x:.1f},{y:.1f}"

    parts = [f"M{point(0)}"]
    last = len(values) - 1
    for i in range(1, len(values)):
        if values[i] != values[i - 1]:
            if i - 1 > 0 and (i - 2 < 0 or values[i - 2] == values[i - 1]):
                parts.append(f"L{point(i - 1)}")
            parts.append(f"L{point(i)}")
        elif i == last:
            parts.append(f"L{point(i)}")
    return "".join(parts)


def chart_svg(chart: Chart, series: Series, tz: ZoneInfo, gettext: Callable[[str], str]) -> str:
    title = gettext(chart.title)
    lines = [(line, series.values.get(line.series, (0,) * MINUTES)) for line in chart.lines]
    peak = max([max(values) for _, values in lines] + [1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="db-chart" data-chart="{chart.key}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        _text(LEFT, 14, title, size=12),
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#bbb"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#bbb"/>',
        _text(LEFT - 4, TOP + 4, str(peak), anchor="end"),
        _text(LEFT - 4, TOP + plot_h, "0", anchor="end"),
    ]
    step = plot_w / (MINUTES - 1)
    for i in range(MINUTES):
        at = (series.start + i * STEP).astimezone(tz)
        if at.minute == 0 and at.hour % HOUR_TICKS == 0:
            x = LEFT + i * step
            parts.append(
                f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" stroke="#eee"/>'
            )
            parts.append(_text(x, HEIGHT - 6, f"{at:%H:%M}", anchor="middle"))
    legend_x = WIDTH - RIGHT
    for line, values in reversed(lines):
        label = gettext(line.label)
        parts.append(
            f'<text x="{legend_x}" y="14" font-size="11" text-anchor="end" '
            f'fill="{line.color}">■ {escape(label)} {values[-1]}</text>'
        )
        legend_x -= 14 + 12 * (len(label) + len(str(values[-1])) + 2)
    for line, values in lines:
        parts.append(
            f'<path d="{_path(values, peak)}" fill="none" stroke="{line.color}" '
            f'stroke-width="1.5" data-series="{line.series}" data-total="{sum(values)}" '
            f'data-last="{values[-1]}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def charts(series: Series, tz: ZoneInfo, gettext: Callable[[str], str]) -> dict[str, str]:
    """Every chart's SVG, by key."""
    return {chart.key: chart_svg(chart, series, tz, gettext) for chart in CHARTS}


def window_hours(series: Series) -> timedelta:
    return MINUTES * STEP


__all__ = ["CHARTS", "Chart", "Line", "chart_svg", "charts"]
