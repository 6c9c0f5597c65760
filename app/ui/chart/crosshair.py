"""Crosshair over the price pane with a readout of the bar under it (time, O, H, L, C), the price at
the cursor tagged at the pane's right edge (by the price axis) and the bar's time at its foot (by
the time axis), as MT5 shows them.

Mouse moves are rate-limited to 60 per second; away from the chart the readout shows the live bar.
"""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QPointF, Qt

from app.models import Timeframe
from app.ui import formatting
from app.ui.chart.buffer import BarBuffer

CROSS_COLOUR = "#5c6b7e"


def bar_readout(buffer: BarBuffer, index: int, digits: int, timeframe: Timeframe = Timeframe.M1) -> str:
    """``2026.11.18 09:00  O 1.08123  H ...  L ...  C ...`` for the bar at ``index`` (a daily or
    longer bar by its date alone: it has no time of day)."""
    if not 0 <= index < len(buffer):
        return ""
    bar = buffer.bar(index)
    p = lambda v: formatting.price(v, digits)  # noqa: E731
    prices = f"O {p(bar.open)}  H {p(bar.high)}  L {p(bar.low)}  C {p(bar.close)}"
    when = formatting.epoch_date(bar.time) if timeframe >= Timeframe.D1 else formatting.epoch_time(bar.time)
    return f"{when}  {prices}"


class Crosshair:
    def __init__(
        self,
        plot: pg.PlotItem,
        buffer: BarBuffer,
        digits: Callable[[], int],
        on_readout: Callable[[str], None],
        timeframe: Callable[[], Timeframe] = lambda: Timeframe.M1,
    ) -> None:
        self._plot = plot
        self._buffer = buffer
        self._digits = digits
        self._timeframe = timeframe
        self._on_readout = on_readout
        pen = pg.mkPen(CROSS_COLOUR, width=1, style=Qt.PenStyle.DotLine)
        self.vline = pg.InfiniteLine(angle=90, movable=False, pen=pen)
        self.hline = pg.InfiniteLine(angle=0, movable=False, pen=pen)
        for line in (self.vline, self.hline):
            line.setZValue(30)
            line.hide()
            plot.addItem(line, ignoreBounds=True)
        tag = pg.mkBrush("#2d3a4b")
        self.price_tag = pg.TextItem("", color="#e6edf3", fill=tag, anchor=(1, 0.5))
        self.time_tag = pg.TextItem("", color="#e6edf3", fill=tag, anchor=(0.5, 1))
        for item in (self.price_tag, self.time_tag):
            item.setZValue(31)
            item.hide()
            plot.addItem(item, ignoreBounds=True)
        self.index: int | None = None
        self._pen = pen
        self._followers: list[pg.InfiniteLine] = []
        self._proxy = pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=60, slot=self._moved)

    def follower(self) -> pg.InfiniteLine:
        """A vertical line for an indicator pane that moves with this crosshair."""
        line = pg.InfiniteLine(angle=90, movable=False, pen=self._pen)
        line.setZValue(30)
        line.hide()
        self._followers = [f for f in self._followers if shiboken6.isValid(f)] + [line]
        return line

    def move_followers(self) -> None:
        for line in self._followers:
            if not shiboken6.isValid(line):
                continue
            if self.index is None:
                line.hide()
            else:
                line.setPos(self.index)
                line.show()

    def _moved(self, args: tuple[QPointF]) -> None:
        pos = args[0]
        view = self._plot.vb
        if not self._plot.sceneBoundingRect().contains(pos):
            self.leave()
            return
        point = view.mapSceneToView(pos)
        self.move_to(point.x(), point.y())

    def move_to(self, x: float, y: float) -> None:
        index = int(round(x))
        self.vline.setPos(index)
        self.hline.setPos(y)
        self.vline.show()
        self.hline.show()
        self.index = index
        (x0, x1), (y0, _y1) = self._plot.vb.viewRange()
        self.price_tag.setText(formatting.price(y, self._digits()))
        self.price_tag.setPos(x1, y)
        self.price_tag.show()
        if 0 <= index < len(self._buffer):
            when = self._buffer.bar(index).time
            daily = self._timeframe() >= Timeframe.D1
            self.time_tag.setText(formatting.epoch_date(when) if daily else formatting.epoch_time(when))
            self.time_tag.setPos(index, y0)
            self.time_tag.show()
        else:
            self.time_tag.hide()
        self._on_readout(self.readout())

    def readout(self) -> str:
        """The readout of the bar under the crosshair ("" when it is away or on no bar)."""
        if self.index is None:
            return ""
        return bar_readout(self._buffer, self.index, self._digits(), self._timeframe())

    def leave(self) -> None:
        if self.index is None:
            return
        self.index = None
        for item in (self.vline, self.hline, self.price_tag, self.time_tag):
            item.hide()
        self._on_readout("")
