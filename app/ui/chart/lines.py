"""Horizontal price lines on a chart: bid and ask, open positions with their SL/TP, pending orders.

Lines are kept by key and moved or relabelled in place when the account refreshes, so a refresh
twice a second costs no item churn. Labels carry the ticket so a line can be matched to the Trade tab.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from app.models import Order, Position, Side
from app.ui import formatting
from app.ui.theme import ACCENT_COLOUR, DOWN_COLOUR, UP_COLOUR

BID_COLOUR = "#8b96a5"
ASK_COLOUR = "#d4625f"
ORDER_COLOUR = "#f0a04b"
TAG_MARGIN_PX = 40  # how far from its line a price tag may be drawn (kept inside the pane)


@dataclass(frozen=True, slots=True)
class LineSpec:
    price: float
    text: str
    colour: str
    dashed: bool = False
    position: float = 0.06  # along the line, 0 = left edge of the view


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


LineCallback = Callable[[Hashable, float], None]


class PriceLines:
    """Keeps the plot's horizontal lines equal to a set of :class:`LineSpec` by key.

    Lines whose key ``draggable`` accepts can be dragged with the mouse: ``on_drag`` hears each move,
    ``on_drop`` the release (the owner then asks for the modify); the line stays where it was dropped
    until the account shows the change, or :meth:`snap_back` puts it back.
    """

    def __init__(
        self,
        plot: pg.PlotItem,
        draggable: Callable[[Hashable], bool] = lambda _key: False,
        on_drag: LineCallback | None = None,
        on_drop: LineCallback | None = None,
    ) -> None:
        self._plot = plot
        self._lines: dict[Hashable, tuple[pg.InfiniteLine, LineSpec]] = {}
        self._draggable = draggable
        self._on_drag = on_drag
        self._on_drop = on_drop
        self._tagged: set[Hashable] = set()  # lines whose label shows a drag's tag

    def keys(self) -> list[Hashable]:
        return list(self._lines)

    def text(self, key: Hashable) -> str:
        return self._lines[key][1].text

    def label(self, key: Hashable) -> pg.InfLineLabel:
        return self._lines[key][0].label

    def line(self, key: Hashable) -> pg.InfiniteLine:
        return self._lines[key][0]

    def set(self, wanted: dict[Hashable, LineSpec]) -> None:
        for key in [k for k in self._lines if k not in wanted]:
            line, _ = self._lines.pop(key)
            self._plot.removeItem(line)
        for key, spec in wanted.items():
            current = self._lines.get(key)
            if current is None:
                line = self._make(key, spec)
                self._plot.addItem(line, ignoreBounds=True)
                self._lines[key] = (line, spec)
            elif current[1] != spec:
                line = current[0]
                if current[1].text != spec.text or key in self._tagged:
                    self._tagged.discard(key)
                    line.label.setFormat(spec.text)
                line.setPos(spec.price)
                self._lines[key] = (line, spec)

    def show_tag(self, key: Hashable, text: str) -> None:
        """While dragging: the line's label says what the drop would do."""
        self._lines[key][0].label.setFormat(text)
        self._tagged.add(key)

    def snap_back(self, key: Hashable) -> None:
        """The line back at its price with its own label (a drop cancelled or refused)."""
        current = self._lines.get(key)
        if current is not None:
            line, spec = current
            self._tagged.discard(key)
            line.label.setFormat(spec.text)
            line.setPos(spec.price)

    def _make(self, key: Hashable, spec: LineSpec) -> pg.InfiniteLine:
        style = Qt.PenStyle.DashLine if spec.dashed else Qt.PenStyle.SolidLine
        pen = pg.mkPen(spec.colour, width=1, style=style)
        movable = self._draggable(key)
        line = pg.InfiniteLine(
            pos=spec.price,
            angle=0,
            pen=pen,
            movable=movable,
            hoverPen=pg.mkPen(spec.colour, width=3, style=style) if movable else None,
            label=spec.text,
            labelOpts={
                "position": spec.position,
                "color": "#e6edf3",
                "fill": pg.mkBrush(spec.colour + "cc"),
                # Which corner sits on the line: in the view's upper half the label hangs below the
                # line, in the lower half it stands on it, so a line near an edge keeps its label
                # inside the pane (pyqtgraph picks between the two as the view moves).
                "anchors": [(0.0, 0.0), (0.0, 1.0)],
            },
        )
        line.setZValue(20)
        if movable:
            line.setCursor(Qt.CursorShape.SizeVerCursor)
            if self._on_drag is not None:
                on_drag = self._on_drag
                line.sigDragged.connect(lambda item, k=key: on_drag(k, float(item.value())))
            if self._on_drop is not None:
                on_drop = self._on_drop
                line.sigPositionChangeFinished.connect(lambda item, k=key: on_drop(k, float(item.value())))
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
        self.drawn_tags: list[tuple[str, QRectF]] = []  # the last paint's price tags (device pixels)
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

    def _tags(
        self, metrics: QFontMetrics, height: float, right: float, ask_y: float, bid_y: float, pane: QRectF
    ) -> tuple[QRectF | None, QRectF | None]:
        """Where the ask tag (above its line) and the bid tag (below its line) go: inside the pane
        when their line is in it (a tag at the pane's edge is moved in, never cut), apart from each
        other; none for a line outside the pane."""

        def tag(price: float, y: float, above: bool) -> QRectF | None:
            if not pane.top() <= y <= pane.bottom():
                return None
            width = metrics.horizontalAdvance(formatting.price(price, self.digits)) + 8
            rect = QRectF(right - width, y - height if above else y, width, height)
            if rect.top() < pane.top():
                rect.moveTop(pane.top())
            if rect.bottom() > pane.bottom():
                rect.moveBottom(pane.bottom())
            return rect

        ask, bid = tag(self.ask, ask_y, True), tag(self.bid, bid_y, False)
        if ask is not None and bid is not None and ask.bottom() > bid.top():  # pushed together
            if bid.top() - height >= pane.top():
                ask.moveBottom(bid.top())
            else:
                bid.moveTop(ask.bottom())
        return ask, bid

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
        pane = to_device.mapRect(view)
        ask_y = to_device.map(QPointF(view.right(), self.ask)).y()
        bid_y = to_device.map(QPointF(view.right(), self.bid)).y()
        right_x = to_device.map(QPointF(view.right(), self.ask)).x()
        ask_tag, bid_tag = self._tags(metrics, height, right_x, ask_y, bid_y, pane)
        self.drawn_tags = []
        for price, y, pen, fill, tag in (
            (self.ask, ask_y, self._ask_pen, self._ask_fill, ask_tag),
            (self.bid, bid_y, self._bid_pen, self._bid_fill, bid_tag),
        ):
            painter.setPen(pen)
            painter.drawLine(QPointF(pane.left(), y), QPointF(pane.right(), y))
            if tag is None:
                continue
            text = formatting.price(price, self.digits)
            painter.fillRect(tag, fill)
            painter.setPen(self._text_pen)
            painter.drawText(tag, int(Qt.AlignmentFlag.AlignCenter), text)
            self.drawn_tags.append((text, tag))
        painter.restore()


__all__ = ["ACCENT_COLOUR", "LineSpec", "PriceLines", "QuoteLines", "trade_lines"]
