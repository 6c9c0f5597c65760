"""The window's Strategies tab on a real strategy book (database and audit trail): a strategy typed into
the form is saved, enabled and disabled by clicks, a bad parameter is named and nothing is saved, and
every change is in the audit trail as the window's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.audit import AuditQuery, AuditReader, AuditTrail, audit_dir
from app.config import AuditSettings
from app.core.signals.strategy_runner import StrategyBook
from app.core.storage import Database, database_path
from app.ui.strategies_tab import StrategiesTab, parse_params
from tests.support.sim_fixtures import wait_until

pytestmark = pytest.mark.gui


@pytest_asyncio.fixture
async def book(tmp_path: Path) -> AsyncIterator[StrategyBook]:
    db = Database(database_path(tmp_path))
    audit = AuditTrail.for_data_dir(tmp_path, AuditSettings())
    await audit.start()
    await db.start()
    yield StrategyBook(db, audit)
    await db.stop()
    await audit.stop()


def cells(tab: StrategiesTab) -> list[list[str]]:
    m = tab.model
    return [[str(m.data(m.index(r, c))) for c in range(m.columnCount())] for r in range(m.rowCount())]


async def test_add_enable_and_disable_a_strategy_from_the_tab(
    qtbot: QtBot, book: StrategyBook, tmp_path: Path
) -> None:
    tab = StrategiesTab(book)
    qtbot.addWidget(tab)
    tab.show()
    tab.start()
    qtbot.keyClicks(tab.sid, "eu-sma")
    tab.kind.setCurrentText("sma_cross")
    tab.symbol.clear()
    qtbot.keyClicks(tab.symbol, "EURUSD")
    tab.timeframe.setCurrentText("M15")
    qtbot.keyClicks(tab.params, "fast=5, slow=20")
    qtbot.mouseClick(tab.save, Qt.MouseButton.LeftButton)
    await wait_until(
        lambda: (
            cells(tab)
            == [["eu-sma", "sma_cross", "EURUSD", "M15", "fast=5, slow=20", "confirm", "0.01", "disabled"]]
        )
    )
    tab.table.selectRow(0)
    assert tab.toggle.text() == "Enable"
    qtbot.mouseClick(tab.toggle, Qt.MouseButton.LeftButton)
    await wait_until(lambda: cells(tab) and cells(tab)[0][7] == "enabled")
    await wait_until(lambda: tab.toggle.text() == "Disable")
    qtbot.mouseClick(tab.toggle, Qt.MouseButton.LeftButton)
    await wait_until(lambda: cells(tab) and cells(tab)[0][7] == "disabled")
    entries = AuditReader(audit_dir(tmp_path)).query(AuditQuery(action="strategy.change"))
    assert [(e.actor, e.payload["new"]["enabled"]) for e in entries] == [
        ("gui", False),
        ("gui", True),
        ("gui", False),
    ]
    tab.shutdown()


async def test_a_bad_parameter_is_named_and_nothing_saved(qtbot: QtBot, book: StrategyBook) -> None:
    tab = StrategiesTab(book)
    qtbot.addWidget(tab)
    tab.start()
    qtbot.keyClicks(tab.sid, "bad")
    qtbot.keyClicks(tab.params, "fast=ten")
    qtbot.mouseClick(tab.save, Qt.MouseButton.LeftButton)
    assert "parameter 'fast=ten'" in tab.note.text()
    tab.params.clear()
    qtbot.keyClicks(tab.params, "speed=3")  # not a parameter of sma_cross: the book refuses it
    tab.kind.setCurrentText("sma_cross")
    qtbot.mouseClick(tab.save, Qt.MouseButton.LeftButton)
    await wait_until(lambda: "unknown parameter" in tab.note.text())
    assert await book.all() == []
    tab.shutdown()


def test_parameters_are_read_as_name_number_pairs() -> None:
    assert parse_params("fast=10, slow=30.5") == {"fast": 10.0, "slow": 30.5}
    assert parse_params("") == {}
    with pytest.raises(ValueError, match="name=number"):
        parse_params("fast")
