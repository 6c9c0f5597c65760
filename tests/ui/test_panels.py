"""The smaller views on their models: Journal, History, status bar, settings dialog, indicator dialog."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.audit import AuditQuery, AuditReader, AuditTrail, audit_dir
from app.config import load_settings
from app.core.indicators import IndicatorKind, IndicatorSpec
from app.logs import LogEntry
from app.models import (
    AccountInfo,
    AccountTradeMode,
    Deal,
    DealEntry,
    DealType,
    MarginMode,
    OrderRequest,
    OrderType,
    TerminalState,
    TerminalStatus,
    Timeframe,
    TradeAction,
)
from app.ui import settings_file
from app.ui.chart.indicator_dialog import IndicatorDialog
from app.ui.chart.model import ChartModel
from app.ui.chart.window import ChartWindow
from app.ui.settings_dialog import SettingsDialog
from app.ui.status_bar import StatusBar
from app.ui.tasks import TaskRunner
from app.ui.toolbox.history_tab import HistoryTab, period_range
from app.ui.toolbox.journal_tab import JournalModel, JournalTab
from tests.support.sim_fixtures import wait_until
from tests.ui.conftest import SimServices

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def entry(level: str, message: str) -> LogEntry:
    return LogEntry(NOW, level, "app.test", message)


def test_journal_filters_by_level_and_stays_bounded(qtbot: QtBot) -> None:
    model = JournalModel(capacity=5)
    tab = JournalTab(model)
    qtbot.addWidget(tab)
    model.append([entry("DEBUG", "d"), entry("INFO", "i"), entry("WARNING", "w"), entry("ERROR", "e")])
    assert tab.proxy.rowCount() == 3  # "Info and above" by default
    tab.level.setCurrentText("Errors")
    assert tab.proxy.rowCount() == 1
    assert tab.proxy.data(tab.proxy.index(0, 3)) == "E"
    tab.level.setCurrentText("All")
    model.append([entry("INFO", f"more {i}") for i in range(4)])
    assert model.rowCount() == 5 and model.entries[-1].message == "more 3"


def deal(ticket: int, kind: DealType, profit: float, commission: float = 0.0) -> Deal:
    return Deal(
        ticket, ticket, ticket, "EURUSD", kind, DealEntry.OUT, 0.1, 1.1, profit, 0.5, commission, 0.0, NOW
    )


class Deals:
    def __init__(self) -> None:
        self.asked: list[tuple[datetime, datetime]] = []

    async def deals(self, date_from: datetime, date_to: datetime) -> list[Deal]:
        self.asked.append((date_from, date_to))
        return [
            deal(1, DealType.BALANCE, 1000.0),
            deal(2, DealType.SELL, 12.5, -0.7),
            deal(3, DealType.BUY, -2.5),
        ]


async def test_history_shows_a_period_and_its_summary(qtbot: QtBot, tasks: TaskRunner) -> None:
    source = Deals()
    tab = HistoryTab(source, tasks, now=lambda: NOW)
    qtbot.addWidget(tab)
    tab.period.setCurrentText("Today")
    tab.refresh()
    await wait_until(lambda: tab.model.rowCount() == 3)
    assert source.asked[-1] == period_range("Today", NOW)
    assert source.asked[-1][0] == datetime(2026, 11, 18, tzinfo=UTC)
    text = tab.summary.text()
    assert "Deals: <b>2</b>" in text and "Profit: <b>10.00</b>" in text and "Net: <b" in text
    assert "Deposits/withdrawals: <b>1 000.50</b>" in text  # the balance deal, swap included
    tab.period.setCurrentText("Custom period")
    assert tab.date_from.isEnabled()


def account(mode: AccountTradeMode) -> AccountInfo:
    return AccountInfo(
        5001004, "Bob", "SimBroker-Live", "Sim", "USD", 200, 1000, 0, 1000, 0, 1000, 0, 0, mode,
        MarginMode.HEDGING, True,
    )  # fmt: skip


def test_status_bar_marks_real_accounts_and_terminal_state(qtbot: QtBot) -> None:
    bar = StatusBar("sim")
    qtbot.addWidget(bar)
    bar.set_account(account(AccountTradeMode.REAL))
    assert bar.mode_label.text() == "REAL" and bar.mode_label.property("role") == "real"
    bar.set_account(account(AccountTradeMode.DEMO))
    assert bar.mode_label.text() == "DEMO" and bar.mode_label.property("role") == "demo"
    bar.set_terminals([TerminalState("sim-1", TerminalStatus.LOGGED_IN, ping_ms=3.2)])
    assert "logged in · 3 ms" in bar.terminal_label.text()
    bar.set_terminals([TerminalState("sim-1", TerminalStatus.ERROR, reason="login failed")])
    assert "error" in bar.terminal_label.text() and "login failed" in bar.terminal_label.toolTip()


async def test_settings_dialog_writes_the_file_audits_the_changes_and_says_restart(
    qtbot: QtBot, tasks: TaskRunner, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[sim]\nseed = 7\n[server]\nport = 8765\n", encoding="utf-8")
    trail = AuditTrail.for_data_dir(tmp_path / "data")
    await trail.start()
    dialog = SettingsDialog(path, load_settings({"data_dir": tmp_path}, env_file=None), tasks, audit=trail)
    qtbot.addWidget(dialog)
    await wait_until(lambda: dialog._file != {})
    dialog.symbols.setText("eurusd, XAUUSD")
    dialog.port.setValue(9100)
    dialog.save()
    await wait_until(lambda: "Restart" in dialog.message.text())
    saved = settings_file.read(path)
    assert saved["market"]["symbols"] == ["EURUSD", "XAUUSD"] and saved["server"]["port"] == 9100
    assert saved["sim"] == {"seed": 7}
    changes = {
        e.payload["key"]: (e.payload["old"], e.payload["new"])
        for e in AuditReader(audit_dir(tmp_path / "data")).query(AuditQuery(action="setting.change"))
    }
    assert changes["server.port"] == (8765, 9100)
    assert changes["market.symbols"] == (None, ["EURUSD", "XAUUSD"])
    assert all(e.actor == "gui" for e in AuditReader(audit_dir(tmp_path / "data")).query(AuditQuery()))
    await trail.stop()


def test_indicator_dialog_builds_its_form_from_the_kind(qtbot: QtBot) -> None:
    dialog = IndicatorDialog(kind=IndicatorKind.MACD)
    qtbot.addWidget(dialog)
    assert set(dialog.inputs) == {"fast", "slow", "signal"}
    dialog.kind_box.setCurrentIndex(2)  # Bollinger
    assert set(dialog.inputs) == {"period", "deviation"}
    dialog.inputs["period"].setValue(30)
    spec = dialog.spec()
    assert spec.kind is IndicatorKind.BBANDS and spec.params["period"] == 30


def test_the_chart_window_selectors_change_the_model(qtbot: QtBot) -> None:
    model = ChartModel("EURUSD", Timeframe.H1)
    window = ChartWindow(model)
    qtbot.addWidget(window)
    assert window.timeframe_box.count() == 21
    window.timeframe_box.setCurrentText("M15")
    assert model.timeframe is Timeframe.M15 and window.windowTitle() == "EURUSD, M15"
    window.add_indicator(IndicatorSpec(IndicatorKind.RSI))
    window._fill_indicator_menu()
    titles = [a.text() for a in window.indicator_menu.actions() if a.text()]
    assert titles == ["Add indicator...", "Remove RSI(14)"]
    window.indicator_menu.actions()[-1].trigger()
    assert model.indicators == [] and window.view.panes == []


def test_all_history_is_a_period_and_the_time_column_fits_its_text(qtbot: QtBot, tasks: TaskRunner) -> None:
    start, end = period_range("All history", NOW)
    assert start.year == 1970 and end > NOW
    tab = HistoryTab(Deals(), tasks, now=lambda: NOW)
    qtbot.addWidget(tab)
    assert "All history" in [tab.period.itemText(i) for i in range(tab.period.count())]
    tab.show_deals([deal(2, DealType.SELL, 1.0)])
    text = tab.model.data(tab.model.index(0, 0))
    assert text == "2026.11.18 09:30:00"
    assert tab.table.columnWidth(0) >= tab.table.fontMetrics().horizontalAdvance(text) + 8  # not cut


@pytest.mark.slow
async def test_a_new_deal_shows_in_history_without_asking(
    sim_services: SimServices, data_dir: Path, qtbot: QtBot
) -> None:
    from tests.ui.test_main_window import window_on

    window = await window_on(sim_services, data_dir, qtbot)
    history = window.history_tab
    await wait_until(lambda: window.account is not None and history.refresh_button.isEnabled())
    before = history.model.rowCount()
    result = await sim_services.trading.place(OrderRequest(TradeAction.DEAL, "EURUSD", 0.03, OrderType.BUY))
    await wait_until(lambda: any(d.order == result.order for d in history.model.deals))  # no "Show" pressed
    assert history.model.rowCount() == before + 1
    (position,) = [p for p in sim_services.account.positions if p.ticket == result.order]
    await sim_services.trading.close_position(position.ticket)
    await wait_until(lambda: history.model.rowCount() == before + 2)
    assert history.model.deals[-1].entry is DealEntry.OUT
    await window.shutdown()


def test_the_journal_words_records_for_a_trader(qtbot: QtBot) -> None:
    from app.ui.toolbox.journal_text import journal_line

    def line(module: str, message: str) -> tuple[str, str]:
        return journal_line(LogEntry(NOW, "INFO", module, message))

    assert line("app.mt5.client", "terminal sim-1: logged_in") == ("Terminal sim-1", "Logged in")
    assert line("app.mt5.worker", "[sim-2] login 5001002 failed") == (
        "Terminal sim-2",
        "Login 5001002 failed",
    )
    assert line("app.core.carousel.service", "carousel started by gui") == (
        "Carousel",
        "Carousel started by gui",
    )
    assert line("app.core.trading", "sell stop 0.20 EURUSD at 1.05: DONE") == (
        "Trading",
        "Sell stop 0.20 EURUSD at 1.05: DONE",
    )
    assert line("app.mt5.sim_service", "sim trade server running")[0] == "Simulator"
    assert line("app.core.market_data", "x")[0] == "Market data"

    model = JournalModel()
    tab = JournalTab(model)
    qtbot.addWidget(tab)
    model.append([LogEntry(NOW, "INFO", "app.mt5.client", "terminal sim-1: logged_in")])
    row = [tab.proxy.data(tab.proxy.index(0, c)) for c in range(4)]
    assert row[1:] == ["INFO", "Terminal sim-1", "Logged in"]  # no Python module's name
    assert "app.mt5.client" in tab.proxy.data(tab.proxy.index(0, 3), Qt.ItemDataRole.ToolTipRole)
    assert tab.table.columnWidth(0) >= tab.table.fontMetrics().horizontalAdvance(row[0]) + 8  # the time fits


def test_the_trade_tabs_totals_stay_on_one_line_when_there_is_room(qtbot: QtBot, tasks: TaskRunner) -> None:
    from app.ui.toolbox.trade_model import TradeTableModel
    from app.ui.toolbox.trade_tab import TradeTab

    tab = TradeTab(TradeTableModel(), trading=None, tasks=tasks)  # type: ignore[arg-type]
    qtbot.addWidget(tab)
    tab.resize(1400, 200)
    tab.show()
    qtbot.waitExposed(tab)
    tab.set_account(account(AccountTradeMode.DEMO))
    QApplication.sendPostedEvents()
    assert tab.footer.height() < 2 * tab.footer.fontMetrics().height()  # one line, not a wrapped column
    assert tab.minimumSizeHint().width() < 400  # and it never makes the window wider than the screen
