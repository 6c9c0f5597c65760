"""A chart window: timeframe selector and indicator menu over a :class:`ChartView`.

Its keys act on this chart while it has the focus (MT5's): End shows the live bar and turns
auto-scroll on, Home goes to the oldest loaded bar.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QMenu, QToolButton, QVBoxLayout, QWidget

from app.core.indicators import IndicatorSpec
from app.models import Timeframe
from app.ui.chart.indicator_dialog import IndicatorDialog
from app.ui.chart.model import ChartModel
from app.ui.chart.view import ChartView

MINIMUM_SIZE = QSize(
    140, 100
)  # tiled on a small screen, a chart clips its toolbar before it grows the window


class ChartWindow(QWidget):
    order_requested = Signal(str)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return MINIMUM_SIZE

    def __init__(self, model: ChartModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ChartWindow")
        self.model = model
        self.view = ChartView(model, self)
        self.timeframe_box = QComboBox()
        self.timeframe_box.setObjectName("TimeframeBox")
        for tf in Timeframe:
            self.timeframe_box.addItem(tf.name, tf)
        self.timeframe_box.setCurrentIndex(list(Timeframe).index(model.timeframe))
        self.timeframe_box.currentIndexChanged.connect(self._timeframe_picked)
        self.timeframe_box.setToolTip("Timeframe (Alt+1 … Alt+9)")
        self.indicator_button = QToolButton()
        self.indicator_button.setText("Indicators")
        self.indicator_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.indicator_menu = QMenu(self.indicator_button)
        self.indicator_menu.aboutToShow.connect(self._fill_indicator_menu)
        self.indicator_button.setMenu(self.indicator_menu)
        order = QToolButton()
        order.setText("New Order")
        order.clicked.connect(lambda: self.order_requested.emit(model.symbol))
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.timeframe_box)
        bar.addWidget(self.indicator_button)
        bar.addWidget(order)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        model.timeframe_changed.connect(self._sync_timeframe)
        self.setWindowTitle(model.title)
        self.view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFocusProxy(self.view)
        self.go_to_end = self._chart_key("Go to the live bar", "End", self.view.go_to_end)
        self.go_to_start = self._chart_key("Go to the oldest bar", "Home", self.view.go_to_start)

    def _chart_key(self, text: str, key: str, slot) -> QAction:  # type: ignore[no-untyped-def]
        """An action of this chart, its key live while the chart (or a part of it) has the focus."""
        action = QAction(text, self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _=False: slot())
        self.addAction(action)
        return action

    def _timeframe_picked(self, index: int) -> None:
        self.model.set_timeframe(Timeframe(self.timeframe_box.itemData(index)))  # Qt returns a plain int

    def _sync_timeframe(self) -> None:
        self.timeframe_box.blockSignals(True)
        self.timeframe_box.setCurrentIndex(list(Timeframe).index(self.model.timeframe))
        self.timeframe_box.blockSignals(False)
        self.setWindowTitle(self.model.title)

    def set_timeframe(self, timeframe: Timeframe) -> None:
        self.model.set_timeframe(timeframe)

    def _fill_indicator_menu(self) -> None:
        menu = self.indicator_menu
        menu.clear()
        add = QAction("Add indicator...", menu)
        add.triggered.connect(self.ask_indicator)
        menu.addAction(add)
        if self.model.indicators:
            menu.addSeparator()
        for i, spec in enumerate(self.model.indicators):
            remove = QAction(f"Remove {spec.label}", menu)
            remove.triggered.connect(lambda _=False, index=i: self.model.remove_indicator(index))
            menu.addAction(remove)

    def ask_indicator(self) -> None:
        dialog = IndicatorDialog(self)
        dialog.accepted.connect(lambda: self.add_indicator(dialog.spec()))
        dialog.open()

    def add_indicator(self, spec: IndicatorSpec) -> None:
        self.model.add_indicator(spec)
