"""A chart on its model: ticks become the live bar, new bars scroll in, history loads on the left,
indicators add panes, and the account's trades draw labelled lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.core.bars import LiveBar
from app.core.hub import EventHub, Topic
from app.core.indicators import IndicatorKind, IndicatorSpec
from app.models import (
    Bar,
    BarSeries,
    BarUpdate,
    Order,
    OrderState,
    OrderType,
    Position,
    Side,
    TickBatch,
    Timeframe,
)
from app.ui.bridge import BarBatch, HubBridge
from app.ui.chart.model import ChartModel
from app.ui.chart.view import ChartView
from app.ui.chart.window import ChartWindow

T0 = int(datetime(2026, 11, 18, 9, 0, tzinfo=UTC).timestamp())


def history(count: int, end: int = T0, step: int = 60, timeframe: Timeframe = Timeframe.M1) -> BarSeries:
    rng = np.random.default_rng(1)
    closes = 1.1 + np.cumsum(rng.normal(0, 0.0002, count))
    bars = [
        Bar(end - (count - i) * step, c - 0.0001, c + 0.0003, c - 0.0003, c, 10) for i, c in enumerate(closes)
    ]
    return BarSeries.from_bars("EURUSD", timeframe, bars)


def ticks(times_ms: list[int], bids: list[float]) -> TickBatch:
    t = np.array(times_ms, dtype=np.int64)
    b = np.array(bids, dtype=np.float64)
    zeros = np.zeros(len(t))
    return TickBatch("EURUSD", t, b, b + 0.0001, zeros, zeros.copy(), np.zeros(len(t), dtype=np.int64))


def make_chart(qtbot: QtBot, count: int = 500) -> tuple[ChartModel, ChartView]:
    model = ChartModel("EURUSD", Timeframe.M1, digits=5)
    view = ChartView(model)
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    model.set_history(history(count), digits=5)
    return model, view


def test_ticks_move_the_live_bar_through_the_bridge(qtbot: QtBot) -> None:
    model, view = make_chart(qtbot)
    hub = EventHub()
    bridge = HubBridge(hub)
    bridge.bars.connect(lambda batches: model.apply_bars(batches[("EURUSD", Timeframe.M1)]))
    bridge.start()
    live = LiveBar("EURUSD", Timeframe.M1, 0.00001, current=model.buffer.bar(len(model.buffer) - 1))
    before = len(model.buffer)
    paints = view.candles.paints
    high = float(model.buffer.high.max()) + 0.01  # far above everything: the chart must rescale

    live.apply(ticks([(T0 - 60) * 1000 + 500], [high]))
    assert live.current is not None
    hub.publish(Topic.BARS, BarUpdate("EURUSD", Timeframe.M1, live.current), key=("EURUSD", Timeframe.M1))
    qtbot.waitUntil(lambda: model.buffer.high[-1] == high, timeout=2000)
    assert len(model.buffer) == before and model.buffer.close[-1] == high
    qtbot.waitUntil(lambda: view.candles.paints > paints, timeout=2000)
    assert view.candles.boundingRect().bottom() >= high  # y grows upward in the view's data
    assert view.price_plot.vb.viewRange()[1][1] >= high  # auto-fit keeps the live bar in view

    # the next minute: the bar closes (carried in `closed`) and a new live bar starts
    closed = live.apply(ticks([T0 * 1000 + 100], [1.2]))
    assert live.current is not None
    hub.publish(
        Topic.BARS,
        BarUpdate("EURUSD", Timeframe.M1, live.current, tuple(closed)),
        key=("EURUSD", Timeframe.M1),
    )
    x_right = view.price_plot.vb.viewRange()[0][1]
    qtbot.waitUntil(lambda: len(model.buffer) == before + 1, timeout=2000)
    assert model.buffer.time[-1] == T0 and model.buffer.high[-2] == high
    assert view.price_plot.vb.viewRange()[0][1] == x_right + 1  # auto-scroll follows the newest bar
    bridge.stop()


def test_bars_closed_between_frames_are_not_lost() -> None:
    batch = BarBatch(Bar(0, 1, 1, 1, 1))
    batch.add(BarUpdate("X", Timeframe.M1, Bar(60, 2, 2, 2, 2), (Bar(0, 1, 1.5, 1, 1.2),)))
    batch.add(BarUpdate("X", Timeframe.M1, Bar(120, 3, 3, 3, 3), (Bar(60, 2, 2.5, 2, 2.2),)))
    assert [b.time for b in batch.closed] == [0, 60] and batch.live.time == 120


def test_panning_left_asks_for_older_history_and_keeps_the_view(qtbot: QtBot) -> None:
    model, view = make_chart(qtbot, count=200)
    wanted: list[bool] = []
    model.older_wanted.connect(lambda: wanted.append(True))
    view.price_plot.vb.setXRange(5, 80, padding=0)
    assert wanted == [True] and model.loading_older
    first_time = int(model.buffer.time[0])
    model.prepend_history(history(300, end=first_time))
    assert len(model.buffer) == 500 and int(model.buffer.time[300]) == first_time
    x0, x1 = view.price_plot.vb.viewRange()[0]
    assert (round(x0), round(x1)) == (305, 380)  # the same bars stay in view


def test_indicators_overlay_and_sub_panes(qtbot: QtBot) -> None:
    model, view = make_chart(qtbot)
    model.add_indicator(IndicatorSpec(IndicatorKind.SMA, {"period": 10}))
    model.add_indicator(IndicatorSpec(IndicatorKind.BBANDS))
    model.add_indicator(IndicatorSpec(IndicatorKind.RSI))
    model.add_indicator(IndicatorSpec(IndicatorKind.MACD))
    assert len(view.panes) == 2 and len(view.layers) == 4
    sma = view.layers[0].curves["sma"]
    x, y = sma.getData()
    assert x[0] == 9 and len(y) == len(model.buffer) - 9
    np.testing.assert_allclose(y[-1], model.buffer.close[-10:].mean())
    assert not view.price_plot.getAxis("bottom").isVisible() and view.panes[-1].getAxis("bottom").isVisible()
    model.remove_indicator(3)
    model.remove_indicator(2)
    assert view.panes == [] and len(view.layers) == 2
    assert view.price_plot.getAxis("bottom").isVisible()


def test_trades_draw_labelled_lines(qtbot: QtBot) -> None:
    model, view = make_chart(qtbot)
    now = datetime(2026, 11, 18, tzinfo=UTC)
    position = Position(7, "EURUSD", Side.BUY, 0.1, 1.1, 1.1005, 1.09, 1.12, 5.0, 0, now, now)
    other = Position(8, "GBPUSD", Side.SELL, 0.1, 1.3, 1.3, 0, 0, 0, 0, now, now)
    order = Order(9, "EURUSD", OrderType.SELL_LIMIT, OrderState.PLACED, 0.2, 0.2, 1.11, 0, 0, 1.1, 0, now)
    model.set_trades([position, other], [order])
    keys = set(view.trade_lines.keys())
    assert keys == {("pos", 7), ("sl", 7), ("tp", 7), ("order", 9)}
    assert view.trade_lines.text(("pos", 7)) == "#7 buy 0.10"
    assert view.trade_lines.text(("order", 9)) == "#9 sell limit 0.20 at 1.11000"
    model.set_trades([], [])
    assert view.trade_lines.keys() == []
    model.apply_quote(__import__("app.models", fromlist=["Quote"]).Quote("EURUSD", 1.1, 1.1001, 0, 10, 5))
    assert (view.quote_lines.bid, view.quote_lines.ask) == (1.1, 1.1001)


def pane_rect(view: ChartView) -> QRectF:
    """The price pane's plotting area in the viewport's pixels."""
    vb = view.price_plot.vb
    return view.mapFromScene(vb.mapRectToScene(vb.boundingRect())).boundingRect().toRectF()


@pytest.mark.parametrize("edge", ["top", "bottom"])
def test_labels_and_price_tags_at_the_pane_edge_stay_inside_it(qtbot: QtBot, edge: str) -> None:
    """A position's line or the bid/ask lines just inside the top or bottom of the price pane keep
    their label and price tags whole, inside the pane (they were cut by its edge in tiles)."""
    model, view = make_chart(qtbot)
    view.resize(520, 300)
    QApplication.sendPostedEvents()
    view.grab()
    low, high = view.price_plot.vb.viewRange()[1]
    point = 0.00001
    near = high - 3 * point if edge == "top" else low + 3 * point
    now = datetime(2026, 11, 18, tzinfo=UTC)
    position = Position(7, "EURUSD", Side.SELL, 0.02, near, near, 0, 0, 0, 0, now, now)
    model.set_trades([position], [])
    bid = round(near - point if edge == "top" else near, 5)
    from app.models import Quote

    model.apply_quote(Quote("EURUSD", bid, round(bid + 2 * point, 5), 0, 10, 5))
    view.grab()
    pane = pane_rect(view)

    label = view.trade_lines.label(("pos", 7))
    box = view.mapFromScene(label.mapRectToScene(label.boundingRect())).boundingRect().toRectF()
    assert pane.top() - 1 <= box.top() and box.bottom() <= pane.bottom() + 1, (edge, box, pane)

    tags = view.quote_lines.drawn_tags
    assert [text for text, _rect in tags] == [f"{bid + 2 * point:.5f}", f"{bid:.5f}"]
    for text, rect in tags:
        assert pane.top() - 1 <= rect.top() and rect.bottom() <= pane.bottom() + 1, (text, rect, pane)
    (_ask, ask_rect), (_bid, bid_rect) = tags
    assert ask_rect.bottom() <= bid_rect.top() + 0.5  # one above the other, never on top of it


def test_crosshair_reads_out_the_bar_under_it(qtbot: QtBot) -> None:
    model, view = make_chart(qtbot)
    model.add_indicator(IndicatorSpec(IndicatorKind.RSI))
    index = len(model.buffer) - 3
    view.crosshair.move_to(index + 0.2, 1.1)
    bar = model.buffer.bar(index)
    text = view.title.text
    assert f"O {bar.open:.5f}" in text and f"C {bar.close:.5f}" in text
    assert view.crosshair.vline.isVisible() and view.crosshair.vline.value() == index
    (follower,) = view.crosshair._followers
    assert follower.isVisible() and follower.value() == index  # the time line goes on through the RSI pane
    view.crosshair.leave()
    assert not follower.isVisible() and not view.crosshair.vline.isVisible()
    assert datetime.fromtimestamp(bar.time, tz=UTC).strftime("%Y.%m.%d %H:%M") in text


def test_zoom_keeps_the_right_edge(qtbot: QtBot) -> None:
    model, view = make_chart(qtbot)
    x0, x1 = view.price_plot.vb.viewRange()[0]
    view.zoom(0.5)
    y0, y1 = view.price_plot.vb.viewRange()[0]
    assert round(y1) == round(x1) and round(y1 - y0) == round((x1 - x0) / 2)


# ---------------------------------------------------------------------------- what the trader reads
H1_END = int(datetime(2026, 12, 1, 21, 0, tzinfo=UTC).timestamp())


def series(timeframe: Timeframe, count: int, end: int = H1_END) -> BarSeries:
    return history(count, end=end + timeframe.seconds, step=timeframe.seconds, timeframe=timeframe)


def shown_window(
    qtbot: QtBot, model: ChartModel, width: int, height: int, active: bool = False
) -> ChartWindow:
    window = ChartWindow(model)
    qtbot.addWidget(window)
    window.resize(width, height)
    window.show()
    qtbot.waitExposed(window)
    if active:
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
    return window


def time_labels(view: ChartView) -> list[str]:
    """The time axis's labels as painted (a grab paints the chart as the screen would)."""
    view.grab()
    plots = [view.price_plot, *view.panes]
    axis = plots[-1].getAxis("bottom")
    return [label for label in axis.drawn if label]


