"""The Market Watch table model: one row per symbol, the latest quote and which way it last moved.

A symbol whose market is closed (a weekend, the daily break of a CFD) shows it, as MT5 does: its row
is greyed and its tooltip says since when no quote came. The terminal's API does not give trading
sessions, so a market counts as closed when its last quote is older than ``QUIET_S`` by the
server's clock (a traded symbol quotes several times a second).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from app.models import Quote
from app.ui import formatting
from app.ui.table_model import HeaderedTableModel
from app.ui.theme import DOWN_COLOUR, UP_COLOUR

Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    SYMBOL = 0
    BID = 1
    ASK = 2
    SPREAD = 3
    CHANGE = 4
    HIGH = 5
    LOW = 6
    TIME = 7
    LAST = 8


HEADERS = ("Symbol", "Bid", "Ask", "Spread", "Daily Δ", "High", "Low", "Time", "Last")
# the columns a right-click on the header shows or hides (the symbol always shows), and the first start's
COLUMN_NAMES = {
    Column.BID: "bid", Column.ASK: "ask", Column.SPREAD: "spread", Column.CHANGE: "change",
    Column.HIGH: "high", Column.LOW: "low", Column.TIME: "time", Column.LAST: "last",
}  # fmt: skip
DEFAULT_COLUMNS = ("bid", "ask", "spread", "change")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # what a column sorts by: numbers as numbers
QUIET_S = 60.0  # no quote for this long (server time): the market is closed
CLOSED_COLOUR = "#5c6773"


def market_closed(quote_msc: int, now_msc: int | None, quiet_s: float = QUIET_S) -> bool:
    """Whether a symbol whose last quote is from ``quote_msc`` looks closed at ``now_msc``."""
    return now_msc is not None and now_msc - quote_msc > quiet_s * 1000


class QuoteTableModel(HeaderedTableModel):
    """Rows are symbols in the trader's order; :meth:`apply` takes a frame's quotes at display rate."""

    HEADERS = HEADERS

    def __init__(self, symbols: Iterable[str] = ()) -> None:
        super().__init__()
        self._symbols: list[str] = []
        self._row: dict[str, int] = {}
        self._quotes: dict[str, Quote] = {}
        self._direction: dict[str, int] = {}  # +1 up, -1 down, 0 unchanged (colour of bid/ask)
        self._up = QBrush(QColor(UP_COLOUR))
        self._down = QBrush(QColor(DOWN_COLOUR))
        self._grey = QBrush(QColor(CLOSED_COLOUR))
        self._now_msc: int | None = None
        self._closed: set[str] = set()
        self.set_symbols(symbols)

    # ------------------------------------------------------------------ rows
    @property
    def symbols(self) -> list[str]:
        return list(self._symbols)

    def set_symbols(self, symbols: Iterable[str]) -> None:
        self.beginResetModel()
        self._symbols = list(dict.fromkeys(symbols))
        self._row = {s: i for i, s in enumerate(self._symbols)}
        self._closed &= set(self._symbols)
        self.endResetModel()

    def add_symbol(self, symbol: str) -> bool:
        if symbol in self._row:
            return False
        row = len(self._symbols)
        self.beginInsertRows(QModelIndex(), row, row)
        self._symbols.append(symbol)
        self._row[symbol] = row
        self.endInsertRows()
        return True

    def remove_symbol(self, symbol: str) -> bool:
        row = self._row.get(symbol)
        if row is None:
            return False
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._symbols[row]
        self._row = {s: i for i, s in enumerate(self._symbols)}
        self._quotes.pop(symbol, None)
        self._direction.pop(symbol, None)
        self._closed.discard(symbol)
        self.endRemoveRows()
        return True

    def symbol_at(self, row: int) -> str:
        return self._symbols[row]

    def quote(self, symbol: str) -> Quote | None:
        return self._quotes.get(symbol)

    def direction(self, symbol: str) -> int:
        return self._direction.get(symbol, 0)

    def is_closed(self, symbol: str) -> bool:
        return symbol in self._closed

    def set_server_time(self, now_msc: int | None) -> None:
        """The server's clock moved on (once a second): grey the rows whose market went quiet."""
        self._now_msc = now_msc
        for symbol, row in self._row.items():
            self._update_closed(symbol, row)

    def _update_closed(self, symbol: str, row: int) -> None:
        quote = self._quotes.get(symbol)
        closed = quote is not None and market_closed(quote.time_msc, self._now_msc)
        if closed != (symbol in self._closed):
            (self._closed.add if closed else self._closed.discard)(symbol)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))

    # ------------------------------------------------------------------ updates
    def apply(self, quotes: Iterable[Quote]) -> None:
        """Take the newest quotes (one per symbol) and repaint only the rows that changed."""
        for quote in quotes:
            row = self._row.get(quote.symbol)
            if row is None:
                continue
            previous = self._quotes.get(quote.symbol)
            if previous is not None and quote.bid != previous.bid:
                self._direction[quote.symbol] = 1 if quote.bid > previous.bid else -1
            self._quotes[quote.symbol] = quote
            self.dataChanged.emit(self.index(row, Column.BID), self.index(row, len(HEADERS) - 1))
            if quote.symbol in self._closed:
                self._update_closed(quote.symbol, row)  # quoting again: open

    # ------------------------------------------------------------------ Qt model
    def row_total(self) -> int:
        return len(self._symbols)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        symbol = self._symbols[index.row()]
        column = Column(index.column())
        quote = self._quotes.get(symbol)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(symbol, column, quote)
        if role == SORT_ROLE:
            return self._sort_key(symbol, column, quote)
        if role == Qt.ItemDataRole.TextAlignmentRole and column is not Column.SYMBOL:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        closed = symbol in self._closed
        if role == Qt.ItemDataRole.ForegroundRole and closed:
            return self._grey
        if role == Qt.ItemDataRole.ToolTipRole and closed and quote is not None:
            since = formatting.epoch_time(quote.time_msc / 1000, with_seconds=True)
            return f"{symbol}: market closed — no quote since {since} (server time)"
        if role == Qt.ItemDataRole.ForegroundRole and quote is not None:
            if column in (Column.BID, Column.ASK):
                move = self._direction.get(symbol, 0)
                return self._up if move > 0 else self._down if move < 0 else None
            if column is Column.CHANGE and quote.day_open:
                return self._up if quote.change_pct >= 0 else self._down
        if role == Qt.ItemDataRole.ToolTipRole and quote is not None:
            return f"{symbol}  {formatting.epoch_time(quote.time_msc / 1000, with_seconds=True)}"
        return None

    @staticmethod
    def _sort_key(symbol: str, column: Column, quote: Quote | None) -> str | float:
        if column is Column.SYMBOL:
            return symbol
        if quote is None:
            return float("-inf")
        return {
            Column.BID: quote.bid,
            Column.ASK: quote.ask,
            Column.SPREAD: float(quote.spread_points),
            Column.CHANGE: quote.change_pct if quote.day_open else float("-inf"),
            Column.HIGH: quote.day_high,
            Column.LOW: quote.day_low,
            Column.TIME: float(quote.time_msc),
            Column.LAST: quote.last,
        }[column]

    @staticmethod
    def _display(symbol: str, column: Column, quote: Quote | None) -> str:
        if column is Column.SYMBOL:
            return symbol
        if quote is None:
            return ""
        if column is Column.BID:
            return formatting.price(quote.bid, quote.digits)
        if column is Column.ASK:
            return formatting.price(quote.ask, quote.digits)
        if column is Column.SPREAD:
            return str(quote.spread_points)
        if column is Column.HIGH:
            return formatting.price(quote.day_high, quote.digits)
        if column is Column.LOW:
            return formatting.price(quote.day_low, quote.digits)
        if column is Column.TIME:
            return formatting.epoch_time(quote.time_msc / 1000, with_seconds=True).split(" ")[-1]
        if column is Column.LAST:
            return formatting.price(quote.last, quote.digits)  # empty where the symbol has no last price
        return formatting.percent(quote.change_pct) if quote.day_open else ""
