"""The Signals tab: the recent signals, kept live from the hub's ``signals`` topic, filtered by status;
Approve / Reject for a signal waiting for a person; the validator chain of the selected one.

Given the hub and the signals service (:class:`SignalActions`: what the tab calls). Updates arrive as
seed 001's ``signals_update`` dicts (what the service publishes); the table keeps one row per uuid,
newest first, bounded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QBrush, QCloseEvent, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.hub import Delivery, EventHub, Subscription, Topic
from app.models.signals import SignalRecord
from app.ui.service_calls import ServiceCalls
from app.ui.table_model import HeaderedTableModel
from app.ui.table_view import data_table

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Time", "Symbol", "Action", "Volume", "Source", "Confidence", "Status", "Ticket", "Message")
TIME, SYMBOL, ACTION, VOLUME, SOURCE, CONFIDENCE, STATUS, TICKET, MESSAGE = range(len(COLUMNS))
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1
STATUSES = ("All", "pending", "executed", "rejected", "failed", "expired", "notified")
COLOURS = {"pending": "#d29922", "executed": "#26a69a", "rejected": "#ef5350", "failed": "#ef5350",
           "expired": "#6e7f93"}  # fmt: skip
MAX_ROWS = 500


class SignalActions(Protocol):
    """What the tab asks of the signals service (:class:`app.core.signals.service.SignalService`)."""

    async def recent(
        self, *, since: Any = None, status: str | None = None, limit: int = 200
    ) -> list[SignalRecord]: ...

    async def approve(self, uuid: str, actor: str) -> SignalRecord: ...

    async def reject(self, uuid: str, actor: str, reason: str = "") -> SignalRecord: ...


class SignalsModel(HeaderedTableModel):
    """One row per signal (its latest state), newest first."""

    HEADERS = COLUMNS

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []

    def row_total(self) -> int:
        return len(self.rows)

    def take(self, updates: Iterable[dict[str, Any]]) -> None:
        for update in updates:
            uuid = update.get("uuid")
            if not uuid:
                continue
            at = next((i for i, r in enumerate(self.rows) if r["uuid"] == uuid), None)
            if at is not None:
                if str(update.get("updated_at", "")) < str(self.rows[at].get("updated_at", "")):
                    continue  # an older state arriving late
                self.rows[at] = {**self.rows[at], **update}
                self.dataChanged.emit(self.index(at, 0), self.index(at, len(COLUMNS) - 1))
                continue
            self.beginInsertRows(QModelIndex(), 0, 0)
            self.rows.insert(0, dict(update))
            self.endInsertRows()
            if len(self.rows) > MAX_ROWS:
                self.beginRemoveRows(QModelIndex(), MAX_ROWS, len(self.rows) - 1)
                del self.rows[MAX_ROWS:]
                self.endRemoveRows()

    def signal(self, row: int) -> dict[str, Any] | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        s = self.rows[index.row()]
        status = str(s.get("status", ""))
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(s, index.column())
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == STATUS and status in COLOURS:
            return QBrush(QColor(COLOURS[status]))
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == MESSAGE:
            return s.get("message") or None
        if role == STATUS_ROLE:
            return status
        return None

    @staticmethod
    def _text(s: dict[str, Any], column: int) -> str:
        if column == TIME:
            return str(s.get("timestamp", "")).replace("T", " ").removesuffix("Z")[:19]
        if column == ACTION:
            return str(s.get("side") or s.get("action") or "")
        if column == VOLUME:
            return "" if s.get("volume") is None else f"{s['volume']:g}"
        if column == CONFIDENCE:
            return "" if s.get("confidence") is None else f"{s['confidence']:.2f}"
        if column == TICKET:
            return "" if s.get("ticket") is None else str(s["ticket"])
        key = {SYMBOL: "symbol", SOURCE: "source", STATUS: "status", MESSAGE: "message"}[column]
        return str(s.get(key) or "")


class StatusFilter(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.status = ""

    def set_status(self, status: str) -> None:
        self.beginFilterChange()
        self.status = "" if status == "All" else status
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # noqa: N802
        if not self.status:
            return True
        index = self.sourceModel().index(source_row, 0, source_parent)
        return str(self.sourceModel().data(index, STATUS_ROLE)) == self.status


class SignalsTab(QWidget):
    """The live list, its filter, Approve/Reject and the selected signal's chain."""

    def __init__(
        self, hub: EventHub, signals: SignalActions, *, actor: str = "gui", rate_hz: float = 10.0,
        parent: QWidget | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.setObjectName("SignalsTab")
        self._hub = hub
        self._signals = signals
        self._actor = actor
        self._subscription: Subscription | None = None
        self.calls = ServiceCalls(self)
        self.model = SignalsModel()
        self.proxy = StatusFilter()
        self.proxy.setSourceModel(self.model)
        self.status = QComboBox()
        self.status.setObjectName("SignalsStatus")
        self.status.addItems(list(STATUSES))
        self.status.currentTextChanged.connect(self.proxy.set_status)
        self.approve = QPushButton("Approve")
        self.approve.setObjectName("SignalApprove")
        self.reject = QPushButton("Reject")
        self.reject.setObjectName("SignalReject")
        self.approve.clicked.connect(lambda: self._decide("approve"))
        self.reject.clicked.connect(lambda: self._decide("reject"))
        self.note = QLabel("")
        self.note.setObjectName("SignalsNote")
        self.table = data_table(self.proxy)
        for column, width in enumerate((140, 80, 70, 60, 140, 80, 80, 90)):
            self.table.setColumnWidth(column, width)
        self.chain = QListWidget()
        self.chain.setObjectName("SignalChain")
        controls = QHBoxLayout()
        controls.setContentsMargins(4, 2, 4, 2)
        controls.addWidget(QLabel("Status"))
        controls.addWidget(self.status)
        controls.addWidget(self.approve)
        controls.addWidget(self.reject)
        controls.addWidget(self.note, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.chain)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(controls)
        layout.addWidget(split)
        self.table.selectionModel().selectionChanged.connect(self._selected_changed)
        self.model.dataChanged.connect(self._selected_changed)
        self.calls.failed.connect(lambda what, text: self.note.setText(f"{what}: {text}"))
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(1000 / rate_hz)))
        self._timer.timeout.connect(self.drain)
        self._selected_changed()

    # ------------------------------------------------------------------ life
    def start(self) -> None:
        """Listen to the hub and load the recent signals."""
        if self._subscription is None:
            self._subscription = self._hub.subscribe(Topic.SIGNALS, Delivery.ALL, maxlen=2_000)
        self._timer.start()
        self.calls.run(self._signals.recent(limit=200), what="load signals", on_result=self._loaded)

    def shutdown(self) -> None:
        self._timer.stop()
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
        self.calls.cancel_all()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    def drain(self) -> None:
        if self._subscription is not None and len(self._subscription):
            self.model.take(event.value for event in self._subscription.drain())

    def _loaded(self, records: list[SignalRecord]) -> None:
        self.model.take(r.to_json() for r in reversed(records))  # oldest first: the newest ends on top

    # ------------------------------------------------------------------ the selection
    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.signal(self.proxy.mapToSource(rows[0]).row())

    def _selected_changed(self, *_: Any) -> None:
        s = self.selected()
        waiting = s is not None and s.get("status") == "pending"
        self.approve.setEnabled(waiting)
        self.reject.setEnabled(waiting)
        self.chain.clear()
        if s is None:
            return
        for v in s.get("validators", []):
            confidence = "" if v.get("confidence") is None else f" {v['confidence']:.2f}"
            mark = "✓" if v.get("approved") else "✗"
            item = QListWidgetItem(
                f"{mark} {v.get('name')} ({v.get('type')}){confidence}: {v.get('reason', '')}"
            )
            item.setForeground(QBrush(QColor("#26a69a" if v.get("approved") else "#ef5350")))
            self.chain.addItem(item)

    def _decide(self, decision: str) -> None:
        s = self.selected()
        if s is None or s.get("status") != "pending":
            return
        uuid = str(s["uuid"])
        self.approve.setEnabled(False)
        self.reject.setEnabled(False)
        call = (
            self._signals.approve(uuid, self._actor)
            if decision == "approve"
            else self._signals.reject(uuid, self._actor)
        )
        self.note.setText(f"{decision} {s.get('symbol', '')}…")
        self.calls.run(call, what=f"{decision} signal {uuid}", on_result=self._decided)

    def _decided(self, record: SignalRecord) -> None:
        self.model.take([record.to_json()])
        self.note.setText(f"{record.signal.symbol}: {record.status.value} — {record.message}")
