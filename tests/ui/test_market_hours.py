"""A market that closes while the window watches it (gold's daily break at 21:00 on the simulator,
its clock running 30 times faster): Market Watch greys the row and says why; FX goes on quoting."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.mt5.sim.clock import ScaledClock
from app.ui.market_watch.model import Column
from tests.support.sim_fixtures import wait_until
from tests.ui.conftest import SimServices
from tests.ui.test_main_window import window_on

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def sim_clock() -> ScaledClock:
    return ScaledClock(datetime(2026, 11, 18, 20, 59, 0, tzinfo=UTC), speed=30.0)


async def test_gold_in_its_daily_break_is_greyed_while_fx_quotes_on(
    sim_services: SimServices, data_dir: Path, qtbot: QtBot
) -> None:
    window = await window_on(sim_services, data_dir, qtbot)
    model = window.quotes_model
    await wait_until(lambda: model.quote("XAUUSD") is not None and model.quote("EURUSD") is not None)
    gold = model.symbols.index("XAUUSD")
    assert not model.is_closed("XAUUSD")
    await wait_until(lambda: model.is_closed("XAUUSD"), within_s=30)  # 21:00 by the server's clock
    assert not model.is_closed("EURUSD")
    tip = model.data(model.index(gold, Column.SYMBOL), Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("XAUUSD: market closed — no quote since 2026.11.18 20:59:")
    assert window.status.time_label.text().startswith("Server time 2026.11.18 21:")
    await window.shutdown()
