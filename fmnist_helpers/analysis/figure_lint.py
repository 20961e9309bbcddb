"""Faults a reader sees in a drawn figure, found by reading the figure back: a legend over data, a bar axis that
does not start at zero, and epoch ticks between whole epochs.

| rule | what it finds |
|---|---|
| `legend_over_data` | a legend box inside a chart that covers a point, a stretch of line or a bar of its data (not a reference line drawn across the whole chart, such as `axhline`) |
| `bar_axis_from_zero` | bars whose value axis leaves out 0, so their lengths no longer compare |
| `whole_epoch_ticks` | an axis labelled with epochs whose ticks fall between epochs (1.5 epochs) |

`problems(fig)` draws the figure (as saving it would) and returns one line per fault, empty when none.

Usage:
    fig = plots.learning_curves(history)
    assert figure_lint.problems(fig) == []
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import Bbox

RULES = ("legend_over_data", "bar_axis_from_zero", "whole_epoch_ticks")


def _charts(fig: Figure) -> Iterator[Axes]:
    """Axes that plot data: not image tiles, colour bars or switched-off axes."""
    for ax in fig.axes:
        if ax.axison and not ax.images and ax.get_label() != "<colorbar>":
            yield ax


def _name(ax: Axes) -> str:
    return repr(ax.get_title() or ax.get_ylabel() or "a chart")


def _line_points(line: Line2D, ax: Axes) -> np.ndarray:
    """A line's points in display pixels, with points every few pixels along each segment when it is drawn."""
    xy = ax.transData.transform(np.column_stack(line.get_data()).astype(float))
    xy = xy[np.isfinite(xy).all(axis=1)]
    if line.get_linestyle() in ("None", "", " ") or len(xy) < 2:
        return xy
    pieces = [xy[:1]]
    for a, b in zip(xy[:-1], xy[1:]):
        steps = max(1, int(np.hypot(*(b - a)) // 3))
        pieces.append(a + np.outer(np.arange(1, steps + 1) / steps, b - a))
    return np.concatenate(pieces)


def _data_boxes(ax: Axes) -> Iterator[tuple[str, Bbox | np.ndarray]]:
    """What the data of one chart occupies on screen: points (as arrays) and bars (as boxes)."""
    for line in ax.get_lines():
        if line.get_visible() and line.get_transform() == ax.transData:  # not a reference line across the chart
            yield "line", _line_points(line, ax)
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_visible() and len(coll.get_offsets()):
            offsets = np.asarray(coll.get_offsets(), dtype=float)
            yield "point", coll.get_offset_transform().transform(offsets)
    for container in ax.containers:
        if isinstance(container, BarContainer):
            for bar in container:
                if bar.get_visible() and (bar.get_width() or bar.get_height()):
                    yield "bar", bar.get_window_extent()


def legend_over_data(fig: Figure) -> list[str]:
    """A legend drawn inside a chart over any of its data points, line stretches or bars."""
    fig.canvas.draw()
    found = []
    for ax in _charts(fig):
        legend = ax.get_legend()
        if legend is None or not legend.get_visible():
            continue
        box = legend.get_window_extent()
        if not box.overlaps(ax.get_window_extent()):
            continue  # beside the chart: it hides nothing
        for kind, where in _data_boxes(ax):
            if isinstance(where, Bbox):
                hit = where.overlaps(box)
            else:
                hit = bool(np.any((where[:, 0] >= box.x0) & (where[:, 0] <= box.x1)
                                  & (where[:, 1] >= box.y0) & (where[:, 1] <= box.y1)))
            if hit:
                found.append(f"legend_over_data: the legend of {_name(ax)} covers a {kind} of its data")
                break
    return found


def bar_axis_from_zero(fig: Figure) -> list[str]:
    """Bars whose value axis (y for upright bars, x for lying ones) does not include 0."""
    found = []
    for ax in _charts(fig):
        for container in ax.containers:
            if not isinstance(container, BarContainer) or not len(container):
                continue
            horizontal = container.orientation == "horizontal" or (
                container.orientation is None and container[0].get_height() < container[0].get_width())
            low, high = sorted(ax.get_xlim() if horizontal else ax.get_ylim())
            scale = ax.get_xscale() if horizontal else ax.get_yscale()
            if scale == "linear" and not low <= 0 <= high:
                found.append(f"bar_axis_from_zero: the bars of {_name(ax)} start at {low:g}, not 0")
                break
    return found


def whole_epoch_ticks(fig: Figure) -> list[str]:
    """An axis labelled with epochs that has a tick between two whole epochs."""
    fig.canvas.draw()
    found = []
    for ax in _charts(fig):
        for label, ticks, limits in ((ax.get_xlabel(), ax.get_xticks(), ax.get_xlim()),
                                     (ax.get_ylabel(), ax.get_yticks(), ax.get_ylim())):
            if "epoch" not in label.lower():
                continue
            low, high = sorted(limits)
            shown = [t for t in ticks if low - 1e-9 <= t <= high + 1e-9]
            fractional = [t for t in shown if abs(t - round(t)) > 1e-9]
            if fractional:
                found.append(f"whole_epoch_ticks: {_name(ax)} has a tick at {fractional[0]:g} epochs")
    return found


def problems(fig: Figure) -> list[str]:
    """Every fault the rules find in `fig`, one line each (empty: none found)."""
    return legend_over_data(fig) + bar_axis_from_zero(fig) + whole_epoch_ticks(fig)