def label_times(labels: list[str], year: int = 2026) -> list[datetime]:
    return [datetime.strptime(f"{label} {year}", "%d %b %H:%M %Y").replace(tzinfo=UTC) for label in labels]


def test_a_timeframe_switch_shows_the_newest_bars_with_their_own_axis_and_readout(qtbot: QtBot) -> None:
    model = ChartModel("EURUSD", Timeframe.H1, digits=5)
    view = ChartView(model)
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    model.set_history(series(Timeframe.H1, 5000), digits=5)
    h1_last = datetime.fromtimestamp(int(model.buffer.time[-1]), tz=UTC)
    assert h1_last.hour == 21
    view.crosshair.move_to(len(model.buffer) - 10, 1.1)  # the mouse rests on the chart

    model.set_timeframe(Timeframe.D1)  # Alt+7: while D1 loads, nothing of H1 is shown as D1's
    assert "EURUSD, D1" in view.title.plain_text and "21:00" not in view.title.plain_text
    assert len(model.buffer) == 0 and time_labels(view) == []
    model.set_history(series(Timeframe.D1, 700), digits=5)
    labels = time_labels(view)
    assert labels and all(datetime.strptime(label, "%d %b %Y") for label in labels)
    assert "2026.12.01 O " in view.title.plain_text  # the readout: the D1 bar by its date
    x0, x1 = view.price_plot.vb.viewRange()[0]
    assert x1 >= len(model.buffer) - 1 and view.follow

    model.set_timeframe(Timeframe.M1)  # Alt+1
    model.set_history(series(Timeframe.M1, 5000), digits=5)
    n = len(model.buffer)
    x0, x1 = view.price_plot.vb.viewRange()[0]
    assert x0 <= n - 100 and x1 >= n - 1 and view.follow  # the newest bars, the live one in view
    newest = datetime.fromtimestamp(int(model.buffer.time[-1]), tz=UTC)
    shown = label_times(time_labels(view))
    assert shown and all(newest - timedelta(hours=3) <= t <= newest for t in shown), shown
    assert shown == sorted(shown) and len({t.minute for t in shown}) >= 1
    under = datetime.fromtimestamp(int(model.buffer.time[len(model.buffer) - 10]), tz=UTC)
    assert f"{under:%Y.%m.%d %H:%M} O " in view.title.plain_text  # the M1 bar under the mouse
    view.crosshair.leave()
    assert f"{newest:%Y.%m.%d %H:%M} O " in view.title.plain_text  # the live M1 bar


