"""The trader's drawings on the price pane, painted in one item in device pixels.

One GraphicsObject for every drawing (as the bid/ask lines are drawn) rather than an item each: no
item churn when drawings change, a few microseconds a frame, and hit testing in pixels, which is
what a mouse means by "on the line". Where a drawing goes is asked of ``x_of`` (time to bar x), so
the same drawing lands on the same time in any timeframe.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from app.core.drawings import Drawing, DrawingKind
from app.ui import formatting

DRAWING_COLOUR = "#e3b341"
HIT_PX = 6  # how near the mouse must be to a line (or a trend line's end) to take it
HANDLE_PX = 3

XOfTime = Callable[[int], float | None]
Segment = tuple[QPointF, QPointF]


def distance_to_segment(p: QPointF, a: QPointF, b: QPointF) -> float:
    """Pixels from ``p`` to the segment ``a``-``b``."""
    dx, dy = b.x() - a.x(), b.y() - a.y()
    length = dx * dx + dy * dy
    t = 0.0 if not length else max(0.0, min(1.0, ((p.x() - a.x()) * dx + (p.y() - a.y()) * dy) / length))
    return math.hypot(p.x() - (a.x() + t * dx), p.y() - (a.y() + t * dy))


class DrawingsItem(pg.GraphicsObject):
    def __init__(self, plot: pg.PlotItem, x_of: XOfTime, digits: Callable[[], int]) -> None:
        super().__init__()
        self._plot = plot
        self._x_of = x_of
        self._digits = digits
        self.drawings: list[Drawing] = []
        self.preview: Drawing | None = None  # being dragged or placed: drawn instead of its saved self
        self.selected: str | None = None
        self._pen = QPen(QColor(DRAWING_COLOUR), 1)
        self._pen.setCosmetic(True)
        self._selected_pen = QPen(QColor(DRAWING_COLOUR), 2)
        self._selected_pen.setCosmetic(True)
        self._tag_fill = QColor(13, 17, 23, 200)
        self.setZValue(22)
        plot.addItem(self, ignoreBounds=True)

    def set_drawings(self, drawings: list[Drawing]) -> None:
        self.drawings = list(drawings)
        if self.selected not in {d.id for d in self.drawings}:
            self.selected = None
        self.update()

    def shown(self) -> list[Drawing]:
        """The drawings as they are on screen now (the one being dragged where the mouse has it)."""
        preview = self.preview
        if preview is None:
            return list(self.drawings)
        out = [preview if d.id == preview.id else d for d in self.drawings]
        return out if any(d.id == preview.id for d in self.drawings) else [*out, preview]

    # ------------------------------------------------------------------ geometry in scene pixels
    def segment(self, drawing: Drawing) -> Segment | None:
        """Where ``drawing`` runs, in scene coordinates (None: not placeable, e.g. no bars yet)."""
        vb = self._plot.vb
        (x0, x1), (y0, y1) = vb.viewRange()
        if drawing.kind is DrawingKind.HORIZONTAL:
            p = drawing.a.price
            return vb.mapViewToScene(QPointF(x0, p)), vb.mapViewToScene(QPointF(x1, p))
        xa = self._x_of(drawing.a.time)
        if xa is None:
            return None
        if drawing.kind is DrawingKind.VERTICAL:
            return vb.mapViewToScene(QPointF(xa, y0)), vb.mapViewToScene(QPointF(xa, y1))
        assert drawing.b is not None  # noqa: S101 - a trend line has two anchors
        xb = self._x_of(drawing.b.time)
        if xb is None:
            return None
        a, b = QPointF(xa, drawing.a.price), QPointF(xb, drawing.b.price)
        return vb.mapViewToScene(a), vb.mapViewToScene(b)

    def hit(self, scene: QPointF) -> tuple[Drawing, int | None] | None:
        """The drawing under ``scene`` (the nearest within :data:`HIT_PX`) and, for a trend line
        taken by one end, which end (0 or 1); None when the mouse is on no drawing."""
        best: tuple[float, Drawing, int | None] | None = None
        for drawing in self.drawings:
            segment = self.segment(drawing)
            if segment is None:
                continue
            end: int | None = None
            if drawing.kind is DrawingKind.TREND:
                ends = [math.hypot(scene.x() - e.x(), scene.y() - e.y()) for e in segment]
                if min(ends) <= HIT_PX:
                    end = ends.index(min(ends))
            distance = distance_to_segment(scene, *segment)
            if distance <= HIT_PX and (best is None or distance < best[0]):
                best = (distance, drawing, end)
        return None if best is None else (best[1], best[2])

    # ------------------------------------------------------------------ QGraphicsItem
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        view = self.viewRect()
        return QRectF() if view is None else QRectF(view)

    def viewRangeChanged(self) -> None:  # noqa: N802 - pyqtgraph hook
        self.prepareGeometryChange()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        drawings = self.shown()
        if not drawings:
            return
        view = self.viewRect()
        if view is None:
            return
        from_scene = self.sceneTransform().inverted()[0]
        to_device = painter.transform()
        painter.save()
        painter.resetTransform()
        pane = to_device.mapRect(view)
        painter.setClipRect(pane)
        for drawing in drawings:
            segment = self.segment(drawing)
            if segment is None:
                continue
            a, b = (to_device.map(from_scene.map(p)) for p in segment)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, drawing.kind is DrawingKind.TREND)
            selected = drawing.id == self.selected or drawing is self.preview
            painter.setPen(self._selected_pen if selected else self._pen)
            painter.drawLine(a, b)
            if drawing.kind is DrawingKind.HORIZONTAL:  # its price, on a dark tag over the bars
                text = formatting.price(drawing.a.price, self._digits())
                metrics = painter.fontMetrics()
                tag = QRectF(
                    pane.left() + 2,
                    a.y() - metrics.height() - 1,
                    metrics.horizontalAdvance(text) + 6,
                    metrics.height(),
                )
                painter.fillRect(tag, self._tag_fill)
                painter.drawText(tag, int(Qt.AlignmentFlag.AlignCenter), text)
            if selected and drawing.kind is DrawingKind.TREND:
                painter.setBrush(QColor(DRAWING_COLOUR))
                for end in (a, b):
                    side = 2 * HANDLE_PX
                    painter.drawRect(QRectF(end.x() - HANDLE_PX, end.y() - HANDLE_PX, side, side))
                painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.restore()
