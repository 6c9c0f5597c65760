"""The Exposure tab: per-symbol rows from the latest snapshots of the enabled accounts, rebuilt as
visits arrive on the hub, with the age of the oldest snapshot counted (stale ones highlighted)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

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
