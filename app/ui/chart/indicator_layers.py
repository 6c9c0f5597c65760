"""Indicator plots: overlays on the price pane (SMA, EMA, Bollinger) and sub-panes (RSI, MACD).

The maths is TA-Lib's (:mod:`app.core.indicators`); this module only turns the output series into
pyqtgraph items: preallocated float64 arrays, ``setData`` with clip-to-view and peak downsampling,
width-1 pens, and the warm-up NaNs cut off so the finite check can be skipped.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from app.core.indicators import IndicatorKind, IndicatorSpec, compute
from app.ui.chart.buffer import BarBuffer

OVERLAY_COLOURS = ("#f6c343", "#4fc3f7", "#ce93d8", "#ffab91", "#80cbc4")
SERIES_COLOURS = {
    "upper": "#7986cb",
    "middle": "#9fa8da",
    "lower": "#7986cb",
    "rsi": "#ce93d8",
    "macd": "#4fc3f7",
    "signal": "#ef9a9a",
    "histogram": "#5b7083",
}


def _curve(colour: str, stems: bool = False) -> pg.PlotDataItem:
    """A line, or with ``stems`` a histogram drawn as one vertical line per bar (``connect="pairs"``:
    a filled area under the curve cost several times more to build and paint)."""
    if stems:
        item = pg.PlotDataItem(pen=pg.mkPen(colour, width=1), connect="pairs", skipFiniteCheck=True)
    else:
        item = pg.PlotDataItem(pen=pg.mkPen(colour, width=1), skipFiniteCheck=True)
        item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    return item


class IndicatorLayer:
    """The items of one indicator on ``plot`` (the price plot, or its own pane)."""

    def __init__(self, spec: IndicatorSpec, plot: pg.PlotItem, colour_index: int = 0) -> None:
        self.spec = spec
        self.plot = plot
        self.curves: dict[str, pg.PlotDataItem] = {}
        for name in spec.info.outputs:
            colour = SERIES_COLOURS.get(name, OVERLAY_COLOURS[colour_index % len(OVERLAY_COLOURS)])
            if spec.kind in (IndicatorKind.SMA, IndicatorKind.EMA):
                colour = OVERLAY_COLOURS[colour_index % len(OVERLAY_COLOURS)]
            curve = _curve(colour, stems=name == "histogram")
            plot.addItem(curve)
            self.curves[name] = curve
        if spec.kind is IndicatorKind.RSI:
            for level in (30.0, 70.0):
                plot.addItem(
                    pg.InfiniteLine(
                        level, angle=0, pen=pg.mkPen("#3a4656", width=1, style=pg.QtCore.Qt.PenStyle.DashLine)
                    )
                )
            plot.setYRange(0, 100, padding=0.02)
        self.last: dict[str, np.ndarray] = {}

    def update(self, buffer: BarBuffer) -> None:
        n = len(buffer)
        if n == 0:
            return
        outputs = compute(self.spec, buffer.close)
        x = np.arange(n, dtype=np.float64)
        for name, values in outputs.items():
            finite = np.flatnonzero(np.isfinite(values))
            curve = self.curves[name]
            if finite.size == 0:
                curve.setData([], [])
                continue
            first = int(finite[0])
            if name == "histogram":  # (x, 0), (x, value) per bar
                curve.setData(
                    np.repeat(x[first:], 2), np.column_stack((np.zeros(n - first), values[first:])).ravel()
                )
            else:
                curve.setData(x[first:], values[first:])
        self.last = outputs

    def clear(self) -> None:
        """No values (new history is on its way)."""
        for curve in self.curves.values():
            curve.setData([], [])
        self.last = {}

    def value_range(self, x0: float, x1: float) -> tuple[float, float] | None:
        """Min and max of the outputs over the visible bars (the sub-pane's y auto-range)."""
        lo, hi = max(0, int(x0)), int(x1) + 1
        values = [v[lo:hi] for v in self.last.values() if v[lo:hi].size]
        if not values:
            return None
        stacked = np.concatenate(values)
        stacked = stacked[np.isfinite(stacked)]
        if stacked.size == 0:
            return None
        return float(stacked.min()), float(stacked.max())

    def remove(self) -> None:
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.curves.clear()
