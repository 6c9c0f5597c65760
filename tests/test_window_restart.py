"""The window run twice on one data dir, as a trader restarts it: what they set up comes back — the
symbols added to Market Watch and the Toolbox tab that was open, also one of the tabs that join the
Toolbox only once the database is open (Accounts, Exposure, Audit)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.config import load_settings
from app.logs import LogBus
from app.ui.launch import run_window
from app.ui.main_window import MainWindow
from tests.support.sim_fixtures import WEDNESDAY, wait_until
from tests.ui.driving import OFFSCREEN_LIMITS, click, type_text

pytestmark = [pytest.mark.gui, pytest.mark.slow, OFFSCREEN_LIMITS]


def run_driven(
    qapp: QApplication, data_dir: Path, drive: Callable[[MainWindow], Awaitable[None]]
) -> list[str]:
    """Run the app's window mode; ``drive`` does what the trader does, then the window is closed."""
    settings = load_settings(
        {"data_dir": data_dir, "terminals": {"sim": True}, "sim": {"start": WEDNESDAY}}, env_file=None
    )
    problems: list[str] = []
    tasks: list[asyncio.Task[None]] = []

    async def driving() -> None:
        await wait_until(
            lambda: any(isinstance(w, MainWindow) and w.isVisible() for w in qapp.topLevelWidgets())
        )
        window = next(w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        try:
            await drive(window)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            problems.append(repr(exc))
        finally:
            window.close()

    QTimer.singleShot(0, lambda: tasks.append(asyncio.ensure_future(driving())))
    assert run_window(settings, LogBus()) == 0
    return problems


def test_added_symbols_and_the_open_tab_come_back_after_a_restart(qapp: QApplication, data_dir: Path) -> None:
    async def set_up(window: MainWindow) -> None:
        await wait_until(lambda: window.toolbox.tab_index("Exposure") is not None, within_s=60)
        await wait_until(lambda: len(window.market_watch._names.stringList()) > 10, within_s=60)
        await type_text(window.market_watch.search, "EURJPY", enter=True)
        await wait_until(lambda: "EURJPY" in window.quotes_model.symbols)
        bar = window.toolbox.tabBar()
        exposure = window.toolbox.tab_index("Exposure")
        assert exposure is not None
        await click(bar, bar.tabRect(exposure).center())
        assert window.toolbox.tabText(window.toolbox.currentIndex()) == "Exposure"

    assert run_driven(qapp, data_dir, set_up) == []

    seen: dict[str, object] = {}

    async def look(window: MainWindow) -> None:
        await wait_until(lambda: window.toolbox.tab_index("Exposure") is not None, within_s=60)
        await wait_until(lambda: window.quotes_model.quote("EURJPY") is not None, within_s=60)
        seen["tab"] = window.toolbox.tabText(window.toolbox.currentIndex())
        seen["symbols"] = window.quotes_model.symbols

    assert run_driven(qapp, data_dir, look) == []
    assert seen["tab"] == "Exposure"
    assert "EURJPY" in seen["symbols"]  # type: ignore[operator]
