"""The Alerts tab (MT5's Toolbox > Alerts): set, list and delete price alerts; a firing shows a toast
and beeps. The alerts are watched in the core (:mod:`app.core.alerts`), not here: the tab only
collects what the trader asks for and shows what the service holds."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.alerts import AlertError, AlertService
from app.core.hub import EventHub, Topic
from app.models import Alert, AlertCondition, AlertEvent
from app.ui.hub_feed import HubFeed
from app.ui.table_model import HeaderedTableModel
from app.ui.table_view import data_table
from app.ui.tasks import TaskRunner

Index = QModelIndex | QPersistentModelIndex
HEADERS = ("#", "Symbol", "Condition", "Price", "Repeat", "Last fired", "Fired", "Note")
CONDITIONS = {
    AlertCondition.BID_ABOVE: "Bid ≥",
    AlertCondition.BID_BELOW: "Bid ≤",
    AlertCondition.ASK_ABOVE: "Ask ≥",
    AlertCondition.ASK_BELOW: "Ask ≤",
}


# A fired one-shot alert's row: greyed, yet readable on the dark theme (its time and price matter).
FIRED_COLOUR = QColor("#7d8794")


class AlertsModel(HeaderedTableModel):
    HEADERS = HEADERS

    def __init__(self, digits: Callable[[str], int]) -> None:
        super().__init__()
        self.alerts: list[Alert] = []
        self.digits = digits

    def set_alerts(self, alerts: Sequence[Alert]) -> None:
        self.beginResetModel()
        self.alerts = list(alerts)
        self.endResetModel()

    def row_total(self) -> int:
        return len(self.alerts)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        alert = self.alerts[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            digits = self.digits(alert.symbol)
            fired = alert.fired_at.strftime("%Y.%m.%d %H:%M:%S") if alert.fired_at else ""
            return (
                str(alert.id),
                alert.symbol,
                CONDITIONS[alert.condition],
                f"{alert.price:.{digits}f}",
                "every time" if alert.repeat else "once",
                fired,
                str(alert.fire_count),
                alert.note,
            )[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and not alert.active:
            return "fired: this one-shot alert watches no more (delete it, or set a new one)"
        if role == Qt.ItemDataRole.ForegroundRole and not alert.active:
            return FIRED_COLOUR
        return None


class AlertsTab(QWidget):
    """The form to set an alert, the list of them, and Delete."""

    fired = Signal(object)  # Alert, as fired

    def __init__(
        self,
        alerts: AlertService,
        hub: EventHub,
        tasks: TaskRunner,
        symbols: Callable[[], list[str]],
        digits: Callable[[str], int],
        notify: Callable[[int, str], None] | None = None,
        *,
        sound: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._alerts = alerts
        self._tasks = tasks
        self._symbols = symbols
        self._notify = notify
        self._sound = sound
        self.model = AlertsModel(digits)
        self.symbol = QComboBox()
        self.symbol.setEditable(True)
        self.symbol.setMinimumContentsLength(10)
        self.condition = QComboBox()
        for condition, label in CONDITIONS.items():
            self.condition.addItem(label, condition)
        self.price = QDoubleSpinBox()
        self.price.setDecimals(5)
        self.price.setRange(0.0, 1e9)
        self.price.setMinimumWidth(110)
        self.repeat = QCheckBox("Every time")
        self.add_button = QPushButton("Add")
        self.delete_button = QPushButton("Delete")
        self.message = QLabel()
        self.message.setObjectName("alertsMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.table = data_table(self.model, fit_contents=True)
        form = QHBoxLayout()
        for widget in (
            QLabel("Symbol"),
            self.symbol,
            self.condition,
            self.price,
            self.repeat,
            self.add_button,
        ):
            form.addWidget(widget)
        form.addStretch(1)
        form.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        self.add_button.clicked.connect(self.add)
        self.price.installEventFilter(self)  # Enter in the price field adds, as the button does
        self.delete_button.clicked.connect(self.delete_selected)
        QShortcut(QKeySequence.StandardKey.Delete, self.table, self.delete_selected)
        self.symbol.currentTextChanged.connect(self._symbol_changed)
        # Changes from now on: a firing before the tab existed is in the list (refresh) but no new toast.
        self._feed = HubFeed(hub, Topic.ALERTS, rate_hz=10.0, parent=self, replay=False)
        self._feed.arrived.connect(self._on_events)
        self.refresh()
        self._feed.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if (
            watched is self.price
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self.add()
            return True
        return super().eventFilter(watched, event)

    def shutdown(self) -> None:
        self._feed.stop()

    # ------------------------------------------------------------------ the form
    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Offer the symbols Market Watch has now."""
        current = self.symbol.currentText()
        self.symbol.blockSignals(True)
        self.symbol.clear()
        self.symbol.addItems(self._symbols())
        self.symbol.setCurrentText(current or (self.symbol.itemText(0) if self.symbol.count() else ""))
        self.symbol.blockSignals(False)
        super().showEvent(event)

    def prefill(self, symbol: str, condition: AlertCondition, price: float) -> None:
        """Start an alert from elsewhere (Market Watch, the chart's menu): the form, filled in."""
        self.symbol.setCurrentText(symbol)
        self.condition.setCurrentIndex(self.condition.findData(condition))
        self.price.setValue(price)
        self.price.setFocus()

    def _symbol_changed(self, symbol: str) -> None:
        self.price.setDecimals(self.model.digits(symbol) if symbol else 5)

    def add(self) -> None:
        symbol = self.symbol.currentText().strip()
        condition = self.condition.currentData()
        price = self.price.value()
        self._show_message("")
        self.add_button.setEnabled(False)
        self._tasks.run(
            self._alerts.create(symbol, condition, price, repeat=self.repeat.isChecked(), actor="gui"),
            what="set the alert",
            owner=self,
            on_result=lambda _alert: self._added(),
            on_error=self._refused,
        )

    def _added(self) -> None:
        self.add_button.setEnabled(True)
        self.refresh()

    def _refused(self, exc: BaseException) -> bool:
        self.add_button.setEnabled(True)
        if isinstance(exc, AlertError):
            self._show_message(exc.message)
            return True
        return False  # terminal trouble: the window's usual error toast

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # ------------------------------------------------------------------ the list
    def selected(self) -> Alert | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.alerts[rows[0].row()] if rows else None

    def delete_selected(self) -> None:
        alert = self.selected()
        if alert is not None:
            self._tasks.run(
                self._alerts.delete(alert.id), what=f"delete alert #{alert.id}", owner=self,
                on_result=lambda _gone: self.refresh(),
            )  # fmt: skip

    def refresh(self) -> None:
        self.model.set_alerts(self._alerts.alerts())

    def _on_events(self, events: list[Any]) -> None:
        for event in events:
            change: AlertEvent = event.value
            if change.kind == "fired":
                self._announce(change.alert)
        self.refresh()

    def _announce(self, alert: Alert) -> None:
        digits = self.model.digits(alert.symbol)
        price = f"{alert.fired_price:.{digits}f}" if alert.fired_price is not None else ""
        text = (f"Alert #{alert.id}: {alert.symbol} {alert.condition.side} {price} "
                f"({CONDITIONS[alert.condition]} {alert.price:.{digits}f})")  # fmt: skip
        if alert.note:
            text += f": {alert.note}"
        if self._notify is not None:
            self._notify(logging.WARNING, text)
        if self._sound:
            QApplication.beep()
        self.fired.emit(alert)
