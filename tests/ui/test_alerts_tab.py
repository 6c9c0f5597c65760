"""The Alerts tab, driven as a trader does (typing in the form, clicking Add, pressing Delete) over the
core's alert service on the simulator: an alert set here is stored, fires on the ticks with a toast,
and a refused one says why inline and stores nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config import AlertsSettings
from app.core.alerts import AlertService
from app.models import AlertCondition
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.clock import ManualClock
from app.ui.tasks import TaskRunner
from app.ui.toolbox.alerts_tab import AlertsTab
from tests.core.conftest import TEST_ACCOUNT
from tests.support.services import Services
from tests.support.sim_fixtures import WEDNESDAY, wait_until

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def sim_clock() -> ManualClock:
    return ManualClock(WEDNESDAY)  # ticks only when the test advances the clock


@pytest.fixture
async def wired(client_factory: Any, tmp_path: Any) -> AsyncIterator[tuple[Services, AlertService]]:
    client, _ = await client_factory()
    await client.login(*TEST_ACCOUNT)
    services = await Services(client, tmp_path).start()
    await services.market.subscribe(["EURUSD", "XAUUSD"])
    alerts = AlertService(services.db, services.hub, services.market, AlertsSettings())
    await alerts.start()
    yield services, alerts
    await alerts.stop()
    await services.stop()


def build(
    wired: tuple[Services, AlertService], tasks: TaskRunner, qtbot: QtBot
) -> tuple[AlertsTab, list[tuple[int, str]]]:
    services, alerts = wired
    toasts: list[tuple[int, str]] = []

    def digits(symbol: str) -> int:
        spec = services.market.cached_spec(symbol)
        return spec.digits if spec else 5

    tab = AlertsTab(
        alerts, services.hub, tasks, lambda: services.market.subscribed, digits,
        lambda level, text: toasts.append((level, text)), sound=False,
    )  # fmt: skip
    qtbot.addWidget(tab)
    tab.resize(900, 300)
    tab.show()
    return tab, toasts


def type_into(qtbot: QtBot, widget: Any, text: str) -> None:
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)


async def test_an_alert_typed_in_fires_on_the_ticks_with_a_toast(
    wired: tuple[Services, AlertService], tasks: TaskRunner, qtbot: QtBot, admin: SimAdmin
) -> None:
    services, alerts = wired
    tab, toasts = build(wired, tasks, qtbot)
    await wait_until(lambda: services.market.quote("EURUSD") is not None)
    bid = services.market.quote("EURUSD").bid  # type: ignore[union-attr]
    type_into(qtbot, tab.symbol.lineEdit(), "EURUSD")
    tab.condition.setFocus()
    qtbot.keyClick(tab.condition, Qt.Key.Key_Down)  # Bid >= -> Bid <=
    assert tab.condition.currentData() == AlertCondition.BID_BELOW
    assert tab.price.decimals() == 5
    type_into(qtbot, tab.price.lineEdit(), f"{bid + 0.005:.5f}")
    qtbot.keyClick(tab.price, Qt.Key.Key_Return)
    await wait_until(lambda: tab.model.rowCount() == 1)
    (alert,) = alerts.alerts()
    assert (alert.symbol, alert.condition, alert.price) == (
        "EURUSD",
        AlertCondition.BID_BELOW,
        round(bid + 0.005, 5),
    )
    assert tab.model.data(tab.model.index(0, 2)) == "Bid ≤" and tab.model.data(tab.model.index(0, 6)) == "0"

    admin.advance(3)  # the market moves on: every tick is under the alert's price
    await wait_until(lambda: toasts, within_s=10)
    level, text = toasts[0]
    assert level == logging.WARNING and text.startswith(f"Alert #{alert.id}: EURUSD bid ")
    await wait_until(lambda: tab.model.data(tab.model.index(0, 6)) == "1")
    assert tab.model.data(tab.model.index(0, 5)) != ""  # last fired: a time
    assert tasks.errors == []  # type: ignore[attr-defined]


async def test_an_unknown_symbol_is_refused_inline_and_nothing_is_set(
    wired: tuple[Services, AlertService], tasks: TaskRunner, qtbot: QtBot
) -> None:
    _, alerts = wired
    tab, _ = build(wired, tasks, qtbot)
    type_into(qtbot, tab.symbol.lineEdit(), "NOSUCH")
    type_into(qtbot, tab.price.lineEdit(), "1.2")
    qtbot.mouseClick(tab.add_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: tab.message.isVisible())
    assert "unknown symbol 'NOSUCH'" in tab.message.text()
    assert alerts.alerts() == [] and tab.model.rowCount() == 0 and tab.add_button.isEnabled()
    assert tasks.errors == []  # type: ignore[attr-defined]


async def test_delete_removes_the_selected_alert(
    wired: tuple[Services, AlertService], tasks: TaskRunner, qtbot: QtBot
) -> None:
    _, alerts = wired
    tab, _ = build(wired, tasks, qtbot)
    await alerts.create("XAUUSD", "ask_above", 9999.0)
    keep = await alerts.create("EURUSD", "bid_above", 9.0)
    await wait_until(lambda: tab.model.rowCount() == 2)
    assert tab.model.data(tab.model.index(0, 3)) == "9999.00"  # the symbol's own digits
    tab.table.selectRow(0)
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_Delete)
    await wait_until(lambda: tab.model.rowCount() == 1)
    assert [a.id for a in alerts.alerts()] == [keep.id]


async def test_an_alert_that_fired_before_the_tab_opened_is_listed_without_a_new_toast(
    wired: tuple[Services, AlertService], tasks: TaskRunner, qtbot: QtBot, admin: SimAdmin
) -> None:
    services, alerts = wired
    await wait_until(lambda: services.market.quote("EURUSD") is not None)
    bid = services.market.quote("EURUSD").bid  # type: ignore[union-attr]
    alert = await alerts.create("EURUSD", "bid_below", round(bid + 0.005, 5))
    admin.advance(3)
    await wait_until(lambda: alerts.alerts()[0].fired_at is not None, within_s=10)
    tab, toasts = build(wired, tasks, qtbot)  # opened after the firing (a layout restored later)
    await wait_until(lambda: tab.model.rowCount() == 1)
    assert tab.model.data(tab.model.index(0, 0)) == str(alert.id)
    assert tab.model.data(tab.model.index(0, 6)) == "1"  # fired once, shown
    await asyncio.sleep(0.3)  # three of the feed's drains
    assert toasts == []
