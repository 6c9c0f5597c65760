"""What one chart shows: symbol, timeframe, bars, indicators, bid/ask and the account's trades on it.

The chart view draws this model and listens to its signals; the feed fills it from market data. Both
sides are small and testable apart: a test can build a model, push bar updates into it and look at
the view, with no terminal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.drawings import ChartType, Drawing
from app.core.indicators import IndicatorSpec
from app.models import BarSeries, Order, Position, Quote, Timeframe
from app.ui.bridge import BarBatch
from app.ui.chart.buffer import BarBuffer

log = logging.getLogger(__name__)


class ChartModel(QObject):
    reset = Signal()  # new history (symbol or timeframe changed, first load)
    prepended = Signal(int)  # older bars added on the left: indices moved right by this much
    updated = Signal(int)  # the live bar moved; the int is how many new bars were appended
    quote_changed = Signal()
    trades_changed = Signal()
    indicators_changed = Signal()
    timeframe_changed = Signal()  # the feed reloads
    older_wanted = Signal()  # the view scrolled near the oldest bar
    status_changed = Signal(str)  # "loading ...", an error, or "" when fine
    chart_type_changed = Signal()
    drawings_changed = Signal()

    def __init__(
        self,
        symbol: str,
        timeframe: Timeframe = Timeframe.H1,
        indicators: Iterable[IndicatorSpec] = (),
        digits: int = 5,
    ) -> None:
        super().__init__()
        self.symbol = symbol
        self.timeframe = timeframe
        self.digits = digits
        self.buffer = BarBuffer()
        self.indicators: list[IndicatorSpec] = list(indicators)
        self.bid = 0.0
        self.ask = 0.0
        self.last_tick_msc = 0  # server time of the newest tick shown (tick-to-screen latency)
        self.positions: tuple[Position, ...] = ()
        self.orders: tuple[Order, ...] = ()
        self.loading_older = False
        self.history_exhausted = False
        self.loaded = False
        self.chart_type = ChartType.CANDLES
        self.drawings: list[Drawing] = []

    @property
    def title(self) -> str:
        return f"{self.symbol}, {self.timeframe.name}"

    # ------------------------------------------------------------------ fed by the feed
    def set_history(self, series: BarSeries, digits: int | None = None) -> None:
        if digits is not None:
            self.digits = digits
        self.buffer.reset(series)
        self.history_exhausted = False
        self.loading_older = False
        self.loaded = True
        self.reset.emit()

    def prepend_history(self, series: BarSeries) -> int:
        self.loading_older = False
        added = self.buffer.prepend(series)
        if added == 0:
            self.history_exhausted = True
        else:
            self.prepended.emit(added)
        return added

    def apply_bars(self, batch: BarBatch) -> None:
        """A frame's bar updates for this chart (ignored until its history has loaded)."""
        if not self.loaded or not len(self.buffer):
            return
        appended = self.buffer.apply(batch.closed, batch.live)
        self.updated.emit(appended)

    def apply_quote(self, quote: Quote) -> None:
        self.bid, self.ask, self.digits = quote.bid, quote.ask, quote.digits
        self.last_tick_msc = quote.time_msc
        self.quote_changed.emit()

    def set_trades(self, positions: Iterable[Position], orders: Iterable[Order]) -> None:
        mine_p = tuple(p for p in positions if p.symbol == self.symbol)
        mine_o = tuple(o for o in orders if o.symbol == self.symbol)
        if (mine_p, mine_o) != (self.positions, self.orders):
            self.positions, self.orders = mine_p, mine_o
            self.trades_changed.emit()

    # ------------------------------------------------------------------ asked for by the trader
    def set_timeframe(self, timeframe: Timeframe) -> None:
        if timeframe is self.timeframe:
            return
        self.timeframe = timeframe
        self.loaded = False
        self.buffer.clear()  # the old timeframe's bars must not show as the new one's
        self.timeframe_changed.emit()

    def add_indicator(self, spec: IndicatorSpec) -> None:
        self.indicators.append(spec)
        self.indicators_changed.emit()

    def remove_indicator(self, index: int) -> None:
        del self.indicators[index]
        self.indicators_changed.emit()

    def set_chart_type(self, chart_type: ChartType) -> None:
        if chart_type is not self.chart_type:
            self.chart_type = chart_type
            self.chart_type_changed.emit()

    def add_drawing(self, drawing: Drawing) -> None:
        self.drawings.append(drawing)
        self.drawings_changed.emit()

    def replace_drawing(self, drawing: Drawing) -> None:
        """``drawing`` in place of the one with its id (moved by the trader)."""
        for i, old in enumerate(self.drawings):
            if old.id == drawing.id:
                if old != drawing:
                    self.drawings[i] = drawing
                    self.drawings_changed.emit()
                return

    def remove_drawing(self, drawing_id: str) -> None:
        kept = [d for d in self.drawings if d.id != drawing_id]
        if len(kept) != len(self.drawings):
            self.drawings = kept
            self.drawings_changed.emit()

    def clear_drawings(self) -> None:
        if self.drawings:
            self.drawings = []
            self.drawings_changed.emit()

    def restore_style(self, saved: Mapping[str, Any]) -> None:
        """The chart type and drawings of a saved chart (its layout entry). A drawing that cannot be
        read is left out with a line in the log; the others and the chart still come back."""
        try:
            self.set_chart_type(ChartType(str(saved.get("chart_type", ChartType.CANDLES.value))))
        except ValueError:
            log.warning("chart %s: chart type %r unknown, candlesticks", self.symbol, saved["chart_type"])
        drawings = saved.get("drawings", [])
        if not isinstance(drawings, list):
            log.warning("chart %s: saved drawings not a list, left out: %r", self.symbol, drawings)
            drawings = []
        for item in drawings:
            try:
                self.drawings.append(Drawing.from_json(item))
            except (KeyError, ValueError, TypeError) as exc:
                log.warning("chart %s: a saved drawing was left out (%s): %s", self.symbol, item, exc)
        self.drawings_changed.emit()

    def want_older(self) -> None:
        if self.loaded and not self.loading_older and not self.history_exhausted and not self.buffer.full:
            self.loading_older = True
            self.older_wanted.emit()

    def to_json(self) -> dict[str, object]:
        """What the layout file keeps of this chart."""
        return {
            "kind": "bars",
            "symbol": self.symbol,
            "timeframe": self.timeframe.name,
            "indicators": [spec.to_json() for spec in self.indicators],
            "chart_type": self.chart_type.value,
            "drawings": [drawing.to_json() for drawing in self.drawings],
        }
