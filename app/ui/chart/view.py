"""The bar chart view: price pane with candles, bid/ask and trade lines, crosshair, indicator panes.

It draws a :class:`ChartModel` and reacts to its signals: a new live bar moves one candle, a new bar
scrolls the view along when it was showing the newest bar (auto-scroll), panning near the oldest bar
asks the model for older history, and the y range follows the visible bars. New history (another
timeframe) shows the newest bars, following the live one, with the time axis and the readout of
the new bars; while it loads the chart is empty rather than showing the old timeframe's bars.

However small the chart (a tile), the price pane keeps at least half of the height the panes share
(indicator panes give way first) and the title wraps instead of pushing the price axis out of view.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QWidget

from app.core.indicators import IndicatorSpec, Placement
from app.ui.chart.axis import BarIndexAxis
from app.ui.chart.candles import CandleItem
from app.ui.chart.crosshair import Crosshair, bar_readout
from app.ui.chart.drawing_editor import DrawingEditor
from app.ui.chart.drawings_item import DrawingsItem
from app.ui.chart.grid import Grid
from app.ui.chart.indicator_layers import IndicatorLayer
from app.ui.chart.levels import DRAGGABLE
from app.ui.chart.lines import PriceLines, QuoteLines, trade_lines
from app.ui.chart.measure import Measure
from app.ui.chart.model import ChartModel
from app.ui.chart.panes import PaneStack

VISIBLE_BARS = 120
RIGHT_MARGIN = 4
OLDER_THRESHOLD = 30  # load older history when the view comes this close to the oldest bar
Y_PADDING = 0.06
# Indicator values of the live bar and the title's readout are refreshed at 10 Hz, not every frame:
# recomputing and re-pathing every series and laying out text would cost more than the candles.
SLOW_REFRESH_MS = 100

FrameProbe = Callable[[float, int], None]  # (paint seconds, newest tick time shown in ms)


class ChartView(pg.GraphicsLayoutWidget):
    """``draggable``: the trade lines (SL, TP, pending prices, positions) can be dragged; the view
    says where one is dragged (``level_dragging``) and dropped (``level_dropped``), its owner asks
    for the modify."""

    level_dragging = Signal(object, float)  # line key, price
    level_dropped = Signal(object, float)

    def __init__(self, model: ChartModel, parent: QWidget | None = None, *, draggable: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("ChartView")
        self.model = model
        self.probe: FrameProbe | None = None
        self._painted_tick = 0
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.ci.setSpacing(0)
        self.stack = PaneStack(self.ci, model.buffer, model.timeframe)
        self.title = self.stack.title
        self.price_plot = self.stack.price
        self.price_plot.vb.sigXRangeChanged.connect(self._x_range_changed)
        self.candles = CandleItem(model.buffer, model.chart_type)
        self.price_plot.addItem(self.candles)
        self.drawings = DrawingsItem(
            self.price_plot,
            lambda seconds: self.drawing_editor.x_of(seconds),
            lambda: model.digits,
        )
        self.drawing_editor = DrawingEditor(model, self.drawings)
        self.drawings.set_drawings(model.drawings)
        self.quote_lines = QuoteLines(self.price_plot)
        self.trade_lines = PriceLines(
            self.price_plot,
            draggable=lambda key: draggable and isinstance(key, tuple) and key[0] in DRAGGABLE,
            on_drag=self.level_dragging.emit,
            on_drop=self.level_dropped.emit,
        )
        self.crosshair = Crosshair(
            self.price_plot, model.buffer, lambda: model.digits, self._show_readout, lambda: model.timeframe
        )
        self.layers: list[IndicatorLayer] = []
        self.grid_visible = True
        self.measure = Measure(self.price_plot)
        self.follow = True  # keep the newest bar in view as bars arrive
        self.auto_scroll = True  # the chart menu's Auto Scroll: off, new bars never move the view
        self._width = float(VISIBLE_BARS)  # how many bars the trader's zoom shows (kept across timeframes)
        self._moving = False  # the view itself is moving the range (new history): not the trader
        self._status = ""
        self._readout = ""
        self._title_dirty = False
        self._indicators_dirty = False
        self._y_range: tuple[float, float] | None = None
        self._slow_timer = QTimer(self)
        self._slow_timer.setInterval(SLOW_REFRESH_MS)
        self._slow_timer.timeout.connect(self._refresh_slow)
        self._slow_timer.start()
        self._build_indicators()
        model.reset.connect(self._on_reset)
        model.prepended.connect(self._on_prepended)
        model.updated.connect(self._on_updated)
        model.quote_changed.connect(self._on_quote)
        model.trades_changed.connect(self._on_trades)
        model.indicators_changed.connect(self._build_indicators)
        model.status_changed.connect(self._on_status)
        model.timeframe_changed.connect(self._on_timeframe)
        model.chart_type_changed.connect(lambda: self.candles.set_chart_type(model.chart_type))
        model.drawings_changed.connect(lambda: self.drawings.set_drawings(model.drawings))
        self._update_title()
        if model.loaded:
            self._on_reset()

    # ------------------------------------------------------------------ panes
    @property
    def panes(self) -> list[pg.PlotItem]:
        """The indicator panes under the price pane, top to bottom."""
        return self.stack.panes

    @property
    def time_axis(self) -> BarIndexAxis:
        """The time axis as the trader sees it (under the last pane)."""
        return self.stack.time_axis

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        stack: PaneStack | None = getattr(self, "stack", None)  # pyqtgraph resizes during __init__
        if stack is not None:
            stack.fit(self.viewport().height())

    def _build_indicators(self) -> None:
        for layer in self.layers:
            layer.remove()
        self.layers.clear()
        self.stack.clear_panes()
        overlays = 0
        for spec in self.model.indicators:
            if spec.placement is Placement.OVERLAY:
                self.layers.append(IndicatorLayer(spec, self.price_plot, overlays))
                overlays += 1
            else:
                pane = self.stack.add_pane()
                self.layers.append(IndicatorLayer(spec, pane))
                pane.addItem(self.crosshair.follower(), ignoreBounds=True)  # the time line goes on down
        self.stack.fit(self.viewport().height())
        self.set_grid(self.grid_visible)
        for layer in self.layers:
            layer.update(self.model.buffer)
        self._fit_y()
        self._fit_panes()
        self._update_title()

    # ------------------------------------------------------------------ measure mode
    def _measuring(self, event: QMouseEvent) -> bool:
        return event.button() is Qt.MouseButton.MiddleButton or bool(
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        )

    def _view_point(self, event: QMouseEvent) -> QPointF | None:
        scene = self.mapToScene(event.position().toPoint())
        vb = self.price_plot.vb
        if not vb.sceneBoundingRect().contains(scene):
            return None
        return vb.mapSceneToView(scene)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        point = self._view_point(event) if self._measuring(event) else None
        if point is not None:
            self.measure.begin(point.x(), point.y())
            event.accept()
            return
        left = event.button() is Qt.MouseButton.LeftButton
        if left and self._to_drawings(event, self.drawing_editor.press):
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self.measure.active:
            point = self._view_point(event)
            if point is not None:
                self.measure.move(point.x(), point.y(), self.model.digits)
            event.accept()
            return
        if self.drawing_editor.busy:
            self._to_drawings(event, self.drawing_editor.move, anywhere=True)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self.measure.active:
            self.measure.end()
            event.accept()
            return
        if event.button() is Qt.MouseButton.LeftButton and self.drawing_editor.busy:
            self._to_drawings(event, self.drawing_editor.release, anywhere=True)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def _to_drawings(
        self, event: QMouseEvent, gesture: Callable[[QPointF, QPointF], bool], *, anywhere: bool = False
    ) -> bool:
        """Hands a mouse event to the drawings; True: they took it. A gesture starts over the price
        pane only (``anywhere``: a drag in progress follows the mouse out of it, and ends there)."""
        scene = self.mapToScene(event.position().toPoint())
        vb = self.price_plot.vb
        if not anywhere and not vb.sceneBoundingRect().contains(scene):
            return False
        hint = self.drawing_editor.hint
        taken = gesture(scene, vb.mapSceneToView(scene))
        if self.drawing_editor.hint != hint:
            self._drawing_mode_changed()
        if taken:
            event.accept()
        return taken

    def start_trend(self) -> None:
        """The chart menu's Draw › Trend Line: the next two clicks (or a drag) place it."""
        self.drawing_editor.start_trend()
        self._drawing_mode_changed()

    def _drawing_mode_changed(self) -> None:
        """The title's hint and a cross cursor while a trend line is being placed."""
        if self.drawing_editor.hint:
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.viewport().unsetCursor()
        self._update_title()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Escape and (
            self.drawing_editor.placing or self.drawing_editor.busy or self.drawing_editor.selected
        ):
            self.drawing_editor.cancel()  # no trend line half placed, no line dragged or selected
            self._drawing_mode_changed()
            event.accept()
            return
        super().keyPressEvent(event)

    def chart_point_at(self, pos: QPoint) -> QPointF | None:
        """The chart point (x = bar, y = price) under a point of the viewport (None: off the price pane)."""
        scene = self.mapToScene(pos)
        vb = self.price_plot.vb
        if not vb.sceneBoundingRect().contains(scene):
            return None
        return vb.mapSceneToView(scene)

    def set_grid(self, visible: bool) -> None:
        """The grid lines on or off (the chart menu's Grid), in every pane."""
        self.grid_visible = visible
        for plot in self.stack.plots:
            for item in plot.items:
                if isinstance(item, Grid):
                    item.setVisible(visible)

    def price_at(self, pos: QPoint) -> float | None:
        """The price under a point of the viewport (None: not over the price pane)."""
        scene = self.mapToScene(pos)
        vb = self.price_plot.vb
        if not vb.sceneBoundingRect().contains(scene):
            return None
        return float(vb.mapSceneToView(scene).y())

    # ------------------------------------------------------------------ model changes
    def _time_axes(self) -> list[BarIndexAxis]:
        return self.stack.time_axes

    def _on_reset(self) -> None:
        """New history (first load, another timeframe): the newest bars, following the live one."""
        self._y_range = None
        for axis in self._time_axes():
            axis.set_timeframe(self.model.timeframe)
        self.candles.reset_cache()
        for layer in self.layers:
            layer.update(self.model.buffer)
        self._moving = True
        try:
            self._update_limits()  # before moving: the old history's limits would hold the view back
            self.go_to_end()
        finally:
            self._moving = False
        self._on_trades()
        self.drawings.update()  # the same times at this history's bars
        self._readout = self.crosshair.readout()
        self._update_title()
        if self.price_plot.vb.viewRange()[0][0] < OLDER_THRESHOLD:
            self.model.want_older()  # a short history: more of it at once

    def _on_timeframe(self) -> None:
        """Another timeframe is loading: nothing of the old one stays on screen meanwhile."""
        self._y_range = None
        for axis in self._time_axes():
            axis.set_timeframe(self.model.timeframe)
        self.candles.reset_cache()
        for layer in self.layers:
            layer.clear()
        self._readout = ""
        self._update_title()

    def _on_prepended(self, count: int) -> None:
        x0, x1 = self.price_plot.vb.viewRange()[0]
        self.candles.reset_cache()
        for axis in self._time_axes():
            axis.refresh()
        for layer in self.layers:
            layer.update(self.model.buffer)
        self._update_limits()
        self.price_plot.vb.setXRange(x0 + count, x1 + count, padding=0)
        self.drawings.update()

    def _on_updated(self, appended: int) -> None:
        self.candles.refresh()
        if appended:
            self._update_indicators()  # a new bar: at once, so the lines never lag a whole bar
            self._update_limits()
            self.drawings.update()
            if self.follow and self.auto_scroll:
                x0, x1 = self.price_plot.vb.viewRange()[0]
                self.price_plot.vb.setXRange(x0 + appended, x1 + appended, padding=0)
        else:
            self._indicators_dirty = True  # the live bar moved: the slow timer catches up
        self._fit_y()
        if self.crosshair.index is None:
            self._title_dirty = True  # the live bar's readout: refreshed by a slow timer

    def _update_indicators(self) -> None:
        self._indicators_dirty = False
        for layer in self.layers:
            layer.update(self.model.buffer)

    def _refresh_slow(self) -> None:
        """What need not follow every frame: indicator values of the live bar and the readout."""
        if self._indicators_dirty:
            self._update_indicators()
            self._fit_panes()
        if self._title_dirty and shiboken6.isValid(self.title.item):
            self._update_title()

    def _on_quote(self) -> None:
        model = self.model
        self.quote_lines.show_quote(model.bid, model.ask, model.digits)

    def _on_trades(self) -> None:
        self.trade_lines.set(trade_lines(self.model.positions, self.model.orders, self.model.digits))

    def _on_status(self, text: str) -> None:
        self._status = text
        self._update_title()

    # ------------------------------------------------------------------ view range
    def show_latest(self, bars: int = VISIBLE_BARS) -> None:
        n = len(self.model.buffer)
        self.price_plot.vb.setXRange(n - bars, n + RIGHT_MARGIN, padding=0)
        self._fit_y()
        self._fit_panes()

    def visible_bars(self) -> float:
        x0, x1 = self.price_plot.vb.viewRange()[0]
        return x1 - x0 - RIGHT_MARGIN

    def go_to_end(self) -> None:
        """The live bar at the right edge, keeping the zoom, and auto-scroll on (MT5's End key)."""
        self.show_latest(round(self._width))
        self.follow = True
        self.auto_scroll = True

    def stop_following(self) -> None:
        """Auto-scroll off: new bars come in on the right without moving the view."""
        self.auto_scroll = False

    def go_to_start(self) -> None:
        """The oldest loaded bar at the left edge, keeping the zoom (MT5's Home key); panning there
        loads older history, as dragging does."""
        x0, x1 = self.price_plot.vb.viewRange()[0]
        self.price_plot.vb.setXRange(-1, x1 - x0 - 1, padding=0)

    def zoom(self, factor: float) -> None:
        """Zoom the time axis by ``factor`` (< 1 zooms in), keeping the right edge in place."""
        x0, x1 = self.price_plot.vb.viewRange()[0]
        width = max(10.0, (x1 - x0) * factor)
        self.price_plot.vb.setXRange(x1 - width, x1, padding=0)

    def _update_limits(self) -> None:
        n = len(self.model.buffer)
        self.price_plot.vb.setLimits(xMin=-20, xMax=n + 60, minXRange=8)

    def _x_range_changed(self, _view: object, x_range: tuple[float, float]) -> None:
        x0, x1 = x_range
        n = len(self.model.buffer)
        self.follow = x1 >= n - 1
        self._fit_y()
        self._fit_panes()
        if self._moving or not n:
            return
        self._width = max(8.0, x1 - x0 - RIGHT_MARGIN)
        if x0 < OLDER_THRESHOLD:
            self.model.want_older()

    def _fit_y(self) -> None:
        x0, x1 = self.price_plot.vb.viewRange()[0]
        span = self.model.buffer.visible_range(x0, x1)
        if span is not None and span != self._y_range:
            self._y_range = span
            lo, hi = span
            pad = (hi - lo) * Y_PADDING or abs(hi) * 1e-4 or 1e-4
            self.price_plot.vb.setYRange(lo - pad, hi + pad, padding=0)

    def _fit_panes(self) -> None:
        x0, x1 = self.price_plot.vb.viewRange()[0]
        for layer in self.layers:
            if layer.plot is self.price_plot or layer.spec.kind.value == "rsi":
                continue
            values = layer.value_range(x0, x1)
            if values is not None:
                lo, hi = values
                pad = (hi - lo) * 0.1 or 1e-6
                layer.plot.vb.setYRange(lo - pad, hi + pad, padding=0)

    # ------------------------------------------------------------------ title and readout
    def _show_readout(self, text: str) -> None:
        self.crosshair.move_followers()
        self._readout = text
        self._update_title()

    def _update_title(self) -> None:
        self._title_dirty = False
        model = self.model
        parts = [f"<b>{model.title}</b>"]
        readout = self._readout or bar_readout(
            model.buffer, len(model.buffer) - 1, model.digits, model.timeframe
        )
        if readout:
            parts.append(readout)
        labels = "  ".join(spec.label for spec in model.indicators)
        if labels:
            parts.append(f"<span style='color:#6e7f93'>{labels}</span>")
        if self._status:
            parts.append(f"<span style='color:#f0a04b'>{self._status}</span>")
        hint = self.drawing_editor.hint
        if hint:
            parts.append(f"<span style='color:#e3b341'>{hint}</span>")
        self.title.setText("&nbsp;&nbsp;&nbsp;".join(parts))

    # ------------------------------------------------------------------ frame measurement
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        if self.probe is None:
            super().paintEvent(event)
            return
        started = time.perf_counter()
        super().paintEvent(event)
        tick = self.model.last_tick_msc
        self.probe(time.perf_counter() - started, tick if tick != self._painted_tick else 0)
        self._painted_tick = tick

    def indicator_specs(self) -> list[IndicatorSpec]:
        return list(self.model.indicators)
