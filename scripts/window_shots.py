"""Drive the window into the states a trader meets in the first hour and save a screenshot of each.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/window_shots.py --out shots

(any X display will do: Xvfb at the screen size to look at, or a desktop). The app runs as in
window mode on the simulator (its own trade server, the clock on a weekday unless ``--now``), and
the window is driven by key presses as a person would drive it. Saved, each a grab of the whole screen:

* ``tiled.png`` — four charts tiled with Window › Tile (Alt+R), one of them with four indicators;
* ``d1_m1.png`` — a EURUSD H1 chart switched to D1 (Alt+7) and then to M1 (Alt+1);
* ``ticket_symbol.png`` — the order ticket (F9) as a Buy Limit on EURUSD, then switched to XAUUSD;
* ``ticket_volume.png`` — the ticket with a volume far above the symbol's maximum;
* ``journal.png`` — the Journal tab after the run;
* ``readme.png`` — the README's picture: EURUSD H1 with EMA, Bollinger and RSI among tabbed charts;
* ``one_click_drag.png`` — a EURUSD M5 chart with the one-click panel, its new position's SL line
  being dragged by the mouse (the tag shows the new price and the P/L there);
* ``one_click_dragged.png`` — the same after the drop was confirmed: the SL where it was dropped;
* ``chart_drawings.png`` — that chart alone (the README's ``docs/chart-drawings.png``): the
  one-click panel, a horizontal line from the chart's menu and a trend line placed by two clicks;
* ``depth.png`` — the Depth of Market window (Alt+B) for EURUSD;
* ``alerts.png`` — the Alerts tab with three alerts set from the chart's menu, one of them fired.

With ``--docs`` only the trading-from-the-chart states are driven, and each is also saved for the
README, cropped to the window it shows: ``docs/one-click-drag.png`` (the chart mid-drag, before the
release), ``docs/depth.png`` (the Depth of Market window) and ``docs/alerts.png`` (the Toolbox on its
Alerts tab)::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/window_shots.py --docs
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import load_settings  # noqa: E402
from app.core.indicators import IndicatorKind, IndicatorSpec  # noqa: E402
from app.logs import setup_logging  # noqa: E402
from app.models import AlertCondition, OrderType, Timeframe  # noqa: E402
from app.runtime import build_runtime  # noqa: E402
from app.ui.chart.window import ChartWindow  # noqa: E402
from app.ui.launch import _dock_alerts  # noqa: E402
from app.ui.main_window import MainWindow, WindowServices  # noqa: E402
from app.ui.theme import apply_theme  # noqa: E402

WEEKDAY_START = "2026-11-18T09:00:00Z"
TILED = [
    ("EURUSD", Timeframe.M1, [IndicatorSpec(IndicatorKind.SMA, {"period": 20})]),
    ("GBPUSD", Timeframe.M5, [IndicatorSpec(IndicatorKind.BBANDS)]),
    ("XAUUSD", Timeframe.M15, [IndicatorSpec(IndicatorKind.RSI)]),
    (
        "USDJPY",
        Timeframe.H1,
        [
            IndicatorSpec(IndicatorKind.EMA, {"period": 50}),
            IndicatorSpec(IndicatorKind.RSI),
            IndicatorSpec(IndicatorKind.MACD),
            IndicatorSpec(IndicatorKind.RSI, {"period": 7}),
            IndicatorSpec(IndicatorKind.MACD, {"fast": 5, "slow": 13, "signal": 4}),
        ],
    ),
]


async def until(predicate: Callable[[], bool], within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("the window did not get there in time")
        await asyncio.sleep(0.1)


DOCS = ROOT / "docs"


def grab(window: QWidget, path: Path) -> None:
    screen = window.screen()
    screen.grabWindow(0).save(str(path))
    print(f"saved {path}", flush=True)


def crop(widget: QWidget, path: Path | None) -> None:
    """Save the screen's pixels under ``widget`` (its frame included, and anything shown over it, as
    the drag's tag): the README's pictures show one window, not the desktop. Nothing without a path."""
    if path is None:
        return
    top_left = widget.mapToGlobal(QPoint(0, 0))
    widget.screen().grabWindow(0, top_left.x(), top_left.y(), widget.width(), widget.height()).save(str(path))
    print(f"saved {path} ({path.stat().st_size // 1024} KB)", flush=True)


async def keys(window: QWidget, sequence: str) -> None:
    """Press ``sequence`` as a person would (from a plain callback: Qt may run other tasks meanwhile)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    widget = QApplication.focusWidget() or window

    def press() -> None:
        QTest.keySequence(widget, sequence)
        done.set_result(None)

    loop.call_soon(press)
    await done