def test_end_and_home_keys_and_a_mouse_drag(qtbot: QtBot) -> None:
    model = ChartModel("EURUSD", Timeframe.M1, digits=5)
    window = shown_window(qtbot, model, 900, 520, active=True)  # keys go to the active window
    model.set_history(series(Timeframe.M1, 3000), digits=5)
    view = window.view
    n = len(model.buffer)
    newest_label = label_times(time_labels(view))[-1]

    viewport = view.viewport()
    start = QPoint(viewport.width() // 2, viewport.height() // 2)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, 11):
        QTest.mouseMove(viewport, start + QPoint(40 * step, 0))
    QTest.mouseRelease(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(400, 0)
    )
    x0, x1 = view.price_plot.vb.viewRange()[0]
    assert x1 < n - 20 and not view.follow  # dragged into the past: auto-scroll is off
    assert label_times(time_labels(view))[-1] < newest_label

    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_End)
    x0, x1 = view.price_plot.vb.viewRange()[0]
    assert x1 >= n - 1 and view.follow
    model.apply_bars(BarBatch(Bar(int(model.buffer.time[-1]) + 60, 1.1, 1.1, 1.1, 1.1)))
    assert view.price_plot.vb.viewRange()[0][1] == pytest.approx(x1 + 1)  # follows the new bar

    wanted: list[bool] = []
    model.older_wanted.connect(lambda: wanted.append(True))
    QTest.keyClick(view, Qt.Key.Key_Home)
    x0, x1 = view.price_plot.vb.viewRange()[0]
    assert x0 <= 0 and x1 > 50 and not view.follow
    oldest = datetime.fromtimestamp(int(model.buffer.time[0]), tz=UTC)
    assert label_times(time_labels(view))[0] - oldest < timedelta(hours=1)
    assert wanted == [True]  # at the oldest bar: older history is asked for


