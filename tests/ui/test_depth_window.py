"""Depth of Market on the simulator's book: the ladder (asks over bids) at display rate, a limit
order at a level by a double click, and one-click Buy through the trading service."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.core.one_click import OneClickTrading
from app.models import OrderType
from app.ui.chart.chart_trading import ChartTrading
from app.ui.depth_window import DepthWindow
from app.ui.tasks import TaskRunner
from tests.support.sim_fixtures import wait_until
from tests.ui.conftest import SimServices
from tests.ui.driving import OFFSCREEN_LIMITS, _outside_the_task, click

pytestmark = pytest.mark.slow


@OFFSCREEN_LIMITS
async def test_the_ladder_a_level_and_one_click(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    one_click = OneClickTrading(sim_services.trading, acknowledged=True)
    trading = ChartTrading(sim_services.trading, one_click, tasks, sim_services.market.cached_spec)
    window = DepthWindow("EURUSD", sim_services.market, tasks, trading, digits=5)
    qtbot.addWidget(window)
    window.show()
    await wait_until(lambda: window.table.rowCount() > 2)
    levels = [window.level(row) for row in range(window.table.rowCount())]
    assert all(level is not None for level in levels)
    prices = [level[0] for level in levels if level is not None]
    asks = [level for level in levels if level is not None and level[1]]
    assert asks and prices == sorted(prices, reverse=True)  # asks on top, highest first
    quote = sim_services.market.quote("EURUSD")
    assert quote is not None
    assert min(p for p, ask in asks) >= quote.bid  # the ask side is at or over the market
    first = window.book
    await wait_until(lambda: window.book is not None and window.book.time_msc != first.time_msc)  # refreshed

    picked: list[tuple[str, OrderType, float]] = []
    window.order_at_price.connect(lambda symbol, kind, price: picked.append((symbol, kind, price)))
    bid_row = next(row for row in range(window.table.rowCount()) if not window.level(row)[1])  # type: ignore[index]
    rect = window.table.visualItemRect(window.table.item(bid_row, 1))

    def double_click() -> None:
        viewport = window.table.viewport()
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
        QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())

    await _outside_the_task(double_click)
    level = window.level(bid_row)
    assert level is not None and picked == [("EURUSD", OrderType.BUY_LIMIT, level[0])]

    await click(window.panel.buy_button)
    await wait_until(lambda: window.last_one_click is not None)
    assert window.last_one_click is not None and window.last_one_click[0] is not None
    (position,) = await sim_services.pool.live.call("positions")
    assert position.symbol == "EURUSD" and position.volume == pytest.approx(0.1)
