"""UI tests: async tests run on a qasync loop (asyncio on the Qt event loop, as in the app), so an
``await`` lets Qt timers fire and widgets repaint; views are built on real services over the sim."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from app.config import load_settings
from app.core.account_state import AccountState
from app.core.hub import EventHub
from app.core.market_data import MarketData
from app.core.storage import Database
from app.core.trading import TradingService
from app.logs import LogBus
from app.mt5.backend import TerminalPlan
from app.mt5.pool import TerminalPool
from app.ui.main_window import WindowServices
from app.ui.tasks import TaskRunner
from app.ui.theme import apply_theme
from tests.support.services import Services

TEST_ACCOUNT = (5001006, "Demo-1006", "SimBroker-Demo")  # USD hedging, no positions


def pytest_asyncio_loop_factories(config: Any, item: Any) -> dict[str, Any]:
    def qt_loop() -> qasync.QEventLoop:
        app = QApplication.instance() or QApplication([])
        return qasync.QEventLoop(app)

    return {"qasync": qt_loop}


@pytest.fixture(autouse=True)
def _themed(qapp: QApplication) -> None:
    qapp.setQuitOnLastWindowClosed(False)  # as the app runs: the loop outlives a closed window
    apply_theme(qapp)


@pytest.fixture
def tasks() -> TaskRunner:
    errors: list[str] = []
    runner = TaskRunner(lambda what, exc: errors.append(f"{what}: {exc}"))
    runner.errors = errors  # type: ignore[attr-defined]
    return runner


@dataclass
class SimServices:
    hub: EventHub
    pool: TerminalPool
    market: MarketData
    account: AccountState
    trading: TradingService
    address: str
    db: Database | None = None  # the services' database (the trailing stops keep their rows there)

    def window_services(self, data_dir: Any) -> WindowServices:
        settings = load_settings(
            {"data_dir": data_dir, "market": {"symbols": ["EURUSD", "USDJPY", "XAUUSD"]}}, env_file=None
        )
        plan = TerminalPlan("sim", (), 1, "test")
        return WindowServices(
            self.hub,
            self.market,
            self.account,
            self.trading,
            LogBus(),
            plan,
            settings,
            live_terminal=self.pool.live.terminal_id,
        )


@pytest.fixture
async def sim_services(client_factory: Any, sim_server: Any, tmp_path: Any) -> AsyncIterator[SimServices]:
    """The services as the runtime wires them (trading with its audit trail, database and risk guard)."""
    client, _ = await client_factory()
    await client.login(*TEST_ACCOUNT)
    wired = await Services(client, tmp_path / "services").start()
    await wired.market.subscribe(["EURUSD", "USDJPY", "XAUUSD"])
    yield SimServices(
        wired.hub, wired.pool, wired.market, wired.account, wired.trading, sim_server.address, wired.db
    )
    await wired.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: Any) -> Any:
    """After pytest-qt has closed a test's widgets (deleteLater), delete them now, in this test:
    left for a later test's event loop, a window full of charts would be torn down there."""
    yield
    app = QApplication.instance()
    if app is not None:
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        gc.collect()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
