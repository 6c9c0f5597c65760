"""The window's Signals tab on the real signals service over the simulator: a signal arrives live as
pending, a click shows its validator chain, Approve (a real mouse click) carries it out through the
trading service into a position, Reject places nothing, and the status filter narrows the list."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config import SignalSettings
from app.core.signals.service import SignalService
from app.models import Position
from app.models.signals import Signal, SignalAction
from app.ui.signals_tab import SignalsTab
from tests.support.services import Services
from tests.support.sim_fixtures import wait_until
from tests.ui.conftest import TEST_ACCOUNT

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest_asyncio.fixture
async def service(client_factory: Any, tmp_path: Path) -> AsyncIterator[tuple[SignalService, Services]]:
    client, _ = await client_factory()
    await client.login(*TEST_ACCOUNT)
    wired = await Services(client, tmp_path / "services").start()
    await wired.market.subscribe(["EURUSD", "GBPUSD"])
    signals = SignalService(SignalSettings(), wired.db, wired.audit, wired.hub, wired.trading, wired.market,
                            wired.account, wired.pool)  # fmt: skip
    await signals.start()
    yield signals, wired
    await signals.stop()
    await wired.stop()


def rows(tab: SignalsTab) -> list[list[str]]:
    proxy = tab.proxy
    return [
        [str(proxy.data(proxy.index(r, c))) for c in range(proxy.columnCount())]
        for r in range(proxy.rowCount())
    ]


def click_row(qtbot: QtBot, tab: SignalsTab, row: int) -> None:
    rect = tab.table.visualRect(tab.proxy.index(row, 1))
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


async def positions(wired: Services) -> list[Position]:
    found: list[Position] = await wired.pool.live.call("positions")
    return found


async def test_a_signal_arrives_then_approved_in_the_tab_becomes_a_position(
    qtbot: QtBot, service: tuple[SignalService, Services]
) -> None:
    signals, wired = service
    tab = SignalsTab(wired.hub, signals, rate_hz=30)
    qtbot.addWidget(tab)
    tab.show()
    tab.start()
    sid = f"tab-{uuid.uuid4().hex[:8]}"
    await signals.submit(Signal(sid, "desk", SignalAction.BUY, "EURUSD", volume=0.05, confidence=0.7))
    await wait_until(lambda: rows(tab) and rows(tab)[0][6] == "pending")
    assert rows(tab)[0][1:7] == ["EURUSD", "buy", "0.05", "desk", "0.70", "pending"]
    assert not tab.approve.isEnabled()  # nothing selected yet
    click_row(qtbot, tab, 0)
    await wait_until(lambda: tab.approve.isEnabled())
    chain = [tab.chain.item(i).text() for i in range(tab.chain.count())]
    assert chain[0].startswith("✓ symbol (rule)") and any(line.startswith("✓ risk (risk)") for line in chain)
    before = {p.ticket for p in await positions(wired)}
    qtbot.mouseClick(tab.approve, Qt.MouseButton.LeftButton)
    await wait_until(lambda: rows(tab)[0][6] == "executed", within_s=30)
    ticket = int(rows(tab)[0][7])
    new = {p.ticket for p in await positions(wired)} - before
    assert new == {ticket}
    assert "executed" in tab.note.text() and not tab.approve.isEnabled()
    assert tab.chain.item(tab.chain.count() - 1).text().startswith("✓ person (manual)")
    tab.shutdown()


async def test_reject_places_nothing_and_the_filter_narrows_the_list(
    qtbot: QtBot, service: tuple[SignalService, Services]
) -> None:
    signals, wired = service
    await signals.submit(
        Signal("old-one", "desk", SignalAction.SELL, "GBPUSD", volume=0.01)
    )  # before the tab
    tab = SignalsTab(wired.hub, signals, rate_hz=30)
    qtbot.addWidget(tab)
    tab.show()
    tab.start()
    await wait_until(lambda: [r[6] for r in rows(tab)] == ["pending"])  # loaded at start
    await signals.submit(Signal("unknown-symbol", "desk", SignalAction.BUY, "NOSUCH", volume=0.01))
    # Shown as received first, then as decided (two updates, the tab refreshing at 30 Hz).
    await wait_until(lambda: len(rows(tab)) == 2 and rows(tab)[0][6] != "received")
    assert rows(tab)[0][6] == "rejected" and "NOSUCH" in rows(tab)[0][8]
    before = {p.ticket for p in await positions(wired)}
    click_row(qtbot, tab, 1)
    await wait_until(lambda: tab.reject.isEnabled())
    qtbot.mouseClick(tab.reject, Qt.MouseButton.LeftButton)
    await wait_until(lambda: [r[6] for r in rows(tab)] == ["rejected", "rejected"])
    assert {p.ticket for p in await positions(wired)} == before
    tab.status.setCurrentText("pending")
    assert rows(tab) == []
    tab.status.setCurrentText("All")
    assert len(rows(tab)) == 2
    tab.shutdown()
