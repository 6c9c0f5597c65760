"""Candlesticks as one pyqtgraph GraphicsObject: finished bars cached, only the live bar redrawn.

After vn.py's chart item. Finished bars are recorded into QPictures in chunks of ``CHUNK`` bars; a
frame replays only the chunks that intersect the view and draws the live (last) bar directly, so a
tick costs one candle, not five thousand. A bar closing invalidates one chunk; older history loaded
on the left rebuilds the cache once. Pens are cosmetic and one pixel wide (the fast path in Qt).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QPainter, QPicture
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from app.ui.chart.buffer import BarBuffer
from app.ui.theme import DOWN_COLOUR, UP_COLOUR

CHUNK = 256
BODY_HALF_WIDTH = 0.34


class CandleItem(pg.GraphicsObject):
    """Draws the bars of a :class:`BarBuffer` (x = bar index, y = price)."""

    def __init__(self, buffer: BarBuffer) -> None:
        super().__init__()
        self.buffer = buffer
        self._chunks: dict[int, QPicture] = {}
        self._finished = 0
        self._bounds = QRectF()
        self._up_pen = pg.mkPen(UP_COLOUR, width=1)
        self._down_pen = pg.mkPen(DOWN_COLOUR, width=1)
        self._up_brush = QBrush(QColor(UP_COLOUR))
        self._down_brush = QBrush(QColor(DOWN_COLOUR))
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
            # only the live candle moved: repaint its column, not the whole chart
            self.update(
                QRectF(
                    finished - 0.5 - BODY_HALF_WIDTH, bounds.top(), 1 + 2 * BODY_HALF_WIDTH, bounds.height()
                )
            )
        else:
            self.update()

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
        b = self.buffer
        o, h, low, c = b.open[start:stop], b.high[start:stop], b.low[start:stop], b.close[start:stop]
        xs = np.arange(start, stop, dtype=np.float64)
        up = c >= o
        for mask, pen, brush in ((up, self._up_pen, self._up_brush), (~up, self._down_pen, self._down_brush)):
            if not mask.any():
                continue
            painter.setPen(pen)
            painter.setBrush(brush)
            x, hi, lo, op, cl = xs[mask], h[mask], low[mask], o[mask], c[mask]
            painter.drawLines(
                [
                    QLineF(QPointF(xi, a), QPointF(xi, z))
                    for xi, a, z in zip(x.tolist(), lo.tolist(), hi.tolist(), strict=True)
                ]
            )
            bottoms = np.minimum(op, cl)
            heights = np.abs(cl - op)
            painter.drawRects(
                [
                    QRectF(xi - BODY_HALF_WIDTH, bottom, 2 * BODY_HALF_WIDTH, height)
                    for xi, bottom, height in zip(x.tolist(), bottoms.tolist(), heights.tolist(), strict=True)
                ]
            )
