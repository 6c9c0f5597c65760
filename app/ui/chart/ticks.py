"""The tick chart: bid and ask of the newest ticks of one symbol, one point per tick.

Ticks go into a preallocated ring (written twice, so the newest ``capacity`` ticks are always one
contiguous slice, no copy) and the two curves are reset from it once per frame.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from app.models import TickBatch
from app.ui.chart.lines import ASK_COLOUR, BID_COLOUR, QuoteLines

CAPACITY = 2_000


class TickRing:
    """The newest ``capacity`` ticks (sequence number, bid, ask) in fixed memory (Qt-free)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._data = np.zeros((3, 2 * capacity), dtype=np.float64)
        self._end = 0  # write position in the first half
        self.count = 0  # ticks ever added

    def add(self, batch: TickBatch) -> None:
        bid, ask = batch.bid[-self.capacity :], batch.ask[-self.capacity :]
        skipped = len(batch) - len(bid)
        for i in range(len(bid)):
            seq = self.count + skipped + i
            pos = self._end
            self._data[:, pos] = self._data[:, pos + self.capacity] = (seq, bid[i], ask[i])
            self._end = (self._end + 1) % self.capacity
        self.count += len(batch)

    def view(self) -> np.ndarray:
        """(3, n) slice oldest → newest: sequence, bid, ask."""
        n = min(self.count, self.capacity)
        start = self._end + self.capacity - n
        return self._data[:, start : start + n]


class TickChart(pg.PlotWidget):
    def __init__(self, symbol: str, digits: int = 5, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TickChart")
        self.symbol = symbol
        self.digits = digits
        self.ring = TickRing()
        plot = self.getPlotItem()
        plot.hideAxis("left")
        plot.showAxis("right")
        plot.getAxis("right").setWidth(72)
        plot.showGrid(x=True, y=True, alpha=0.12)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setTitle(f"<span style='color:#9fb0c3'><b>{symbol}</b>, ticks</span>", size="9pt")
        self.bid_curve = pg.PlotDataItem(pen=pg.mkPen(BID_COLOUR, width=1), skipFiniteCheck=True)
        self.ask_curve = pg.PlotDataItem(pen=pg.mkPen(ASK_COLOUR, width=1), skipFiniteCheck=True)
        for curve in (self.bid_curve, self.ask_curve):
            curve.setClipToView(True)
            plot.addItem(curve)
        self.quote_lines = QuoteLines(plot)

    def apply(self, batches: Iterable[TickBatch]) -> None:
        added = False
        for batch in batches:
            if len(batch):
                self.ring.add(batch)
                added = True
        if not added:
            return
        data = self.ring.view()
        self.bid_curve.setData(data[0], data[1])
        self.ask_curve.setData(data[0], data[2])
        self.quote_lines.show_quote(float(data[1, -1]), float(data[2, -1]), self.digits)

    def to_json(self) -> dict[str, object]:
        return {"kind": "ticks", "symbol": self.symbol}
