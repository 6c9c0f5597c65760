"""Market Watch as MT5's: columns chosen by right-clicking the header, named symbol sets, and "Alert..."
from a row — driven with real right-clicks, kept in the window layout across a restart."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from app.config import AlertsSettings
from app.core.alerts import AlertService
from app.models import AlertCondition, Quote
from app.ui.layout import WindowLayout, load_layout, save_layout
from app.ui.market_watch import MarketWatch, QuoteTableModel
from app.ui.market_watch.model import Column
from app.ui.toolbox.alerts_tab import AlertsTab
from tests.support.sim_fixtures import wait_until
from tests.ui.conftest import SimServices
from tests.ui.driving import OFFSCREEN_LIMITS, context_menu, menu_action, type_text
from tests.ui.test_main_window import window_on

pytestmark = [pytest.mark.gui, OFFSCREEN_LIMITS]

TIME_MSC = 1_763_467_205_000  # 2025.11.18 12:00:05 UTC


def header_point(view: MarketWatch, column: Column) -> QPoint:
    header = view.table.horizontalHeader()
    return QPoint(header.sectionViewportPosition(column) + 5, header.height() // 2)


async def test_the_headers_menu_shows_high_low_time_and_last(qtbot: QtBot) -> None:
    model = QuoteTableModel(["EURUSD"])
    view = MarketWatch(model)
    qtbot.addWidget(view)
    view.resize(700, 300)
    view.show()
    model.apply([Quote("EURUSD", 1.10012, 1.10020, TIME_MSC, 8, 5, 1.1, 1.10015, 1.10250, 1.09870)])
    header = view.table.horizontalHeader()
    assert view.visible_columns() == ["bid", "ask", "spread", "change"]

    menu = await context_menu(header.viewport(), header_point(view, Column.BID))
    assert [(a.text(), a.isChecked()) for a in menu.actions()] == [
        ("Bid", True), ("Ask", True), ("Spread", True), ("Daily Δ", True),
        ("High", False), ("Low", False), ("Time", False), ("Last", False),
    ]  # fmt: skip
    menu_action(menu, "High").trigger()
    menu.close()
    for name in ("Low", "Time", "Last"):
        menu = await context_menu(header.viewport(), header_point(view, Column.BID))
        menu_action(menu, name).trigger()
        menu.close()
    menu = await context_menu(header.viewport(), header_point(view, Column.BID))
    menu_action(menu, "Daily Δ").trigger()  # and one off
    menu.close()
    assert view.visible_columns() == ["bid", "ask", "spread", "high", "low", "time", "last"]
    assert header.isSectionHidden(Column.CHANGE) and not header.isSectionHidden(Column.HIGH)
    row = [model.data(model.index(0, c)) for c in (Column.HIGH, Column.LOW, Column.TIME, Column.LAST)]
    assert row == ["1.10250", "1.09870", "12:00:05", "1.10015"]
    assert model.headerData(Column.TIME, Qt.Orientation.Horizontal) == "Time"

    view.resize(380, 300)  # as narrow as the dock starts: the prices keep their width, it scrolls
    QApplication.sendPostedEvents()
    for column in Column:
        if not header.isSectionHidden(column):
            text = str(model.data(model.index(0, column)))
            needed = view.table.fontMetrics().horizontalAdvance(text) + 8
            assert view.table.columnWidth(column) >= needed, text
    assert view.table.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAsNeeded


@pytest.mark.slow
async def test_symbol_sets_columns_and_alert_from_the_row_menu_survive_a_restart(
    sim_services: SimServices, data_dir: Path, qtbot: QtBot
) -> None:
    window = await window_on(sim_services, data_dir, qtbot)
    mw = window.market_watch
    assert sim_services.db is not None
    alerts = AlertService(sim_services.db, sim_services.hub, sim_services.market, AlertsSettings())
    await alerts.start()
    try:
        alerts_tab = AlertsTab(alerts, sim_services.hub, window.tasks, lambda: sim_services.market.subscribed,
                               window.digits, lambda _level, _text: None, sound=False)  # fmt: skip
        window.add_tab("Alerts", alerts_tab)
        await wait_until(lambda: window.quotes_model.quote("USDJPY") is not None)
        assert mw.shown_symbols() == ["EURUSD", "USDJPY", "XAUUSD"]

        # Sets › Save as...: the symbols shown now, in order
        row = mw.table.visualRect(mw.proxy.index(1, 0)).center()
        menu = await context_menu(mw.table.viewport(), row)
        menu_action(menu, "Sets", "Save as...").trigger()
        menu.close()
        assert mw.set_name_dialog is not None
        await type_text(mw.set_name_dialog.findChild(QLineEdit), "majors", enter=True)
        await wait_until(lambda: "majors" in mw.symbol_sets)
        assert mw.symbol_sets["majors"] == ["EURUSD", "USDJPY", "XAUUSD"]

        window.remove_symbol("XAUUSD")
        window.add_symbol("GBPUSD")
        await wait_until(lambda: mw.shown_symbols() == ["EURUSD", "USDJPY", "GBPUSD"])
        mw.save_set("cable")
        window.remove_symbol("EURUSD")
        await wait_until(lambda: mw.shown_symbols() == ["USDJPY", "GBPUSD"])

        menu = await context_menu(mw.table.viewport(), row)
        assert [a.text() for a in menu_action(menu, "Sets").menu().actions()] == [  # type: ignore[union-attr]
            "Save as...", "", "cable", "majors", "", "Remove",
        ]  # fmt: skip
        menu_action(menu, "Sets", "majors").trigger()  # exactly its symbols, in its order
        menu.close()
        await wait_until(lambda: mw.shown_symbols() == ["EURUSD", "USDJPY", "XAUUSD"])
        await wait_until(lambda: window.quotes_model.quote("XAUUSD") is not None)
        assert "GBPUSD" not in mw.shown_symbols()

        menu = await context_menu(mw.table.viewport(), row)
        menu_action(menu, "Sets", "Remove", "cable").trigger()
        menu.close()
        assert list(mw.symbol_sets) == ["majors"]

        # Alert... on a row: the Alerts tab's form, with the symbol and its bid
        quote = window.quotes_model.quote("USDJPY")
        assert quote is not None
        menu = await context_menu(mw.table.viewport(), row)
        menu_action(menu, "Alert USDJPY...").trigger()
        menu.close()
        assert window.toolbox.tabText(window.toolbox.currentIndex()) == "Alerts"
        assert alerts_tab.symbol.currentText() == "USDJPY"
        assert alerts_tab.condition.currentData() == AlertCondition.BID_ABOVE
        assert alerts_tab.price.value() == pytest.approx(quote.bid)

        # High and Last from the header; all of it back after a restart
        header = mw.table.horizontalHeader()
        for name in ("High", "Last"):
            menu = await context_menu(header.viewport(), header_point(mw, Column.BID))
            menu_action(menu, name).trigger()
            menu.close()
        await wait_until(lambda: window.quotes_model.data(window.quotes_model.index(0, Column.HIGH)) != "")
        layout = window.capture_layout()
        await window.shutdown()
        path = data_dir / "ui" / "layout.json"
        await asyncio.to_thread(save_layout, path, layout)
        window.close()
    finally:
        await alerts.stop()

    restored = await window_on(sim_services, data_dir, qtbot, await asyncio.to_thread(load_layout, path))
    assert restored.market_watch.visible_columns() == ["bid", "ask", "spread", "change", "high", "last"]
    assert restored.market_watch.symbol_sets == {"majors": ["EURUSD", "USDJPY", "XAUUSD"]}
    assert restored.market_watch.shown_symbols() == ["EURUSD", "USDJPY", "XAUUSD"]
    await restored.shutdown()


def test_a_hand_edited_layout_keeps_the_good_sets_and_columns_and_drops_the_rest(tmp_path: Path) -> None:
    """A layout file with a set that is no list of names, an empty one, and columns of another version:
    what can be read is used, the rest left out (the window still starts)."""
    path = tmp_path / "ui" / "layout.json"
    save_layout(path, WindowLayout(symbols=["EURUSD"], market_columns=["bid", "high"],
                                   symbol_sets={"majors": ["EURUSD", "USDJPY"]}))  # fmt: skip
    assert load_layout(path) == WindowLayout(
        symbols=["EURUSD"], market_columns=["bid", "high"], symbol_sets={"majors": ["EURUSD", "USDJPY"]}
    )
    data = json.loads(path.read_text(encoding="utf-8"))
    data["symbol_sets"] = {"majors": [" eurusd ", 7, "USDJPY"], "empty": [], "bad": "EURUSD", "": ["X"]}
    data["market_columns"] = ["bid", 3, "volume"]
    path.write_text(json.dumps(data), encoding="utf-8")
    layout = load_layout(path)
    assert layout is not None and layout.symbol_sets == {"majors": ["EURUSD", "USDJPY"]}
    assert layout.market_columns == ["bid", "volume"]
    model = QuoteTableModel(["EURUSD"])
    view = MarketWatch(model)
    view.set_visible_columns(layout.market_columns)  # an unknown name is ignored
    assert view.visible_columns() == ["bid"]
    view.deleteLater()
    data["symbol_sets"] = ["not", "a", "mapping"]
    data.pop("market_columns")
    path.write_text(json.dumps(data), encoding="utf-8")
    layout = load_layout(path)
    assert layout is not None and layout.symbol_sets == {} and layout.market_columns is None
