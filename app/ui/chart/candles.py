"""The bars as one pyqtgraph GraphicsObject: finished bars cached, only the live bar redrawn.

It draws the chart type the trader picked: candlesticks, OHLC bars (high-low with the open ticked
left and the close right) or a line through the closes.

After vn.py's chart item. Finished bars are recorded into QPictures in chunks of ``CHUNK`` bars; a
frame replays only the chunks that intersect the view and draws the live (last) bar directly, so a
tick costs one candle, not five thousand. A bar closing invalidates one chunk; older history loaded
on the left rebuilds the cache once. Pens are cosmetic and one pixel wide (the fast path in Qt).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPicture
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from app.core.drawings import ChartType
from app.ui.chart.buffer import BarBuffer
from app.ui.theme import DOWN_COLOUR, UP_COLOUR

CHUNK = 256
BODY_HALF_WIDTH = 0.34
LINE_COLOUR = "#c9d1d9"  # the line chart's close line: neither up nor down


@dataclass
class Shapes:
    """What one colour of a stretch of bars is drawn with (also what a test reads back)."""

    lines: list[QLineF] = field(default_factory=list)
    rects: list[QRectF] = field(default_factory=list)
    polyline: list[QPointF] = field(default_factory=list)


class CandleItem(pg.GraphicsObject):
    """Draws the bars of a :class:`BarBuffer` (x = bar index, y = price)."""

    def __init__(self, buffer: BarBuffer, chart_type: ChartType = ChartType.CANDLES) -> None:
        super().__init__()
        self.buffer = buffer
        self.chart_type = chart_type
        self._chunks: dict[int, QPicture] = {}
        self._finished = 0
        self._bounds = QRectF()
        self._up_pen = pg.mkPen(UP_COLOUR, width=1)
        self._down_pen = pg.mkPen(DOWN_COLOUR, width=1)
        self._up_brush = QBrush(QColor(UP_COLOUR))
        self._down_brush = QBrush(QColor(DOWN_COLOUR))
        self._line_pen = pg.mkPen(LINE_COLOUR, width=1)
        self.paints = 0
        self.refresh()

    # ------------------------------------------------------------------ updates from the chart
    def refresh(self) -> None:
        """Call after the buffer changed: drops the stale chunks, updates bounds, schedules a repaint.

        Appending bars only makes the chunk holding the former live bar stale; prepending history
        renumbers every bar, which the chart reports with :meth:`reset_cache`."""
        finished = max(0, len(self.buffer) - 1)
        live_only = finished == self._finished
        if not live_only:
            first_stale = min(self._finished, finished) // CHUNK
            for key in [k for k in self._chunks if k >= first_stale]:
                del self._chunks[key]
            self._finished = finished
        bounds = self._compute_bounds()
        if bounds != self._bounds:
            self.prepareGeometryChange()
            self._bounds = bounds
            live_only = False
        if live_only:
            # only the live bar moved: repaint its column (and the line's last segment), not the chart
            self.update(QRectF(finished - 1.5, bounds.top(), 2 + 2 * BODY_HALF_WIDTH, bounds.height()))
        else:
            self.update()

    def set_chart_type(self, chart_type: ChartType) -> None:
        """Draw the bars as ``chart_type`` from now on (the cached drawing is thrown away)."""
        if chart_type is not self.chart_type:
            self.chart_type = chart_type
            self.reset_cache()

    def reset_cache(self) -> None:
        self._chunks.clear()
        self._finished = 0
        self.refresh()

    def _compute_bounds(self) -> QRectF:
        n = len(self.buffer)
        if not n:
            return QRectF()
        low = float(self.buffer.low.min())
        high = float(self.buffer.high.max())
        return QRectF(-0.5, low, n, max(high - low, 1e-12))

    # ------------------------------------------------------------------ QGraphicsItem
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(self._bounds)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        n = len(self.buffer)
        if not n:
            return
        self.paints += 1
        view = self.viewRect()
        x0, x1 = (view.left(), view.right()) if view is not None else (0.0, float(n))
        finished = n - 1  # the last bar is the live one
        first_chunk = max(0, int(np.floor(x0)) // CHUNK)
        last_chunk = min((finished - 1) // CHUNK, int(np.ceil(x1)) // CHUNK) if finished else -1
        for key in range(first_chunk, last_chunk + 1):
            picture = self._chunks.get(key)
            if picture is None:
                picture = self._record(key * CHUNK, min((key + 1) * CHUNK, finished))
                self._chunks[key] = picture
            picture.play(painter)
        if x0 - 1 <= finished <= x1 + 1:
            self._draw(painter, finished, finished + 1)

    def _record(self, start: int, stop: int) -> QPicture:
        picture = QPicture()
        painter = QPainter(picture)
        self._draw(painter, start, stop)
        painter.end()
        return picture

    def _draw(self, painter: QPainter, start: int, stop: int) -> None:
        for pen, brush, shapes in self.shapes(start, stop):
            painter.setPen(pen)
            if shapes.polyline:
                painter.drawPolyline(shapes.polyline)
            if shapes.lines:
                painter.drawLines(shapes.lines)
            if shapes.rects:
                painter.setBrush(brush)
                painter.drawRects(shapes.rects)

    def shapes(self, start: int, stop: int) -> list[tuple[QPen, QBrush, Shapes]]:
        """How bars ``start`` to ``stop`` are drawn in the current chart type, by colour."""
        b = self.buffer
        if self.chart_type is ChartType.LINE:
            first = max(0, start - 1)  # the segment from the bar before joins this stretch on
            closes = b.close[first:stop].tolist()
            points = [QPointF(float(x), c) for x, c in zip(range(first, stop), closes, strict=True)]
            return [(self._line_pen, QBrush(), Shapes(polyline=points))]
        o, h, low, c = b.open[start:stop], b.high[start:stop], b.low[start:stop], b.close[start:stop]
        xs = np.arange(start, stop, dtype=np.float64)
        up = c >= o
        drawn = []
        for mask, pen, brush in ((up, self._up_pen, self._up_brush), (~up, self._down_pen, self._down_brush)):
            if not mask.any():
                continue
            x, hi, lo, op, cl = xs[mask].tolist(), h[mask].tolist(), low[mask].tolist(), o[mask], c[mask]
            lines = [QLineF(QPointF(xi, a), QPointF(xi, z)) for xi, a, z in zip(x, lo, hi, strict=True)]
            if self.chart_type is ChartType.BARS:
                w = BODY_HALF_WIDTH
                lines += [QLineF(xi - w, y, xi, y) for xi, y in zip(x, op.tolist(), strict=True)]
                lines += [QLineF(xi, y, xi + w, y) for xi, y in zip(x, cl.tolist(), strict=True)]
                drawn.append((pen, brush, Shapes(lines=lines)))
                continue
            bottoms = np.minimum(op, cl).tolist()
            heights = np.abs(cl - op).tolist()
            rects = [
                QRectF(xi - BODY_HALF_WIDTH, bottom, 2 * BODY_HALF_WIDTH, height)
                for xi, bottom, height in zip(x, bottoms, heights, strict=True)
            ]
            drawn.append((pen, brush, Shapes(lines=lines, rects=rects)))
        return drawn
