"""The Trade tab on its model and the trading service: positions show with profit, closing one from
the context menu removes it, partial close and modify go through the service too."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu, QMessageBox, QSpinBox
from pytestqt.qtbot import QtBot

from app.core.client_ids import tag_for
from app.core.trailing import TrailingService
from app.models import OrderRequest, OrderType, TradeAction
from app.ui.bridge import HubBridge
from app.ui.tasks import TaskRunner
from app.ui.toolbox.trade_model import CLOSE_COLUMN, PROFIT_COLUMN, SL_COLUMN, TradeTableModel
from app.ui.toolbox.trade_tab import CLIENT_SIDE_NOTE, TradeTab
from tests.support.sim_fixtures import wait_until
from tests.ui.conftest import SimServices
from tests.ui.driving import OFFSCREEN_LIMITS, click, context_menu, menu_action, type_text

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def build(services: SimServices, tasks: TaskRunner, qtbot: QtBot) -> tuple[TradeTab, HubBridge]:
    model = TradeTableModel(lambda symbol: 5 if symbol == "EURUSD" else 3)
    tab = TradeTab(model, services.trading, tasks)
    qtbot.addWidget(tab)
    tab.show()
    bridge = HubBridge(services.hub)
    bridge.positions.connect(model.set_positions)
    bridge.orders.connect(model.set_orders)
    bridge.account.connect(tab.set_account)
    bridge.start()
    return tab, bridge


def tickets(tab: TradeTab) -> list[int]:
    return [tab.model.item(row).ticket for row in range(tab.model.rowCount())]


async def test_closing_a_position_from_the_tab_removes_it(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    tab, bridge = build(sim_services, tasks, qtbot)
    first = await sim_services.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", 0.20, OrderType.BUY))
    second = await sim_services.trading.place(OrderRequest(TradeAction.DEAL, "USDJPY", 0.10, OrderType.SELL))
    await wait_until(lambda: tickets(tab) == [first.order, second.order])
    row = tab.model.row_of(first.order)
    assert row is not None
    assert tab.model.data(tab.model.index(row, 1)) == str(first.order)
    assert tab.model.data(tab.model.index(row, PROFIT_COLUMN)) != ""
    assert "Balance:</span> <b>99 9" in tab.footer.text() and "Margin level:" in tab.footer.text()

    menu = tab.build_menu(tab.model.item(row))
    assert [a.text() for a in menu.actions()] == [
        f"Close #{first.order}",
        "Partial close...",
        "Modify SL/TP...",
        "",
        "Close All Positions",
        "Close Profitable",
        "Close Losing",
        "Close All EURUSD",
    ]
    menu.actions()[0].trigger()
    menu.actions()[0].trigger()  # a second click while the first close is on its way: ignored
    await wait_until(lambda: tickets(tab) == [second.order], within_s=10)
    assert tab.busy == set() and tasks.errors == []  # type: ignore[attr-defined]
    bridge.stop()


async def test_partial_close_modify_and_cancel(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    tab, bridge = build(sim_services, tasks, qtbot)
    opened = await sim_services.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", 0.20, OrderType.BUY))
    tick = await sim_services.pool.live.call("tick", "EURUSD")
    pending = await sim_services.trading.place(
        OrderRequest(
            TradeAction.PENDING, "EURUSD", 0.10, OrderType.BUY_LIMIT, price=round(tick.ask - 0.01, 5)
        )
    )
    await wait_until(lambda: len(tickets(tab)) == 2)
    position = tab.model.item(0)
    tab.close_position(position, 0.05)  # what the partial-close dialog does on OK
    await wait_until(lambda: tab.model.positions and tab.model.positions[0].volume == pytest.approx(0.15))

    sl = round(tick.bid - 0.0050, 5)
    tab.modify(tab.model.item(0))
    dialog = tab.findChildren(__import__("app.ui.toolbox.dialogs", fromlist=["ModifyDialog"]).ModifyDialog)[
        -1
    ]
    dialog.sl.setValue(sl)
    dialog.accept()
    await wait_until(lambda: tab.model.positions[0].sl == pytest.approx(sl))

    order = tab.model.item(1)
    assert order.ticket == pending.order
    assert tab.model.data(tab.model.index(1, 3)) == "buy limit"
    tab.cancel_order(order)
    await wait_until(lambda: tickets(tab) == [opened.order], within_s=10)
    assert tasks.errors == []  # type: ignore[attr-defined]
    bridge.stop()


async def test_the_comment_column_shows_the_traders_comment_not_the_tag(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    tab, bridge = build(sim_services, tasks, qtbot)
    mine = OrderRequest(TradeAction.DEAL, "EURUSD", 0.01, OrderType.BUY, comment="breakout", client_id="c-1")
    bare = OrderRequest(TradeAction.DEAL, "EURUSD", 0.01, OrderType.SELL, client_id="c-2")
    first = await sim_services.trading.place(mine)
    second = await sim_services.trading.place(bare)
    await wait_until(lambda: set(tickets(tab)) >= {first.order, second.order})
    comments = {
        tab.model.item(r).ticket: tab.model.data(tab.model.index(r, 11)) for r in range(tab.model.rowCount())
    }
    assert comments[first.order] == "breakout" and comments[second.order] == ""
    held = {p.ticket: p.comment for p in sim_services.account.positions}
    assert held[first.order] == f"breakout {tag_for('c-1')}"  # the order keeps its tag (reconciliation)
    assert held[second.order] == tag_for("c-2")
    bridge.stop()


async def test_the_close_cell_and_bulk_close_with_one_confirmation(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    """× on a row closes it; Close Losing / All EURUSD ask once, listing exactly what will close."""
    tab, bridge = build(sim_services, tasks, qtbot)
    tab.resize(1400, 300)
    placed = []
    for symbol, side in (("EURUSD", OrderType.BUY), ("EURUSD", OrderType.SELL), ("USDJPY", OrderType.BUY)):
        placed.append(
            (await sim_services.trading.place(OrderRequest(TradeAction.DEAL, symbol, 0.1, side))).order
        )
    await wait_until(lambda: len(tickets(tab)) == 3)

    row = tab.model.row_of(placed[2])
    assert row is not None
    cell = tab.model.index(row, CLOSE_COLUMN)
    assert tab.model.data(cell) == "×"
    tab.table.scrollTo(cell)
    await click(tab.table.viewport(), tab.table.visualRect(cell).center())  # the × of the USDJPY row
    await wait_until(lambda: placed[2] not in tickets(tab), within_s=10)

    # the two EURUSD positions: a buy and a sell (both losing the spread at first)
    eurusd = next(p for p in tab.model.positions if p.symbol == "EURUSD")
    menu = tab.build_menu(eurusd)
    next(a for a in menu.actions() if a.text() == "Close All EURUSD").trigger()
    await wait_until(lambda: tab.confirmation is not None)
    assert tab.confirmation is not None
    text = tab.confirmation.text()
    assert "close these 2 positions?" in text and f"#{placed[0]}" in text and f"#{placed[1]}" in text
    tab.confirmation.button(QMessageBox.StandardButton.Cancel).click()
    await asyncio.sleep(0.3)
    assert len(tickets(tab)) == 2  # cancelled: nothing closed

    next(a for a in tab.build_menu(None).actions() if a.text() == "Close All Positions").trigger()
    await wait_until(lambda: tab.confirmation is not None)
    assert tab.confirmation is not None
    tab.confirmation.button(QMessageBox.StandardButton.Yes).click()
    await wait_until(lambda: tab.last_bulk is not None, within_s=15)
    assert tab.last_bulk is not None and sorted(tab.last_bulk.closed) == sorted(placed[:2])
    assert tab.last_bulk.failed == []
    await wait_until(lambda: tickets(tab) == [], within_s=10)
    assert await sim_services.pool.live.call("positions") == [] and tasks.errors == []  # type: ignore[attr-defined]
    bridge.stop()


async def test_close_by_closes_two_opposite_positions_against_each_other(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    tab, bridge = build(sim_services, tasks, qtbot)
    long = (
        await sim_services.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", 0.3, OrderType.BUY))
    ).order
    short = (
        await sim_services.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", 0.1, OrderType.SELL))
    ).order
    await wait_until(lambda: len(tickets(tab)) == 2)
    row = tab.model.row_of(long)
    assert row is not None
    menu = tab.build_menu(tab.model.item(row))
    (close_by,) = [a for a in menu.actions() if a.text().startswith(f"Close #{long} by ")]
    assert close_by.text() == f"Close #{long} by #{short} (sell 0.10)"
    close_by.trigger()
    await wait_until(lambda: tickets(tab) == [long] and tab.model.positions[0].volume == pytest.approx(0.2))
    assert tasks.errors == []  # type: ignore[attr-defined]
    bridge.stop()


@OFFSCREEN_LIMITS  # a popup menu asks for what the offscreen platform cannot do
async def test_a_trailing_stop_from_the_row_menu_is_kept_shown_and_said_to_be_client_side(
    sim_services: SimServices, tasks: TaskRunner, qtbot: QtBot
) -> None:
    assert sim_services.db is not None
    trailing = TrailingService(
        sim_services.db, sim_services.hub, sim_services.market, sim_services.trading, sim_services.account
    )
    await trailing.start()
    try:
        model = TradeTableModel(lambda _symbol: 5, trailing.distance)
        tab = TradeTab(model, sim_services.trading, tasks, trailing=trailing)
        qtbot.addWidget(tab)
        tab.show()
        bridge = HubBridge(sim_services.hub)
        bridge.positions.connect(model.set_positions)
        bridge.start()
        placed = await sim_services.trading.place(
            OrderRequest(TradeAction.DEAL, "EURUSD", 0.1, OrderType.BUY)
        )
        await wait_until(lambda: tickets(tab) == [placed.order])
        cell = tab.table.visualRect(model.index(0, SL_COLUMN)).center()

        menu = await context_menu(tab.table.viewport(), cell)
        submenu = menu_action(menu, "Trailing Stop").menu()
        assert isinstance(submenu, QMenu)
        assert [a.text() for a in submenu.actions()] == [
            CLIENT_SIDE_NOTE, "", "None", "10 points", "15 points", "20 points", "30 points", "50 points",
            "100 points", "Custom...",
        ]  # fmt: skip
        assert menu_action(menu, "Trailing Stop", "None").isChecked()
        assert "only while it is running" in menu_action(menu, "Trailing Stop").toolTip()
        menu_action(menu, "Trailing Stop", "20 points").trigger()
        menu.close()
        await wait_until(lambda: trailing.distance(placed.order) == 20)
        await wait_until(lambda: str(model.data(model.index(0, SL_COLUMN))).endswith("⇡20"))
        tooltip = model.data(model.index(0, SL_COLUMN), Qt.ItemDataRole.ToolTipRole)
        assert "20 points" in tooltip and "Client-side" in tooltip and "only while it is running" in tooltip
        stored = await sim_services.db.run(lambda tx: tx.trailing.all(), readonly=True)
        assert list(stored.values()) == [20]

        menu = await context_menu(tab.table.viewport(), cell)
        assert menu_action(menu, "Trailing Stop", "20 points").isChecked()
        menu_action(menu, "Trailing Stop", "Custom...").trigger()
        menu.close()
        dialog = tab.custom_trailing
        assert dialog is not None and "while it is running" in dialog.labelText()
        await type_text(dialog.findChild(QSpinBox), "35", enter=True)
        await wait_until(lambda: trailing.distance(placed.order) == 35)
        await wait_until(lambda: str(model.data(model.index(0, SL_COLUMN))).endswith("⇡35"))

        menu = await context_menu(tab.table.viewport(), cell)
        assert menu_action(menu, "Trailing Stop", "35 points").isChecked()
        menu_action(menu, "Trailing Stop", "None").trigger()
        menu.close()
        await wait_until(lambda: trailing.distance(placed.order) is None)
        await wait_until(lambda: "⇡" not in str(model.data(model.index(0, SL_COLUMN))))
        assert await sim_services.db.run(lambda tx: tx.trailing.all(), readonly=True) == {}
        bridge.stop()
    finally:
        await trailing.stop()