async def outside(action: Callable[[], object]) -> None:
    """Run a click or mouse event from a plain callback (its slots may start tasks of their own)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def run() -> None:
        action()
        done.set_result(None)

    loop.call_soon(run)
    await done


async def type_text(widget: QWidget, text: str) -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def typing() -> None:
        QTest.keyClicks(widget, text)
        done.set_result(None)

    loop.call_soon(typing)
    await done


async def run(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="window-shots-"))
    sim = {} if args.now else {"start": WEEKDAY_START}
    settings = load_settings(
        {"data_dir": data_dir, "terminals": {"sim": True}, "sim": sim, "carousel": {"autostart": False}},
        env_file=None,
    )
    log_bus = setup_logging(settings.logging, data_dir)
    runtime = build_runtime(settings, log_bus)
    window = MainWindow(WindowServices.from_runtime(runtime))
    window.restore_layout(None)
    window.show()
    await runtime.start()
    alerts = _dock_alerts(window, runtime)
    window.start()
    args.out.mkdir(parents=True, exist_ok=True)
    docs = DOCS if args.docs else None
    try:
        (first,) = window.charts.charts
        await until(lambda: first.model.loaded)
        await until(lambda: window.account is not None)
        if docs is None:
            await first_hour(window, args.out)
        else:  # the chart alone in the chart area, as after the README's picture
            first.parentWidget().close()
            window.charts.set_tabbed(True)
        chart = await one_click_and_drag(window, runtime, args.out, docs)
        if docs is None:
            await drawings(chart, args.out)
        await depth_and_alerts(window, runtime, alerts, args.out, docs)
    finally:
        window.close()
        await window.shutdown()
        await runtime.stop()


async def first_hour(window: MainWindow, out: Path) -> None:
    """A timeframe switch, the ticket, four tiled charts, the Journal and the README's picture."""
    (first,) = window.charts.charts

    # D1 -> M1 on the first chart, by the keys
    window.activateWindow()
    first.view.setFocus()
    await keys(window, "Alt+7")
    await until(lambda: first.model.loaded and first.model.timeframe is Timeframe.D1)
    await asyncio.sleep(1.0)
    await keys(window, "Alt+1")
    await until(lambda: first.model.loaded and first.model.timeframe is Timeframe.M1)
    await asyncio.sleep(2.0)
    grab(window, out / "d1_m1.png")

    # the ticket: a Buy Limit on EURUSD, then XAUUSD
    await keys(window, "F9")
    await until(lambda: bool(window.tickets))
    ticket = window.tickets[-1]
    ticket.symbol_box.setCurrentText("EURUSD")
    ticket.type_box.setCurrentIndex(ticket.type_box.findData(OrderType.BUY_LIMIT))
    await until(lambda: ticket.spec is not None and ticket.spec.name == "EURUSD")
    await asyncio.sleep(1.5)
    ticket.symbol_box.setCurrentText("XAUUSD")
    await until(lambda: ticket.spec is not None and ticket.spec.name == "XAUUSD")
    await asyncio.sleep(1.5)
    grab(window, out / "ticket_symbol.png")
    ticket.volume.selectAll()
    await type_text(ticket.volume, "5000")
    await asyncio.sleep(1.5)
    grab(window, out / "ticket_volume.png")
    ticket.close()

    # four charts, tiled
    first.parentWidget().close()
    for symbol, timeframe, indicators in TILED:
        window.charts.open_chart(symbol, timeframe, indicators)
    await keys(window, "Alt+R")
    await until(lambda: all(c.model.loaded for c in window.charts.charts))
    await asyncio.sleep(2.0)
    grab(window, out / "tiled.png")

    window.toolbox.show_tab("Journal")
    await asyncio.sleep(0.5)
    grab(window, out / "journal.png")

    # the README's picture
    for chart in list(window.charts.charts):
        chart.parentWidget().close()
    window.charts.set_tabbed(True)
    readme = [
        IndicatorSpec(IndicatorKind.EMA, {"period": 50}),
        IndicatorSpec(IndicatorKind.BBANDS),
        IndicatorSpec(IndicatorKind.RSI),
    ]
    window.charts.open_chart("XAUUSD", Timeframe.M15)
    window.charts.open_chart("GBPUSD", Timeframe.H4)
    window.charts.open_tick_chart("EURUSD")
    main = window.charts.open_chart("EURUSD", Timeframe.H1, readme)
    window.toolbox.show_tab("Trade")
    await until(lambda: all(c.model.loaded for c in window.charts.charts))
    await asyncio.sleep(2.0)
    main.view.crosshair.leave()
    grab(window, out / "readme.png")


