"""Trading from the chart, driven as a trader does: the one-click panel (after its risk
acknowledgement) sends exactly one order per click and is refused by the risk limits; SL, TP and a
pending order's price are dragged with the mouse, the modify reaching the simulator, and a refused
one snaps back with its reason."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QContextMenuEvent, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from app.config import RiskLimits, TradingSettings
from app.core.one_click import OneClickTrading
from app.models import AlertCondition, OrderRequest, OrderType, Position, Quote, Timeframe, TradeAction
from app.ui.chart.chart_trading import ChartTrading
from app.ui.chart.window import ChartWindow
from app.ui.chart_area import ChartArea
from app.ui.tasks import TaskRunner
from tests.support.services import Services
from tests.support.sim_fixtures import wait_until
from tests.ui.conftest import TEST_ACCOUNT
from tests.ui.driving import OFFSCREEN_LIMITS, _outside_the_task, click

pytestmark = pytest.mark.slow


@pytest.fixture
async def limited(client_factory: Any, sim_server: Any, tmp_path: Path) -> AsyncIterator[Services]:
    """The services over the sim with a risk limit: at most 0.5 lots per order."""
    client, _ = await client_factory()
    await client.login(*TEST_ACCOUNT)
    settings = TradingSettings(reconcile_window_s=5.0, limits=RiskLimits(max_volume_per_order=0.5))
    services = await Services(client, tmp_path / "services", settings).start()
    await services.market.subscribe(["EURUSD"])
    yield services
    await services.stop()


def chart_on(
    services: Services,
    tasks: TaskRunner,
    qtbot: QtBot,
    *,
    confirm_drag: bool = True,
    acknowledged: bool = False,
) -> tuple[ChartArea, ChartTrading]:
    one_click = OneClickTrading(services.trading, audit=services.audit)
    trading = ChartTrading(
        services.trading, one_click, tasks, services.market.cached_spec, confirm_drag=confirm_drag
    )
    area = ChartArea(services.market, tasks, trading=trading)
    qtbot.addWidget(area)
    area.resize(1000, 640)
    area.show()
    return area, trading


async def loaded_chart(area: ChartArea, services: Services) -> ChartWindow:
    await services.market.spec("EURUSD")
    window = area.open_chart("EURUSD", Timeframe.M1)
    await wait_until(lambda: window.model.loaded)
    await wait_until(lambda: services.market.quote("EURUSD") is not None)
    return window


async def refresh(area: ChartArea, services: Services) -> None:
    """The account's positions and orders onto the chart, and the latest quote (the bridge's job)."""
    await services.account.refresh()
    area.set_positions(tuple(services.account.positions))
    area.set_orders(tuple(services.account.orders))
    quote = services.market.quote("EURUSD")
    assert quote is not None
    area.apply_quotes([quote])
    QApplication.sendPostedEvents()


async def place(services: Services, request: OrderRequest) -> int:
    return (await services.trading.place(request)).order


async def positions(services: Services) -> list[Position]:
    return list(await services.pool.live.call("positions"))


# ---------------------------------------------------------------------------- one-click
async def test_one_click_asks_once_then_sends_one_order_per_click_and_obeys_the_limits(
    limited: Services, tasks: TaskRunner, qtbot: QtBot
) -> None:
    area, trading = chart_on(limited, tasks, qtbot)
    window = await loaded_chart(area, limited)
    assert window.one_click_panel is None and not window.one_click  # off by default

    await click(window.one_click_button)  # the risk first
    await wait_until(lambda: trading.dialog is not None)
    assert "no confirmation" in trading.dialog.text()
    trading.dialog.button(QMessageBox.StandardButton.Cancel).click()
    await wait_until(lambda: trading.dialog is None)
    assert not window.one_click and not window.one_click_button.isChecked()  # declined: still off

    await click(window.one_click_button)
    await wait_until(lambda: trading.dialog is not None)
    accept = next(b for b in trading.dialog.buttons() if b.text() == "I understand the risk")
    accept.click()
    await wait_until(lambda: window.one_click)
    panel = window.one_click_panel
    assert panel is not None and window.one_click_button.isChecked() and trading.acknowledged
    quote = limited.market.quote("EURUSD")
    assert quote is not None
    await refresh(area, limited)
    await wait_until(lambda: panel.sell_button.text().startswith("SELL\n1."))
    assert panel.buy_button.text().startswith("BUY\n1.") and panel.spread.text().isdigit()
    field = panel.volume.lineEdit()
    assert field.text() == "0.10" and field.width() >= field.fontMetrics().horizontalAdvance("0.10")
    title = window.view.title
    title_box = window.view.mapFromScene(title.mapRectToScene(title.boundingRect())).boundingRect()
    assert panel.geometry().top() >= title_box.bottom()  # under the title, not over the readout

    await click(panel.buy_button)
    await wait_until(lambda: window.last_one_click is not None)
    assert window.last_one_click[0] is not None and len(await positions(limited)) == 1
    window.last_one_click = None
    await click(panel.sell_button)
    await wait_until(lambda: window.last_one_click is not None)
    found = await positions(limited)
    assert sorted((p.side.value, p.volume) for p in found) == [("buy", 0.1), ("sell", 0.1)]
    assert all(p.comment.startswith("one-click") for p in found)

    await _outside_the_task(lambda: panel.volume.setValue(1.0))  # above the 0.5-lot limit
    window.last_one_click = None
    await click(panel.buy_button)
    await wait_until(lambda: window.last_one_click is not None)
    result, reason = window.last_one_click
    assert result is None and "0.5" in reason, reason
    assert len(await positions(limited)) == 2  # nothing sent

    await click(window.one_click_button)  # off again: no question
    assert not window.one_click and trading.dialog is None


# ---------------------------------------------------------------------------- dragged lines
async def drag_line(window: ChartWindow, key: Any, dy: int) -> float:
    """Drag the line ``key`` by ``dy`` pixels with the mouse (hover, press, move, release), as a
    trader does, a mouse's pace apart (pyqtgraph reads at most 100 moves a second); the price where
    the line was let go."""
    view = window.view
    viewport = view.viewport()
    line = view.trade_lines.line(key)
    none = Qt.KeyboardModifier.NoModifier
    at: list[QPoint] = []

    def aim() -> None:
        vb = view.price_plot.vb
        x0, x1 = vb.viewRange()[0]
        at.append(view.mapFromScene(vb.mapViewToScene(QPointF(x0 + (x1 - x0) * 0.6, line.value()))))
        QTest.mouseMove(viewport, at[0])  # hovered: the line takes the drag, not the chart's pan

    async def step(action: Any) -> None:
        await _outside_the_task(action)
        await asyncio.sleep(0.02)

    await step(aim)
    start = at[0]
    await step(lambda: QTest.mousePress(viewport, Qt.MouseButton.LeftButton, none, start))
    for i in range(1, 11):
        await step(lambda i=i: QTest.mouseMove(viewport, start + QPoint(0, dy * i // 10)))
    await step(lambda: QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, none, start + QPoint(0, dy)))
    return float(line.value())


def pixels(window: ChartWindow, price_distance: float) -> int:
    """How many pixels ``price_distance`` is on the price pane now."""
    vb = window.view.price_plot.vb
    low, high = vb.viewRange()[1]
    return round(price_distance / (high - low) * vb.height())


async def answer(trading: ChartTrading, button: QMessageBox.StandardButton) -> str:
    await wait_until(lambda: trading.dialog is not None)
    dialog = trading.dialog
    assert dialog is not None
    text = dialog.text()
    dialog.button(button).click()
    return text


async def a_buy_with_its_sl(
    area: ChartArea, services: Services, volume: float
) -> tuple[ChartWindow, Quote, float, int]:
    """A EURUSD chart and a buy whose SL is halfway between the bid and the chart's bottom."""
    window = await loaded_chart(area, services)
    low, _high = window.view.price_plot.vb.viewRange()[1]
    quote = services.market.quote("EURUSD")
    assert quote is not None
    sl = round(quote.bid - (quote.bid - low) / 2, 5)
    assert quote.bid - sl > 0.0002, "the chart's range is too narrow for this test"
    ticket = await place(services, OrderRequest(TradeAction.DEAL, "EURUSD", volume, OrderType.BUY, sl=sl))
    return window, quote, sl, ticket


