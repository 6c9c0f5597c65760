"""Horizontal price lines on a chart: bid and ask, open positions with their SL/TP, pending orders.

Lines are kept by key and moved or relabelled in place when the account refreshes, so a refresh
twice a second costs no item churn. Labels carry the ticket so a line can be matched to the Trade tab.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from app.models import Order, Position, Side
from app.ui import formatting
from app.ui.theme import ACCENT_COLOUR, DOWN_COLOUR, UP_COLOUR

BID_COLOUR = "#8b96a5"
ASK_COLOUR = "#d4625f"
ORDER_COLOUR = "#f0a04b"
TAG_MARGIN_PX = 24


@dataclass(frozen=True, slots=True)
class LineSpec:
    price: float
    text: str
    colour: str
    dashed: bool = False
    position: float = 0.06  # along the line, 0 = left edge of the view
    anchor: tuple[float, float] = (0.0, 1.0)  # which corner of the label sits on the line


def trade_lines(
    positions: tuple[Position, ...], orders: tuple[Order, ...], digits: int
) -> dict[Hashable, LineSpec]:
    """The lines the account's trades on one symbol call for (Qt-free: tested on its own)."""
    lines: dict[Hashable, LineSpec] = {}
    for p in positions:
        colour = UP_COLOUR if p.side is Side.BUY else DOWN_COLOUR
        lines[("pos", p.ticket)] = LineSpec(
            p.price_open, f"#{p.ticket} {p.side.value} {formatting.volume(p.volume)}", colour
        )
        if p.sl:
            lines[("sl", p.ticket)] = LineSpec(
                p.sl, f"SL #{p.ticket}", DOWN_COLOUR, dashed=True, position=0.2
            )
        if p.tp:
            lines[("tp", p.ticket)] = LineSpec(p.tp, f"TP #{p.ticket}", UP_COLOUR, dashed=True, position=0.2)
    for o in orders:
        kind = o.type.value.replace("_", " ")
        lines[("order", o.ticket)] = LineSpec(
            o.price_open,
            f"#{o.ticket} {kind} {formatting.volume(o.volume_current)}"
            f" at {formatting.price(o.price_open, digits)}",
            ORDER_COLOUR,
            dashed=True,
        )
        if o.sl:
            lines[("osl", o.ticket)] = LineSpec(
                o.sl, f"SL #{o.ticket}", DOWN_COLOUR, dashed=True, position=0.2
            )
        if o.tp:
            lines[("otp", o.ticket)] = LineSpec(o.tp, f"TP #{o.ticket}", UP_COLOUR, dashed=True, position=0.2)
    return lines


class PriceLines:
    """Keeps the plot's horizontal lines equal to a set of :class:`LineSpec` by key."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self._plot = plot
        self._lines: dict[Hashable, tuple[pg.InfiniteLine, LineSpec]] = {}

    def keys(self) -> list[Hashable]:
        return list(self._lines)

    def text(self, key: Hashable) -> str:
        return self._lines[key][1].text

    def set(self, wanted: dict[Hashable, LineSpec]) -> None:
        for key in [k for k in self._lines if k not in wanted]:
            line, _ = self._lines.pop(key)
            self._plot.removeItem(line)
        for key, spec in wanted.items():
            current = self._lines.get(key)
            if current is None:
                line = self._make(spec)
                self._plot.addItem(line, ignoreBounds=True)
                self._lines[key] = (line, spec)
            elif current[1] != spec:
                line = current[0]
                if current[1].text != spec.text:
                    line.label.setFormat(spec.text)
                line.setPos(spec.price)
                self._lines[key] = (line, spec)

    @staticmethod
    def _make(spec: LineSpec) -> pg.InfiniteLine:
        style = Qt.PenStyle.DashLine if spec.dashed else Qt.PenStyle.SolidLine
        pen = pg.mkPen(spec.colour, width=1, style=style)
        line = pg.InfiniteLine(
            pos=spec.price,
            angle=0,
            pen=pen,
            movable=False,
            label=spec.text,
            labelOpts={
                "position": spec.position,
                "color": "#e6edf3",
                "fill": pg.mkBrush(spec.colour + "cc"),
                "anchors": [spec.anchor, spec.anchor],
            },
        )
        line.setZValue(20)
        return line


class QuoteLines(pg.GraphicsObject):
    """Bid and ask lines with their prices tagged at the right edge, drawn directly in ``paint``.

    They move with every frame of a storm, so they avoid pyqtgraph's labelled InfiniteLine (text
    layout on every move cost ~0.7 ms a frame per chart): two lines and two tags are drawn in
    device pixels, which costs a few microseconds.
    """

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__()
        self.bid = 0.0
        self.ask = 0.0
        self.digits = 5
        self._bid_pen = pg.mkPen(BID_COLOUR, width=1)
        self._ask_pen = pg.mkPen(ASK_COLOUR, width=1)
        self._bid_fill = QColor(BID_COLOUR)
        self._ask_fill = QColor(ASK_COLOUR)
        self._text_pen = QPen(QColor("#0d1117"))
        self.setZValue(25)
        plot.addItem(self, ignoreBounds=True)

    def show_quote(self, bid: float, ask: float, digits: int) -> None:
        if (bid, ask, digits) == (self.bid, self.ask, self.digits):
            return
        old = (self.bid, self.ask)
        self.bid, self.ask, self.digits = bid, ask, digits
        view = self.viewRect()
        pixel = self.pixelHeight() if view is not None else 0.0
        if view is None or not pixel or digits != self.digits:
            self.update()
            return
        margin = TAG_MARGIN_PX * abs(pixel)  # the price tags stand out of the line by their height
        for price in {*old, bid, ask}:
            if price:
                self.update(QRectF(view.left(), price - margin, view.width(), 2 * margin))

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        view = self.viewRect()
        return QRectF() if view is None else QRectF(view)

    def viewRangeChanged(self) -> None:  # noqa: N802 - pyqtgraph hook
        self.prepareGeometryChange()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        view = self.viewRect()
        if view is None or not self.bid:
            return
        to_device = painter.transform()
        painter.save()
        painter.resetTransform()
        metrics = painter.fontMetrics()
        height = metrics.height() + 2
        for price, pen, fill, above in (
            (self.ask, self._ask_pen, self._ask_fill, True),
            (self.bid, self._bid_pen, self._bid_fill, False),
        ):
            left = to_device.map(QPointF(view.left(), price))
            right = to_device.map(QPointF(view.right(), price))
            painter.setPen(pen)
            painter.drawLine(left, right)
            text = formatting.price(price, self.digits)
            width = metrics.horizontalAdvance(text) + 8
            tag = QRectF(right.x() - width, right.y() - height if above else right.y(), width, height)
            painter.fillRect(tag, fill)
            painter.setPen(self._text_pen)
            painter.drawText(tag, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()


__all__ = ["ACCENT_COLOUR", "LineSpec", "PriceLines", "QuoteLines", "trade_lines"]
