"""A light grid for the price panes, drawn directly (not through pyqtgraph's axis grid).

pyqtgraph draws its grid inside the axis items, whose cached pictures span the whole plot; replaying
them cost ~6 ms per axis and frame here, more than everything else on the chart together. This item
draws the same lines (the axes' two coarser tick levels) as one ``drawLines`` call with a one-pixel
opaque cosmetic pen, which costs a fraction of a millisecond.
"""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

GRID_COLOUR = "#1c2430"


class Grid(pg.GraphicsObject):
    def __init__(self, plot: pg.PlotItem, time_axis: Callable[[], pg.AxisItem] | None = None) -> None:
        """``time_axis`` gives the axis whose ticks make the vertical lines (the plot's own bottom
        axis when None; a chart's panes share the time axis under the last of them)."""
        super().__init__()
        self._plot = plot
        self._time_axis = time_axis
        self._pen = pg.mkPen(GRID_COLOUR, width=1)
        self._lines: list[QLineF] = []
        self._for: tuple[float, ...] = ()
        self.setZValue(-100)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        view = self.viewRect()
        return QRectF() if view is None else QRectF(view)

    def viewRangeChanged(self) -> None:  # noqa: N802 - pyqtgraph hook
        self.prepareGeometryChange()
        self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        view = self.viewRect()
        if view is None or view.width() <= 0 or view.height() <= 0:
            return
        (x0, x1), (y0, y1) = (view.left(), view.right()), (view.top(), view.bottom())
        bottom = self._time_axis() if self._time_axis is not None else self._plot.getAxis("bottom")
        right = self._plot.getAxis("right")
        width = max(1.0, bottom.geometry().width())
        height = max(1.0, right.geometry().height())
        key = (x0, x1, y0, y1, width, height)
        if key != self._for:  # the lines change only when the view range or size does
            lines: list[QLineF] = []
            for _spacing, values in bottom.tickValues(x0, x1, width)[:2]:
                lines.extend(QLineF(QPointF(x, y0), QPointF(x, y1)) for x in values)
            for _spacing, values in right.tickValues(min(y0, y1), max(y0, y1), height)[:2]:
                lines.extend(QLineF(QPointF(x0, y), QPointF(x1, y)) for y in values)
            self._lines, self._for = lines, key
        painter.setPen(self._pen)
        painter.drawLines(self._lines)
