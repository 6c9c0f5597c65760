"""The crosshair's measure mode (MT5's middle-button drag; here also Ctrl-drag): a line from where the
drag began to the mouse, labelled with the bars, points and price difference between them."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

from app.ui import formatting

MEASURE_COLOUR = "#c9d1d9"


def measure_text(bars: int, start_price: float, end_price: float, digits: int) -> str:
    """``12 bars, 345 points, +0.00345`` between two points of the chart."""
    difference = end_price - start_price
    points = round(difference * 10**digits)
    sign = "+" if difference >= 0 else "-"
    return f"{bars} bars, {abs(points)} points, {sign}{formatting.price(abs(difference), digits)}"


class Measure:
    def __init__(self, plot: pg.PlotItem) -> None:
        self._plot = plot
        pen = pg.mkPen(MEASURE_COLOUR, width=1, style=Qt.PenStyle.DashLine)
        self.line = pg.PlotCurveItem(pen=pen)
        self.label = pg.TextItem("", color=MEASURE_COLOUR, fill=pg.mkBrush("#161b22dd"), anchor=(0, 1))
        for item in (self.line, self.label):
            item.setZValue(40)
            item.hide()
            plot.addItem(item, ignoreBounds=True)
        self.start: tuple[float, float] | None = None
        self.text = ""

    @property
    def active(self) -> bool:
        return self.start is not None

    def begin(self, x: float, y: float) -> None:
        self.start = (round(x), y)
        self.text = ""

    def move(self, x: float, y: float, digits: int) -> str:
        if self.start is None:
            return ""
        x0, y0 = self.start
        x1 = round(x)
        self.line.setData([x0, x1], [y0, y])
        self.text = measure_text(abs(int(x1 - x0)), y0, y, digits)
        self.label.setText(self.text)
        self.label.setPos(x1, y)
        self.line.show()
        self.label.show()
        return self.text

    def end(self) -> None:
        self.start = None
        self.line.hide()
        self.label.hide()