async def one_click_and_drag(window: MainWindow, runtime: Any, out: Path, docs: Path | None) -> ChartWindow:
    """One-click on (the risk accepted as a trader does), a buy from the panel, its SL dragged (and
    caught mid-drag, the tag showing the new price and the P/L there)."""
    chart = window.charts.open_chart("EURUSD", Timeframe.M5)
    await until(lambda: chart.model.loaded)
    await outside(chart.one_click_button.click)
    await until(lambda: window.chart_trading.dialog is not None)
    dialog = window.chart_trading.dialog
    if dialog is None:
        raise RuntimeError("one-click trading did not ask about its risk")
    await outside(next(b for b in dialog.buttons() if b.text() == "I understand the risk").click)
    await until(lambda: chart.one_click)
    panel = chart.one_click_panel
    if panel is None:
        raise RuntimeError("no one-click panel")
    before = {p.ticket for p in runtime.account_state.positions}
    await outside(panel.buy_button.click)
    await until(lambda: {p.ticket for p in runtime.account_state.positions} - before != set())
    (ticket,) = {p.ticket for p in runtime.account_state.positions} - before
    low, high = chart.view.price_plot.vb.viewRange()[1]
    quote = runtime.market_data.quote("EURUSD")
    sl = round(quote.bid - (quote.bid - low) * 0.4, 5)
    await runtime.trading.modify_position(ticket, sl, 0.0)
    await until(lambda: ("sl", ticket) in chart.view.trade_lines.keys())
    await asyncio.sleep(1.0)
    view, viewport = chart.view, chart.view.viewport()
    vb = view.price_plot.vb
    x0, x1 = vb.viewRange()[0]
    line = view.trade_lines.line(("sl", ticket))
    start = view.mapFromScene(vb.mapViewToScene(QPointF(x0 + (x1 - x0) * 0.55, line.value())))
    none = Qt.KeyboardModifier.NoModifier
    QTest.mouseMove(viewport, start)
    await asyncio.sleep(0.05)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, none, start)
    for step in range(1, 9):
        await asyncio.sleep(0.03)
        QTest.mouseMove(viewport, start + QPoint(0, 8 * step))
    await asyncio.sleep(0.5)
    grab(window, out / "one_click_drag.png")
    crop(chart, docs / "one-click-drag.png" if docs else None)
    await outside(
        lambda: QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, none, start + QPoint(0, 64))
    )
    await until(lambda: window.chart_trading.dialog is not None)
    await asyncio.sleep(0.3)
    grab(window, out / "one_click_confirm.png")
    confirm = window.chart_trading.dialog
    if confirm is None:
        raise RuntimeError("the drop did not ask first")
    await outside(confirm.button(QMessageBox.StandardButton.Yes).click)
    await asyncio.sleep(2.0)
    grab(window, out / "one_click_dragged.png")
    return chart