async def test_dragging_sl_and_tp_lines_modifies_the_position(
    limited: Services, tasks: TaskRunner, qtbot: QtBot
) -> None:
    area, trading = chart_on(limited, tasks, qtbot)
    window, quote, sl, ticket = await a_buy_with_its_sl(area, limited, 0.2)
    low, high = window.view.price_plot.vb.viewRange()[1]
    await refresh(area, limited)
    assert ("sl", ticket) in window.view.trade_lines.keys()

    down = pixels(window, (sl - low) / 2)  # further from the market: a wider stop
    dropped = await drag_line(window, ("sl", ticket), down)
    assert dropped < sl
    assert "Stop loss" in window.view.trade_lines.label(("sl", ticket)).toPlainText()  # the drag's tag
    assert "P/L -" in window.view.trade_lines.label(("sl", ticket)).toPlainText()
    text = await answer(trading, QMessageBox.StandardButton.Yes)
    assert f"stop loss of position #{ticket} to {dropped:.5f}" in text and "P/L at that level: -" in text
    expected = round(dropped, 5)

    async def sl_now() -> float:
        (position,) = await positions(limited)
        return position.sl

    for _ in range(200):
        if await sl_now() == pytest.approx(expected):
            break
        await asyncio.sleep(0.05)
    assert await sl_now() == pytest.approx(expected)  # the modify reached the simulator

    # from the position's own line: dragged up past the market, it becomes the TP
    up = -pixels(window, (high - quote.ask) / 2 + (quote.ask - quote.bid))
    await refresh(area, limited)
    (position,) = await positions(limited)
    await drag_line(window, ("pos", ticket), up + pixels(window, position.price_open - quote.bid))
    assert window.view.trade_lines.line(("pos", ticket)).value() == pytest.approx(position.price_open)
    text = await answer(trading, QMessageBox.StandardButton.Yes)
    found = re.search(rf"take profit of position #{ticket} to (\d\.\d{{5}})\?", text)
    assert found is not None and "P/L at that level: +" in text, text
    dropped = float(found[1])
    for _ in range(200):
        (position,) = await positions(limited)
        if position.tp:
            break
        await asyncio.sleep(0.05)
    assert position.tp == pytest.approx(round(dropped, 5)) and position.sl == pytest.approx(expected)


