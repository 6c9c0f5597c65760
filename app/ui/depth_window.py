"""Depth of Market for one symbol (MT5's DOM, Alt+B): the ask and bid ladder with the volumes at
each price, read from the terminal's ``market_book_get`` at display rate (10 a second, one request
at a time), one-click Sell and Buy, and a limit order at a level by a double click (the order
ticket opens at that price: a Sell Limit on the ask side, a Buy Limit on the bid side).

It only reads and collects intent: the book through market data, orders through the chart's
trading (one-click, with its risk acknowledgement) or the ticket.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QCloseEvent, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.market_data import MarketData
from app.models import Book, BookSide, OrderResult, OrderType, Side
from app.ui import formatting
from app.ui.chart.chart_trading import ChartTrading
from app.ui.chart.one_click_panel import OneClickPanel
from app.ui.tasks import TaskRunner
from app.ui.theme import DOWN_COLOUR, UP_COLOUR

REFRESH_MS = 100
ASK_SIDES = (BookSide.SELL, BookSide.SELL_MARKET)


class DepthWindow(QWidget):
    order_at_price = Signal(str, object, float)  # symbol, OrderType, price

    def __init__(
        self,
        symbol: str,
        market: MarketData,
        tasks: TaskRunner,
        trading: ChartTrading | None = None,
        digits: int = 5,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Tool)
        self.setObjectName("DepthWindow")
        self.setWindowTitle(f"{symbol} — Depth of Market")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.symbol = symbol
        self._market = market
        self._tasks = tasks
        self._trading = trading
        self.digits = digits
        self.book: Book | None = None
        self.last_one_click: tuple[OrderResult | None, str] | None = None
        self._asking = False
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Sell", "Price", "Buy"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch
        )  # no sideways scroll
        self.table.cellDoubleClicked.connect(self._level_picked)
        self.table.setToolTip("Double-click a level for a limit order at its price")
        self.status = QLabel("")
        self.status.setObjectName("DepthStatus")
        self.panel = OneClickPanel(self)
        self.panel.trade.connect(self._one_click)
        spec = market.cached_spec(symbol)
        if spec is not None:
            self.panel.set_spec(spec)
        top = QHBoxLayout()
        top.addWidget(self.panel)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self._sell = QBrush(QColor(DOWN_COLOUR))
        self._buy = QBrush(QColor(UP_COLOUR))
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.resize(300, 460)
        self.refresh()

    # ------------------------------------------------------------------ the book
    def refresh(self) -> None:
        """Ask for the book (never two requests at once: a slow terminal is asked less often)."""
        if self._asking:
            return
        self._asking = True

        def got(book: Book) -> None:
            self._asking = False
            self.show_book(book)

        def failed(error: BaseException) -> bool:
            self._asking = False
            self.status.setText(f"No depth: {getattr(error, 'message', error)}")
            return True

        self._tasks.run(self._market.book(self.symbol), what="depth of market", owner=self,
                        on_result=got, on_error=failed)  # fmt: skip
        quote = self._market.quote(self.symbol)
        if quote is not None:
            self.panel.show_quote(quote.bid, quote.ask, quote.digits)

    def show_book(self, book: Book) -> None:
        """Asks on top (highest first), then bids (highest first), as MT5 lays them out."""
        if self.book is not None and book.levels == self.book.levels:
            self.book = book
            return
        self.book = book
        asks = sorted((lv for lv in book.levels if lv.side in ASK_SIDES), key=lambda lv: -lv.price)
        bids = sorted((lv for lv in book.levels if lv.side not in ASK_SIDES), key=lambda lv: -lv.price)
        rows = [(lv, True) for lv in asks] + [(lv, False) for lv in bids]
        self.table.setRowCount(len(rows))
        for row, (level, ask) in enumerate(rows):
            volume = formatting.volume(level.volume)
            cells = (volume if ask else "", formatting.price(level.price, self.digits), "" if ask else volume)
            for column, text in enumerate(cells):
                item = self.table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, column, item)
                item.setText(text)
                item.setForeground(self._sell if ask else self._buy)
                item.setData(Qt.ItemDataRole.UserRole, (level.price, ask))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status.setText(f"{len(asks)} ask and {len(bids)} bid levels" if rows else "The book is empty")

    def level(self, row: int) -> tuple[float, bool] | None:
        item = self.table.item(row, 1)
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _level_picked(self, row: int, _column: int) -> None:
        found = self.level(row)
        if found is None:
            return
        price, ask = found
        self.order_at_price.emit(self.symbol, OrderType.SELL_LIMIT if ask else OrderType.BUY_LIMIT, price)

    # ------------------------------------------------------------------ one-click
    def _one_click(self, side: Side, volume: float) -> None:
        trading = self._trading
        if trading is None:
            return

        def go(accepted: bool) -> None:
            if accepted:
                trading.one_click(self.symbol, side, volume, self, self._done)

        trading.ask_acknowledgement(self, go)

    def _done(self, result: OrderResult | None, reason: str) -> None:
        self.last_one_click = (result, reason)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self._timer.stop()
        super().closeEvent(event)
