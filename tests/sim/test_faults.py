"""Each injected fault is reported the way MT5 reports it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

import app.mt5.sim.constants as c
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.listener import Listener
from app.mt5.sim.terminal import SimTerminal
from tests.conftest import subprocess_env
from tests.sim.conftest import FRESH_LOGIN, FRESH_PASSWORD, connect
from tests.sim.helpers import market

IPC_TIMEOUT = (-10005, "IPC timeout")
NO_IPC = (-10004, "No IPC connection")
AUTH_FAILED = (-6, "Terminal: Authorization failed")


def test_latency_is_added_to_the_chosen_calls(sim: Listener, admin: SimAdmin, terminal: SimTerminal) -> None:
    admin.set_faults("t1", latency_ms=400, functions=["symbol_info_tick"])
    started = time.perf_counter()
    assert terminal.symbol_info_tick("EURUSD") is not None
    assert time.perf_counter() - started >= 0.4
    started = time.perf_counter()
    assert terminal.account_info() is not None
    assert time.perf_counter() - started < 0.4
    assert terminal.terminal_info().ping_last >= 400_000  # type: ignore[union-attr]


def test_ipc_timeout(admin: SimAdmin, terminal: SimTerminal) -> None:
    admin.set_faults("t1", ipc_timeout=True)
    assert terminal.account_info() is None
    assert terminal.last_error() == IPC_TIMEOUT
    admin.clear_faults("t1")
    assert terminal.account_info() is not None and terminal.last_error() == (1, "Success")


def test_a_timeout_after_execution_leaves_an_ambiguous_order(admin: SimAdmin, terminal: SimTerminal) -> None:
    admin.set_faults("t1", timeout_after_execute=True, functions=["order_send"])
    assert terminal.order_send(market(terminal, "EURUSD", c.ORDER_TYPE_BUY, 0.1)) is None
    assert terminal.last_error() == IPC_TIMEOUT
    assert len(terminal.positions_get()) == 1  # type: ignore[arg-type]  # it was executed all the same


def test_a_call_slower_than_the_terminal_timeout_is_an_ipc_timeout(sim: Listener, admin: SimAdmin) -> None:
    terminal = connect(sim, "slow", timeout=300)
    admin.set_faults("slow", latency_ms=1000, functions=["account_info"])
    started = time.perf_counter()
    assert terminal.account_info() is None
    assert terminal.last_error() == IPC_TIMEOUT
    assert time.perf_counter() - started < 0.9
    assert terminal.symbol_info_tick("EURUSD") is not None  # the terminal reconnects for the next call
    terminal.shutdown()


def test_disconnect_mid_session(admin: SimAdmin, terminal: SimTerminal) -> None:
    assert terminal.terminal_info().connected  # type: ignore[union-attr]
    admin.set_faults("t1", disconnected=True)
    info = terminal.terminal_info()
    assert info is not None and info.connected is False
    assert terminal.positions_get() is None and terminal.last_error() == NO_IPC
    assert terminal.symbol_info_tick("EURUSD") is None and terminal.last_error() == NO_IPC
    admin.set_faults("t1", disconnected=False)
    assert terminal.terminal_info().connected and terminal.positions_get() == ()  # type: ignore[union-attr]


def test_server_gone_is_no_ipc_connection(sim: Listener, terminal: SimTerminal) -> None:
    sim.stop()
    assert terminal.account_info() is None
    assert terminal.last_error() == NO_IPC
    fresh = SimTerminal()
    assert fresh.initialize(f"{sim.url}/late") is False
    assert fresh.last_error()[0] == c.RES_E_INTERNAL_FAIL_INIT


def test_authorization_failure(sim: Listener, admin: SimAdmin, terminal: SimTerminal) -> None:
    assert terminal.login(FRESH_LOGIN, password="wrong") is False
    assert terminal.last_error() == AUTH_FAILED
    assert terminal.account_info() is None  # the terminal is logged out now
    assert terminal.login(FRESH_LOGIN, password=FRESH_PASSWORD) is True
    admin.set_faults("t1", auth_fail=True)
    assert terminal.login(FRESH_LOGIN, password=FRESH_PASSWORD) is False
    assert terminal.last_error() == AUTH_FAILED
    other = SimTerminal()
    admin.set_faults("t9", auth_fail=True)
    assert other.initialize(f"{sim.url}/t9", login=FRESH_LOGIN, password=FRESH_PASSWORD) is False
    assert other.last_error() == AUTH_FAILED


def test_requotes(admin: SimAdmin, terminal: SimTerminal) -> None:
    admin.set_faults("t1", requote_probability=1.0)
    result = terminal.order_send(market(terminal, "EURUSD", c.ORDER_TYPE_BUY, 0.1))
    tick = terminal.symbol_info_tick("EURUSD")
    assert result is not None and result.retcode == c.TRADE_RETCODE_REQUOTE and result.comment == "Requote"
    assert tick is not None and (result.bid, result.ask) == (tick.bid, tick.ask)
    assert terminal.positions_get() == ()


def test_a_hung_call_blocks_until_released(admin: SimAdmin, terminal: SimTerminal) -> None:
    admin.set_faults("t1", hang=True, functions=["positions_get"])
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(terminal.positions_get()))
    worker.start()
    worker.join(0.3)
    assert worker.is_alive() and outcome == []
    admin.release("t1")
    worker.join(5)
    assert outcome == [()]


def test_a_hang_for_n_seconds(admin: SimAdmin, terminal: SimTerminal) -> None:
    admin.set_faults("t1", hang=True, hang_s=0.3)
    started = time.perf_counter()
    assert terminal.account_info() is not None
    assert 0.3 <= time.perf_counter() - started < 2


def test_slow_login(sim: Listener, admin: SimAdmin) -> None:
    admin.set_login_latency(0.4)
    started = time.perf_counter()
    terminal = connect(sim, "carousel")
    assert time.perf_counter() - started >= 0.4
    admin.set_login_latency(0)
    admin.set_faults("carousel", login_latency_s=0.3)
    started = time.perf_counter()
    assert terminal.login(FRESH_LOGIN, password=FRESH_PASSWORD)
    assert 0.3 <= time.perf_counter() - started < 1.5
    terminal.shutdown()


def test_autotrading_off(admin: SimAdmin, terminal: SimTerminal) -> None:
    admin.set_faults("t1", algo_trading=False)
    assert terminal.terminal_info().trade_allowed is False  # type: ignore[union-attr]
    result = terminal.order_send(market(terminal, "EURUSD", c.ORDER_TYPE_BUY, 0.1))
    assert result is not None and result.retcode == c.TRADE_RETCODE_CLIENT_DISABLES_AT


def test_unknown_faults_are_refused(admin: SimAdmin) -> None:
    with pytest.raises(Exception, match="Invalid params"):
        admin.set_faults("t1", no_such_fault=True)


def test_faults_set_from_another_process(sim: Listener, terminal: SimTerminal) -> None:
    code = (
        "import sys; from app.mt5.sim.admin import SimAdmin; "
        "SimAdmin(sys.argv[1]).set_faults('t1', ipc_timeout=True, functions=['account_info'])"
    )
    subprocess.run([sys.executable, "-c", code, sim.address], env=subprocess_env(), check=True, timeout=60)
    assert terminal.account_info() is None and terminal.last_error() == IPC_TIMEOUT
    assert terminal.symbol_info_tick("EURUSD") is not None