FOUR_PANES = [
    IndicatorSpec(IndicatorKind.EMA, {"period": 50}),
    IndicatorSpec(IndicatorKind.RSI),
    IndicatorSpec(IndicatorKind.MACD),
    IndicatorSpec(IndicatorKind.RSI, {"period": 7}),
    IndicatorSpec(IndicatorKind.MACD, {"fast": 5, "slow": 13, "signal": 4}),
]


@pytest.mark.parametrize(("width", "height"), [(400, 300), (520, 340), (800, 450)])
@pytest.mark.parametrize("indicators", [[], FOUR_PANES], ids=["plain", "four-panes"])
def test_a_small_tile_keeps_its_price_axis_time_labels_and_price_pane(
    qtbot: QtBot, width: int, height: int, indicators: list[IndicatorSpec]
) -> None:
    model = ChartModel("XAUUSD", Timeframe.M15, indicators, digits=2)
    window = shown_window(qtbot, model, width, height)
    model.set_history(series(Timeframe.M15, 5000), digits=2)
    view = window.view
    QApplication.sendPostedEvents()  # the layout's pending requests, as a screen's event loop runs them
    view.grab()

    price_axis = view.price_plot.getAxis("right")
    axis_box = price_axis.mapRectToScene(price_axis.boundingRect())
    assert axis_box.right() <= view.viewport().width() + 1, "the price axis is cut off"
    assert axis_box.bottom() <= view.viewport().height() + 1
    prices = [t for _v, ts in price_axis.tickValues(*view.price_plot.vb.viewRange()[1], 100) for t in ts]
    assert prices  # it has prices to show

    plots = [view.price_plot, *view.panes]
    time_axis = plots[-1].getAxis("bottom")
    box = time_axis.mapRectToScene(time_axis.boundingRect())
    assert box.bottom() <= view.viewport().height() + 1, "the time axis is cut off"
    labels = [text for text in time_axis.drawn if text]
    rects = [r for r, text in zip(time_axis.drawn_rects, time_axis.drawn, strict=True) if text]
    assert labels, "no time labels"
    for left, right in zip(rects, rects[1:], strict=False):
        assert left.right() < right.left(), f"time labels overlap: {labels}"

    panes_height = sum(plot.vb.height() for plot in plots)
    assert view.price_plot.vb.height() >= 0.5 * panes_height - 1  # indicator panes give way first


