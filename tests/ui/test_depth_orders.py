"""Depth of Market to the terminal: a double click on an ask-side level opens the ticket as a Sell
Limit at that level's price, and sending it puts that order at the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.models import OrderType
from app.mt5.sim.clock import ManualClock
from tests.support.sim_fixtures import WEDNESDAY, wait_until
from tests.ui.conftest import SimServices
from tests.ui.driving import OFFSCREEN_LIMITS, _outside_the_task, click, double_click
from tests.ui.test_main_window import window_on

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def sim_clock() -> ManualClock:
    """The market stands still: the level double-clicked is still above the market when sent."""
    return ManualClock(WEDNESDAY)


@OFFSCREEN_LIMITS
async def test_a_double_click_on_an_ask_level_places_a_sell_limit_there(
    sim_services: SimServices, data_dir: Path, qtbot: QtBot
) -> None:
    window = await window_on(sim_services, data_dir, qtbot)
    depth = window.open_depth("EURUSD")
    assert depth is not None
    await wait_until(lambda: depth.table.rowCount() > 2 and depth.level(0) is not None)
    top = depth.level(0)  # the ladder's first row: the highest ask
    assert top is not None and top[1], "the ladder starts with the ask side"
    quote = sim_services.market.quote("EURUSD")
    assert quote is not None and top[0] > quote.ask

    cell = depth.table.visualItemRect(depth.table.item(0, 1)).center()
    await _outside_the_task(lambda: double_click(depth.table.viewport(), cell))
    await wait_until(lambda: bool(window.tickets))
    ticket = window.tickets[-1]
    assert ticket.order_type is OrderType.SELL_LIMIT
    await wait_until(lambda: ticket.check_label.text() == "Check: OK" and ticket.send_button.isEnabled())
    assert ticket.price.text() == f"{top[0]:.5f}"
    await click(ticket.send_button)
    await wait_until(lambda: ticket.outcome_label.text().startswith("Done"), within_s=10)

    (order,) = await sim_services.pool.live.call("orders")
    assert order.symbol == "EURUSD" and order.type is OrderType.SELL_LIMIT
    assert order.price_open == pytest.approx(top[0])
    await window.shutdown()
