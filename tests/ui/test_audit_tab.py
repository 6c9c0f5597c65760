"""The Audit tab: the table shows what the source returns, filters reach the query, Verify shows the
result, and neither reading nor verifying blocks the GUI thread."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot

from app.audit import AuditEntry, AuditQuery, AuditReader, AuditTrail, VerifyReport
from app.ui.audit_tab import AuditTab, AuditTableModel
from tests.audit.conftest import only_segment, read_lines, write_lines

pytestmark = pytest.mark.gui


@pytest.fixture
def trail_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "audit"
    with AuditTrail(directory) as trail:
        trail.append_sync("cli", "account.add", account="5001@Sim-Demo", payload={"alias": "demo"})
        for n in range(3):
            trail.append_sync(
                "gui",
                "order.intent",
                account="5001@Sim-Demo",
                payload={"client_id": f"c{n}", "side": "buy", "volume": 0.1, "symbol": "EURUSD"},
            )
        trail.append_sync("api:alice", "api.login", payload={"ip": "127.0.0.1"})
    return directory


def make_tab(qtbot: QtBot, source: object) -> AuditTab:
    tab = AuditTab(source)  # type: ignore[arg-type]
    qtbot.addWidget(tab)
    return tab


def cell(tab: AuditTab, row: int, column: int) -> str:
    return str(tab.model.data(tab.model.index(row, column)))


def test_the_model_shows_newest_first(trail_dir: Path) -> None:
    model = AuditTableModel()
    model.set_entries(AuditReader(trail_dir).query(AuditQuery()))
    assert (model.rowCount(), model.columnCount()) == (5, 5)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(5)] == [
        "Time (UTC)", "Actor", "Action", "Account", "Summary"
    ]  # fmt: skip
    first = [str(model.data(model.index(0, c))) for c in range(1, 5)]
    assert first == ["api:alice", "api.login", "—", "ip=127.0.0.1"]
    assert str(model.data(model.index(1, 4))) == "side=buy volume=0.1 symbol=EURUSD client_id=c2"
    assert "#4" in str(model.data(model.index(1, 4), Qt.ItemDataRole.ToolTipRole))
    assert isinstance(model.data(model.index(0, 0), Qt.ItemDataRole.UserRole), AuditEntry)


def test_refresh_fills_the_table_and_filters_narrow_it(qtbot: QtBot, trail_dir: Path) -> None:
    tab = make_tab(qtbot, AuditReader(trail_dir))
    with qtbot.waitSignal(tab.entries_loaded, timeout=5_000) as loaded:
        tab.refresh()
    assert loaded.args == [5] and tab.model.rowCount() == 5
    tab.action.setCurrentText("order")
    tab.text.setText("c1")
    with qtbot.waitSignal(tab.entries_loaded, timeout=5_000):
        tab.refresh()
    assert tab.model.rowCount() == 1
    assert cell(tab, 0, 2) == "order.intent" and "client_id=c1" in cell(tab, 0, 4)
    assert tab.status.text() == "1 entries"


def test_showing_the_tab_loads_it(qtbot: QtBot, trail_dir: Path) -> None:
    tab = make_tab(qtbot, AuditReader(trail_dir))
    with qtbot.waitSignal(tab.entries_loaded, timeout=5_000):
        tab.show()


def test_verify_shows_ok_then_names_a_tampered_entry(qtbot: QtBot, trail_dir: Path) -> None:
    tab = make_tab(qtbot, AuditReader(trail_dir))
    with qtbot.waitSignal(tab.verify_finished, timeout=5_000) as done:
        qtbot.mouseClick(tab.verify_button, Qt.MouseButton.LeftButton)
    assert isinstance(done.args[0], VerifyReport) and done.args[0].ok
    assert tab.verify_result.text().startswith("OK: 5 entries")

    lines = read_lines(only_segment(trail_dir))
    lines[2] = lines[2].replace(b'"c1"', b'"cX"')
    write_lines(only_segment(trail_dir), lines)
    with qtbot.waitSignal(tab.verify_finished, timeout=5_000):
        tab.verify()
    assert tab.verify_result.text().startswith("BAD ENTRY: edited at ")
    assert "line 3 (entry #3)" in tab.verify_result.text()
    assert "#f85149" in tab.verify_result.styleSheet()
    assert tab.verify_button.isEnabled()


class BlockingSource:
    """A source whose calls wait for the test to release them (a slow disk, a long trail)."""

    def __init__(self, entries: list[AuditEntry]) -> None:
        self.entries = entries
        self.release = threading.Event()
        self.queries: list[AuditQuery] = []

    def query(self, query: AuditQuery) -> list[AuditEntry]:
        self.queries.append(query)
        if len(self.queries) == 1:
            self.release.wait(10)  # only the first call is slow
            return self.entries[:1]
        return self.entries

    def verify(self) -> VerifyReport:
        self.release.wait(10)
        raise OSError("disk on fire")


def test_slow_reads_and_verifies_do_not_block_the_gui_thread(qtbot: QtBot, trail_dir: Path) -> None:
    source = BlockingSource(AuditReader(trail_dir).query(AuditQuery()))
    tab = make_tab(qtbot, source)
    tab.refresh()  # blocked in the worker ...
    tab.verify()  # ... and queued behind it
    assert not tab.verify_button.isEnabled() and tab.verify_result.text() == "Verifying…"
    fired: list[bool] = []
    QTimer.singleShot(50, lambda: fired.append(True))
    qtbot.waitUntil(lambda: bool(fired), timeout=2_000)  # the event loop ran meanwhile
    assert tab.model.rowCount() == 0

    tab.refresh()  # a newer request: the first one's answer, when it comes, is dropped
    with qtbot.waitSignals([tab.entries_loaded, tab.verify_finished], timeout=5_000):
        source.release.set()
    qtbot.wait(50)
    assert tab.model.rowCount() == 5  # the newer answer, not overwritten by the stale first one
    assert tab.verify_result.text() == "Verification failed: disk on fire"
    assert tab.verify_button.isEnabled()
