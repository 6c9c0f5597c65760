"""One trade server per state directory: a second one refuses to start, the running one says where it
listens, a killed one leaves nothing that looks alive, and the app's service knows what to do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import SimSettings
from app.mt5.sim.claim import INFO_FILE, LOCK_FILE, running_server
from app.mt5.sim.process import StateDirInUse, start_server_process
from app.mt5.sim_service import SimTradeServer
from app.oslock import OsLock, is_locked
from tests.conftest import subprocess_env

pytestmark = pytest.mark.slow
FAST = ("--no-history",)


def test_a_second_server_on_the_same_state_dir_refuses_to_start(tmp_path: Path) -> None:
    state = tmp_path / "sim"
    assert running_server(state) is None
    with start_server_process(state, extra_args=FAST, owner="cli") as first:
        found = running_server(state)
        assert found is not None
        assert (found.address, found.pid, found.owner) == (first.address, first.pid, "cli")
        in_use = rf"{state} is used by another trade server \(pid {first.pid}"
        with pytest.raises(StateDirInUse, match=in_use):
            start_server_process(state, extra_args=FAST)
        standalone = subprocess.run(
            [sys.executable, "-m", "app.mt5.sim", "--port", "0", "--state-dir", str(state), *FAST],
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert standalone.returncode == 3 and "state dir in use" in standalone.stderr
        with start_server_process(tmp_path / "other", extra_args=FAST) as elsewhere:  # another dir: fine
            assert elsewhere.address != first.address
    assert running_server(state) is None and not (state / INFO_FILE).exists()


def test_a_killed_server_leaves_nothing_that_looks_alive(tmp_path: Path) -> None:
    state = tmp_path / "sim"
    server = start_server_process(state, extra_args=FAST)
    os.kill(server.pid, signal.SIGKILL)
    server.proc.wait(30)
    assert json.loads((state / INFO_FILE).read_text())["pid"] == server.pid  # left behind ...
    assert running_server(state) is None  # ... but not believed: the lock went with the process
    with start_server_process(state, extra_args=FAST) as again:
        assert running_server(state) is not None and again.pid != server.pid
    server.stop()


def test_the_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    path = tmp_path / "x" / LOCK_FILE
    first, second = OsLock(path), OsLock(path)
    assert first.try_acquire() and first.held and is_locked(path)
    assert not second.try_acquire() and not second.held
    first.release()
    assert not is_locked(path) and second.try_acquire()
    second.release()


async def test_the_app_uses_a_users_server_and_refuses_another_apps(tmp_path: Path) -> None:
    state = tmp_path / "sim"
    with start_server_process(state, extra_args=FAST, owner="user") as users:
        service = SimTradeServer(state, SimSettings())
        await service.start()
        assert service.address == users.address and service.terminal_path("t") == f"sim://{users.address}/t"
        await service.stop()
        assert users.proc.poll() is None  # not ours to stop
    with start_server_process(state, extra_args=FAST, owner="app") as other_app:
        with pytest.raises(RuntimeError, match=rf"another mt5-console \(pid {other_app.pid}"):
            await SimTradeServer(state, SimSettings()).start()
    with start_server_process(state, extra_args=FAST, owner="cli"):
        with pytest.raises(RuntimeError, match="state dir .* is used by another trade server"):
            await SimTradeServer(state, SimSettings(), wait_for_cli_s=1.0).start()
