"""The Market Watch panel: the quote table, a searchable box to add symbols, and its context menu.

The view shows a :class:`QuoteTableModel` and says what the trader asked for through signals (open a
chart, open the order ticket, add or remove a symbol); the window decides how to do it.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QModelIndex, QPoint, QStringListModel, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QCompleter,
    QHeaderView,
    QLineEdit,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from app.models import SymbolSpec
from app.ui.market_watch.model import Column, QuoteTableModel
from app.ui.table_view import data_table


class MarketWatch(QWidget):
    chart_requested = Signal(str)
    tick_chart_requested = Signal(str)
    order_requested = Signal(str)
    add_requested = Signal(str)
    remove_requested = Signal(str)

    def __init__(self, model: QuoteTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MarketWatch")
        self.model = model
        self.table = data_table(model, parent=self)
        self.table.setObjectName("MarketWatchTable")
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)  # the price columns stretch instead
        header.setMinimumSectionSize(36)
        # prices share what is left; the other columns keep the width their contents need
        for column, mode in (
            (Column.SYMBOL, QHeaderView.ResizeMode.Interactive),
            (Column.BID, QHeaderView.ResizeMode.Stretch),
            (Column.ASK, QHeaderView.ResizeMode.Stretch),
            (Column.SPREAD, QHeaderView.ResizeMode.Interactive),
            (Column.CHANGE, QHeaderView.ResizeMode.Interactive),
        ):
            header.setSectionResizeMode(column, mode)
        for column, width in ((Column.SYMBOL, 70), (Column.SPREAD, 52), (Column.CHANGE, 66)):
            self.table.setColumnWidth(column, width)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(self._double_clicked)

        self.search = QLineEdit(self)
        self.search.setObjectName("SymbolSearch")
        self.search.setPlaceholderText("+ add symbol (type to search)")
        self._names = QStringListModel(self)
        self._completer = QCompleter(self._names, self)
        self._completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._completer.setMaxVisibleItems(14)
        self._completer.activated.connect(self._add_from_completion)
        self.search.setCompleter(self._completer)
        self.search.returnPressed.connect(self._add_typed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.table)
        layout.addWidget(self.search)

    def set_all_symbols(self, specs: Iterable[SymbolSpec]) -> None:
        """Every symbol the terminal offers, for the search box: "EURUSD — Euro vs US Dollar"."""
        self._names.setStringList([f"{s.name} — {s.description}" if s.description else s.name for s in specs])

    def selected_symbol(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.symbol_at(rows[0].row()) if rows else None

    # ------------------------------------------------------------------ interactions
    def _double_clicked(self, index: QModelIndex) -> None:
        self.chart_requested.emit(self.model.symbol_at(index.row()))

    def _add_from_completion(self, text: str) -> None:
        self._request_add(text)

    def _add_typed(self) -> None:
        self._request_add(self.search.text())

    def _request_add(self, text: str) -> None:
        symbol = text.split("—", 1)[0].strip().upper()
        if symbol:
            self.add_requested.emit(symbol)
        self.search.clear()

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        symbol = self.model.symbol_at(index.row()) if index.isValid() else None
        menu = self.build_menu(symbol)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def build_menu(self, symbol: str | None) -> QMenu:
        """The context menu for ``symbol`` (a row), or a shorter one for the empty area."""
        menu = QMenu(self)
        if symbol is not None:
            for text, signal in (
                (f"New Order {symbol}...\tF9", self.order_requested),
                (f"Chart Window {symbol}", self.chart_requested),
                (f"Tick Chart {symbol}", self.tick_chart_requested),
            ):
                action = QAction(text, menu)
                action.triggered.connect(lambda _=False, s=signal, sym=symbol: s.emit(sym))
                menu.addAction(action)
            menu.addSeparator()
            hide = QAction(f"Hide {symbol}\tDelete", menu)
            hide.triggered.connect(lambda _=False, sym=symbol: self.remove_requested.emit(sym))
            menu.addAction(hide)
        add = QAction("Add Symbol...", menu)
        add.triggered.connect(self.search.setFocus)
        menu.addAction(add)
        return menu

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        symbol = self.selected_symbol()
        if event.key() == Qt.Key.Key_Delete and symbol and self.table.hasFocus():
            self.remove_requested.emit(symbol)
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and symbol and self.table.hasFocus():
            self.chart_requested.emit(symbol)
            return
        super().keyPressEvent(event)
