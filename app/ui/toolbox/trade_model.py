"""The Trade tab's table: open positions, then pending orders, with live profit (a Qt model).

A position trailed by the app's client-side trailing stop shows its distance next to the SL
("1.08450 ⇡20"), with a tooltip saying it only moves while this app runs.

The Comment column shows the trader's own comment: the client-id tag the trading service appends to
every order (for finding it again after a lost answer) stays on the order, out of sight.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.core.client_ids import without_tag
from app.models import Order, Position
from app.ui import formatting
from app.ui.table_model import HeaderedTableModel
from app.ui.theme import DOWN_COLOUR, UP_COLOUR

Index = QModelIndex | QPersistentModelIndex
HEADERS = (
    "Symbol",
    "Ticket",
    "Time",
    "Type",
    "Volume",
    "Price",
    "S / L",
    "T / P",
    "Price",
    "Swap",
    "Profit",
    "Comment",
    "",
)
SL_COLUMN = 6
PROFIT_COLUMN = 10
CLOSE_COLUMN = 12  # "×": a click closes the position or cancels the order (MT5's)


class TradeTableModel(HeaderedTableModel):
    """``digits(symbol)`` gives the price format (from the symbol specs the app has seen)."""

    HEADERS = HEADERS

    def __init__(
        self,
        digits: Callable[[str], int] = lambda _symbol: 5,
        trailing: Callable[[int], int | None] | None = None,
    ) -> None:
        """``trailing(ticket)``: the position's client-side trailing distance in points, or None."""
        super().__init__()
        self._digits = digits
        self._trailing = trailing
        self.positions: tuple[Position, ...] = ()
        self.orders: tuple[Order, ...] = ()
        self._up = QBrush(QColor(UP_COLOUR))
        self._down = QBrush(QColor(DOWN_COLOUR))
        self._bold = QFont()
        self._bold.setBold(True)

    def set_positions(self, positions: tuple[Position, ...]) -> None:
        self._replace(positions, self.orders)

    def set_orders(self, orders: tuple[Order, ...]) -> None:
        self._replace(self.positions, orders)

    def _replace(self, positions: tuple[Position, ...], orders: tuple[Order, ...]) -> None:
        same_rows = [p.ticket for p in positions] == [p.ticket for p in self.positions] and [
            o.ticket for o in orders
        ] == [o.ticket for o in self.orders]
        if same_rows:
            changed = positions != self.positions or orders != self.orders
            self.positions, self.orders = positions, orders
            if changed and self.rowCount():
                self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(HEADERS) - 1))
            return
        self.beginResetModel()
        self.positions, self.orders = positions, orders
        self.endResetModel()

    def trailing_changed(self) -> None:
        """A trailing stop was set or switched off: the S / L cells say so."""
        if self.positions:
            self.dataChanged.emit(self.index(0, SL_COLUMN), self.index(len(self.positions) - 1, SL_COLUMN))

    def trailing_of(self, item: Position | Order) -> int | None:
        if self._trailing is None or not isinstance(item, Position):
            return None
        return self._trailing(item.ticket)

    def item(self, row: int) -> Position | Order:
        if row < len(self.positions):
            return self.positions[row]
        return self.orders[row - len(self.positions)]

    def row_of(self, ticket: int) -> int | None:
        for row in range(self.rowCount()):
            if self.item(row).ticket == ticket:
                return row
        return None

    # ------------------------------------------------------------------ Qt model
    def row_total(self) -> int:
        return len(self.positions) + len(self.orders)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self.item(index.row())
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return "×" if column == CLOSE_COLUMN else self._cells(item)[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == SL_COLUMN:
            points = self.trailing_of(item)
            if points is not None:
                return (
                    f"Trailing stop: {points} points behind the price. Client-side: this app moves the "
                    "SL, only while it is running"
                )
        if role == Qt.ItemDataRole.ToolTipRole and column == CLOSE_COLUMN:
            return f"Close #{item.ticket}" if isinstance(item, Position) else f"Cancel #{item.ticket}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column == CLOSE_COLUMN:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.TextAlignmentRole and 4 <= column <= PROFIT_COLUMN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column == PROFIT_COLUMN and isinstance(item, Position):
            return self._up if item.profit >= 0 else self._down
        if role == Qt.ItemDataRole.FontRole and column == PROFIT_COLUMN and isinstance(item, Position):
            return self._bold
        return None

    def _cells(self, item: Position | Order) -> tuple[str, ...]:
        d = self._digits(item.symbol)
        p = lambda v: formatting.price(v, d)  # noqa: E731
        if isinstance(item, Position):
            return (
                item.symbol,
                str(item.ticket),
                item.time.strftime("%Y.%m.%d %H:%M:%S"),
                item.side.value,
                formatting.volume(item.volume),
                p(item.price_open),
                self._sl_text(item, p(item.sl)),
                p(item.tp),
                p(item.price_current),
                formatting.money(item.swap),
                formatting.money(item.profit),
                without_tag(item.comment),
            )
        volume = f"{formatting.volume(item.volume_initial)} / {formatting.volume(item.volume_current)}"
        return (
            item.symbol,
            str(item.ticket),
            item.time_setup.strftime("%Y.%m.%d %H:%M:%S"),
            item.type.value.replace("_", " "),
            volume,
            p(item.price_open),
            p(item.sl),
            p(item.tp),
            p(item.price_current),
            "",
            "",
            without_tag(item.comment),
        )

    def _sl_text(self, position: Position, sl: str) -> str:
        points = self.trailing_of(position)
        return sl if points is None else f"{sl} ⇡{points}"
