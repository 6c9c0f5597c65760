"""A chart on its model: ticks become the live bar, new bars scroll in, history loads on the left,
indicators add panes, and the account's trades draw labelled lines."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
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

T0 = int(datetime(2026, 11, 18, 9, 0, tzinfo=UTC).timestamp())


def history(count: int, end: int = T0, step: int = 60) -> BarSeries:
    rng = np.random.default_rng(1)
    closes = 1.1 + np.cumsum(rng.normal(0, 0.0002, count))
    bars = [
        Bar(end - (count - i) * step, c - 0.0001, c + 0.0003, c - 0.0003, c, 10) for i, c in enumerate(closes)
    ]
    return BarSeries.from_bars("EURUSD", Timeframe.M1, bars)


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
