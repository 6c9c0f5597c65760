"""The Market Watch panel: the quote table, a searchable box to add symbols, and its context menu.

The view shows a :class:`QuoteTableModel` and says what the trader asked for through signals (open a
chart, open the order ticket, add or remove a symbol); the window decides how to do it. A click on a
column's header sorts by it (a third click goes back to the trader's own order). In the search box,
Enter takes the highlighted completion, or the only one, or the symbol typed in full; when several
symbols match it says so instead of guessing.

As MT5's: a right-click on the header shows or hides columns (Bid, Ask, Spread, Daily Δ, High, Low,
Time, Last); "Sets ▸" keeps named lists of the visible symbols in order (Save as..., a set's name
shows exactly its symbols, Remove ▸); "Alert..." starts a price alert at the row's bid. What columns
and sets there are is the window layout's to keep (:meth:`visible_columns`, :attr:`symbol_sets`).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPoint,
    QSortFilterProxyModel,
    QStringListModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QCompleter,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from app.models import SymbolSpec
from app.ui.market_watch.model import (
    COLUMN_NAMES,
    DEFAULT_COLUMNS,
    HEADERS,
    SORT_ROLE,
    Column,
    QuoteTableModel,
)
from app.ui.table_view import data_table, fit_column

SEARCH_HINT_LIMIT = 8  # names listed when a typed text matches several symbols


class MarketWatch(QWidget):
    chart_requested = Signal(str)
    tick_chart_requested = Signal(str)
    order_requested = Signal(str)
    depth_requested = Signal(str)
    specification_requested = Signal(str)
    add_requested = Signal(str)
    remove_requested = Signal(str)
    alert_requested = Signal(str)  # "Alert...": the Alerts tab's form for this symbol
    symbol_set_requested = Signal(list)  # a set chosen: show exactly these symbols, in this order

    def __init__(self, model: QuoteTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MarketWatch")
        self.model = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setDynamicSortFilter(False)  # sorted when asked: rows do not jump at every tick
        self.table = data_table(self.proxy, parent=self)
        self.table.setObjectName("MarketWatchTable")
        header = self.table.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the trader's order to begin with
        header.setSortIndicatorClearable(True)
        self.table.setSortingEnabled(True)
        header.setStretchLastSection(False)  # the price columns stretch instead
        header.setMinimumSectionSize(36)
        # prices share what is left; the other columns keep the width their contents need
        for column in Column:
            stretch = column in (Column.BID, Column.ASK)
            header.setSectionResizeMode(
                column, QHeaderView.ResizeMode.Stretch if stretch else QHeaderView.ResizeMode.Interactive
            )
        fit_column(self.table, Column.SYMBOL, "BTCUSD.")
        fit_column(self.table, Column.SPREAD, "12345")
        fit_column(self.table, Column.CHANGE, "+12.34%")
        for column in (Column.HIGH, Column.LOW, Column.LAST):
            fit_column(self.table, column, "12345.123")
        fit_column(self.table, Column.TIME, "23:59:59")
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        self._price_width = self.table.fontMetrics().horizontalAdvance("104350.72") + 16
        self.table.viewport().installEventFilter(self)  # a narrower table: do the prices still fit?
        self.set_visible_columns(DEFAULT_COLUMNS)
        self.symbol_sets: dict[str, list[str]] = {}  # name -> symbols in order (kept in the layout)
        self.set_name_dialog: QInputDialog | None = None  # "Save as..." while it asks (tests answer it)
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
        self.hint = QLabel(self)
        self.hint.setObjectName("SymbolSearchHint")
        self.hint.setProperty("role", "error")
        self.hint.setWordWrap(True)
        self.hint.hide()
        self.search.textEdited.connect(lambda _text: self.hint.hide())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.table)
        layout.addWidget(self.search)
        layout.addWidget(self.hint)

    # ------------------------------------------------------------------ columns
    def visible_columns(self) -> list[str]:
        header = self.table.horizontalHeader()
        return [name for column, name in COLUMN_NAMES.items() if not header.isSectionHidden(column)]

    def set_visible_columns(self, names: Iterable[str]) -> None:
        """Show these columns (by name: "bid", "high", ...), hide the others; unknown names are ignored."""
        wanted = set(names)
        header = self.table.horizontalHeader()
        for column, name in COLUMN_NAMES.items():
            header.setSectionHidden(column, name not in wanted)
        self._fit_prices()

    def _fit_prices(self) -> None:
        """Bid and ask share the width the other columns leave; when more columns show than fit (High,
        Low, Time, Last in a narrow dock), they keep a price's width and the table scrolls sideways."""
        header = self.table.horizontalHeader()
        others = sum(
            header.sectionSize(c)
            for c in Column
            if c not in (Column.BID, Column.ASK) and not header.isSectionHidden(c)
        )
        fits = others + 2 * self._price_width <= self.table.viewport().width()
        mode = QHeaderView.ResizeMode.Stretch if fits else QHeaderView.ResizeMode.Interactive
        for column in (Column.BID, Column.ASK):
            if header.sectionResizeMode(column) != mode:
                header.setSectionResizeMode(column, mode)
            if not fits:
                header.resizeSection(column, self._price_width)
        self.table.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if fits else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_prices()
        return super().eventFilter(watched, event)

    def _header_menu(self, pos: QPoint) -> None:
        header = self.table.horizontalHeader()
        self.build_header_menu().popup(header.mapToGlobal(pos))

    def build_header_menu(self) -> QMenu:
        """MT5's right-click on the header: a checkable entry per column."""
        menu = QMenu(self)
        menu.setObjectName("MarketWatchColumns")
        header = self.table.horizontalHeader()
        for column in COLUMN_NAMES:
            action = QAction(HEADERS[column], menu)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.toggled.connect(lambda on, c=column: self._show_column(c, on))
            menu.addAction(action)
        return menu

    def _show_column(self, column: Column, on: bool) -> None:
        self.table.horizontalHeader().setSectionHidden(column, not on)
        self._fit_prices()

    # ------------------------------------------------------------------ symbol sets
    def sets_menu(self, parent: QMenu) -> QMenu:
        """Sets ▸ Save as..., the sets by name (each shows exactly its symbols), Remove ▸."""
        menu = QMenu("Sets", parent)
        menu.setObjectName("SymbolSets")
        save = QAction("Save as...", menu)
        save.triggered.connect(self.ask_set_name)
        menu.addAction(save)
        if self.symbol_sets:
            menu.addSeparator()
            for name in sorted(self.symbol_sets, key=str.casefold):
                action = QAction(name, menu)
                action.triggered.connect(lambda _=False, n=name: self.choose_set(n))
                menu.addAction(action)
            menu.addSeparator()
            remove = QMenu("Remove", menu)
            for name in sorted(self.symbol_sets, key=str.casefold):
                action = QAction(name, remove)
                action.triggered.connect(lambda _=False, n=name: self.remove_set(n))
                remove.addAction(action)
            menu.addMenu(remove)
        return menu

    def ask_set_name(self) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Save symbol set")
        dialog.setLabelText("Name of the set (the symbols shown now, in this order):")
        self.set_name_dialog = dialog

        def answered(result: int) -> None:
            self.set_name_dialog = None
            if result == QInputDialog.DialogCode.Accepted:
                self.save_set(dialog.textValue())

        dialog.finished.connect(answered)
        dialog.open()

    def save_set(self, name: str) -> bool:
        """Keep the symbols shown now, in their order, as ``name`` (a set of that name is replaced)."""
        name = name.strip()
        if not name or not self.shown_symbols():
            self._say(
                "A set needs a name and at least one symbol shown." if not name else "No symbols to save."
            )
            return False
        self.symbol_sets[name] = self.shown_symbols()
        return True

    def choose_set(self, name: str) -> None:
        symbols = self.symbol_sets.get(name)
        if symbols:
            self.symbol_set_requested.emit(list(symbols))

    def remove_set(self, name: str) -> None:
        self.symbol_sets.pop(name, None)

    def set_symbol_sets(self, sets: dict[str, list[str]]) -> None:
        self.symbol_sets = {name: list(symbols) for name, symbols in sets.items() if symbols}

    # ------------------------------------------------------------------ symbols
    def set_all_symbols(self, specs: Iterable[SymbolSpec]) -> None:
        """Every symbol the terminal offers, for the search box: "EURUSD — Euro vs US Dollar"."""
        self._names.setStringList([f"{s.name} — {s.description}" if s.description else s.name for s in specs])

    def selected_symbol(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.symbol_of(rows[0]) if rows else None

    def symbol_of(self, index: QModelIndex) -> str:
        """The symbol of a row of the table as shown (sorted or not)."""
        return self.model.symbol_at(self.proxy.mapToSource(index).row())

    def shown_symbols(self) -> list[str]:
        """The symbols in the order the table shows them."""
        return [self.symbol_of(self.proxy.index(row, 0)) for row in range(self.proxy.rowCount())]

    # ------------------------------------------------------------------ interactions
    def _double_clicked(self, index: QModelIndex) -> None:
        self.chart_requested.emit(self.symbol_of(index))

    def _add_from_completion(self, text: str) -> None:
        self._request_add(text)

    def _add_typed(self) -> None:
        """Enter: the highlighted completion, the only one, or the symbol typed in full."""
        typed = self.search.text().strip()
        if not typed:
            return
        popup = self._completer.popup()
        if popup is not None and popup.isVisible() and popup.currentIndex().isValid():
            return  # the completer takes it (activated) and puts its text in the box
        names = self._names.stringList()
        if not names:
            self._request_add(typed)  # the terminal's list is not there yet: it will say
            return
        symbol = typed.split("—", 1)[0].strip().upper()
        exact = [n for n in names if n.split("—", 1)[0].strip().upper() == symbol]
        matches = exact or [n for n in names if typed.casefold() in n.casefold()]
        if len(matches) == 1:
            self._request_add(matches[0])
        elif not matches:
            self._say(f"No symbol of this terminal matches “{typed}”.")
        else:
            shown = ", ".join(m.split("—", 1)[0].strip() for m in matches[:SEARCH_HINT_LIMIT])
            more = "…" if len(matches) > SEARCH_HINT_LIMIT else ""
            self._say(f"{len(matches)} symbols match “{typed}” ({shown}{more}): pick one from the list.")
            self._completer.complete()

    def _say(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.show()

    def _request_add(self, text: str) -> None:
        symbol = text.split("—", 1)[0].strip().upper()
        self.hint.hide()
        if symbol:
            self.add_requested.emit(symbol)
        self.search.clear()

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        symbol = self.symbol_of(index) if index.isValid() else None
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
                (f"Depth of Market {symbol}\tAlt+B", self.depth_requested),
                (f"Specification {symbol}...", self.specification_requested),
                (f"Alert {symbol}...", self.alert_requested),
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
        menu.addMenu(self.sets_menu(menu))
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
