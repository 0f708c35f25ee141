"""Inline SVG charts of the HTML report, built from the report's aggregates.

Every chart is a small ``<svg>`` string (no script, no external reference) drawn from
shares, never rows. Series colours come from CSS classes (``s0``, ``s1``: the
Okabe-Ito blue and orange, safe for colour-blind readers); only heatmap cells carry an
inline fill. Every label from the data goes through ``esc``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

MAX_BARS = 30  # categories drawn in a bars chart; the rest are counted in a note
MAX_HEATMAP = 40  # columns of a correlation heatmap; beyond it the most changed ones
_W, _H = 320, 150  # distribution charts' viewBox
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 36, 6, 8, 22
# diverging scale (PuOr): -1 purple, 0 light grey, +1 orange
_NEG, _MID, _POS = (84, 39, 136), (247, 247, 247), (179, 88, 6)


def esc(value: Any) -> str:
    """Text of ``value`` safe in HTML content and in quoted attributes."""
    return escape(str(value), quote=True)


def share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def number(value: Any) -> str:
    """A compact label for an edge or a statistic (strings, such as dates, as they are)."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)[:19]
    if not math.isfinite(value):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, body: str, label: str, fixed: bool = False) -> str:
    """``fixed``: drawn at most at its own size (a small heatmap is not blown up)."""
    size = f' width="{width}" height="{height}"' if fixed else ""
    return (
        f'<svg class="chart{" fixed" if fixed else ""}" viewBox="0 0 {width} {height}"{size} '
        f'role="img" aria-label="{esc(label)}">{body}</svg>'
    )


def _legend(names: Sequence[str]) -> str:
    items = "".join(f'<span class="key k{i}">{esc(n)}</span>' for i, n in enumerate(names))
    return f'<div class="legend">{items}</div>'


def _values(values: Sequence[Any] | None, n: int) -> list[float]:
    out = [
        float(v) if isinstance(v, (int, float)) and math.isfinite(v) else 0.0 for v in values or []
    ]
    return (out + [0.0] * n)[:n]


def histogram(chart: dict, names: Sequence[str] = ("real", "synthetic"), label: str = "") -> str:
    """Side-by-side bars per bin of ``chart["edges"]``, one series per key in ``names``."""
    edges = list(chart.get("edges") or [])
    bins = max(len(edges) - 1, 0)
    if bins == 0:
        return '<p class="muted">No values to chart.</p>'
    series = [_values(chart.get(name), bins) for name in names]
    top = max((v for s in series for v in s), default=0.0) or 1.0
    plot_w, plot_h = _W - _PAD_L - _PAD_R, _H - _PAD_T - _PAD_B
    step = plot_w / bins
    bar = step * 0.86 / len(names)
    counts = _unit_bins(edges)
    parts = [_axes(top, plot_w, plot_h)]
    for i in range(bins):
        x0 = _PAD_L + i * step
        where = (
            number(edges[i]) if counts else f"[{edge_label(edges[i])}, {edge_label(edges[i + 1])})"
        )
        tip = f"{where}: " + ", ".join(
            f"{n} {share(s[i])}" for n, s in zip(names, series, strict=True)
        )
        parts.append(
            f'<g><title>{esc(tip)}</title><rect class="hit" x="{_f(x0)}" y="{_PAD_T}" '
            f'width="{_f(step)}" height="{plot_h}"/>'
        )
        for k, s in enumerate(series):
            h = plot_h * s[i] / top
            parts.append(
                f'<rect class="s{k}" x="{_f(x0 + step * 0.07 + k * bar)}" '
                f'y="{_f(_PAD_T + plot_h - h)}" width="{_f(bar)}" height="{_f(h)}"/>'
            )
        parts.append("</g>")
    parts.append(_ticks(edges[:-1], plot_w, centred=True) if counts else _ticks(edges, plot_w))
    return _legend(names) + _svg(_W, _H, "".join(parts), label or "histogram")


def _unit_bins(edges: Sequence[Any]) -> bool:
    """Bins [n, n + 1) of whole numbers: counts (children per parent), one bar per count."""
    whole = all(isinstance(e, (int, float)) and float(e).is_integer() for e in edges)
    return whole and all(b - a == 1 for a, b in zip(edges, edges[1:], strict=False))


