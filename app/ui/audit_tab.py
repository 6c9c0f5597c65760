"""The Audit tab: a filterable table of audit entries and a Verify button.

The tab is given the :class:`~app.audit.AuditSource` it shows (the app passes an ``AuditReader``), not
the app. Reading and verifying touch the disk and may take seconds on a long trail, so both run on the
tab's own worker thread; results come back to the GUI thread by Qt signal, and a result that a newer
request has overtaken is dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.audit import Action, AuditEntry, AuditQuery, AuditSource, VerifyReport, summarize
from app.ui.table_model import HeaderedTableModel
from app.ui.table_view import data_table

COLUMNS = ("Time (UTC)", "Actor", "Action", "Account", "Summary")
PERIODS: dict[str, timedelta | None] = {
    "All time": None,
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
}
_STATUS_COLOURS = {"ok": "#3fb950", "torn_tail": "#d29922", "tampered": "#f85149", "error": "#f85149"}

_Index = QModelIndex | QPersistentModelIndex


class AuditTableModel(HeaderedTableModel):
    """Entries newest first: time, actor, action, account, summary (the whole entry as tooltip)."""

    HEADERS = COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[AuditEntry] = []
        self._summaries: list[str] = []

    def set_entries(self, entries: list[AuditEntry]) -> None:
        """Show ``entries`` (given oldest first, as the reader returns them)."""
        self.beginResetModel()
        self._entries = list(reversed(entries))
        self._summaries = [summarize(entry) for entry in self._entries]
        self.endResetModel()

    def entry(self, row: int) -> AuditEntry:
        return self._entries[row]

    def row_total(self) -> int:
        return len(self._entries)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self._entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            column = index.column()
            if column == 0:
                return entry.time[:23].replace("T", " ")
            if column == 4:
                return self._summaries[index.row()]
            return (entry.actor, entry.action, entry.account or "—")[column - 1]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"#{entry.seq}\n" + json.dumps(entry.payload, indent=2, ensure_ascii=False)
        if role == Qt.ItemDataRole.UserRole:
            return entry
        return None


class _Courier(QObject):
    """Carries a worker thread's result into the GUI thread (a signal emitted there is queued)."""

    delivered = Signal(object, object)  # the callback to run, its result


class AuditTab(QWidget):
    """Filter fields, the entries table and a Verify button over one :class:`AuditSource`."""

    entries_loaded = Signal(int)  # how many entries the table now shows
    verify_finished = Signal(object)  # the VerifyReport, or the exception verification raised

    def __init__(self, source: AuditSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AuditTab")
        self._source = source
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-tab")
        self._courier = _Courier(self)
        self._courier.delivered.connect(self._deliver)
        self._generation = 0
        self._shown_once = False
        self.model = AuditTableModel(self)
        self._build()
        executor = self._executor  # not self: the lambda must not keep the tab alive
        self.destroyed.connect(lambda *_: executor.shutdown(wait=False, cancel_futures=True))

    # -- layout ----------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.period = QComboBox()
        self.period.addItems(list(PERIODS))
        self.actor = QLineEdit(placeholderText="actor (gui, api, api:alice…)")
        self.action = QComboBox(editable=True)
        self.action.addItems(["", "order", *[action.value for action in Action]])
        self.action_edit = QLineEdit(placeholderText="action (order, api.login…)")
        self.action.setLineEdit(self.action_edit)
        self.account = QLineEdit(placeholderText="login@server")
        self.text = QLineEdit(placeholderText="text or client id")
        self.limit = QSpinBox(minimum=10, maximum=100_000, value=1_000, singleStep=100)
        self.limit.setToolTip("show at most this many of the newest matching entries")
        self.refresh_button = QPushButton("Refresh")
        self.verify_button = QPushButton("Verify")
        self.verify_button.setToolTip("recompute the hash chain over every audit file")
        for field in (self.actor, self.account, self.text):
            field.returnPressed.connect(self.refresh)
        self.action_edit.returnPressed.connect(self.refresh)
        self.period.currentIndexChanged.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self.verify_button.clicked.connect(self.verify)

        filters = QHBoxLayout()
        for widget in (self.period, self.actor, self.action, self.account, self.text, self.limit):
            filters.addWidget(widget)
        filters.addWidget(self.refresh_button)
        filters.addWidget(self.verify_button)

        self.table = data_table(self.model, fit_contents=True)

        self.status = QLabel("")
        self.verify_result = QLabel("Not verified yet")
        self.verify_result.setWordWrap(True)
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.verify_result)
        layout.addWidget(self.status)

    # -- requests --------------------------------------------------------------------------------------

    def query(self) -> AuditQuery:
        """The query the filter fields describe."""
        period = PERIODS[self.period.currentText()]
        text = self.text.text().strip()
        return AuditQuery(
            since=None if period is None else datetime.now(UTC) - period,
            actor=self.actor.text().strip() or None,
            action=self.action.currentText().strip() or None,
            account=self.account.text().strip() or None,
            text=text or None,
            limit=self.limit.value(),
        )

    def refresh(self) -> None:
        """Reload the table with the current filters (in the background)."""
        self._generation += 1
        generation = self._generation
        self.status.setText("Loading…")
        query = self.query()
        self._run(lambda: self._source.query(query), lambda result: self._loaded(generation, result))

    def verify(self) -> None:
        """Verify the whole chain (in the background); the result shows under the table."""
        self.verify_button.setEnabled(False)
        self.verify_result.setText("Verifying…")
        self.verify_result.setStyleSheet("")
        self._run(self._source.verify, self._verified)

    def _run(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        def deliver(future: Future[Any]) -> None:
            exception = future.exception()
            try:
                self._courier.delivered.emit(done, exception if exception is not None else future.result())
            except RuntimeError:  # the tab was deleted meanwhile: nobody to tell
                pass

        try:
            self._executor.submit(work).add_done_callback(deliver)
        except RuntimeError:  # shut down: the tab is closing
            pass

    def _deliver(self, done: Callable[[Any], None], result: Any) -> None:
        done(result)

    def _loaded(self, generation: int, result: Any) -> None:
        if generation != self._generation:
            return  # a newer refresh is on its way
        if isinstance(result, BaseException):
            self.status.setText(f"Could not read the audit trail: {result}")
            return
        self.model.set_entries(result)
        self.status.setText(f"{len(result)} entries")
        self.entries_loaded.emit(len(result))

    def _verified(self, result: Any) -> None:
        self.verify_button.setEnabled(True)
        if isinstance(result, VerifyReport):
            text = "\n".join([result.summary(), *(f"note: {note}" for note in result.notes)])
            status = result.status
        else:
            text, status = f"Verification failed: {result}", "error"
        self.verify_result.setText(text)
        self.verify_result.setStyleSheet(f"color: {_STATUS_COLOURS[status]};")
        self.verify_finished.emit(result)

    # -- lifecycle -------------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.refresh()

    def shutdown(self) -> None:
        """Stop the worker thread (a running read finishes, its result is dropped)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)
