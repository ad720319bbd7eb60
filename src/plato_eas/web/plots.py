"""The dashboard's plots as SVG, drawn on the server from report rows.

Each function returns a :class:`Figure`: plain shapes in pixel coordinates (rectangles, lines,
polylines, circles, text) that ``templates/_svg.html`` writes out as inline SVG, escaped by
Jinja2. Every shape can carry a ``title`` (the browser's tooltip) and a CSS class (colours live
in the style sheet, so the page needs no inline styles and passes a strict CSP).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..reports.distribution import nice_step
from ..reports.render import cell_text

MARGIN = {"left": 56, "right": 28, "top": 12, "bottom": 40}


@dataclass
class Figure:
    width: int
    height: int
    label: str
    rects: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    polylines: list[dict] = field(default_factory=list)
    circles: list[dict] = field(default_factory=list)
    texts: list[dict] = field(default_factory=list)

    def text(self, x: float, y: float, text: str, anchor: str = "middle",
             cls: str = "tick", rotate: bool = False) -> None:
        self.texts.append({"x": round(x, 1), "y": round(y, 1), "text": text, "anchor": anchor,
                           "cls": cls, "rotate": rotate})


@dataclass
class Scale:
    """Maps data values in [low, high] onto pixels in [start, end]."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        return round(self.start + (value - self.low) / span * (self.end - self.start), 2)

    def ticks(self, count: int = 6) -> list[float]:
        step = nice_step(self.high - self.low, count)
        first = math.ceil(self.low / step) * step
        out, value = [], first
        while value <= self.high + step * 1e-9:
            out.append(round(value, 12))
            value += step
        return out


def _number(value: float) -> str:
    if value and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return cell_text(round(value, 6))


def _axes(fig: Figure, x: Scale, y: Scale, xlabel: str, ylabel: str,
          x_format: Any = _number) -> None:
    bottom, left = y.start, x.start
    fig.lines.append({"x1": left, "y1": bottom, "x2": x.end, "y2": bottom, "cls": "axis"})
    fig.lines.append({"x1": left, "y1": bottom, "x2": left, "y2": y.end, "cls": "axis"})
    for value in x.ticks():
        px = x(value)
        fig.lines.append({"x1": px, "y1": bottom, "x2": px, "y2": bottom + 4, "cls": "axis"})
        fig.text(px, bottom + 16, x_format(value))
    for value in y.ticks(5):
        py = y(value)
        fig.lines.append({"x1": left, "y1": py, "x2": x.end, "y2": py, "cls": "grid"})
        fig.text(left - 6, py + 4, _number(value), anchor="end")
    fig.text((left + x.end) / 2, fig.height - 6, xlabel, cls="label")
    fig.text(14, (bottom + y.end) / 2, ylabel, cls="label", rotate=True)


def histogram(bins: list[dict], xlabel: str, label: str, cls: str = "bar",
              width: int = 460, height: int = 220) -> Figure:
    """Bars over [low, high) with heights = counts."""
    fig = Figure(width, height, label)
    if not bins:
        fig.text(width / 2, height / 2, "no measurements", cls="empty")
        return fig
    x = Scale(bins[0]["low"], bins[-1]["high"], MARGIN["left"], width - MARGIN["right"])
    top = max(b["count"] for b in bins) or 1
    y = Scale(0, top, height - MARGIN["bottom"], MARGIN["top"])
    _axes(fig, x, y, xlabel, "attempts")
    for b in bins:
        if not b["count"]:
            continue
        left, right = x(b["low"]), x(b["high"])
        fig.rects.append({"x": left + 0.5, "y": y(b["count"]), "w": max(right - left - 1, 1),
                          "h": round(y(0) - y(b["count"]), 2), "cls": cls,
                          "title": f"{_number(b['low'])}–{_number(b['high'])}: {b['count']}"})
    return fig


