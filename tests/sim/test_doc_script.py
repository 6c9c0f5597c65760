"""A documentation-style MetaTrader5 script runs unmodified against the sim, and its figures agree."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.mt5.sim.clock import ScaledClock
from app.mt5.sim.listener import Listener
from app.mt5.sim.server import serve_in_thread
from app.mt5.sim.terminal import SimTerminal
from tests.conftest import ROOT, subprocess_env
from tests.sim.conftest import FRESH_LOGIN, FRESH_PASSWORD, SEED

SCRIPT = ROOT / "tests" / "data" / "mt5_doc_script.py"
RUNNER = (
    "import runpy, sys, app.mt5.sim as sim; sys.modules['MetaTrader5'] = sim; "
    "runpy.run_path(sys.argv[1], run_name='__main__')"
)


@pytest.fixture
def live_sim() -> Iterator[Listener]:
    """Real-time prices on a Wednesday (the script sleeps and reads ticks; the market must be open)."""
    listener = serve_in_thread(
        seed=SEED, clock=ScaledClock(datetime(2025, 6, 4, 12, 0, tzinfo=UTC), 1.0), demo_history=False
    )
    yield listener
    listener.stop()


def test_the_documentation_script_runs_unmodified(live_sim: Listener, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(SCRIPT)],
        env=subprocess_env(MT5_SIM_SERVER=live_sim.address, MT5_SIM_TERMINAL="doc-script"),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "2. order_send done" in out and "5. position #" in out, out
    assert "3. SLTP modify: retcode=10009" in out, out
    position = int(re.search(r"POSITION_TICKET=(\d+)", out)[1])  # type: ignore[index]
    before = float(re.search(r"balance before: ([\d.]+)", out)[1])  # type: ignore[index]
    after = float(re.search(r"balance after: ([\d.]+)", out)[1])  # type: ignore[index]

    # Read the books through another terminal, as a second script would.
    terminal = SimTerminal()
    assert terminal.initialize(f"{live_sim.url}/checker", login=FRESH_LOGIN, password=FRESH_PASSWORD)
    deals = terminal.history_deals_get(position=position)
    assert deals is not None and [d.entry for d in deals] == [0, 1]  # DEAL_ENTRY_IN, DEAL_ENTRY_OUT
    opening, closing = deals
    assert opening.order == position == opening.position_id == closing.position_id  # position ticket = order
    spec = terminal.symbol_info("EURUSD")
    assert spec is not None
    expected = round((closing.price - opening.price) * closing.volume * spec.trade_contract_size, 2)
    assert closing.profit == pytest.approx(expected, abs=0.005)
    moved = sum(d.profit + d.commission + d.swap for d in deals)
    assert after - before == pytest.approx(moved, abs=0.005)
    assert terminal.positions_get(ticket=position) == ()
    orders = terminal.history_orders_get(position=position)
    assert orders is not None and [o.ticket for o in orders][0] == position
    terminal.shutdown()
