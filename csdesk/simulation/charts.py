"""A self-contained HTML page with server-drawn SVG charts (no script, no CDN): queue depth
and p90 wait per role over the day, one column per policy."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from csdesk.simulation.engine import Outcome, percentile
from csdesk.simulation.report import table
from csdesk.simulation.scenarios import SHOP_TZ
from csdesk.storage.enums import ServiceRole

COLORS = {
    ServiceRole.PRESALES.value: "#1f77b4",
    ServiceRole.ORDER_REVIEW.value: "#9467bd",
    ServiceRole.PAYMENT_CHASING.value: "#ff7f0e",
    ServiceRole.AFTERSALES_TRIAGE.value: "#2ca02c",
    ServiceRole.REFUND.value: "#d62728",
    ServiceRole.HOTLINE.value: "#8c564b",
}
SVG_NS = ' xmlns="http://www.w3.org/2000/svg"'
WIDTH, HEIGHT, PAD_L, PAD_B, PAD_T, PAD_R = 560, 240, 56, 28, 14, 10


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _svg(
    title: str,
    times_h: Sequence[float],
    lines: dict[str, list[float]],
    y_max: float,
    y_unit: str,
    start_label: Callable[[float], str],
    x_max: float,
    *,
    standalone: bool = False,
) -> str:
    """The chart's ``<svg>``; ``standalone`` names its namespace, so the console can parse
    it as an SVG document (inside an HTML page the parser knows it)."""
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def x(t: float) -> float:
        return PAD_L + plot_w * t / x_max

    def y(v: float) -> float:
        return PAD_T + plot_h * (1 - min(v, y_max) / y_max)

    parts = [
        f'<svg{SVG_NS if standalone else ""} viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{html.escape(title)}" '
        'data-verbatim="">',
        f'<rect x="{PAD_L}" y="{PAD_T}" width="{plot_w}" height="{plot_h}" fill="#fafafa" '
        'stroke="#ccc"/>',
    ]
    for i in range(5):
        value = y_max * i / 4
        parts.append(
            f'<line x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#e5e5e5"/>'
            f'<text x="{PAD_L - 4}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="10">'
            f"{value:g}{y_unit}</text>"
        )
    step = 12 if x_max > 36 else 6 if x_max > 12 else 2 if x_max > 4 else 1
    hour = 0
    while hour <= x_max:
        parts.append(
            f'<line x1="{x(hour):.1f}" x2="{x(hour):.1f}" y1="{PAD_T}" y2="{HEIGHT - PAD_B}" '
            'stroke="#eee"/>'
            f'<text x="{x(hour):.1f}" y="{HEIGHT - PAD_B + 14}" text-anchor="middle" '
            f'font-size="9">{html.escape(start_label(hour))}</text>'
        )
        hour += step
    for role, values in lines.items():
        if not any(values):
            continue
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(times_h, values, strict=False))
        parts.append(
            f'<polyline fill="none" stroke="{COLORS.get(role, "#333")}" stroke-width="1.5" '
            f'points="{points}"><title>{html.escape(role)}</title></polyline>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _chart(
    title: str,
    times_h: Sequence[float],
    lines: dict[str, list[float]],
    y_max: float,
    y_unit: str,
    start_label: Callable[[float], str],
    x_max: float,
) -> str:
    svg = _svg(title, times_h, lines, y_max, y_unit, start_label, x_max)
    return f"<figure><figcaption>{html.escape(title)}</figcaption>{svg}</figure>"


@dataclass(frozen=True)
class Scales:
    """One scale for every outcome compared, so their charts read side by side."""

    depth_max: float
    wait_max: float
    x_max: float
    p90s: dict[str, dict[str, list[float]]]
    """Per outcome (by position), per role: p90 wait in minutes per bucket."""


def scales(outcomes: Sequence[Outcome]) -> Scales:
    depth_max = _nice_max(
        max((max(v, default=0) for o in outcomes for v in o.series.depth.values()), default=0)
    )
    p90s: dict[str, dict[str, list[float]]] = {}
    for index, outcome in enumerate(outcomes):
        p90s[str(index)] = {
            role: [percentile(sorted(bucket), 0.9) / 60 for bucket in buckets]
            for role, buckets in outcome.series.waits.items()
        }
    # A few long chase waits would flatten every other line: the scale stops at the 98th
    # percentile of the plotted values, and higher points are drawn at the top edge.
    plotted = sorted(v for p in p90s.values() for values in p.values() for v in values if v > 0)
    wait_max = _nice_max(plotted[int(0.98 * (len(plotted) - 1))] if plotted else 0.0)
    x_max = max((o.series.times_h[-1] for o in outcomes if o.series.times_h), default=1.0)
    return Scales(depth_max, wait_max, max(x_max, 1.0), p90s)


def _label_from(start: datetime, zone: tzinfo) -> Callable[[float], str]:
    def label(hour: float) -> str:
        return (start + timedelta(hours=hour)).astimezone(zone).strftime("%d日%H:%M")

    return label


def svg_pair(outcomes: Sequence[Outcome], zone: tzinfo = SHOP_TZ) -> list[dict[str, str]]:
    """Per outcome, its queue-depth and p90-wait charts as bare SVG (the console captions
    them), on the scales shared by all the outcomes given."""
    shared = scales(outcomes)
    charts = []
    for index, outcome in enumerate(outcomes):
        label = _label_from(outcome.start, zone)
        times = outcome.series.times_h
        depth = {r: [float(v) for v in values] for r, values in outcome.series.depth.items()}
        charts.append(
            {
                "depth_svg": _svg(
                    "排队数",
                    times,
                    depth,
                    shared.depth_max,
                    "",
                    label,
                    shared.x_max,
                    standalone=True,
                ),
                "wait_svg": _svg(
                    f"等待 p90（分钟，上限 {shared.wait_max:g}）",
                    times,
                    shared.p90s[str(index)],
                    shared.wait_max,
                    "m",
                    label,
                    shared.x_max,
                    standalone=True,
                ),
            }
        )
    return charts


def page(outcomes: Sequence[Outcome]) -> str:
    """One column per policy; the same scales in every column so they compare."""
    depth_max = _nice_max(
        max((max(v, default=0) for o in outcomes for v in o.series.depth.values()), default=0)
    )
    p90s: dict[str, dict[str, list[float]]] = {}
    for outcome in outcomes:
        p90s[outcome.policy] = {
            role: [percentile(sorted(bucket), 0.9) / 60 for bucket in buckets]
            for role, buckets in outcome.series.waits.items()
        }
    # A few long chase waits would flatten every other line: the scale stops at the 98th
    # percentile of the plotted values, and higher points are drawn at the top edge.
    plotted = sorted(v for p in p90s.values() for values in p.values() for v in values if v > 0)
    wait_max = _nice_max(plotted[int(0.98 * (len(plotted) - 1))] if plotted else 0.0)
    x_max = max((o.series.times_h[-1] for o in outcomes if o.series.times_h), default=1.0)
    columns = []
    for outcome in outcomes:
        start = outcome.start

        def label(hour: float, start: datetime = start) -> str:
            return (start + timedelta(hours=hour)).astimezone(SHOP_TZ).strftime("%d日%H:%M")

        times = outcome.series.times_h
        depth = {r: [float(v) for v in values] for r, values in outcome.series.depth.items()}
        columns.append(
            "<section>"
            f"<h2>{html.escape(outcome.policy)}</h2>"
            f"<pre>{html.escape(table(outcome))}</pre>"
            + _chart("排队数 / queue depth", times, depth, depth_max, "", label, x_max)
            + _chart(
                f"等待 p90 (分钟, 上限 {wait_max:g}) / p90 wait (min, clipped above)",
                times,
                p90s[outcome.policy],
                wait_max,
                "m",
                label,
                x_max,
            )
            + "</section>"
        )
    legend = " ".join(
        f'<span style="color:{color}">■ {html.escape(role)}</span>'
        for role, color in COLORS.items()
    )
    first = outcomes[0]
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>csdesk simulate {html.escape(first.scenario)} seed {first.seed}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:1.5em}"
        ".cols{display:flex;gap:2em}section{width:580px;flex:none}pre{font-size:10px;white-space:pre-wrap}"
        "figure{margin:0 0 1em}figcaption{font-size:13px;font-weight:600}</style></head><body>"
        f"<h1>{html.escape(first.scenario)} · seed {first.seed}</h1>"
        f'<p>{legend}</p><div class="cols">{"".join(columns)}</div></body></html>'
    )