def line_plot(series: list[tuple[str, list[tuple[float, float, str]]]], xlabel: str,
              ylabel: str, label: str, width: int = 640, height: int = 300) -> Figure:
    """One polyline with markers per named series of (x, y, tooltip); y spans 0 to 1."""
    fig = Figure(width, height, label)
    xs = [p[0] for _, points in series for p in points]
    if not xs:
        fig.text(width / 2, height / 2, "no outcomes recorded", cls="empty")
        return fig
    low, high = min(xs), max(xs)
    if low == high:
        low, high = low - 0.5, high + 0.5
    x = Scale(low, high, MARGIN["left"], width - MARGIN["right"] - 150)
    y = Scale(0.0, 1.0, height - MARGIN["bottom"], MARGIN["top"])
    _axes(fig, x, y, xlabel, ylabel)
    for index, (name, points) in enumerate(series):
        cls = f"series series-{index % 6}"
        fig.polylines.append({"points": " ".join(f"{x(px)},{y(py)}" for px, py, _ in points),
                              "cls": cls, "title": name})
        for px, py, tip in points:
            fig.circles.append({"cx": x(px), "cy": y(py), "r": 3, "cls": cls, "title": tip})
        ly = MARGIN["top"] + 14 + 18 * index
        lx = width - MARGIN["right"] - 140
        fig.lines.append({"x1": lx, "y1": ly - 4, "x2": lx + 18, "y2": ly - 4, "cls": cls})
        fig.text(lx + 24, ly, name, anchor="start", cls="legend")
    return fig


def clock(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%H:%M:%S")


LANE = 18


def _time_axis(fig: Figure, t0: float, t1: float, lanes: list[str], width: int) -> Scale:
    x = Scale(t0, t1 if t1 > t0 else t0 + 1, 150, width - MARGIN["right"])
    bottom = MARGIN["top"] + LANE * len(lanes)
    fig.lines.append({"x1": x.start, "y1": bottom, "x2": x.end, "y2": bottom, "cls": "axis"})
    for value in x.ticks(8):
        px = x(value)
        fig.lines.append({"x1": px, "y1": MARGIN["top"], "x2": px, "y2": bottom + 4,
                          "cls": "grid"})
        fig.text(px, bottom + 16, clock(value))
    fig.text((x.start + x.end) / 2, fig.height - 6, "time (UTC)", cls="label")
    for index, lane in enumerate(lanes):
        fig.text(x.start - 6, MARGIN["top"] + LANE * index + 13, lane, anchor="end",
                 cls="lane")
    return x


def gantt(lanes: list[str], bars: list[dict], t0: float, t1: float, label: str,
          width: int = 1100) -> Figure:
    """One bar per attempt (``lane``, ``start``, ``end``, ``state``, ``title``, ``id``) in
    its worker's lane."""
    fig = Figure(width, MARGIN["top"] + LANE * len(lanes) + MARGIN["bottom"], label)
    x = _time_axis(fig, t0, t1, lanes, width)
    row = {lane: i for i, lane in enumerate(lanes)}
    for bar in bars:
        left = x(max(bar["start"], t0))
        fig.rects.append({"x": left, "y": MARGIN["top"] + LANE * row[bar["lane"]] + 2,
                          "w": max(x(min(bar["end"], t1)) - left, 1.0), "h": LANE - 4,
                          "cls": f"attempt state-{bar['state']}", "title": bar["title"],
                          "id": bar["id"]})
    return fig


def occupancy(lanes: list[str], fractions: dict[str, list[float]], t0: float, t1: float,
              label: str, width: int = 1100) -> Figure:
    """Each lane as slices shaded by how busy the worker was in each."""
    fig = Figure(width, MARGIN["top"] + LANE * len(lanes) + MARGIN["bottom"], label)
    x = _time_axis(fig, t0, t1, lanes, width)
    for index, lane in enumerate(lanes):
        slices = fractions.get(lane, [])
        step = (t1 - t0) / (len(slices) or 1)
        for i, busy in enumerate(slices):
            if not busy:
                continue
            left = x(t0 + i * step)
            fig.rects.append({"x": left, "y": MARGIN["top"] + LANE * index + 2,
                              "w": max(x(t0 + (i + 1) * step) - left, 0.5), "h": LANE - 4,
                              "cls": f"busy busy-{min(4, int(busy * 5))}",
                              "title": f"{lane} {clock(t0 + i * step)}: {busy:.0%} busy"})
    return fig