def test_a_thin_indicator_pane_shows_few_values_that_do_not_overlap(qtbot: QtBot) -> None:
    model = ChartModel("XAUUSD", Timeframe.M15, FOUR_PANES, digits=2)
    window = shown_window(qtbot, model, 420, 300)
    model.set_history(series(Timeframe.M15, 2000), digits=2)
    QApplication.sendPostedEvents()
    window.view.grab()
    for plot in window.view.stack.plots:
        axis = plot.getAxis("right")
        image = QImage(10, 10, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        _axis, _ticks, texts = axis.generateDrawSpecs(painter)
        painter.end()
        rects = sorted((rect for rect, _flags, text in texts if text), key=lambda r: r.top())
        assert rects, "a pane without values"
        for upper, lower in zip(rects, rects[1:], strict=False):
            assert upper.bottom() <= lower.top(), "values overlap"
        pane = axis.mapRectFromParent(axis.geometry())
        for rect in rects:  # none sticks out into the next pane (where it would touch its values)
            assert pane.top() - 1 <= rect.top() and rect.bottom() <= pane.bottom() + 1, (rect, pane)


def test_h1_to_m1_with_as_many_bars_redraws_the_time_labels(qtbot: QtBot) -> None:
    """The same number of bars under the same view range: only the labels tell the timeframes
    apart, so they must be drawn anew (a cached axis kept showing H1's whole hours on M1)."""
    model = ChartModel("EURUSD", Timeframe.H1, digits=5)
    window = shown_window(qtbot, model, 900, 500)
    model.set_history(series(Timeframe.H1, 5000), digits=5)
    h1 = time_labels(window.view)
    assert h1 and all(label.endswith(":00") for label in h1)
    model.set_timeframe(Timeframe.M1)
    model.set_history(series(Timeframe.M1, 5000), digits=5)
    m1 = label_times(time_labels(window.view))
    newest = datetime.fromtimestamp(int(model.buffer.time[-1]), tz=UTC)
    assert m1 and all(newest - timedelta(hours=3) <= t <= newest for t in m1), m1
    model.set_timeframe(Timeframe.M5)
    model.set_history(series(Timeframe.M5, 5000), digits=5)
    model.set_timeframe(Timeframe.H1)
    model.set_history(series(Timeframe.H1, 5000), digits=5)
    assert time_labels(window.view) == h1  # M1 → M5 → H1: H1's own labels again


def test_the_crosshair_tags_price_and_time_and_ctrl_drag_measures(qtbot: QtBot) -> None:
    model, view = make_chart(qtbot)
    qtbot.waitExposed(view)
    viewport = view.viewport()
    vb = view.price_plot.vb
    (x0, x1), (y0, y1) = vb.viewRange()
    at = view.mapFromScene(vb.mapViewToScene(QPointF(x0 + (x1 - x0) * 0.5, (y0 + y1) / 2)))
    QTest.mouseMove(viewport, at)
    qtbot.waitUntil(lambda: view.crosshair.index is not None)
    index = view.crosshair.index
    assert index is not None
    price = vb.mapSceneToView(view.mapToScene(at)).y()
    assert view.crosshair.price_tag.textItem.toPlainText() == f"{price:.5f}"
    bar_time = datetime.fromtimestamp(int(model.buffer.time[index]), tz=UTC)
    assert view.crosshair.time_tag.textItem.toPlainText() == f"{bar_time:%Y.%m.%d %H:%M}"

    ctrl = Qt.KeyboardModifier.ControlModifier
    start = view.mapFromScene(vb.mapViewToScene(QPointF(round(x0 + (x1 - x0) * 0.3), y0 + (y1 - y0) * 0.3)))
    end = view.mapFromScene(vb.mapViewToScene(QPointF(round(x0 + (x1 - x0) * 0.6), y0 + (y1 - y0) * 0.7)))
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, ctrl, start)
    QTest.mouseMove(viewport, end)
    begin_x, begin_y = (vb.mapSceneToView(view.mapToScene(p)) for p in (start, end))
    assert view.measure.active
    bars = abs(round(begin_y.x()) - round(begin_x.x()))
    difference = begin_y.y() - begin_x.y()
    assert view.measure.text == f"{bars} bars, {round(abs(difference) * 1e5)} points, +{abs(difference):.5f}"
    assert view.measure.label.isVisible()
    before = vb.viewRange()[0]
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, ctrl, end)
    assert not view.measure.active and not view.measure.label.isVisible()
    assert vb.viewRange()[0] == before  # measuring never pans
