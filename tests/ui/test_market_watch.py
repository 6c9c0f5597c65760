"""Market Watch on its model: quotes arrive through the hub bridge and show, coloured by direction."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from app.core.hub import EventHub, Topic
from app.models import Quote
from app.ui.bridge import HubBridge
from app.ui.market_watch import MarketWatch, QuoteTableModel
from app.ui.market_watch.model import Column
from app.ui.theme import DOWN_COLOUR, UP_COLOUR


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
    with qtbot.waitSignal(view.chart_requested) as chart:
        view.table.doubleClicked.emit(model.index(1, 0))
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
