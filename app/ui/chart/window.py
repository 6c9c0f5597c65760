"""A chart window: timeframe selector and indicator menu over a :class:`ChartView`.

Its keys act on this chart while it has the focus (MT5's): End shows the live bar and turns
auto-scroll on, Home goes to the oldest loaded bar, Ctrl+1/2/3 draw bars, candlesticks or a line
(MT5's Alt+1/2/3, which here pick the timeframe), Delete removes the selected drawing.

Its menu draws horizontal, vertical and trend lines (anchored to time and price, kept with the
layout); the toolbar's chart type button is MT5's Bar Chart / Candlesticks / Line Chart buttons.

With a :class:`ChartTrading` it trades too: the One Click switch shows the one-click panel (after
the one-time risk acknowledgement), and the trade lines can be dragged to modify SL, TP and pending
prices (asking first, per the setting; a refusal puts the line back and says why).
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QMenu, QToolButton, QVBoxLayout, QWidget

from app.core.drawings import ChartType, horizontal, vertical
from app.core.indicators import IndicatorSpec
from app.models import AlertCondition, OrderResult, OrderType, Side, Timeframe
from app.ui import formatting
from app.ui.chart.chart_trading import ChartTrading
from app.ui.chart.indicator_dialog import IndicatorDialog
from app.ui.chart.levels import level_change
from app.ui.chart.model import ChartModel
from app.ui.chart.one_click_panel import OneClickPanel
from app.ui.chart.view import ChartView

PANEL_MARGIN = 4

MINIMUM_SIZE = QSize(
    140, 100
)  # tiled on a small screen, a chart clips its toolbar before it grows the window


class ChartWindow(QWidget):
    order_requested = Signal(str)
    order_at_price = Signal(str, object, float)  # symbol, OrderType, price: the ticket, filled in
    alert_at_price = Signal(str, object, float)  # symbol, AlertCondition, price: the Alerts tab's form

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return MINIMUM_SIZE

    def __init__(
        self, model: ChartModel, parent: QWidget | None = None, trading: ChartTrading | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ChartWindow")
        self.model = model
        self.trading = trading
        self.view = ChartView(model, self, draggable=trading is not None)
        self.one_click_panel: OneClickPanel | None = None
        self.last_one_click: tuple[OrderResult | None, str] | None = None
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
        self.chart_type_button = QToolButton()
        self.chart_type_button.setObjectName("ChartTypeButton")
        self.chart_type_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.chart_type_button.setToolTip("Chart type (Ctrl+1 bars, Ctrl+2 candlesticks, Ctrl+3 line)")
        self.chart_type_menu = QMenu(self.chart_type_button)
        self.chart_type_menu.aboutToShow.connect(lambda: self._fill_chart_types(self.chart_type_menu))
        self.chart_type_button.setMenu(self.chart_type_menu)
        order = QToolButton()
        order.setText("New Order")
        order.clicked.connect(lambda: self.order_requested.emit(model.symbol))
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.timeframe_box)
        bar.addWidget(self.indicator_button)
        bar.addWidget(self.chart_type_button)
        bar.addWidget(order)
        self.one_click_button = QToolButton()
        self.one_click_button.setText("One Click")
        self.one_click_button.setObjectName("OneClickButton")
        self.one_click_button.setCheckable(True)
        self.one_click_button.setToolTip("One-click trading on this chart (Alt+T)")
        self.one_click_button.toggled.connect(self.set_one_click)
        self.one_click_button.setVisible(trading is not None)
        bar.addWidget(self.one_click_button)
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
        for digit, kind in enumerate((ChartType.BARS, ChartType.CANDLES, ChartType.LINE), start=1):
            self._chart_key(kind.label, f"Ctrl+{digit}", lambda k=kind: model.set_chart_type(k))
        self.delete_drawing = self._chart_key(
            "Delete the selected drawing", "Delete", self.view.drawing_editor.delete_selected
        )
        model.chart_type_changed.connect(self._sync_chart_type)
        self._sync_chart_type()
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self.show_menu)
        self.menu: QMenu | None = None
        if trading is not None:
            self.view.level_dragging.connect(self._level_dragging)
            self.view.level_dropped.connect(self._level_dropped)
            self.view.installEventFilter(self)
            model.quote_changed.connect(self._show_quote)

    # ------------------------------------------------------------------ context menu
    def build_menu(self, pos: QPoint) -> QMenu:
        """The chart's right-click menu at ``pos`` (viewport coordinates): trade at the price there
        (the pending orders that price allows, by the side of the market), one-click trading,
        timeframe, indicators, grid, auto-scroll, save as picture."""
        menu = QMenu(self)
        model = self.model
        price = self.view.price_at(pos)
        if price is not None and model.bid and self.trading is not None:
            at = formatting.price(price, model.digits)
            kinds: tuple[OrderType, ...]
            if price < model.bid:
                kinds = (OrderType.BUY_LIMIT, OrderType.SELL_STOP)
            elif price > model.ask:
                kinds = (OrderType.SELL_LIMIT, OrderType.BUY_STOP)
            else:
                kinds = ()
            for kind in kinds:
                name = kind.value.replace("_", " ").title()
                action = menu.addAction(f"{name} {model.symbol} at {at}")
                action.triggered.connect(
                    lambda _=False, k=kind, p=price: self.order_at_price.emit(model.symbol, k, p)
                )
        if price is not None and model.bid:
            condition = AlertCondition.BID_ABOVE if price > model.bid else AlertCondition.BID_BELOW
            at = formatting.price(price, model.digits)
            alert = menu.addAction(f"Alert when the bid is {condition.value.split('_')[1]} {at}...")
            alert.triggered.connect(
                lambda _=False, c=condition, p=price: self.alert_at_price.emit(model.symbol, c, p)
            )
        new_order = menu.addAction("New Order...")
        new_order.triggered.connect(lambda: self.order_requested.emit(model.symbol))
        menu.addSeparator()
        if self.trading is not None:
            one_click = menu.addAction("One Click Trading")
            one_click.setCheckable(True)
            one_click.setChecked(self.one_click)
            one_click.triggered.connect(lambda on: self.set_one_click(on))
        timeframes = menu.addMenu("Timeframe")
        for tf in Timeframe:
            action = timeframes.addAction(tf.name)
            action.setCheckable(True)
            action.setChecked(tf is model.timeframe)
            action.triggered.connect(lambda _=False, t=tf: self.set_timeframe(t))
        indicators = menu.addMenu("Indicators")
        indicators.addAction("Add Indicator...").triggered.connect(self.ask_indicator)
        for i, spec in enumerate(model.indicators):
            remove = indicators.addAction(f"Remove {spec.label}")
            remove.triggered.connect(lambda _=False, index=i: model.remove_indicator(index))
        self._fill_chart_types(menu.addMenu("Chart Type"))
        self._fill_draw(menu.addMenu("Draw"), pos)
        menu.addSeparator()
        grid = menu.addAction("Grid")
        grid.setCheckable(True)
        grid.setChecked(self.view.grid_visible)
        grid.triggered.connect(lambda on: self.view.set_grid(on))
        scroll = menu.addAction("Auto Scroll")
        scroll.setCheckable(True)
        scroll.setChecked(self.view.auto_scroll)
        scroll.triggered.connect(lambda on: self.view.go_to_end() if on else self.view.stop_following())
        menu.addSeparator()
        menu.addAction("Save as Picture...").triggered.connect(self.ask_picture)
        return menu

    def _fill_chart_types(self, menu: QMenu) -> None:
        menu.clear()
        for digit, kind in enumerate((ChartType.BARS, ChartType.CANDLES, ChartType.LINE), start=1):
            action = menu.addAction(f"{kind.label}\tCtrl+{digit}")  # the key shown; the chart's binds it
            action.setCheckable(True)
            action.setChecked(kind is self.model.chart_type)
            action.triggered.connect(lambda _=False, k=kind: self.model.set_chart_type(k))

    def _sync_chart_type(self) -> None:
        self.chart_type_button.setText(self.model.chart_type.label)

    def _fill_draw(self, menu: QMenu, pos: QPoint) -> None:
        """Horizontal line at the price under the mouse, vertical line at that bar's time, a trend
        line by two clicks or a drag; delete the selected drawing or all of them."""
        model, editor = self.model, self.view.drawing_editor
        point = self.view.chart_point_at(pos)
        anchor = editor.anchor_at(point) if point is not None else None
        at = formatting.price(anchor.price, model.digits) if anchor is not None else ""
        hline = menu.addAction(f"Horizontal Line at {at}" if anchor else "Horizontal Line")
        vline = menu.addAction("Vertical Line")
        hline.setEnabled(anchor is not None)
        vline.setEnabled(anchor is not None)
        if anchor is not None:
            hline.triggered.connect(lambda: model.add_drawing(horizontal(anchor.time, anchor.price)))
            vline.triggered.connect(lambda: model.add_drawing(vertical(anchor.time, anchor.price)))
        trend = menu.addAction("Trend Line (click two points, or drag)")
        trend.setEnabled(len(model.buffer) > 0)
        trend.triggered.connect(self.view.start_trend)
        menu.addSeparator()
        delete = menu.addAction("Delete Selected Drawing")
        delete.setEnabled(editor.selected is not None)
        delete.triggered.connect(editor.delete_selected)
        clear = menu.addAction("Delete All Drawings")
        clear.setEnabled(bool(model.drawings))
        clear.triggered.connect(model.clear_drawings)

    def show_menu(self, pos: QPoint) -> None:
        self.menu = self.build_menu(pos)
        self.menu.popup(self.view.viewport().mapToGlobal(pos))

    def ask_picture(self) -> None:
        name = f"{self.model.symbol}_{self.model.timeframe.name}.png"
        path, _filter = QFileDialog.getSaveFileName(self, "Save chart as picture", name, "PNG (*.png)")
        if path:
            self.save_picture(Path(path))

    def save_picture(self, path: Path) -> bool:
        """The chart as it is on screen, as a PNG."""
        return self.view.grab().save(str(path), "PNG")

    # ------------------------------------------------------------------ one-click trading
    @property
    def one_click(self) -> bool:
        return self.one_click_panel is not None and self.one_click_panel.isVisible()

    def set_one_click(self, on: bool) -> None:
        """The one-click panel on or off; the first time, after the risk acknowledgement."""
        trading = self.trading
        if trading is None or on == self.one_click:
            self._sync_one_click_button()
            return
        if not on:
            assert self.one_click_panel is not None  # noqa: S101 - on: it exists
            self.one_click_panel.hide()
            self._sync_one_click_button()
            return
        trading.ask_acknowledgement(self, self._acknowledged)

    def _acknowledged(self, accepted: bool) -> None:
        if accepted:
            self._show_panel()
        self._sync_one_click_button()

    def _sync_one_click_button(self) -> None:
        self.one_click_button.blockSignals(True)
        self.one_click_button.setChecked(self.one_click)
        self.one_click_button.blockSignals(False)

    def _show_panel(self) -> None:
        if self.one_click_panel is None:
            panel = OneClickPanel(self.view)
            panel.trade.connect(self._one_click_trade)
            self.one_click_panel = panel
            if self.trading is not None:
                spec = self.trading.spec(self.model.symbol)
                if spec is not None:
                    panel.set_spec(spec)
        self._show_quote()
        self.one_click_panel.show()
        self.one_click_panel.raise_()
        self._place_panel()

    def _place_panel(self) -> None:
        """At the top left of the price pane, under the title (which wraps in a narrow tile)."""
        panel = self.one_click_panel
        if panel is None:
            return
        panel.adjustSize()
        title = self.view.title
        bottom = self.view.mapFromScene(title.mapRectToScene(title.boundingRect())).boundingRect().bottom()
        panel.move(PANEL_MARGIN, bottom + PANEL_MARGIN)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.view and event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self._place_panel()
        return super().eventFilter(watched, event)

    def _show_quote(self) -> None:
        if self.one_click_panel is not None:
            self.one_click_panel.show_quote(self.model.bid, self.model.ask, self.model.digits)

    def _one_click_trade(self, side: Side, volume: float) -> None:
        if self.trading is not None and self.one_click:
            self.trading.one_click(self.model.symbol, side, volume, self, self._one_click_done)

    def _one_click_done(self, result: OrderResult | None, reason: str) -> None:
        self.last_one_click = (result, reason)

    # ------------------------------------------------------------------ dragged lines
    def _change(self, key: Hashable, price: float):  # type: ignore[no-untyped-def]
        model = self.model
        spec = self.trading.spec(model.symbol) if self.trading is not None else None
        return level_change(key, price, model.positions, model.orders, spec, model.bid, model.ask)

    def _level_dragging(self, key: Hashable, price: float) -> None:
        change = self._change(key, price)
        if change is not None:
            self.view.trade_lines.show_tag(key, change.tag(self.model.digits))

    def _level_dropped(self, key: Hashable, price: float) -> None:
        change = self._change(key, price)
        lines = self.view.trade_lines
        if isinstance(key, tuple) and key[0] == "pos":
            lines.snap_back(key)  # a position's own line stays at its price: its SL or TP comes
        if change is None or self.trading is None:
            lines.snap_back(key)
            return
        self.trading.drop(change, self.model.digits, self, lambda _reason: lines.snap_back(key))

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