async def test_a_cancelled_or_refused_drag_snaps_back_with_the_reason(
    limited: Services, tasks: TaskRunner, qtbot: QtBot
) -> None:
    area, trading = chart_on(limited, tasks, qtbot)
    window, quote, sl, ticket = await a_buy_with_its_sl(area, limited, 0.1)
    low, _high = window.view.price_plot.vb.viewRange()[1]
    await refresh(area, limited)
    line = window.view.trade_lines.line(("sl", ticket))

    await drag_line(window, ("sl", ticket), pixels(window, (sl - low) / 3))
    await answer(trading, QMessageBox.StandardButton.Cancel)
    assert line.value() == pytest.approx(sl) and window.view.trade_lines.label(
        ("sl", ticket)
    ).toPlainText() == (f"SL #{ticket}")

    trading.confirm_drag = False  # the setting: no question
    await drag_line(window, ("sl", ticket), -pixels(window, (quote.ask - sl) * 1.5))  # above the bid
    await wait_until(lambda: bool(tasks.errors))  # type: ignore[attr-defined]
    assert "stop loss" in tasks.errors[0] and "below" in tasks.errors[0], tasks.errors  # type: ignore[attr-defined]
    assert line.value() == pytest.approx(sl)  # back where it was
    (position,) = await positions(limited)
    assert position.sl == pytest.approx(sl)  # nothing changed at the terminal


async def test_dragging_a_pending_order_moves_its_price(
    limited: Services, tasks: TaskRunner, qtbot: QtBot
) -> None:
    area, trading = chart_on(limited, tasks, qtbot, confirm_drag=False)
    window = await loaded_chart(area, limited)
    low, high = window.view.price_plot.vb.viewRange()[1]
    quote = limited.market.quote("EURUSD")
    assert quote is not None
    if quote.ask - low > high - quote.bid:  # where the chart has room: a buy limit under the market
        kind, price, away = OrderType.BUY_LIMIT, round(quote.ask - (quote.ask - low) / 3, 5), 1
    else:  # or a sell limit over it
        kind, price, away = OrderType.SELL_LIMIT, round(quote.bid + (high - quote.bid) / 3, 5), -1
    ticket = await place(limited, OrderRequest(TradeAction.PENDING, "EURUSD", 0.1, kind, price=price))
    await refresh(area, limited)
    dropped = await drag_line(window, ("order", ticket), away * pixels(window, abs(price - quote.bid) / 2))
    for _ in range(200):
        (order,) = await limited.pool.live.call("orders")
        if order.price_open != price:
            break
        await asyncio.sleep(0.05)
    assert order.price_open == pytest.approx(round(dropped, 5)) and order.type is kind