def _ticks(values: Sequence[Any], plot_w: float, centred: bool = False) -> str:
    """Labels of the edges (or, ``centred``, of the bins) at an even step that leaves room
    between them."""
    slots = len(values) if centred else len(values) - 1  # bins
    last = len(values) - 1
    labels = [edge_label(v) for v in values]
    room = 1.4 * (5.5 * max(len(x) for x in labels) + 4)  # about 9px text, and a gap
    step = next((d for d in range(1, last + 1) if last % d == 0 and plot_w * d / slots >= room), 0)
    shown = range(0, last + 1, step) if step else [0, last] if not centred else [0]
    out = []
    for i in shown:
        if centred:
            x, anchor = _PAD_L + plot_w * (i + 0.5) / slots, "middle"
        else:
            x = _PAD_L + plot_w * i / slots
            anchor = "start" if i == 0 else "end" if i == last else "middle"
        out.append(
            f'<text x="{_f(x)}" y="{_H - _PAD_B + 14}" '
            f'text-anchor="{anchor}">{esc(labels[i])}</text>'
        )
    return "".join(out)


def edge_label(value: Any) -> str:
    """A number as ``number`` does; an ISO timestamp as its date (and minutes when the
    time of day is not midnight)."""
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-":
        date, _, time = value.replace(" ", "T").partition("T")
        time = time[:5]
        return date if time in ("", "00:00") else f"{date} {time}"
    return number(value)


def _axes(top: float, plot_w: float, plot_h: float) -> str:
    y0 = _PAD_T + plot_h
    return (
        f'<line class="axis" x1="{_PAD_L}" y1="{_f(y0)}" x2="{_f(_PAD_L + plot_w)}" y2="{_f(y0)}"/>'
        f'<line class="gl" x1="{_PAD_L}" y1="{_PAD_T}" x2="{_f(_PAD_L + plot_w)}" y2="{_PAD_T}"/>'
        f'<text x="{_PAD_L - 4}" y="{_PAD_T + 4}" text-anchor="end">{share(top)}</text>'
        f'<text x="{_PAD_L - 4}" y="{_f(y0)}" text-anchor="end">0</text>'
    )


def bars(chart: dict, names: Sequence[str] = ("real", "synthetic"), label: str = "") -> str:
    """Horizontal bars per category label, the largest ``MAX_BARS`` categories."""
    labels = [str(x) for x in chart.get("labels") or []]
    if not labels:
        return '<p class="muted">No values to chart.</p>'
    series = [_values(chart.get(name), len(labels)) for name in names]
    order = sorted(range(len(labels)), key=lambda i: -max(s[i] for s in series))[:MAX_BARS]
    order.sort()  # keep the report's order (it may be meaningful: "(other)" last)
    top = max((s[i] for s in series for i in order), default=0.0) or 1.0
    left, row, bar = 110, 6 + 5 * len(names), 5
    width, height = _W, 4 + row * len(order)
    plot_w = width - left - 40
    parts = []
    for r, i in enumerate(order):
        y = 4 + r * row
        tip = f"{labels[i]}: " + ", ".join(
            f"{n} {share(s[i])}" for n, s in zip(names, series, strict=True)
        )
        text = labels[i] if len(labels[i]) <= 18 else labels[i][:17] + "\u2026"
        parts.append(
            f'<g><title>{esc(tip)}</title><rect class="hit" x="0" y="{y}" width="{width}" '
            f'height="{row}"/><text x="{left - 4}" y="{y + row / 2 + 3:.0f}" '
            f'text-anchor="end">{esc(text)}</text>'
        )
        for k, s in enumerate(series):
            w = plot_w * s[i] / top
            parts.append(
                f'<rect class="s{k}" x="{left}" y="{y + 2 + k * bar}" width="{_f(w)}" '
                f'height="{bar - 1}"/>'
            )
        parts.append(
            f'<text x="{_f(left + plot_w * max(s[i] for s in series) / top + 3)}" '
            f'y="{y + row / 2 + 3:.0f}">{share(series[0][i])}</text></g>'
        )
    hidden = len(labels) - len(order)
    note = f'<p class="muted">{hidden} smaller categories not drawn.</p>' if hidden > 0 else ""
    return _legend(names) + _svg(width, height, "".join(parts), label or "bars") + note


