"""Chart types and drawings, driven as a trader does: the chart menu and Ctrl+1/2/3 change what the
bars are drawn with (read back from the item and the pixels); horizontal, vertical and trend lines
are made from the menu and real mouse clicks, dragged, deleted, and stay on the same time and price
across a timeframe switch, prepended history and a layout file round trip."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from app.core.drawings import Anchor, ChartType, DrawingKind
from app.models import Bar, Timeframe
from app.ui.bridge import BarBatch
from app.ui.chart.bar_time import x_of_time
from app.ui.chart.candles import LINE_COLOUR
from app.ui.chart.drawings_item import DRAWING_COLOUR
from app.ui.chart.model import ChartModel
from app.ui.chart.window import ChartWindow
from app.ui.layout import WindowLayout, load_layout, save_layout
from tests.ui.test_chart import series, shown_window

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier


def m1_window(qtbot: QtBot, count: int = 2000) -> ChartWindow:
    model = ChartModel("EURUSD", Timeframe.M1, digits=5)
    window = shown_window(qtbot, model, 900, 520, active=True)
    model.set_history(series(Timeframe.M1, count), digits=5)
    return window


def pixel(window: ChartWindow, x: float, price: float) -> QPoint:
    """The viewport pixel of chart point (bar x, price)."""
    view = window.view
    return view.mapFromScene(view.price_plot.vb.mapViewToScene(QPointF(x, price)))


def chart_point(window: ChartWindow, fx: float, fy: float) -> tuple[float, float]:
    """A point of the visible price pane, as fractions of its width (left to right) and height."""
    (x0, x1), (y0, y1) = window.view.price_plot.vb.viewRange()
    return x0 + (x1 - x0) * fx, y1 - (y1 - y0) * fy


def menu_action(menu: QMenu, *path: str):  # type: ignore[no-untyped-def]
    """The action at ``path`` in ``menu`` (submenu titles, then the start of the action's text)."""
    for title in path[:-1]:
        menu = next(a.menu() for a in menu.actions() if a.menu() is not None and a.text() == title)
    return next(a for a in menu.actions() if a.text().startswith(path[-1]))


def drag_mouse(window: ChartWindow, start: QPoint, end: QPoint, steps: int = 8) -> None:
    viewport = window.view.viewport()
    QTest.mousePress(viewport, LEFT, NONE, start)
    for step in range(1, steps + 1):
        QTest.mouseMove(viewport, start + (end - start) * step / steps)
    QTest.mouseRelease(viewport, LEFT, NONE, end)


def colour_count(window: ChartWindow, colour: str, tolerance: int = 24) -> int:
    """How many pixels of the chart as painted are (nearly: antialiased edges) ``colour``."""
    image = window.view.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), image.bytesPerLine())
    bgr = pixels[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[:, :, :3].astype(int)
    wanted = QColor(colour)
    target = np.array([wanted.blue(), wanted.green(), wanted.red()])
    return int((np.abs(bgr - target).max(axis=2) <= tolerance).sum())


# ---------------------------------------------------------------------------- chart type
def test_chart_type_changes_what_is_drawn_and_holds_on_updates_history_and_timeframes(qtbot: QtBot) -> None:
    window = m1_window(qtbot)
    model, view = window.model, window.view
    candles = view.candles
    n = len(model.buffer)
    assert model.chart_type is ChartType.CANDLES and window.chart_type_button.text() == "Candlesticks"
    drawn = candles.shapes(n - 50, n)
    assert sum(len(s.rects) for _, _, s in drawn) == 50  # a body per candle
    assert colour_count(window, LINE_COLOUR) == 0

    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # bars
    assert model.chart_type is ChartType.BARS and candles.chart_type is ChartType.BARS
    drawn = candles.shapes(n - 50, n)
    assert not any(s.rects for _, _, s in drawn)  # no bodies ...
    lines = [line for _, _, s in drawn for line in s.lines]
    assert len(lines) == 150  # ... high-low, open tick and close tick per bar
    last = model.buffer.bar(n - 1)
    ticks = {(round(ln.x1() - ln.x2(), 2), ln.y1()) for ln in lines if ln.y1() == ln.y2()}
    assert (-0.34, last.open) in ticks and (-0.34, last.close) in ticks  # open left, close right
    assert window.chart_type_button.text() == "Bar Chart"

    menu = window.build_menu(pixel(window, *chart_point(window, 0.5, 0.5)))
    action = menu_action(menu, "Chart Type", "Line Chart")
    assert action.text().endswith("Ctrl+3")
    action.trigger()
    assert model.chart_type is ChartType.LINE
    ((pen, _brush, shape),) = candles.shapes(n - 50, n)
    assert [p.y() for p in shape.polyline] == model.buffer.close[
        n - 51 : n
    ].tolist()  # joined to the bar before
    assert QColor(pen.color()).name() == LINE_COLOUR
    assert colour_count(window, LINE_COLOUR) > 100  # the close line is on screen

    live = model.buffer.bar(n - 1)
    model.apply_bars(BarBatch(Bar(live.time + 60, 1.2, 1.2, 1.2, 1.2)))  # a new bar on the live feed
    ((_pen, _brush, shape),) = candles.shapes(n, n + 1)
    assert [p.y() for p in shape.polyline] == [live.close, 1.2]
    older = series(Timeframe.M1, 500, end=int(model.buffer.time[0]) - 60)
    assert model.prepend_history(older) > 0  # history on the left
    ((_pen, _brush, shape),) = candles.shapes(0, 10)
    assert [p.y() for p in shape.polyline] == model.buffer.close[0:10].tolist()

    window.set_timeframe(Timeframe.H1)
    model.set_history(series(Timeframe.H1, 500), digits=5)
    assert candles.chart_type is ChartType.LINE and colour_count(window, LINE_COLOUR) > 100
    QTest.keyClick(view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert model.chart_type is ChartType.CANDLES and colour_count(window, LINE_COLOUR) == 0


# ---------------------------------------------------------------------------- drawings
def test_horizontal_and_vertical_lines_from_the_menu_are_dragged_and_deleted(qtbot: QtBot) -> None:
    window = m1_window(qtbot)
    model, view = window.model, window.view
    x, price = chart_point(window, 0.4, 0.35)
    at = pixel(window, x, price)
    menu = window.build_menu(at)
    menu_action(menu, "Draw", "Horizontal Line at").trigger()
    (line,) = model.drawings
    clicked = view.price_plot.vb.mapSceneToView(view.mapToScene(at))
    assert line.kind is DrawingKind.HORIZONTAL and line.a.price == pytest.approx(clicked.y())

    x2, _ = chart_point(window, 0.7, 0.5)
    menu = window.build_menu(pixel(window, x2, price))
    menu_action(menu, "Draw", "Vertical Line").trigger()
    vline = model.drawings[1]
    bar = round(view.price_plot.vb.mapSceneToView(view.mapToScene(pixel(window, x2, price))).x())
    assert vline.kind is DrawingKind.VERTICAL and vline.a.time == int(
        model.buffer.time[bar]
    )  # that bar's time
    assert colour_count(window, DRAWING_COLOUR) > 100

    (_, _), (y0, y1) = view.price_plot.vb.viewRange()
    start = pixel(window, chart_point(window, 0.2, 0.0)[0], line.a.price)  # on the line, left of the vertical
    drag_mouse(window, start, start + QPoint(0, 60))  # 60 px down
    moved = model.drawings[0]
    per_pixel = (y1 - y0) / view.price_plot.vb.height()
    assert moved.id == line.id and moved.a.price == pytest.approx(line.a.price - 60 * per_pixel, rel=1e-4)

    start = pixel(window, chart_point(window, 0.2, 0.0)[0], moved.a.price)
    over_the_axis = QPoint(view.viewport().width() - 8, start.y() - 30)
    assert not view.price_plot.vb.sceneBoundingRect().contains(view.mapToScene(over_the_axis))
    drag_mouse(window, start, over_the_axis)  # let go off the pane: the drag still ends
    assert not view.drawing_editor.busy
    assert model.drawings[0].a.price == pytest.approx(moved.a.price + 30 * per_pixel, rel=1e-4)
    moved = model.drawings[0]

    vx = x_of_time(model.buffer, vline.a.time, 60)
    assert vx is not None
    grab = pixel(window, vx, (y0 + y1) / 2 + (y1 - y0) * 0.3)
    before = view.price_plot.vb.viewRange()[0]
    bar_px = pixel(window, vx + 10, y0).x() - pixel(window, vx, y0).x()
    drag_mouse(window, grab, grab + QPoint(bar_px, 0))  # ten bars to the right
    assert model.drawings[1].a.time == vline.a.time + 10 * 60
    assert view.price_plot.vb.viewRange()[0] == before  # dragging a drawing never pans the chart

    QTest.mouseClick(view.viewport(), LEFT, NONE, grab + QPoint(bar_px, 0))  # select the vertical line
    assert view.drawing_editor.selected == vline.id
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert [d.id for d in model.drawings] == [line.id]

    menu = window.build_menu(pixel(window, *chart_point(window, 0.5, 0.5)))
    clear = menu_action(menu, "Draw", "Delete All Drawings")
    assert clear.isEnabled()
    clear.trigger()
    assert model.drawings == [] and colour_count(window, DRAWING_COLOUR) == 0


def test_a_trend_line_by_two_clicks_or_a_drag_then_moved_by_its_body_and_an_end(qtbot: QtBot) -> None:
    window = m1_window(qtbot)
    model, view = window.model, window.view
    viewport = view.viewport()
    menu = window.build_menu(pixel(window, *chart_point(window, 0.5, 0.5)))
    menu_action(menu, "Draw", "Trend Line").trigger()
    (xa, pa), (xb, pb) = chart_point(window, 0.2, 0.7), chart_point(window, 0.6, 0.3)
    xa, xb = round(xa), round(xb)
    assert "click its first point" in view.title.plain_text
    assert viewport.cursor().shape() is Qt.CursorShape.CrossCursor
    QTest.mouseClick(viewport, LEFT, NONE, pixel(window, xa, pa))
    assert model.drawings == []  # waiting for the second point
    assert "click its second point" in view.title.plain_text
    QTest.mouseMove(viewport, pixel(window, xb, pb))
    assert view.drawings.preview is not None  # the line follows the mouse
    QTest.mouseClick(viewport, LEFT, NONE, pixel(window, xb, pb))
    (line,) = model.drawings
    assert line.kind is DrawingKind.TREND and view.drawings.preview is None
    assert "Trend line" not in view.title.plain_text
    assert viewport.cursor().shape() is not Qt.CursorShape.CrossCursor
    times = model.buffer.time
    assert (line.a.time, line.b.time) == (int(times[xa]), int(times[xb]))  # the bars clicked
    assert line.a.price == pytest.approx(pa, rel=1e-4) and line.b.price == pytest.approx(pb, rel=1e-4)

    middle = pixel(window, (xa + xb) / 2, (pa + pb) / 2)
    bar_px = pixel(window, xa + 5, pa).x() - pixel(window, xa, pa).x()
    drag_mouse(window, middle, middle + QPoint(bar_px, 0))  # the whole line, 5 bars right
    moved = model.drawings[0]
    assert (moved.a.time, moved.b.time) == (line.a.time + 300, line.b.time + 300)
    assert moved.a.price == pytest.approx(line.a.price, rel=1e-4)

    end = pixel(window, xb + 5, moved.b.price)
    target = pixel(window, xb + 20, pb)
    drag_mouse(window, end, target)  # only its second end
    stretched = model.drawings[0]
    assert stretched.a == moved.a and stretched.b.time == int(times[xb + 20])

    menu = window.build_menu(pixel(window, *chart_point(window, 0.5, 0.5)))
    menu_action(menu, "Draw", "Trend Line").trigger()
    (xc, pc), (xd, pd) = chart_point(window, 0.1, 0.2), chart_point(window, 0.3, 0.25)
    drag_mouse(window, pixel(window, round(xc), pc), pixel(window, round(xd), pd))  # one drag places it
    second = model.drawings[1]
    assert (second.a.time, second.b.time) == (int(times[round(xc)]), int(times[round(xd)]))

    menu = window.build_menu(pixel(window, *chart_point(window, 0.5, 0.5)))
    menu_action(menu, "Draw", "Trend Line").trigger()
    QTest.mouseClick(viewport, LEFT, NONE, pixel(window, xa, pa))
    QTest.keyClick(view, Qt.Key.Key_Escape)  # changed their mind
    QTest.mouseClick(viewport, LEFT, NONE, pixel(window, xb, pb))
    assert len(model.drawings) == 2 and not view.drawing_editor.busy


def test_drawings_keep_their_time_and_price_across_timeframes_history_and_the_layout_file(
    qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    window = m1_window(qtbot, count=3000)
    model, view = window.model, window.view
    times = model.buffer.time.copy()  # (the buffer's arrays are refilled by another timeframe)
    n = len(times)
    vbar, a_bar, b_bar = n - 40, n - 90, n - 30
    price = float(model.buffer.close[n - 60])
    menu = window.build_menu(pixel(window, vbar, price))
    menu_action(menu, "Draw", "Vertical Line").trigger()
    menu_action(menu, "Draw", "Horizontal Line at").trigger()
    menu_action(window.build_menu(pixel(window, vbar, price)), "Draw", "Trend Line").trigger()
    lo, hi = float(model.buffer.low[a_bar]), float(model.buffer.high[b_bar])
    QTest.mouseClick(view.viewport(), LEFT, NONE, pixel(window, a_bar, lo))
    QTest.mouseClick(view.viewport(), LEFT, NONE, pixel(window, b_bar, hi))
    made = list(model.drawings)
    assert [d.kind for d in made] == [DrawingKind.VERTICAL, DrawingKind.HORIZONTAL, DrawingKind.TREND]
    vtime = int(times[vbar])

    def on_screen_time(drawing_index: int) -> datetime:
        """The time under the vertical line as drawn: the bar there and how far into it."""
        segment = view.drawings.segment(model.drawings[drawing_index])
        assert segment is not None
        x = view.price_plot.vb.mapSceneToView(segment[0]).x()
        bar = int(x)
        step = int(model.buffer.time[bar + 1] - model.buffer.time[bar])
        return datetime.fromtimestamp(int(model.buffer.time[bar]) + round((x - bar) * step), tz=UTC)

    assert on_screen_time(0) == datetime.fromtimestamp(vtime, tz=UTC)
    window.set_timeframe(Timeframe.M5)  # Alt+2
    assert view.drawings.segment(made[0]) is None  # nothing placed while M5 loads
    model.set_history(series(Timeframe.M5, 3000), digits=5)
    assert model.drawings == made  # the data did not change ...
    assert on_screen_time(0) == datetime.fromtimestamp(vtime, tz=UTC)  # ... nor where it is drawn
    x5 = x_of_time(model.buffer, vtime, 300)
    assert x5 is not None and int(model.buffer.time[int(x5)]) <= vtime < int(model.buffer.time[int(x5) + 1])

    before = view.drawings.segment(made[2])
    older = series(Timeframe.M5, 400, end=int(model.buffer.time[0]) - 300)
    assert model.prepend_history(older) == 400
    after = view.drawings.segment(made[2])
    assert before is not None and after is not None
    assert (after[0].x(), after[1].x()) == pytest.approx(
        (before[0].x(), before[1].x()), abs=0.5
    )  # same place
    assert on_screen_time(0) == datetime.fromtimestamp(vtime, tz=UTC)

    window.set_timeframe(Timeframe.M1)
    model.set_history(series(Timeframe.M1, 3000), digits=5)
    hit = view.drawings.hit(view.mapToScene(pixel(window, vbar, (lo + hi) / 2)))
    assert hit is not None and hit[0].id == made[0].id  # back on M1: where it was made, the mouse finds it
    model.set_chart_type(ChartType.BARS)

    path = tmp_path / "ui" / "layout.json"
    save_layout(path, WindowLayout(charts=[model.to_json()]))
    layout = load_layout(path)
    assert layout is not None
    (saved,) = layout.charts
    saved["drawings"].append({"kind": "trend", "points": [[vtime, 1.1]]})  # a broken one
    restored = ChartModel("EURUSD", Timeframe.parse(saved["timeframe"]), digits=5)
    with caplog.at_level(logging.WARNING):
        restored.restore_style(saved)
    assert "a saved drawing was left out" in caplog.text
    assert restored.chart_type is ChartType.BARS
    assert [(d.kind, d.anchors) for d in restored.drawings] == [(d.kind, d.anchors) for d in made]
    again = shown_window(qtbot, restored, 900, 520, active=True)
    restored.set_history(series(Timeframe.M1, 3000), digits=5)
    assert again.view.candles.chart_type is ChartType.BARS
    assert colour_count(again, DRAWING_COLOUR) > 100
    trend_ends = again.view.drawings.segment(restored.drawings[2])
    assert trend_ends is not None
    start = again.view.price_plot.vb.mapSceneToView(trend_ends[0])
    assert round(start.x()) == a_bar and start.y() == pytest.approx(lo, rel=1e-4)
    assert made[2].b == Anchor(int(times[b_bar]), made[2].b.price)  # type: ignore[union-attr]


def test_a_layout_from_before_chart_types_or_with_an_unknown_one_shows_candlesticks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = ChartModel("EURUSD", Timeframe.H1)
    old.restore_style({"kind": "bars", "symbol": "EURUSD", "timeframe": "H1", "indicators": []})
    assert old.chart_type is ChartType.CANDLES and old.drawings == []
    odd = ChartModel("EURUSD", Timeframe.H1)
    with caplog.at_level(logging.WARNING):
        odd.restore_style({"chart_type": "renko", "drawings": "not a list"})
    assert odd.chart_type is ChartType.CANDLES and odd.drawings == []
    assert "chart type 'renko' unknown" in caplog.text and "saved drawings not a list" in caplog.text
