"""The Trade tab: positions and pending orders with live profit, the account's totals underneath,
and close / partial close / modify / cancel from the context menu (double-click modifies).

"Trailing Stop ▸" in a position's menu sets the app's client-side trailing stop (app.core.trailing):
it moves the SL only while this app runs, as MT5's terminal does, and the menu says so.

Every action goes through the trading service on the window's task runner; a ticket already being
closed is not closed again by a second click, and the outcome shows in the notification area.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from app.core.bulk_close import BulkClose, CloseChoice, close_positions, positions_to_close
from app.core.trailing_rule import MAX_TRAILING_POINTS, TRAILING_CHOICES
from app.models import AccountInfo, Order, OrderResult, Position
from app.ui import formatting
from app.ui.table_view import data_table
from app.ui.tasks import TaskRunner
from app.ui.toolbox.dialogs import ModifyDialog, VolumeDialog
from app.ui.toolbox.trade_model import CLOSE_COLUMN, TradeTableModel

log = logging.getLogger(__name__)


class TradeActions(Protocol):
    async def close_position(
        self, ticket: int, volume: float | None = None, deviation: int | None = None, *, actor: str = ...,
        note: str = ...,
    ) -> OrderResult: ...  # fmt: skip

    async def modify_position(self, ticket: int, sl: float, tp: float) -> OrderResult: ...

    async def modify_order(self, ticket: int, price: float, sl: float, tp: float) -> OrderResult: ...

    async def cancel_order(self, ticket: int) -> OrderResult: ...

    async def close_by(self, ticket: int, opposite: int) -> OrderResult: ...


class Trailing(Protocol):
    """The client-side trailing stops (app.core.trailing.TrailingService)."""

    def distance(self, ticket: int) -> int | None: ...

    async def set(self, ticket: int, points: int, *, actor: str = ...) -> None: ...

    async def clear(self, ticket: int, *, actor: str = ...) -> bool: ...


CLIENT_SIDE_NOTE = "Client-side: runs in this app, only while it is running"


class TradeTab(QWidget):
    def __init__(
        self,
        model: TradeTableModel,
        trading: TradeActions,
        tasks: TaskRunner,
        is_real: Callable[[], bool] = lambda: False,
        digits: Callable[[str], int] = lambda _s: 5,
        parent: QWidget | None = None,
        *,
        trailing: Trailing | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("TradeTab")
        self.trailing = trailing
        self.custom_trailing: QInputDialog | None = None  # the open "Custom..." question (tests answer it)
        self.model = model
        self._trading = trading
        self._tasks = tasks
        self._is_real = is_real
        self._digits = digits
        self.busy: set[int] = set()  # tickets with an action on the way
        self.table = data_table(model, parent=self)
        for column, width in enumerate((80, 80, 140, 80, 90, 80, 80, 80, 80, 70, 90)):
            self.table.setColumnWidth(column, width)
        self.table.setColumnWidth(CLOSE_COLUMN, 28)
        self.table.clicked.connect(self._clicked)
        self.confirmation: QMessageBox | None = None  # the open question (tests answer it)
        self.last_bulk: BulkClose | None = None
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(self._double_clicked)
        self.footer = QLabel("Balance: —")
        self.footer.setObjectName("AccountFooter")
        self.footer.setTextFormat(Qt.TextFormat.RichText)
        self.footer.setWordWrap(True)  # a narrow window wraps it: it never sets the window width
        footer_row = QHBoxLayout()
        footer_row.setContentsMargins(6, 2, 6, 2)
        footer_row.addWidget(self.footer, 1)  # all the width: it wraps only when the window is narrow
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.table)
        layout.addLayout(footer_row)

    # ------------------------------------------------------------------ account totals
    def set_account(self, account: AccountInfo) -> None:
        d = account.currency_digits
        level = f"{account.margin_level:,.2f}%".replace(",", " ") if account.margin else "—"
        items = (
            ("Balance", f"{formatting.money(account.balance, d)} {account.currency}"),
            ("Equity", formatting.money(account.equity, d)),
            ("Margin", formatting.money(account.margin, d)),
            ("Free margin", formatting.money(account.margin_free, d)),
            ("Margin level", level),
            ("Profit", formatting.money(account.profit, d)),
        )
        self.footer.setText(
            "&nbsp;&nbsp;&nbsp;&nbsp;".join(
                f"<span style='color:#8b96a5'>{k}:</span> <b>{v}</b>" for k, v in items
            )
        )

    # ------------------------------------------------------------------ actions
    def _selected(self, index: QModelIndex | None = None) -> Position | Order | None:
        if index is None:
            rows = self.table.selectionModel().selectedRows()
            if not rows:
                return None
            index = rows[0]
        return self.model.item(index.row()) if index.isValid() else None

    def _clicked(self, index: QModelIndex) -> None:
        """The "×" cell: close the position or cancel the order (as its menu entry does)."""
        if index.column() != CLOSE_COLUMN:
            return
        item = self._selected(index)
        if isinstance(item, Position):
            self.close_position(item)
        elif isinstance(item, Order):
            self.cancel_order(item)

    def _double_clicked(self, index: QModelIndex) -> None:
        if index.column() == CLOSE_COLUMN:
            return
        item = self._selected(index)
        if item is not None:
            self.modify(item)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        item = self._selected(index) if index.isValid() else None
        self.build_menu(item).popup(self.table.viewport().mapToGlobal(pos))

    def build_menu(self, item: Position | Order | None) -> QMenu:
        menu = QMenu(self)
        entries: list[tuple[str, Callable[[], None]]] = []
        if isinstance(item, Position):
            entries = [
                (f"Close #{item.ticket}", lambda: self.close_position(item)),
                ("Partial close...", lambda: self.partial_close(item)),
                ("Modify SL/TP...", lambda: self.modify(item)),
            ]

            # Close By: against an opposite position of the same symbol (only a hedging account has one)
            def closer(position: Position, opposite: Position) -> Callable[[], None]:
                return lambda: self.close_by(position, opposite)

            for other in self.model.positions:
                if other.symbol == item.symbol and other.side is not item.side:
                    lots = formatting.volume(other.volume)
                    text = f"Close #{item.ticket} by #{other.ticket} ({other.side.value} {lots})"
                    entries.append((text, closer(item, other)))
        elif isinstance(item, Order):
            entries = [
                (f"Cancel #{item.ticket}", lambda: self.cancel_order(item)),
                ("Modify order...", lambda: self.modify(item)),
            ]
        if self.model.positions:
            if entries:
                entries.append(("", lambda: None))
            entries += [
                ("Close All Positions", lambda: self.bulk_close(CloseChoice.ALL)),
                ("Close Profitable", lambda: self.bulk_close(CloseChoice.PROFITABLE)),
                ("Close Losing", lambda: self.bulk_close(CloseChoice.LOSING)),
            ]
            if isinstance(item, Position):
                entries.append(
                    (f"Close All {item.symbol}", lambda: self.bulk_close(CloseChoice.SYMBOL, item.symbol))
                )
        for text, slot in entries:
            if not text:
                menu.addSeparator()
                continue
            action = QAction(text, menu)
            action.triggered.connect(slot)
            menu.addAction(action)
            if text == "Modify SL/TP..." and isinstance(item, Position) and self.trailing is not None:
                menu.addMenu(self.trailing_menu(item, menu))
        return menu

    def trailing_menu(self, position: Position, parent: QMenu) -> QMenu:
        """MT5's "Trailing Stop ▸ None / 10 ... 100 points / Custom...", the current one checked."""
        assert self.trailing is not None  # noqa: S101 - only built with a trailing service
        menu = QMenu("Trailing Stop", parent)
        menu.setObjectName("TrailingMenu")
        menu.setToolTipsVisible(True)
        menu.menuAction().setToolTip(CLIENT_SIDE_NOTE)
        note = QAction(CLIENT_SIDE_NOTE, menu)
        note.setEnabled(False)
        menu.addAction(note)
        menu.addSeparator()
        current = self.trailing.distance(position.ticket)
        choices: list[tuple[str, int | None]] = [("None", None)]
        choices += [(f"{points} points", points) for points in TRAILING_CHOICES]
        if current is not None and current not in TRAILING_CHOICES:
            choices.append((f"{current} points", current))
        for text, points in choices:
            action = QAction(text, menu)
            action.setCheckable(True)
            action.setChecked(points == current)
            action.setToolTip(CLIENT_SIDE_NOTE)
            action.triggered.connect(lambda _=False, p=points: self.set_trailing(position, p))
            menu.addAction(action)
        custom = QAction("Custom...", menu)
        custom.triggered.connect(lambda: self.ask_trailing(position))
        menu.addAction(custom)
        return menu

    def ask_trailing(self, position: Position) -> None:
        """Custom...: a distance in points of the trader's own (asked without blocking the loop)."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Trailing Stop")
        dialog.setLabelText(
            f"Trailing stop for #{position.ticket} {position.symbol}, in points\n({CLIENT_SIDE_NOTE.lower()})"
        )
        dialog.setInputMode(QInputDialog.InputMode.IntInput)
        dialog.setIntRange(1, MAX_TRAILING_POINTS)
        current = self.trailing.distance(position.ticket) if self.trailing is not None else None
        dialog.setIntValue(current or 25)
        self.custom_trailing = dialog

        def answered(result: int) -> None:
            self.custom_trailing = None
            if result == QInputDialog.DialogCode.Accepted:
                self.set_trailing(position, dialog.intValue())

        dialog.finished.connect(answered)
        dialog.open()

    def set_trailing(self, position: Position, points: int | None) -> None:
        """Trail ``position`` by ``points`` (None: off); the service keeps it and moves the SL."""
        if self.trailing is None:
            return
        coro = (
            self.trailing.clear(position.ticket)
            if points is None
            else self.trailing.set(position.ticket, points)
        )
        self._tasks.run(
            coro,
            what=f"trailing stop #{position.ticket}",
            owner=self,
            on_result=lambda _result: self.model.trailing_changed(),
        )

    def bulk_close(self, choice: CloseChoice, symbol: str = "") -> None:
        """One confirmation listing every position that will close, then each is closed in turn."""
        chosen = [
            p for p in positions_to_close(self.model.positions, choice, symbol) if p.ticket not in self.busy
        ]
        if not chosen:
            log.info("No %s positions to close", symbol if choice is CloseChoice.SYMBOL else choice.value)
            return
        lines = "\n".join(
            f"#{p.ticket}  {p.symbol}  {p.side.value} {formatting.volume(p.volume)}  "
            f"profit {formatting.money(p.profit + p.swap)}"
            for p in chosen
        )
        real = "REAL account: " if self._is_real() else ""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Close positions",
            f"{real}close these {len(chosen)} positions?\n\n{lines}",
            parent=self,
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.confirmation = box

        def answered(result: int) -> None:
            self.confirmation = None
            if result == QMessageBox.StandardButton.Yes:
                self._close_many(chosen, choice)

        box.finished.connect(answered)
        box.open()

    def _close_many(self, chosen: list[Position], choice: CloseChoice) -> None:
        tickets = {p.ticket for p in chosen}
        self.busy |= tickets

        def done(outcome: BulkClose) -> None:
            self.busy -= tickets
            self.last_bulk = outcome
            log.log(logging.WARNING if outcome.failed else logging.INFO, "Close %s: %s", choice.value,
                    outcome.summary())  # fmt: skip

        def failed(_error: BaseException) -> bool:
            self.busy -= tickets
            return False

        self._tasks.run(
            close_positions(self._trading, chosen, note=f"bulk close: {choice.value}"),
            what=f"close {choice.value}",
            owner=self,
            on_result=done,
            on_error=failed,
        )

    def close_position(self, position: Position, volume: float | None = None) -> None:
        what = f"close #{position.ticket}" + (f" ({volume:g} lots)" if volume else "")
        self._confirmed(
            what,
            lambda: self._act(position.ticket, what, self._trading.close_position(position.ticket, volume)),
        )

    def close_by(self, position: Position, opposite: Position) -> None:
        """MT5's Close By: the two opposite positions close against each other (one spread saved)."""
        what = f"close #{position.ticket} by #{opposite.ticket}"
        self._confirmed(
            what,
            lambda: self._act(
                position.ticket, what, self._trading.close_by(position.ticket, opposite.ticket)
            ),
        )

    def partial_close(self, position: Position) -> None:
        dialog = VolumeDialog(position, parent=self)
        dialog.accepted.connect(lambda: self.close_position(position, dialog.volume.value()))
        dialog.open()

    def modify(self, item: Position | Order) -> None:
        dialog = ModifyDialog(item, self._digits(item.symbol), self)

        def apply() -> None:
            sl, tp = dialog.sl.value(), dialog.tp.value()
            if isinstance(item, Position):
                self._act(
                    item.ticket, f"modify #{item.ticket}", self._trading.modify_position(item.ticket, sl, tp)
                )
            else:
                price = dialog.price.value() if dialog.price is not None else item.price_open
                self._act(
                    item.ticket,
                    f"modify #{item.ticket}",
                    self._trading.modify_order(item.ticket, price, sl, tp),
                )

        dialog.accepted.connect(apply)
        dialog.open()

    def cancel_order(self, order: Order) -> None:
        what = f"cancel #{order.ticket}"
        self._confirmed(what, lambda: self._act(order.ticket, what, self._trading.cancel_order(order.ticket)))

    def _confirmed(self, what: str, go: Callable[[], None]) -> None:
        if not self._is_real():
            go()
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Real account", f"REAL account: {what}?", parent=self)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda result: go() if result == QMessageBox.StandardButton.Yes else None)
        box.open()

    def _act(self, ticket: int, what: str, coro: Coroutine[Any, Any, OrderResult]) -> None:
        if ticket in self.busy:
            coro.close()  # a second click while the first is on its way: never send twice
            return
        self.busy.add(ticket)

        def done(result: OrderResult) -> None:
            self.busy.discard(ticket)
            log.info("%s: %s", what, result.retcode_name or "done")

        def failed(_error: BaseException) -> bool:
            self.busy.discard(ticket)
            return False  # the notification area says why

        self._tasks.run(coro, what=what, owner=self, on_result=done, on_error=failed)
