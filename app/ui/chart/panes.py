"""The rows of a chart, top to bottom: the title, the price pane, the indicator panes.

All panes share the x axis of the price pane (bar index); the time axis shows under the last pane
only, and that pane gets the axis's height on top of its share, so no pane loses height to it.
Heights are set here, from the chart's height, rather than left to stretch factors (which minimum
sizes override): the price pane keeps at least half of what the panes share — three quarters with
one indicator pane, three fifths with two — and the indicator panes split the rest, down to a few
pixels each in a tiny tile before the price pane gives way.
"""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
import shiboken6

from app.models import Timeframe
from app.ui.chart.axis import BarIndexAxis, ValueAxis
from app.ui.chart.buffer import BarBuffer
from app.ui.chart.grid import Grid
from app.ui.chart.title import ChartTitle

PRICE_AXIS_WIDTH = 72
PRICE_SHARE = 3  # the price pane's weight against 1 for each indicator pane ...
PRICE_MIN_FRACTION = 0.5  # ... but never below half of the panes' height
TITLE_COLOUR = "#9fb0c3"


def pane_heights(available: float, panes: int) -> tuple[float, float]:
    """(price pane, each indicator pane) heights sharing ``available`` pixels (Qt-free)."""
    if panes <= 0:
        return max(0.0, available), 0.0
    price = max(available * PRICE_SHARE / (PRICE_SHARE + panes), available * PRICE_MIN_FRACTION)
    return price, max(0.0, (available - price) / panes)


def _plot(
    layout: pg.GraphicsLayout,
    row: int,
    buffer: BarBuffer,
    timeframe: Timeframe,
    time_axis: Callable[[], pg.AxisItem],
) -> pg.PlotItem:
    plot = pg.PlotItem(axisItems={"bottom": BarIndexAxis(buffer, timeframe), "right": ValueAxis()})
    layout.addItem(plot, row=row, col=0)
    plot.hideAxis("left")
    plot.showAxis("right")
    plot.getAxis("right").setWidth(PRICE_AXIS_WIDTH)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.vb.setMouseEnabled(x=True, y=False)
    plot.vb.enableAutoRange(x=False, y=False)
    plot.addItem(Grid(plot, time_axis), ignoreBounds=True)
    return plot


class PaneStack:
    """Owns the chart's rows in ``layout`` (a GraphicsLayout) and their heights."""

    def __init__(self, layout: pg.GraphicsLayout, buffer: BarBuffer, timeframe: Timeframe) -> None:
        self._layout = layout
        self._buffer = buffer
        self._timeframe = timeframe
        self._height = 0.0
        self.title = ChartTitle(TITLE_COLOUR, "9pt", on_height=lambda: self.fit(self._height))
        layout.addItem(self.title, row=0, col=0)
        self.price = _plot(layout, 1, buffer, timeframe, lambda: self.time_axis)
        self.panes: list[pg.PlotItem] = []
        self._place_axis()

    @property
    def plots(self) -> list[pg.PlotItem]:
        return [self.price, *self.panes]

    @property
    def time_axis(self) -> BarIndexAxis:
        """The time axis the trader sees: under the last pane."""
        axis: BarIndexAxis = self.plots[-1].getAxis("bottom")
        return axis

    @property
    def time_axes(self) -> list[BarIndexAxis]:
        return [plot.getAxis("bottom") for plot in self.plots]

    def add_pane(self) -> pg.PlotItem:
        """A new indicator pane at the bottom, sharing the price pane's x range."""
        timeframe = self.price.getAxis("bottom").timeframe
        pane = _plot(self._layout, 2 + len(self.panes), self._buffer, timeframe, lambda: self.time_axis)
        pane.setXLink(self.price)
        self.panes.append(pane)
        self._place_axis()
        return pane

    def clear_panes(self) -> None:
        for pane in self.panes:
            self._layout.removeItem(pane)
        self.panes.clear()
        self._place_axis()

    def _place_axis(self) -> None:
        for plot in self.plots:
            plot.showAxis("bottom", plot is self.plots[-1])
        self.fit(self._height)

    def fit(self, height: float) -> None:
        """Give the rows their heights for a chart ``height`` pixels high."""
        self._height = height
        if height <= 0 or not shiboken6.isValid(self._layout.layout):  # closing: the items are gone
            return
        if not hasattr(self, "price"):
            return  # still being built
        _left, top, _right, bottom = self._layout.layout.getContentsMargins()
        axis = self.time_axis.minimumHeight()
        fixed = self.title.minimumHeight() + axis + top + bottom
        price, pane = pane_heights(max(0.0, height - fixed), len(self.panes))
        last = self.plots[-1]
        self._fix(self.price, price + (axis if last is self.price else 0.0))
        for each in self.panes:
            self._fix(each, pane + (axis if each is last else 0.0))

    @staticmethod
    def _fix(plot: pg.PlotItem, height: float) -> None:
        plot.setMinimumHeight(height)
        plot.setMaximumHeight(height)
