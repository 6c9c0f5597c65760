"""The Exposure tab: per-symbol rows from the latest snapshots of the enabled accounts, rebuilt as
visits arrive on the hub, with the age of the oldest snapshot counted (stale ones highlighted)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.hub import Topic
from app.models import AccountEdit, Side
from app.ui.accounts_model import STALE_BACKGROUND
from app.ui.exposure_tab import AGE, COLUMNS, ExposureTab
from tests.support.factories import position, snapshot, utc
from tests.support.sim_fixtures import wait_until
from tests.ui.carousel.conftest import Registry

pytestmark = pytest.mark.gui

NOW = utc(2026, 12, 1, 12)


def table(tab: ExposureTab) -> list[list[str]]:
    model = tab.model
    columns = range(len(COLUMNS))
    return [[str(model.data(model.index(r, c))) for c in columns] for r in range(model.rowCount())]


async def test_rows_per_symbol_follow_the_visits(qtbot: QtBot, accounts: Registry) -> None:
    usd = await accounts.add(1001)
    eur = await accounts.add(1002)
    idle = await accounts.add(1003)
    await accounts.registry.record_visit(
        usd,
        snapshot(
            NOW - timedelta(minutes=2),
            positions=(
                position("EURUSD", Side.BUY, 1.0, 1.10000, 50.0),
                position("XAUUSD", Side.SELL, 0.1, 2000.5, -4.25),
            ),
        ),
    )
    await accounts.registry.record_visit(
        eur,
        replace(
            snapshot(NOW - timedelta(minutes=40), positions=(position("EURUSD", Side.SELL, 0.4, 1.12, -3),)),
            currency="EUR",
        ),
    )
    await accounts.registry.record_visit(idle, snapshot(NOW))
    tab = ExposureTab(accounts.hub, accounts.registry, stale_after=timedelta(minutes=15), now=lambda: NOW)
    qtbot.addWidget(tab)
    tab.show()
    await wait_until(lambda: tab.model.rowCount() == 2)

    assert table(tab) == [
        # break-even of the net 0.6 lots: (1.0 × 1.10 − 0.4 × 1.12) / 0.6
        ["EURUSD", "+0.60", "1.00", "0.40", "1.08667", "-3.00 EUR · +50.00 USD", "2", "2", "40m 00s"],
        ["XAUUSD", "-0.10", "0.00", "0.10", "2000.50", "-4.25 USD", "1", "1", "2m 00s"],
    ]
    assert tab.model.data(tab.model.index(0, AGE), Qt.ItemDataRole.BackgroundRole).color() == STALE_BACKGROUND
    assert tab.model.data(tab.model.index(1, AGE), Qt.ItemDataRole.BackgroundRole) is None
    assert tab.totals.text() == "Floating P/L over 2 symbol(s) in 3 account(s): -3.00 EUR · +45.75 USD"

    # A new visit: the EUR account closed its position; a disabled account no longer counts.
    await accounts.registry.record_visit(eur, replace(snapshot(NOW), currency="EUR"))
    await accounts.registry.edit(usd.id, AccountEdit(enabled=False))
    await wait_until(lambda: tab.model.rowCount() == 0)
    assert tab.totals.text() == "Floating P/L over 0 symbol(s) in 2 account(s): 0.00"
    await accounts.registry.edit(usd.id, AccountEdit(enabled=True))
    await wait_until(lambda: tab.model.rowCount() == 2)
    assert table(tab)[0][:5] == ["EURUSD", "+1.00", "1.00", "0.00", "1.10000"]
    await accounts.registry.remove(usd.id)
    await wait_until(lambda: tab.model.rowCount() == 0)


async def test_the_live_account_is_counted_once_also_when_the_carousel_visits_it(
    qtbot: QtBot, accounts: Registry
) -> None:
    from tests.core.test_exposure import live_account, live_position

    other = await accounts.add(1001)
    await accounts.registry.record_visit(
        other, snapshot(NOW - timedelta(minutes=1), positions=(position("EURUSD", Side.BUY, 1.0, 1.1, 10.0),))
    )
    tab = ExposureTab(accounts.hub, accounts.registry, stale_after=timedelta(minutes=15), now=lambda: NOW)
    qtbot.addWidget(tab)
    tab.show()
    await wait_until(lambda: tab.model.rowCount() == 1)

    # the window's live account and its positions, as the account state publishes them
    live = live_account(login=1002, server="Broker-Demo")
    accounts.hub.publish(Topic.ACCOUNT, live)
    accounts.hub.publish(Topic.POSITIONS, (live_position(5, "EURUSD", Side.SELL, 0.3, 1.12, -2.0),))
    await wait_until(lambda: table(tab)[0][1] == "+0.70")
    assert table(tab) == [["EURUSD", "+0.70", "1.00", "0.30", "1.09143", "+7.00 USD", "2", "2", "1m 00s"]]
    assert tab.totals.text() == "Floating P/L over 1 symbol(s) in 2 account(s): +7.00 USD"

    # the live account is also a carousel account, visited an hour ago with other positions: once
    same = await accounts.add(1002)
    await accounts.registry.record_visit(
        same, snapshot(NOW - timedelta(hours=1), positions=(position("XAUUSD", Side.BUY, 2.0, 2000, 1),))
    )
    await wait_until(lambda: "in 2 account(s)" in tab.totals.text() and tab.model.rowCount() == 1)
    await asyncio.sleep(0.3)  # a few more frames: still once
    assert [row[0] for row in table(tab)] == ["EURUSD"] and table(tab)[0][6] == "2"