def distribution(
    chart: dict | None,
    names: Sequence[str] = ("real", "synthetic"),
    label: str = "",
    none: str = "No chart.",
) -> str:
    """The chart of a column, a relationship or a distance histogram, by its type;
    ``none`` says why a ``{"type": "none"}`` chart shows nothing."""
    kind = (chart or {}).get("type")
    if kind == "histogram":
        return histogram(chart, names, label)
    if kind == "bars":
        return bars(chart, names, label)
    return f'<p class="no-chart">{esc(none)}</p>'


def diverging(value: float | None) -> str:
    """The fill of a correlation in [-1, 1] (grey when unknown)."""
    if value is None or not math.isfinite(value):
        return "#c8c8c8"
    t = max(-1.0, min(1.0, value))
    end = _POS if t > 0 else _NEG
    rgb = (round(m + (e - m) * abs(t)) for m, e in zip(_MID, end, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def heatmap_columns(correlation: dict) -> tuple[list[int], int]:
    """Indices of the columns to draw (all, or the ``MAX_HEATMAP`` whose correlations
    changed most) and how many there are in all."""
    names = correlation.get("columns") or []
    n = len(names)
    if n <= MAX_HEATMAP:
        return list(range(n)), n
    real, fake = correlation.get("real") or [], correlation.get("synthetic") or []
    change = [
        max(
            (
                abs((cell_value(fake, i, j) or 0) - (cell_value(real, i, j) or 0))
                for j in range(n)
                if j != i
            ),
            default=0,
        )
        for i in range(n)
    ]
    keep = sorted(range(n), key=lambda i: -change[i])[:MAX_HEATMAP]
    return sorted(keep), n


def heatmap(
    names: Sequence[str], matrix: Sequence[Sequence[Any]], keep: Sequence[int], label: str
) -> str:
    """The lower triangle of ``matrix`` (symmetric, diagonal 1) over the ``keep`` columns."""
    rows, cols = keep[1:], keep[:-1]
    m = len(rows)
    cell = max(4, min(28, 300 // max(m, 1)))
    labelled = m <= 24
    left, bottom = (90, 70) if labelled else (4, 4)
    parts = []
    for r, i in enumerate(rows):
        if labelled:
            y = 4 + r * cell + cell / 2 + 3
            x = left + r * cell + cell / 2 + 3
            parts.append(
                f'<text x="{left - 4}" y="{y:.0f}" text-anchor="end">{esc(_short(names[i]))}</text>'
                f'<text transform="translate({x:.0f},{4 + m * cell + 4}) rotate(-60)" '
                f'text-anchor="end">{esc(_short(names[cols[r]]))}</text>'
            )
        for c, j in enumerate(cols[: r + 1]):
            value = cell_value(matrix, i, j)
            tip = f"{names[i]} \u00d7 {names[j]}: {'n/a' if value is None else f'{value:.2f}'}"
            parts.append(
                f'<rect x="{left + c * cell}" y="{4 + r * cell}" width="{cell}" '
                f'height="{cell}" fill="{diverging(value)}"><title>{esc(tip)}</title></rect>'
            )
    return _svg(left + m * cell + 4, 4 + m * cell + bottom, "".join(parts), label, fixed=True)


def _short(name: str) -> str:
    return name if len(name) <= 14 else name[:13] + "\u2026"


def cell_value(matrix: Sequence[Sequence[Any]], i: int, j: int) -> float | None:
    """``matrix[i][j]`` when it is a finite number, else None."""
    try:
        value = matrix[i][j]
    except (IndexError, TypeError):
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def scale_legend() -> str:
    """The diverging scale's key, as a CSS gradient (no chart needed)."""
    return (
        '<div class="scale"><span>\u22121</span><span class="ramp" style="background:'
        f'linear-gradient(90deg,{diverging(-1)},{diverging(0)},{diverging(1)})"></span>'
        "<span>+1</span></div>"
    )
