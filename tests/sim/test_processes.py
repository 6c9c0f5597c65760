"""The trade server as a process: shared by terminals in other processes, persistent, standalone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.mt5.sim.address import DEFAULT_PORT
from app.mt5.sim.client import probe
from app.mt5.sim.server import start_server_process
from app.mt5.sim.terminal import SimTerminal
from tests.conftest import ROOT, app_command, subprocess_env
from tests.support.process import RunningProcess

pytestmark = pytest.mark.slow
START = ("--start", "2025-06-04T12:00:00+00:00", "--no-history")

OPEN = """
import json, sys
import app.mt5.sim as mt5
assert mt5.initialize(sys.argv[1], login=5001006, password="Demo-1006"), mt5.last_error()
tick = mt5.symbol_info_tick("EURUSD")
r = mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.2,
                    "type": mt5.ORDER_TYPE_BUY, "price": tick.ask, "deviation": 50,
                    "type_filling": mt5.ORDER_FILLING_FOK})
print(json.dumps({"retcode": r.retcode, "order": r.order}))
mt5.shutdown()
"""
LIST = """
import json, sys
import app.mt5.sim as mt5
assert mt5.initialize(sys.argv[1], login=5001006, password="Demo-1006"), mt5.last_error()
print(json.dumps([p.ticket for p in mt5.positions_get()]))
mt5.shutdown()
"""


def run_script(code: str, *args: str, env: dict[str, str] | None = None) -> object:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env or subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_two_terminals_in_two_processes_see_the_same_position(tmp_path: Path) -> None:
    with start_server_process(tmp_path / "sim", seed=11, extra_args=START) as server:
        opened = run_script(OPEN, f"{server.url}/terminal-1")
        assert isinstance(opened, dict) and opened["retcode"] == 10009
        seen = run_script(LIST, f"{server.url}/terminal-2")
        assert seen == [opened["order"]]


def test_the_books_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "sim"
    with start_server_process(state, seed=11, extra_args=START) as server:
        opened = run_script(OPEN, f"{server.url}/t")
    assert isinstance(opened, dict)
    assert (state / "broker.sqlite3").is_file()
    with start_server_process(state, seed=11, extra_args=START) as server:
        terminal = SimTerminal()
        assert terminal.initialize(f"{server.url}/t", login=5001006, password="Demo-1006")
        assert [p.ticket for p in terminal.positions_get() or ()] == [opened["order"]]
        again = run_script(OPEN, f"{server.url}/t")
        assert isinstance(again, dict) and again["order"] > opened["order"]  # ticket counters persist too
        terminal.shutdown()


def test_python_dash_m_runs_the_server_until_sigterm() -> None:
    command = [sys.executable, "-m", "app.mt5.sim", "--port", "0", "--no-history"]
    with RunningProcess(command, env=subprocess_env(), cwd=ROOT) as proc:
        line = proc.wait_for("sim trade server listening on ", timeout=60)
        address = line.rsplit(" ", 1)[-1]
        host, port = address.rsplit(":", 1)
        assert probe(host, int(port))
        assert proc.stop(signal.SIGTERM) == 0


def test_the_sim_sub_command_keeps_its_books_in_the_data_dir(tmp_path: Path) -> None:
    command = app_command("sim", "--port", "0", "--no-history", "--data-dir", str(tmp_path))
    with RunningProcess(command, env=subprocess_env()) as proc:
        proc.wait_for("sim trade server listening on ", timeout=60)
        assert proc.stop(signal.SIGINT) == 0
    assert (tmp_path / "sim" / "broker.sqlite3").is_file()


def test_initialize_without_arguments_finds_a_server_or_starts_one(tmp_path: Path) -> None:
    code = """
import json
import app.mt5.sim as mt5
ok = mt5.initialize()
info = mt5.account_info()
print(json.dumps([ok, info.login, info.server, mt5.terminal_info().path]))
"""
    if probe("127.0.0.1", DEFAULT_PORT):
        pytest.skip("a sim trade server already runs on the well-known port")
    embedded = run_script(code)
    assert isinstance(embedded, list) and embedded[:3] == [True, 5001001, "SimBroker-Demo"]
    with start_server_process(None, seed=3, extra_args=START) as server:
        found = run_script(
            code, env=subprocess_env(MT5_SIM_SERVER=server.address, MT5_SIM_TERMINAL="env-term")
        )
        assert isinstance(found, list) and found[3] == f"sim://{server.address}/env-term"


def test_the_trade_server_stops_when_the_app_that_started_it_is_killed(tmp_path: Path) -> None:
    """A crashed app must not leave its trade server running (and holding its state dir)."""
    parent = (
        "import sys, time\n"
        "from app.mt5.sim.process import start_server_process\n"
        f"server = start_server_process({str(tmp_path)!r}, extra_args=('--no-history',))\n"
        "print('SERVER-PID', server.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    with RunningProcess([sys.executable, "-c", parent], subprocess_env()) as app:
        server_pid = int(app.wait_for("SERVER-PID", timeout=60).split()[1])
        assert _alive(server_pid)
        app.proc.kill()  # no clean-up code runs in the app
        app.proc.wait(10)
        deadline = time.monotonic() + 15
        while _alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not _alive(server_pid), "the trade server outlived the app that started it"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its parent) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False