# ---------------------------------------------------------------------------- the chart's menu
def menu_actions(menu: QMenu) -> dict[str, QAction]:
    found: dict[str, QAction] = {}
    for action in menu.actions():
        if action.menu() is not None:
            found |= {f"{action.text()}/{k}": a for k, a in menu_actions(action.menu()).items()}
        elif action.text():
            found[action.text()] = action
    return found


async def right_click(window: ChartWindow, price: float) -> dict[str, QAction]:
    """A right click on the chart at ``price`` (as the mouse sends it: a context-menu event)."""
    view = window.view
    vb = view.price_plot.vb
    x0, x1 = vb.viewRange()[0]
    pos = view.mapFromScene(vb.mapViewToScene(QPointF(x0 + (x1 - x0) * 0.5, price)))
    viewport = view.viewport()

    def go() -> None:
        event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos))
        QApplication.sendEvent(viewport, event)

    await _outside_the_task(go)
    assert window.menu is not None
    actions = menu_actions(window.menu)
    window.menu.close()
    return actions


@OFFSCREEN_LIMITS
async def test_the_chart_menu_trades_at_the_price_and_sets_the_chart(
    limited: Services, tasks: TaskRunner, qtbot: QtBot, tmp_path: Path
) -> None:
    area, trading = chart_on(limited, tasks, qtbot)
    window = await loaded_chart(area, limited)
    await refresh(area, limited)
    low, high = window.view.price_plot.vb.viewRange()[1]
    model = window.model
    asked: list[tuple[str, OrderType, float]] = []
    area.order_at_price.connect(lambda symbol, kind, price: asked.append((symbol, kind, price)))

    below = await right_click(window, low + (model.bid - low) / 2)
    names = [name for name in below if " EURUSD at " in name]
    assert [n.split(" EURUSD")[0] for n in names] == ["Buy Limit", "Sell Stop"], list(below)
    below[names[0]].trigger()
    assert asked and asked[0][:2] == ("EURUSD", OrderType.BUY_LIMIT) and low < asked[0][2] < model.bid
    alerts: list[tuple[str, AlertCondition, float]] = []
    area.alert_at_price.connect(lambda symbol, condition, price: alerts.append((symbol, condition, price)))
    (alert,) = [name for name in below if name.startswith("Alert when the bid is below ")]
    below[alert].trigger()
    assert alerts and alerts[0][:2] == ("EURUSD", AlertCondition.BID_BELOW)
    above = await right_click(window, model.ask + (high - model.ask) / 2)
    assert any(name.startswith("Alert when the bid is above ") for name in above)
    assert [n.split(" EURUSD")[0] for n in above if " EURUSD at " in n] == ["Sell Limit", "Buy Stop"]

    above["Timeframe/M5"].trigger()
    assert model.timeframe is Timeframe.M5
    await wait_until(lambda: model.loaded)
    actions = await right_click(window, (low + high) / 2)
    assert actions["Grid"].isChecked() and actions["Auto Scroll"].isChecked()
    assert actions["Timeframe/M5"].isChecked()
    actions["Grid"].trigger()
    assert not window.view.grid_visible
    actions["Auto Scroll"].trigger()
    assert not window.view.auto_scroll
    actions = await right_click(window, (low + high) / 2)
    assert not actions["Grid"].isChecked() and not actions["Auto Scroll"].isChecked()
    actions["Auto Scroll"].trigger()  # on again: back to the live bar
    assert window.view.auto_scroll and window.view.follow

    picture = tmp_path / "chart.png"
    assert window.save_picture(picture)
    image = QImage(str(picture))
    assert image.width() == window.view.width() and image.height() == window.view.height()

    assert "One Click Trading" in actions and not actions["One Click Trading"].isChecked()
    actions["One Click Trading"].trigger()  # the menu's switch asks about the risk, as the button does
    await wait_until(lambda: trading.dialog is not None)
    assert trading.dialog is not None
    trading.dialog.button(QMessageBox.StandardButton.Cancel).click()
