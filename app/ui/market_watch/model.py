"""The Market Watch table model: one row per symbol, the latest quote and which way it last moved."""

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


HEADERS = ("Symbol", "Bid", "Ask", "Spread", "Daily Δ")


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
        self.set_symbols(symbols)

    # ------------------------------------------------------------------ rows
    @property
    def symbols(self) -> list[str]:
        return list(self._symbols)

    def set_symbols(self, symbols: Iterable[str]) -> None:
        self.beginResetModel()
        self._symbols = list(dict.fromkeys(symbols))
        self._row = {s: i for i, s in enumerate(self._symbols)}
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
        self.endRemoveRows()
        return True

    def symbol_at(self, row: int) -> str:
        return self._symbols[row]

    def quote(self, symbol: str) -> Quote | None:
        return self._quotes.get(symbol)

    def direction(self, symbol: str) -> int:
        return self._direction.get(symbol, 0)

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
            self.dataChanged.emit(self.index(row, Column.BID), self.index(row, Column.CHANGE))

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
        if role == Qt.ItemDataRole.TextAlignmentRole and column is not Column.SYMBOL:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
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
        return formatting.percent(quote.change_pct) if quote.day_open else ""
