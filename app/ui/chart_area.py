"""The central area: several charts at once (tabbed or tiled MDI windows) and what feeds them.

It owns each chart's model, feed and window, routes a frame's bars, quotes, ticks and trades to the
charts they concern, and describes the open charts for the layout file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMdiArea, QMdiSubWindow, QTabBar, QTabWidget, QWidget

from app.core.indicators import IndicatorSpec
from app.core.market_data import MarketData
from app.models import Order, Position, Quote, TickBatch, Timeframe
from app.ui.bridge import BarBatch, BarKey
from app.ui.chart.chart_trading import ChartTrading
from app.ui.chart.feed import ChartFeed
from app.ui.chart.model import ChartModel
from app.ui.chart.ticks import TickChart
from app.ui.chart.window import ChartWindow
from app.ui.tasks import TaskRunner

log = logging.getLogger(__name__)


class ChartSubWindow(QMdiSubWindow):
    """An MDI window that says when it closes (``destroyed`` comes too late to touch anything)."""

    closing = Signal()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        super().closeEvent(event)
        if event.isAccepted():
            self.closing.emit()


class ChartArea(QMdiArea):
    order_requested = Signal(str)
    order_at_price = Signal(str, object, float)  # symbol, OrderType, price (a chart's menu)
    alert_at_price = Signal(str, object, float)  # symbol, AlertCondition, price (a chart's menu)
    charts_changed = Signal()

    def __init__(
        self,
        market_data: MarketData,
        tasks: TaskRunner,
        parent: QWidget | None = None,
        trading: ChartTrading | None = None,
    ) -> None:
        super().__init__(parent)
        self.trading = trading  # charts trade (one-click, dragged lines) through it
        self.setObjectName("ChartArea")
        self._market = market_data
        self._tasks = tasks
        self.feeds: dict[ChartWindow, ChartFeed] = {}
        self.tick_charts: list[TickChart] = []
        self._positions: tuple[Position, ...] = ()
        self._orders: tuple[Order, ...] = ()
        self.bars_per_chart = 5_000
        self.set_tabbed(True)

    # ------------------------------------------------------------------ windows
    def set_tabbed(self, tabbed: bool) -> None:
        if tabbed:
            self.setViewMode(QMdiArea.ViewMode.TabbedView)
            self.setTabsClosable(True)
            self.setTabsMovable(True)
            self.setTabPosition(QTabWidget.TabPosition.South)
            self.setDocumentMode(True)
            self._tidy_tabs()
        else:
            self.setViewMode(QMdiArea.ViewMode.SubWindowView)

    def _tidy_tabs(self) -> None:
        """Tabs as wide as their titles, on the left (the MDI tab bar stretches them by default)."""
        for bar in self.findChildren(QTabBar):
            bar.setExpanding(False)
            bar.setElideMode(Qt.TextElideMode.ElideNone)

    @property
    def tabbed(self) -> bool:
        return self.viewMode() is QMdiArea.ViewMode.TabbedView

    def tile(self) -> None:
        self.set_tabbed(False)
        self.tileSubWindows()

    def cascade(self) -> None:
        self.set_tabbed(False)
        self.cascadeSubWindows()

    @property
    def charts(self) -> list[ChartWindow]:
        return [w for w in (s.widget() for s in self.subWindowList()) if isinstance(w, ChartWindow)]

    def current_chart(self) -> ChartWindow | None:
        sub = self.currentSubWindow()
        widget = sub.widget() if sub is not None else None
        return widget if isinstance(widget, ChartWindow) else None

    def open_chart(
        self,
        symbol: str,
        timeframe: Timeframe = Timeframe.H1,
        indicators: Iterable[IndicatorSpec] = (),
        one_click: bool | None = None,
    ) -> ChartWindow:
        """``one_click``: the one-click panel on (None: as the settings say for every chart)."""
        spec = self._market.cached_spec(symbol)
        model = ChartModel(symbol, timeframe, indicators, digits=spec.digits if spec else 5)
        window = ChartWindow(model, trading=self.trading)
        window.order_requested.connect(self.order_requested)
        window.order_at_price.connect(self.order_at_price)
        window.alert_at_price.connect(self.alert_at_price)
        model.set_trades(self._positions, self._orders)
        quote = self._market.quote(symbol)
        if quote is not None:
            model.apply_quote(quote)
        feed = ChartFeed(model, self._market, self._tasks, bars=self.bars_per_chart)
        self.feeds[window] = feed
        model.timeframe_changed.connect(lambda: self._retitle(window))
        self._add(window, model.title)
        wanted = self.trading.one_click_default if one_click is None and self.trading else one_click
        if wanted and self.trading is not None and self.trading.acknowledged:
            window.set_one_click(True)
        feed.load()
        self.charts_changed.emit()
        return window

    def open_tick_chart(self, symbol: str) -> TickChart:
        spec = self._market.cached_spec(symbol)
        chart = TickChart(symbol, spec.digits if spec else 5)
        self.tick_charts.append(chart)
        self._add(chart, f"{symbol}, ticks")
        self.charts_changed.emit()
        return chart

    def _add(self, widget: QWidget, title: str) -> None:
        sub = ChartSubWindow()
        for action in sub.systemMenu().actions():
            # Its Close answers Ctrl+W and Ctrl+F4 too: with the window's own Close Chart that made
            # both keys ambiguous (Qt then does nothing). The window's action closes the chart.
            action.setShortcuts([])
        sub.setWidget(widget)
        sub.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        sub.setWindowTitle(title)
        sub.closing.connect(lambda: self._closed(widget))
        self.addSubWindow(sub)
        sub.resize(800, 500)
        sub.show()
        self.setActiveSubWindow(sub)
        self._tidy_tabs()

    def _retitle(self, window: ChartWindow) -> None:
        sub = window.parentWidget()
        if isinstance(sub, QMdiSubWindow):
            sub.setWindowTitle(window.model.title)
        self.charts_changed.emit()

    def _closed(self, widget: QWidget) -> None:
        feed = self.feeds.pop(widget, None) if isinstance(widget, ChartWindow) else None
        if feed is not None:
            feed.close()
        if widget in self.tick_charts:
            self.tick_charts.remove(widget)
        self.charts_changed.emit()

    def close_current(self) -> None:
        sub = self.currentSubWindow()
        if sub is not None:
            sub.close()

    def close_all(self) -> None:
        """Stop every chart's feed (the window is closing)."""
        for feed in self.feeds.values():
            feed.close()
        self.feeds.clear()

    def symbols_in_use(self) -> set[str]:
        return {c.model.symbol for c in self.charts} | {t.symbol for t in self.tick_charts}

    # ------------------------------------------------------------------ a frame's data
    def apply_bars(self, batches: dict[BarKey, BarBatch]) -> None:
        for window in self.feeds:
            batch = batches.get((window.model.symbol, window.model.timeframe))
            if batch is not None:
                window.model.apply_bars(batch)

    def apply_quotes(self, quotes: list[Quote]) -> None:
        by_symbol = {q.symbol: q for q in quotes}
        for window in self.feeds:
            quote = by_symbol.get(window.model.symbol)
            if quote is not None:
                window.model.apply_quote(quote)

    def apply_ticks(self, batches: dict[str, list[TickBatch]]) -> None:
        for chart in self.tick_charts:
            if chart.symbol in batches:
                chart.apply(batches[chart.symbol])

    def set_positions(self, positions: tuple[Position, ...]) -> None:
        self._positions = positions
        for window in self.feeds:
            window.model.set_trades(positions, self._orders)

    def set_orders(self, orders: tuple[Order, ...]) -> None:
        self._orders = orders
        for window in self.feeds:
            window.model.set_trades(self._positions, orders)

    # ------------------------------------------------------------------ layout
    def describe(self) -> tuple[list[dict[str, Any]], int]:
        """The open charts in window order, and which one is current (for the layout file)."""
        items: list[dict[str, Any]] = []
        current = self.currentSubWindow()
        active = -1
        for sub in self.subWindowList():
            widget = sub.widget()
            if isinstance(widget, ChartWindow):
                items.append({**widget.model.to_json(), "one_click": widget.one_click})
            elif isinstance(widget, TickChart):
                items.append(widget.to_json())
            else:
                continue
            if sub is current:
                active = len(items) - 1
        return items, active

    def restore(self, items: list[dict[str, Any]], active: int) -> None:
        for item in items:
            try:
                symbol = str(item["symbol"])
                if item.get("kind") == "ticks":
                    self.open_tick_chart(symbol)
                    continue
                indicators = [IndicatorSpec.from_json(i) for i in item.get("indicators", [])]
                one_click = item.get("one_click")
                timeframe = Timeframe.parse(str(item.get("timeframe", "H1")))
                window = self.open_chart(
                    symbol, timeframe, indicators, one_click if isinstance(one_click, bool) else None
                )
                window.model.restore_style(item)  # chart type and drawings
            except (KeyError, ValueError, TypeError) as exc:
                log.warning("a saved chart was not restored (%s): %s", item, exc)
        subs = self.subWindowList()
        if 0 <= active < len(subs):
            self.setActiveSubWindow(subs[active])
