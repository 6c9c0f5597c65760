"""The README's key table, walked as a trader uses it: each key pressed on the window (a real key
event to the focused widget) does its one thing once — no "Ambiguous shortcut overload" warning
(which fails the test), no key listed that the window lacks, no shortcut the table does not list."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from app.core.drawings import ChartType, horizontal
from app.models import Timeframe
from app.ui.chart.indicator_dialog import IndicatorDialog
from app.ui.main_window import MainWindow
from app.ui.settings_dialog import SettingsDialog
from tests.support.sim_fixtures import wait_until
from tests.ui.conftest import SimServices
from tests.ui.driving import OFFSCREEN_LIMITS, activate, click, drag, press
from tests.ui.test_main_window import window_on

pytestmark = [pytest.mark.gui, pytest.mark.slow, OFFSCREEN_LIMITS]

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_keys() -> list[tuple[str, str]]:
    """(key, action) pairs of the key table in the README's window section, in table order."""
    section = README.read_text(encoding="utf-8").split("## The window", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert rows and rows[0].startswith("| key | action |"), "the key table is gone"
    pairs: list[tuple[str, str]] = []
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        for keys, actions in zip(cells[0::2], cells[1::2], strict=True):
            if not keys:  # a row's empty half
                continue
            if " … " in keys:  # Alt+1 … Alt+9: one action each, listed with commas
                first, last = keys.split(" … ")
                prefix, start = first.rsplit("+", 1)
                end = int(last.rsplit("+", 1)[1])
                names = [a.strip() for a in actions.split(",")]
                pairs += [(f"{prefix}+{n}", names[n - int(start)]) for n in range(int(start), end + 1)]
                continue
            actions_list = actions.split(" / ")
            keys_list = keys.split(" / ")
            assert len(keys_list) == len(actions_list), row
            for key, action in zip(keys_list, actions_list, strict=True):
                also = re.search(r"\(also (.+?)\)", action)
                action = re.sub(r"\s*\(.*\)", "", action).strip()
                pairs.append((key, action))
                if also:
                    pairs.append((also.group(1), action))
    return pairs


Check = Callable[[MainWindow, str], Awaitable[None]]


async def back_to(window: MainWindow) -> None:
    """A dialog closed: the trader clicks on the chart again (the window active, the chart focused)."""
    await activate(window)
    chart = window.charts.current_chart()
    assert chart is not None
    await click(chart.view.viewport())


def triggered_once(window: MainWindow, key: str) -> Callable[[], int]:
    """Counts the triggers of the actions that answer ``key`` (there must be exactly one)."""
    sequence = QKeySequence(key)
    chart = window.charts.current_chart()
    actions = [
        a
        for a in window.findChildren(QAction)
        if sequence in a.shortcuts()
        # a chart's own keys answer only in the chart that has the focus (the current one)
        and (a.shortcutContext() is not Qt.ShortcutContext.WidgetWithChildrenShortcut or a.parent() is chart)
    ]
    assert len(actions) == 1, f"{key}: {len(actions)} actions answer it"
    hits: list[bool] = []
    actions[0].triggered.connect(lambda *_: hits.append(True))
    return lambda: len(hits)


async def new_order(window: MainWindow, key: str) -> None:
    before = len(window.tickets)
    await press(None, key)
    assert len(window.tickets) == before + 1
    window.tickets[-1].close()
    await wait_until(lambda: len(window.tickets) == before)
    await back_to(window)


async def new_chart(window: MainWindow, key: str) -> None:
    before = len(window.charts.charts)
    await press(None, key)
    assert len(window.charts.charts) == before + 1


async def close_chart(window: MainWindow, key: str) -> None:
    before = len(window.charts.charts)
    await press(None, key)
    await wait_until(lambda: len(window.charts.charts) == before - 1)
    if len(window.charts.charts) < 2:
        window.charts.open_chart("USDJPY")  # the keys that follow need charts


def timeframe(name: str) -> Check:
    async def check(window: MainWindow, key: str) -> None:
        chart = window.charts.current_chart()
        assert chart is not None
        await press(None, key)
        assert chart.model.timeframe is Timeframe.parse(name)

    return check


def zoom(factor: float) -> Check:
    async def check(window: MainWindow, key: str) -> None:
        chart = window.charts.current_chart()
        assert chart is not None
        await wait_until(lambda: chart.model.loaded)
        width = chart.view.visible_bars()
        await press(None, key)
        assert chart.view.visible_bars() + 4 == pytest.approx((width + 4) * factor, rel=0.02)

    return check


async def live_bar(window: MainWindow, key: str) -> None:
    chart = window.charts.current_chart()
    assert chart is not None
    chart.set_timeframe(Timeframe.M5)  # (after MN1: enough bars to look into the past)
    await wait_until(lambda: chart.model.loaded and len(chart.model.buffer) > 1000)
    await drag(chart.view.viewport(), chart.view.viewport().width() // 2)  # into the past, by mouse
    assert not chart.view.follow
    await press(None, key)
    assert chart.view.follow and chart.view.price_plot.vb.viewRange()[0][1] >= len(chart.model.buffer) - 1


async def oldest_bar(window: MainWindow, key: str) -> None:
    chart = window.charts.current_chart()
    assert chart is not None
    await press(None, key)
    assert chart.view.price_plot.vb.viewRange()[0][0] <= 0


async def tile(window: MainWindow, key: str) -> None:
    await press(None, key)
    assert not window.charts.tabbed


async def add_indicator(window: MainWindow, key: str) -> None:
    await press(None, key)
    dialogs = [d for d in window.findChildren(IndicatorDialog) if d.isVisible()]
    assert len(dialogs) == 1
    dialogs[0].reject()
    await back_to(window)


def toggles(dock: str) -> Check:
    async def check(window: MainWindow, key: str) -> None:
        widget = getattr(window, dock)
        shown = widget.isVisible()
        await press(None, key)
        assert widget.isVisible() is not shown
        await press(None, key)
        assert widget.isVisible() is shown

    return check


async def settings(window: MainWindow, key: str) -> None:
    await press(None, key)
    dialogs = [d for d in QApplication.topLevelWidgets() if isinstance(d, SettingsDialog) and d.isVisible()]
    assert len(dialogs) == 1
    dialogs[0].reject()
    await back_to(window)


async def full_screen(window: MainWindow, key: str) -> None:
    before = window.windowState()
    await press(None, key)
    await wait_until(window.isFullScreen)
    await press(None, key)
    await wait_until(lambda: not window.isFullScreen())
    assert window.windowState() == before  # back as it was (maximized on a small screen)
    screen = window.screen().availableGeometry()
    # all of it on the screen (a maximized window's frame is the window manager's to place)
    shown = window.geometry() if window.isMaximized() else window.frameGeometry()
    assert screen.contains(shown), (screen, shown)


async def one_click(window: MainWindow, key: str) -> None:
    chart = window.charts.current_chart()
    assert chart is not None and not chart.one_click
    await press(None, key)
    await wait_until(lambda: window.chart_trading.dialog is not None)  # its risk, asked once
    dialog = window.chart_trading.dialog
    assert dialog is not None and "no confirmation" in dialog.text()
    dialog.button(QMessageBox.StandardButton.Cancel).click()
    await wait_until(lambda: window.chart_trading.dialog is None)
    assert not chart.one_click
    await back_to(window)


async def depth(window: MainWindow, key: str) -> None:
    before = len(window.depth_windows)
    await press(None, key)
    await wait_until(lambda: len(window.depth_windows) == before + 1)
    window.depth_windows[-1].close()
    await wait_until(lambda: len(window.depth_windows) == before)
    await back_to(window)


def chart_type(kind: ChartType) -> Check:
    async def check(window: MainWindow, key: str) -> None:
        chart = window.charts.current_chart()
        assert chart is not None
        await press(None, key)
        assert chart.model.chart_type is kind and chart.view.candles.chart_type is kind

    return check


async def delete_drawing(window: MainWindow, key: str) -> None:
    chart = window.charts.current_chart()
    assert chart is not None
    await wait_until(lambda: chart.model.loaded)
    vb = chart.view.price_plot.vb
    (x0, x1), (y0, y1) = vb.viewRange()
    chart.model.add_drawing(horizontal(int(chart.model.buffer.time[-1]), (y0 + y1) / 2))
    on_it = chart.view.mapFromScene(vb.mapViewToScene(QPointF((x0 + x1) / 2, (y0 + y1) / 2)))
    await click(chart.view.viewport(), on_it)  # selects it
    assert chart.view.drawing_editor.selected is not None
    await press(None, key)
    assert chart.model.drawings == []


async def quit_(window: MainWindow, key: str) -> None:
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    await press(None, key)
    assert closed == [True] and not window.isVisible()


CHECKS: dict[str, Check] = {
    "new order": new_order,
    "new chart": new_chart,
    "close chart": close_chart,
    **{tf.name: timeframe(tf.name) for tf in Timeframe},
    "zoom in": zoom(0.7),
    "zoom out": zoom(1.4),
    "the live bar, auto-scroll on": live_bar,
    "the oldest loaded bar": oldest_bar,
    "tile the charts": tile,
    "add an indicator": add_indicator,
    "show or hide Market Watch": toggles("market_dock"),
    "show or hide the Toolbox": toggles("toolbox_dock"),
    "settings": settings,
    "full screen": full_screen,
    "one-click trading on or off": one_click,
    "depth of market": depth,
    "bar chart": chart_type(ChartType.BARS),
    "candlesticks": chart_type(ChartType.CANDLES),
    "line chart": chart_type(ChartType.LINE),
    "delete the selected drawing": delete_drawing,
    "quit": quit_,
}


async def test_every_key_of_the_readme_acts_once(
    sim_services: SimServices, data_dir: Path, qtbot: QtBot
) -> None:
    keys = readme_keys()
    assert {action for _key, action in keys} <= set(CHECKS), "a README key without a check here"
    window = await window_on(sim_services, data_dir, qtbot)
    window.charts.open_chart("XAUUSD")
    await activate(window)
    await wait_until(lambda: all(c.model.loaded for c in window.charts.charts))
    await click(window.charts.charts[-1].view.viewport())
    listed = {QKeySequence(key) for key, _action in keys} | {QKeySequence("=")}  # "=": "+" unshifted
    shortcuts = {s for a in window.findChildren(QAction) for s in a.shortcuts() if a.parent() is not None}
    assert shortcuts <= listed, f"not in the README: {[s.toString() for s in shortcuts - listed]}"

    quits = [(key, action) for key, action in keys if action == "quit"]
    for key, action in [pair for pair in keys if pair[1] != "quit"] + quits:
        count = triggered_once(window, key)
        await CHECKS[action](window, key)
        assert count() == (2 if action.startswith(("show or hide", "full screen")) else 1), key
    await window.shutdown()


async def test_d1_then_m1_by_the_keys_lands_on_the_newest_bars(
    sim_services: SimServices, data_dir: Path, qtbot: QtBot
) -> None:
    from datetime import UTC, datetime, timedelta

    window = await window_on(sim_services, data_dir, qtbot)
    (chart,) = window.charts.charts
    await activate(window)
    await wait_until(lambda: chart.model.loaded)
    await click(chart.view.viewport())
    await press(None, "Alt+7")
    await wait_until(lambda: chart.model.loaded and chart.model.timeframe is Timeframe.D1)
    await press(None, "Alt+1")
    await wait_until(lambda: chart.model.loaded and chart.model.timeframe is Timeframe.M1)
    chart.view.grab()
    n = len(chart.model.buffer)
    x0, x1 = chart.view.price_plot.vb.viewRange()[0]
    assert x1 >= n - 1 and chart.view.follow  # the live bar in view, followed
    server = window.status.clock.now()
    assert server is not None
    newest = datetime.fromtimestamp(int(chart.model.buffer.time[-1]), tz=UTC)
    assert server - newest < timedelta(minutes=2)
    labels = [label for label in chart.view.time_axis.drawn if label]
    assert labels and all(len(label) == len("18 Nov 08:45") for label in labels)  # M1's own format
    shown = [
        datetime.strptime(f"{label} {newest.year}", "%d %b %H:%M %Y").replace(tzinfo=UTC) for label in labels
    ]
    assert all(newest - timedelta(hours=3) <= t <= newest for t in shown), (labels, newest)
    await window.shutdown()