async def drawings(chart: ChartWindow, out: Path) -> None:
    """A horizontal line from the chart's menu at a price under the mouse, a trend line by two
    clicks (Draw › Trend Line, then the two points), with the one-click panel on."""
    view, viewport = chart.view, chart.view.viewport()
    vb = view.price_plot.vb
    (x0, x1), (y0, y1) = vb.viewRange()
    buffer = chart.model.buffer

    def at(x: float, price: float) -> QPoint:
        return view.mapFromScene(vb.mapViewToScene(QPointF(x, price)))

    def menu_item(pos: QPoint, text: str) -> Any:
        menu = chart.build_menu(pos)
        draw = next(a.menu() for a in menu.actions() if a.menu() is not None and a.text() == "Draw")
        return next(a for a in draw.actions() if a.text().startswith(text))

    level = y1 - (y1 - y0) * 0.22
    await outside(menu_item(at(x0 + (x1 - x0) * 0.5, level), "Horizontal Line").trigger)
    first, last = round(x0 + (x1 - x0) * 0.15), round(x0 + (x1 - x0) * 0.75)
    low = float(buffer.low[max(first - 20, 0) : first + 20].min())
    high = float(buffer.high[last - 20 : last + 20].max())
    await outside(menu_item(at(first, low), "Trend Line").trigger)
    none = Qt.KeyboardModifier.NoModifier
    for x, price in ((first, low), (last, high)):
        point = at(x, price)
        await outside(lambda p=point: QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, none, p))
        await asyncio.sleep(0.2)
    await outside(lambda: QTest.mouseMove(viewport, at(x0 + (x1 - x0) * 0.3, y0 + (y1 - y0) * 0.1)))
    if len(chart.model.drawings) != 2:
        raise RuntimeError(f"drawings: {chart.model.drawings}")
    await asyncio.sleep(1.0)
    path = out / "chart_drawings.png"
    chart.grab().save(str(path))
    print(f"saved {path}", flush=True)


async def depth_and_alerts(
    window: MainWindow, runtime: Any, alerts: Any, out: Path, docs: Path | None
) -> None:
    """The Depth of Market window (Alt+B) beside the chart; alerts set from the chart's menu, one of
    them at a level the market is already over (it fires on the next tick)."""
    depth = window.open_depth("EURUSD")
    if depth is None:
        raise RuntimeError("no Depth of Market window")
    depth.move(window.geometry().right() - 420, window.geometry().top() + 120)
    await until(lambda: depth.table.rowCount() > 2)
    await asyncio.sleep(1.5)
    grab(window, out / "depth.png")
    crop(depth.window(), docs / "depth.png" if docs else None)
    depth.close()
    quote = runtime.market_data.quote("EURUSD")
    window.alert_at("EURUSD", AlertCondition.BID_ABOVE, round(quote.bid + 0.0015, 5))
    await outside(alerts.add_button.click)
    await asyncio.sleep(1.0)
    window.alert_at("EURUSD", AlertCondition.BID_BELOW, round(quote.bid - 0.0008, 5))
    alerts.repeat.setChecked(True)
    await outside(alerts.add_button.click)
    await asyncio.sleep(1.0)
    quote = runtime.market_data.quote("EURUSD")
    window.alert_at("EURUSD", AlertCondition.BID_BELOW, round(quote.bid + 0.0002, 5))
    alerts.repeat.setChecked(False)
    await outside(alerts.add_button.click)
    await until(lambda: any(a.fired_at is not None for a in runtime.alerts.alerts()))
    await asyncio.sleep(1.5)
    grab(window, out / "alerts.png")
    crop(window.toolbox.parentWidget() or window.toolbox, docs / "alerts.png" if docs else None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("shots"))
    parser.add_argument("--now", action="store_true", help="the sim clock on the wall clock (not a weekday)")
    parser.add_argument(
        "--docs",
        action="store_true",
        help="only the trading-from-the-chart states, also saved cropped as docs/one-click-drag.png, "
        "docs/depth.png and docs/alerts.png",
    )
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app)  # type: ignore[arg-type]
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        runner.run(run(args))


if __name__ == "__main__":
    main()
