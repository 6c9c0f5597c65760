"""The Accounts tab: every managed account with its status and latest figures, the carousel's
controls, add/edit/remove, "sync now", and the equity curve of the selected account.

The tab is given what it shows and drives — the hub (account updates and the carousel's status
arrive there), the account registry and the carousel, as the small protocols below — never the app.
Every service call runs as a task on the asyncio loop (qasync) through :class:`ServiceCalls`;
nothing on the GUI thread waits on the disk, the keyring or a terminal. Failures show as one line
under the table (and on ``failed``, for the window's notifications), never as a dialog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from PySide6.QtCore import QItemSelection, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.accounts import InvalidAccountError
from app.core.credentials import Secret
from app.core.hub import Event, EventHub, Topic
from app.core.times import utc_now
from app.models import (
    AccountAction,
    AccountEdit,
    AccountSnapshot,
    AccountUpdate,
    CarouselStatus,
    ManagedAccount,
    NewAccount,
)
from app.ui.account_dialog import AccountDialog
from app.ui.account_format import money, signed_money
from app.ui.accounts_model import SORT_ROLE, AccountsTableModel
from app.ui.equity_curve import EquityCurve
from app.ui.hub_feed import HubFeed
from app.ui.service_calls import ServiceCalls, describe_error
from app.ui.table_view import data_table

log = logging.getLogger(__name__)

ACTOR = "gui"
HISTORY_POINTS = 5_000


SnapshotList = list[AccountSnapshot]  # (``list`` is a method's name inside the protocol)


class AccountsService(Protocol):
    """What the tab needs of the account registry (:class:`app.core.accounts.AccountRegistry`)."""

    async def list(self, *, enabled_only: bool = False) -> list[ManagedAccount]: ...

    async def latest_snapshots(self, *, enabled_only: bool = False) -> dict[int, AccountSnapshot]: ...

    async def snapshot_history(
        self, account_id: int, *, since: datetime | None = None, limit: int | None = None
    ) -> SnapshotList: ...

    async def history_size(self, account_id: int) -> tuple[int, int]: ...

    async def add(self, new: NewAccount, password: str | Secret, *, actor: str = ...) -> ManagedAccount: ...

    async def edit(
        self, account_id: int, edit: AccountEdit, password: str | Secret | None = None, *, actor: str = ...
    ) -> ManagedAccount: ...

    async def remove(self, account_id: int, *, actor: str = ...) -> ManagedAccount: ...


class CarouselControl(Protocol):
    """What the tab needs of the carousel (:class:`app.core.carousel.Carousel`)."""

    async def run(self, actor: str) -> CarouselStatus: ...

    async def halt(self, actor: str) -> CarouselStatus: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def status(self) -> CarouselStatus: ...

    async def sync_now(self, account_id: int) -> AccountSnapshot: ...


class _Sorting(QSortFilterProxyModel):
    def lessThan(self, left: Any, right: Any) -> bool:  # noqa: N802 - Qt override
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)


class AccountsTab(QWidget):
    """See the module docstring. ``failed(what, message)`` repeats each failure for the window."""

    failed = Signal(str, str)
    loaded = Signal(int)  # the first load from the registry is in: how many accounts
    curve_loaded = Signal(int)  # the selected account's history is drawn: how many snapshots

    def __init__(
        self,
        hub: EventHub,
        accounts: AccountsService,
        carousel: CarouselControl,
        *,
        terminal_ids: Sequence[str] = (),
        stale_after: timedelta = timedelta(minutes=15),
        now: Callable[[], datetime] = utc_now,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("AccountsTab")
        self._accounts = accounts
        self._carousel = carousel
        self._terminal_ids = list(terminal_ids)
        self.calls = ServiceCalls(self)
        self.calls.failed.connect(self._show_failure)
        self.model = AccountsTableModel(stale_after, now, self)
        self.status = carousel.status()
        self.dialog: AccountDialog | None = None
        self.confirmation: QMessageBox | None = None
        self._selected: int | None = None
        self._select_later: int | None = None  # saved just now: select it once its row shows
        self._build()
        self.feed = HubFeed(hub, (Topic.ACCOUNTS, Topic.CAROUSEL), parent=self)
        self.feed.arrived.connect(self._arrived)
        self._ages = QTimer(self)
        self._ages.setInterval(1_000)
        self._ages.timeout.connect(self.model.tick)
        self._show_status(self.status)
        self.feed.start()
        self._ages.start()
        self.calls.run(self._load(), what="load the accounts", on_result=self._loaded)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.run_button = QPushButton("Start carousel")
        self.pause_button = QPushButton("Pause")
        self.sync_button = QPushButton("Sync now")
        self.add_button = QPushButton("Add…")
        self.edit_button = QPushButton("Edit…")
        self.remove_button = QPushButton("Remove…")
        self.carousel_label = QLabel("")
        self.run_button.clicked.connect(self.toggle_carousel)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.sync_button.clicked.connect(self.sync_selected)
        self.add_button.clicked.connect(self.open_add)
        self.edit_button.clicked.connect(self.open_edit)
        self.remove_button.clicked.connect(self.ask_remove)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.pause_button, self.sync_button):
            buttons.addWidget(button)
        buttons.addWidget(self.carousel_label, 1)
        for button in (self.add_button, self.edit_button, self.remove_button):
            buttons.addWidget(button)

        self.proxy = _Sorting(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = data_table(self.proxy, fit_contents=True)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _: self.open_edit())

        self.curve = EquityCurve()
        # Side by side: the toolbox is wide and short, and every account row should stay in view.
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.curve)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        self._selection_changed()

    # ------------------------------------------------------------------ data in

    async def _load(self) -> tuple[list[ManagedAccount], dict[int, AccountSnapshot]]:
        return await self._accounts.list(), await self._accounts.latest_snapshots()

    def _loaded(self, found: tuple[list[ManagedAccount], dict[int, AccountSnapshot]]) -> None:
        accounts, snapshots = found
        self.model.load(accounts, snapshots)
        self.loaded.emit(len(accounts))

    def _arrived(self, events: list[Event]) -> None:
        for event in events:
            if event.topic is Topic.CAROUSEL:
                self._show_status(event.value)
                continue
            update: AccountUpdate = event.value
            self.model.apply(update)
            if update.account.id == self._selected:
                if update.action is AccountAction.REMOVED:
                    self.curve.clear("The account was removed")
                elif update.action is AccountAction.VISITED and update.snapshot is not None:
                    self.curve.append(update.snapshot)
        if self._select_later is not None and self.model.row_of(self._select_later) is not None:
            self.select(self._select_later)
            self._select_later = None
        self._selection_changed()

    def _show_status(self, status: CarouselStatus) -> None:
        self.status = status
        self.run_button.setText("Stop carousel" if status.running else "Start carousel")
        self.pause_button.setText("Resume" if status.paused else "Pause")
        self.pause_button.setEnabled(status.running)
        if not status.running:
            text = "Carousel stopped"
        else:
            text = f"Carousel{' paused' if status.paused else ''}: cycle {status.cycle}, "
            text += f"{status.visited_in_cycle}/{status.accounts_in_cycle} visited"
            if status.errors_in_cycle:
                text += f", {status.errors_in_cycle} failed"
            if status.last_cycle_s is not None:
                text += f"; last cycle {status.last_cycle_s:.1f} s"
        if status.note:
            text += f" — {status.note}"
        self.carousel_label.setText(text)
        self.carousel_label.setToolTip(f"terminals: {', '.join(status.terminals) or 'none'}")

    # ------------------------------------------------------------------ selection and the curve

    def selected_account(self) -> ManagedAccount | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.row(self.proxy.mapToSource(rows[0]).row()).account

    def select(self, account_id: int) -> None:
        """Select the account's row (as soon as it shows, if it is not there yet)."""
        number = self.model.row_of(account_id)
        if number is None:
            self._select_later = account_id
            return
        self.table.selectRow(self.proxy.mapFromSource(self.model.index(number, 0)).row())

    def _selection_changed(self, *_: QItemSelection) -> None:
        account = self.selected_account()
        for button in (self.sync_button, self.edit_button, self.remove_button):
            button.setEnabled(account is not None)
        account_id = account.id if account is not None else None
        if account_id == self._selected:
            return
        self._selected = account_id
        if account is None:
            self.curve.clear()
            return
        self.curve.clear(f"Loading the equity curve of {account.label}…")
        self.calls.run(
            self._accounts.snapshot_history(account.id, limit=HISTORY_POINTS),
            what=f"load the history of {account.label}",
            on_result=lambda snapshots: self._history(account, snapshots),
        )

    def _history(self, account: ManagedAccount, snapshots: list[AccountSnapshot]) -> None:
        if account.id != self._selected:
            return  # the user moved on meanwhile
        self.curve.set_history(account.label, snapshots)
        self.curve_loaded.emit(len(snapshots))

    # ------------------------------------------------------------------ the carousel

    def toggle_carousel(self) -> None:
        self.run_button.setEnabled(False)
        call = self._carousel.halt(ACTOR) if self.status.running else self._carousel.run(ACTOR)
        what = "stop the carousel" if self.status.running else "start the carousel"
        self.calls.run(call, what=what, on_result=self._carousel_answered, on_error=self._carousel_failed)

    def _carousel_answered(self, status: CarouselStatus) -> None:
        self.run_button.setEnabled(True)
        self._show_status(status)

    def _carousel_failed(self, _: BaseException) -> bool:
        self.run_button.setEnabled(True)
        return False  # still reported

    def toggle_pause(self) -> None:
        if self.status.paused:
            self._carousel.resume()
        else:
            self._carousel.pause()
        self._show_status(self._carousel.status())

    def sync_selected(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        self._say(f"Visiting {account.label}…")
        self.calls.run(
            self._carousel.sync_now(account.id),
            what=f"sync {account.label}",
            on_result=lambda snapshot: self._synced(account, snapshot),
        )

    def _synced(self, account: ManagedAccount, snapshot: AccountSnapshot) -> None:
        self._say(
            f"{account.label} synced: balance {money(snapshot.balance)} {snapshot.currency}, equity "
            f"{money(snapshot.equity)}, today {signed_money(snapshot.pnl.day)}"
        )

    # ------------------------------------------------------------------ add, edit, remove

    def open_add(self) -> None:
        self._open_dialog(AccountDialog(self._terminal_ids, parent=self))

    def open_edit(self) -> None:
        account = self.selected_account()
        if account is not None:
            self._open_dialog(AccountDialog(self._terminal_ids, account, parent=self))

    def _open_dialog(self, dialog: AccountDialog) -> None:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.submitted.connect(lambda request, password: self._submit(dialog, request, password))
        dialog.finished.connect(lambda _: self._dialog_closed(dialog))
        dialog.open()  # window-modal, but the event loop goes on

    def _dialog_closed(self, dialog: AccountDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _submit(self, dialog: AccountDialog, request: object, password: Secret | None) -> None:
        if isinstance(request, NewAccount):
            call = self._accounts.add(request, password or Secret(""), actor=ACTOR)
            what = f"add account {request.key}"
        elif isinstance(request, AccountEdit) and dialog.account is not None:
            call = self._accounts.edit(dialog.account.id, request, password, actor=ACTOR)
            what = f"edit account {dialog.account.key}"
        else:
            return

        def saved(account: ManagedAccount) -> None:
            dialog.accept()
            self._say(f"Saved account {account.label}")
            self.select(account.id)

        def refused(error: BaseException) -> bool:
            field = error.field if isinstance(error, InvalidAccountError) else "general"
            dialog.show_error(field, describe_error(error))
            return True  # shown where the user looks: in the dialog

        self.calls.run(call, what=what, on_result=saved, on_error=refused)

    def ask_remove(self) -> None:
        account = self.selected_account()
        if account is None:
            return
        self.calls.run(
            self._accounts.history_size(account.id),
            what=f"count the history of {account.label}",
            on_result=lambda sizes: self._confirm_remove(account, *sizes),
        )

    def _confirm_remove(self, account: ManagedAccount, snapshots: int, deals: int) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Remove account",
            f"Remove account {account.label} ({account.key}), its password from the OS keyring, "
            f"{snapshots} snapshot(s) and {deals} deal(s)?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.confirmation = box

        def answered(button: int) -> None:
            self.confirmation = None
            box.deleteLater()
            if button == QMessageBox.StandardButton.Yes:
                self.calls.run(
                    self._accounts.remove(account.id, actor=ACTOR),
                    what=f"remove account {account.label}",
                    on_result=lambda removed: self._say(f"Removed account {removed.label}"),
                )

        box.finished.connect(answered)
        box.open()

    # ------------------------------------------------------------------ messages and lifecycle

    def _say(self, text: str) -> None:
        self.message.setProperty("role", "")
        self.message.setText(text)
        self._repolish()

    def _show_failure(self, what: str, message: str) -> None:
        self.message.setProperty("role", "error")
        self.message.setText(f"Could not {what}: {message}")
        self._repolish()
        self.failed.emit(what, message)

    def _repolish(self) -> None:
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def shutdown(self) -> None:
        """Stop listening and drop the calls still running (the window is closing)."""
        self._ages.stop()
        self.feed.stop()
        self.calls.cancel_all()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)
