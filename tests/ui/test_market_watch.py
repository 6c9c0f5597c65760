"""Market Watch on its model: quotes arrive through the hub bridge and show, coloured by direction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.core.hub import EventHub, Topic
from app.models import Quote, SymbolSpec
from app.ui.bridge import HubBridge
from app.ui.market_watch import MarketWatch, QuoteTableModel
from app.ui.market_watch.model import CLOSED_COLOUR, Column
from app.ui.theme import DOWN_COLOUR, UP_COLOUR
from tests.ui.driving import OFFSCREEN_LIMITS, double_click


def quote(symbol: str, bid: float, ask: float, digits: int = 5, day_open: float = 1.1) -> Quote:
    return Quote(symbol, bid, ask, 1_763_456_400_000, round((ask - bid) * 10**digits), digits, day_open)


def cell(view: MarketWatch, row: int, column: Column, role: int = Qt.ItemDataRole.DisplayRole) -> object:
    return view.model.data(view.model.index(row, column), role)


def test_quotes_from_the_hub_update_the_table(qtbot: QtBot) -> None:
    hub = EventHub()
    bridge = HubBridge(hub, rate_hz=60)
    model = QuoteTableModel(["EURUSD", "USDJPY"])
    bridge.quotes.connect(model.apply)
    view = MarketWatch(model)
    qtbot.addWidget(view)
    view.show()
    bridge.start()
    hub.publish(Topic.QUOTES, quote("EURUSD", 1.10000, 1.10008), key="EURUSD")
    hub.publish(Topic.QUOTES, quote("USDJPY", 155.123, 155.135, digits=3, day_open=156.0), key="USDJPY")
    qtbot.waitUntil(lambda: cell(view, 1, Column.BID) == "155.123", timeout=2000)
    assert cell(view, 0, Column.BID) == "1.10000" and cell(view, 0, Column.ASK) == "1.10008"
    assert cell(view, 0, Column.SPREAD) == "8"
    assert cell(view, 1, Column.CHANGE) == "-0.56%"
    assert cell(view, 1, Column.CHANGE, Qt.ItemDataRole.ForegroundRole).color() == QColor(DOWN_COLOUR)

    hub.publish(Topic.QUOTES, quote("EURUSD", 1.10012, 1.10020), key="EURUSD")
    qtbot.waitUntil(lambda: cell(view, 0, Column.BID) == "1.10012", timeout=2000)
    assert cell(view, 0, Column.BID, Qt.ItemDataRole.ForegroundRole).color() == QColor(UP_COLOUR)
    hub.publish(Topic.QUOTES, quote("EURUSD", 1.09990, 1.09998), key="EURUSD")
    qtbot.waitUntil(lambda: cell(view, 0, Column.BID) == "1.09990", timeout=2000)
    assert cell(view, 0, Column.BID, Qt.ItemDataRole.ForegroundRole).color() == QColor(DOWN_COLOUR)
    bridge.stop()


def test_a_conflated_frame_shows_the_newest_quote_only(qtbot: QtBot) -> None:
    hub = EventHub()
    bridge = HubBridge(hub)
    seen: list[list[Quote]] = []
    bridge.quotes.connect(seen.append)
    bridge.start()
    for i in range(100):
        hub.publish(Topic.QUOTES, quote("EURUSD", 1.1 + i * 1e-5, 1.1001 + i * 1e-5), key="EURUSD")
    bridge.drain()
    assert len(seen) == 1 and len(seen[0]) == 1 and seen[0][0].bid == 1.1 + 99e-5
    bridge.stop()


def test_add_remove_open_chart_and_ticket(qtbot: QtBot) -> None:
    model = QuoteTableModel(["EURUSD"])
    view = MarketWatch(model)
    qtbot.addWidget(view)
    assert model.add_symbol("GBPUSD") and not model.add_symbol("GBPUSD")
    assert model.symbols == ["EURUSD", "GBPUSD"]
    view.show()
    qtbot.waitExposed(view)
    with qtbot.waitSignal(view.chart_requested) as chart:
        rect = view.table.visualRect(view.proxy.index(1, 0))
        double_click(view.table.viewport(), rect.center())
    assert chart.args == ["GBPUSD"]
    menu = view.build_menu("GBPUSD")
    titles = [a.text() for a in menu.actions()]
    assert titles[0].startswith("New Order GBPUSD")
    with qtbot.waitSignal(view.order_requested) as order:
        menu.actions()[0].trigger()
    assert order.args == ["GBPUSD"]
    with qtbot.waitSignal(view.remove_requested) as removed:
        next(a for a in menu.actions() if a.text().startswith("Hide")).trigger()
    assert removed.args == ["GBPUSD"]
    assert model.remove_symbol("GBPUSD") and model.symbols == ["EURUSD"]


def test_the_search_box_asks_to_add_the_symbol_picked(qtbot: QtBot) -> None:
    from tests.ui.test_pure_helpers import EURUSD

    view = MarketWatch(QuoteTableModel())
    qtbot.addWidget(view)
    view.set_all_symbols([EURUSD])
    with qtbot.waitSignal(view.add_requested) as added:
        view.search.setText("EURUSD — Euro vs US Dollar")
        view.search.returnPressed.emit()
    assert added.args == ["EURUSD"] and view.search.text() == ""


def specs(*names: str) -> list[SymbolSpec]:
    from tests.ui.test_pure_helpers import EURUSD

    return [replace(EURUSD, name=name, description=f"{name} description") for name in names]


@OFFSCREEN_LIMITS
def test_enter_takes_the_only_or_the_highlighted_completion_never_a_half_typed_name(qtbot: QtBot) -> None:
    view = MarketWatch(QuoteTableModel())
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.set_all_symbols(specs("EURUSD", "EURJPY", "EURGBP", "GBPUSD"))
    added: list[str] = []
    view.add_requested.connect(added.append)

    view.search.setFocus()
    QTest.keyClicks(view.search, "EURJ")
    QTest.keyClick(view.search, Qt.Key.Key_Return)
    assert added == ["EURJPY"] and view.search.text() == ""  # the only completion, not "EURJ"

    QTest.keyClicks(view.search, "EUR")
    QTest.keyClick(view.search, Qt.Key.Key_Return)
    assert added == ["EURJPY"]  # three match: nothing is guessed ...
    assert view.hint.isVisible() and "3 symbols match “EUR”" in view.hint.text()  # ... it says so

    popup = view._completer.popup()
    qtbot.waitUntil(popup.isVisible)
    QTest.keyClick(popup, Qt.Key.Key_Down)  # the trader highlights the first completion
    QTest.keyClick(popup, Qt.Key.Key_Return)
    assert added[-1] == popup.model().index(0, 0).data().split("—")[0].strip()
    assert not view.hint.isVisible()

    QTest.keyClicks(view.search, "gbpusd")
    QTest.keyClick(view.search, Qt.Key.Key_Return)
    assert added[-1] == "GBPUSD"
    QTest.keyClicks(view.search, "XYZ")
    QTest.keyClick(view.search, Qt.Key.Key_Return)
    assert added[-1] == "GBPUSD" and "No symbol of this terminal matches “XYZ”" in view.hint.text()


def test_headers_sort_and_the_spread_header_is_not_cut(qtbot: QtBot) -> None:
    model = QuoteTableModel(["EURUSD", "USDJPY", "GBPUSD"])
    view = MarketWatch(model)
    qtbot.addWidget(view)
    view.resize(360, 300)
    view.show()
    qtbot.waitExposed(view)
    model.apply(
        [quote("EURUSD", 1.10, 1.1001), quote("USDJPY", 155.1, 155.12, 3), quote("GBPUSD", 1.25, 1.2502)]
    )
    header = view.table.horizontalHeader()

    def click_header(column: Column) -> None:
        x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
        QTest.mouseClick(
            header.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, 5)
        )

    assert view.shown_symbols() == ["EURUSD", "USDJPY", "GBPUSD"]  # the trader's own order
    click_header(Column.BID)
    assert view.shown_symbols() == ["EURUSD", "GBPUSD", "USDJPY"]  # by bid, as numbers
    click_header(Column.BID)
    assert view.shown_symbols() == ["USDJPY", "GBPUSD", "EURUSD"]
    click_header(Column.SPREAD)
    assert view.shown_symbols() == ["EURUSD", "USDJPY", "GBPUSD"]  # 10, 20, 20 points
    view.table.selectRow(0)
    assert view.selected_symbol() == "EURUSD"
    click_header(Column.SYMBOL)
    click_header(Column.SYMBOL)
    click_header(Column.SYMBOL)  # the third click: back to the trader's order
    assert view.shown_symbols() == ["EURUSD", "USDJPY", "GBPUSD"]

    metrics = header.fontMetrics()
    for column, title in ((Column.SPREAD, "Spread"), (Column.CHANGE, "Daily Δ")):
        needed = metrics.horizontalAdvance(title) + 2 * 6 + 12  # the theme's padding, the sort arrow
        assert header.sectionSize(column) >= needed, title

    # as wide as Market Watch docks by default, a big price still shows whole
    view.resize(380, 300)
    model.add_symbol("BTCUSD")
    model.apply([quote("BTCUSD", 104327.82, 104350.72, 2, day_open=100_000.0)])
    QApplication.sendPostedEvents()
    row = model.symbols.index("BTCUSD")
    for column in Column:
        if header.isSectionHidden(column):
            continue  # High, Low, Time, Last show when chosen from the header's menu
        text = str(model.data(model.index(row, column)))
        assert view.table.columnWidth(column) >= view.table.fontMetrics().horizontalAdvance(text) + 8, text


def test_a_market_that_went_quiet_is_greyed_and_says_why(qtbot: QtBot) -> None:
    model = QuoteTableModel(["EURUSD", "BTCUSD"])
    view = MarketWatch(model)
    qtbot.addWidget(view)
    friday = int(datetime(2026, 11, 20, 21, 59, 59, tzinfo=UTC).timestamp() * 1000)  # FX closes at 22:00
    model.apply([replace(quote("EURUSD", 1.1, 1.1001), time_msc=friday)])
    model.apply([replace(quote("BTCUSD", 95_000.0, 95_020.0, 2), time_msc=friday + 3_600_000)])
    model.set_server_time(friday + 3_600_500)  # an hour later, by the server's clock
    grey = cell(view, 0, Column.BID, Qt.ItemDataRole.ForegroundRole)
    assert model.is_closed("EURUSD") and not model.is_closed("BTCUSD")
    assert all(cell(view, 0, c, Qt.ItemDataRole.ForegroundRole) == grey for c in Column)
    assert grey.color() == QColor(CLOSED_COLOUR)
    tip = cell(view, 0, Column.SYMBOL, Qt.ItemDataRole.ToolTipRole)
    assert tip == "EURUSD: market closed — no quote since 2026.11.20 21:59:59 (server time)"
    assert "market closed" not in str(cell(view, 1, Column.SYMBOL, Qt.ItemDataRole.ToolTipRole))
    model.apply([replace(quote("EURUSD", 1.1002, 1.1003), time_msc=friday + 3_600_400)])  # it opens
    assert not model.is_closed("EURUSD")
