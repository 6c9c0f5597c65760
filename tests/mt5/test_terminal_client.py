"""The terminal client over real worker processes and the simulated trade server: recovery from a
killed worker, a hung call, a lost connection; an exact tick stream; terminal calls never in-process."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import pytest

from app.core.bars import LiveBar
from app.models import (
    AuthorizationError,
    CallTimeoutError,
    NotConnectedError,
    RejectedError,
    TerminalError,
    TerminalStatus,
    Timeframe,
)
from app.mt5.client import TerminalClient
from app.mt5.protocol import WorkerSpec
from app.mt5.sim.admin import SimAdmin
from app.mt5.sim.clock import ScaledClock
from app.mt5.sim.server import serve_in_thread
from tests.support.sim_fixtures import WEDNESDAY, wait_until

pytestmark = pytest.mark.slow

DEMO_2 = (5001002, "Demo-1002", "SimBroker-Demo")


async def streamed_equals_terminal(client: Any, recorder: Any, symbol: str) -> int:
    """The streamed ticks of ``symbol`` equal ``copy_ticks_range`` over the same period, tick for tick.

    Compared strictly inside the first and last streamed millisecond, so a tick that shares the first
    millisecond with ticks from before the stream started cannot blur the comparison.
    """
    streamed = recorder.ticks(symbol)
    first, last = streamed[0][0], streamed[-1][0]
    inside = [t for t in streamed if first < t[0] < last]
    reference = await client.call("ticks_range", symbol, first + 1, last - 1)
    expected = list(
        zip(reference.time_msc.tolist(), reference.bid.tolist(), reference.ask.tolist(), strict=True)
    )
    assert inside == expected
    return len(inside)


async def test_streamed_ticks_equal_the_terminal_history(client_factory: Any, admin: SimAdmin) -> None:
    client, recorder = await client_factory()
    admin.storm(60, ["EURUSD", "XAUUSD"])  # many ticks, several in the same millisecond
    await client.stream_ticks(["EURUSD", "XAUUSD", "USDJPY"], 0.01)
    await wait_until(lambda: len(recorder.times("EURUSD")) > 300 and len(recorder.times("USDJPY")) > 3)
    assert await streamed_equals_terminal(client, recorder, "EURUSD") > 250
    assert await streamed_equals_terminal(client, recorder, "XAUUSD") > 250


async def test_worker_killed_is_restarted_logs_back_in_and_resumes_exactly(
    client_factory: Any, admin: SimAdmin
) -> None:
    client, recorder = await client_factory()
    account = await client.login(*DEMO_2)
    assert account.login == DEMO_2[0]
    admin.storm(40, ["EURUSD"])
    await client.stream_ticks(["EURUSD"], 0.01)
    await wait_until(lambda: len(recorder.times("EURUSD")) > 40)
    first_pid = client.worker_pid
    assert first_pid is not None

    os.kill(first_pid, signal.SIGKILL)
    await wait_until(lambda: client.restarts == 1 and client.state.status is TerminalStatus.LOGGED_IN)
    after = len(recorder.times("EURUSD"))
    await wait_until(lambda: len(recorder.times("EURUSD")) > after + 40)

    assert client.worker_pid not in (None, first_pid)
    reasons = [s.reason for s in recorder.states if s.status is TerminalStatus.ERROR]
    assert "worker process died" in reasons  # the app reported it
    assert (await client.call("health"))["login"] == DEMO_2[0]  # logged back in to the account it held
    assert await streamed_equals_terminal(client, recorder, "EURUSD") > 80  # across the crash: exact


async def test_a_hung_call_times_out_and_the_worker_is_restarted(
    client_factory: Any, admin: SimAdmin
) -> None:
    client, recorder = await client_factory(call_timeout=1.5)
    first_pid = client.worker_pid
    admin.set_faults("t1", hang=True, functions=["symbol_info_tick"])
    started = time.monotonic()
    with pytest.raises(CallTimeoutError, match="timed out"):
        await client.call("tick", "EURUSD")
    assert time.monotonic() - started < 1.5 + 1.0
    admin.clear_faults("t1")
    await wait_until(lambda: client.restarts == 1 and client.state.status is TerminalStatus.LOGGED_IN)
    assert client.worker_pid != first_pid
    assert (await client.call("tick", "EURUSD")).bid > 0  # and it serves calls again


@pytest.mark.parametrize(
    ("fault", "code"),
    [({"ipc_timeout": True}, -10005), ({"disconnected": True}, -10004)],
)
async def test_lost_connection_is_reconnected_with_backoff(
    client_factory: Any, admin: SimAdmin, fault: dict[str, bool], code: int
) -> None:
    client, recorder = await client_factory()
    admin.set_faults("t1", **fault)
    with pytest.raises(NotConnectedError) as caught:
        await client.call("account")
    assert caught.value.code == code
    await wait_until(lambda: client.state.status is TerminalStatus.DISCONNECTED)
    await asyncio.sleep(1.0)  # a few reconnection attempts fail meanwhile
    admin.clear_faults("t1")
    await wait_until(lambda: client.state.status is TerminalStatus.LOGGED_IN)
    statuses = recorder.statuses()
    assert statuses.index(TerminalStatus.DISCONNECTED) < len(statuses) - 1
    assert statuses[-1] is TerminalStatus.LOGGED_IN
    assert client.restarts == 0  # the same worker reconnected; nothing was killed
    assert (await client.call("account")).login > 0


async def test_reconnect_now_cuts_the_backoff_short(client_factory: Any, admin: SimAdmin) -> None:
    """When the trade server is back (the sim server restarted), the runtime asks the terminals to
    reconnect now: one waiting out a long backoff comes back at once."""
    from app.retry import Backoff

    client, _ = await client_factory(backoff=Backoff(initial=600.0, maximum=600.0, jitter=0.0))
    admin.set_faults("t1", disconnected=True)
    with pytest.raises(NotConnectedError):
        await client.call("account")
    await wait_until(lambda: client.state.status is TerminalStatus.DISCONNECTED)
    admin.clear_faults("t1")
    client.reconnect_now()
    await wait_until(lambda: client.state.status is TerminalStatus.LOGGED_IN)  # not in 10 minutes
    assert (await client.call("account")).login > 0


async def test_wrong_password_is_an_authorization_error_and_keeps_the_account(client_factory: Any) -> None:
    client, _ = await client_factory()
    before = (await client.call("account")).login
    with pytest.raises(AuthorizationError):
        await client.login(DEMO_2[0], "wrong", DEMO_2[2])
    assert client.held_account is None
    assert client.state.status is TerminalStatus.LOGGED_IN
    assert (await client.call("account")).login == before


async def test_bad_requests_are_clear_errors_and_the_worker_lives_on(client_factory: Any) -> None:
    client, _ = await client_factory()
    pid = client.worker_pid
    with pytest.raises(RejectedError):
        await client.call("symbol", "NOPE")
    with pytest.raises(TerminalError, match="no such terminal operation"):
        await client.call("format_disk")
    with pytest.raises(TerminalError, match="TypeError"):
        await client.call("tick")  # missing argument: reported, not a crash
    assert client.worker_pid == pid
    assert (await client.call("symbol", "EURUSD")).digits == 5


async def test_live_bars_equal_the_terminal_bars_once_closed() -> None:
    """M1 bars folded from streamed ticks equal ``copy_rates`` after they close (a fast clock)."""
    live = LiveBar("EURUSD", Timeframe.M1, 0.00001)
    closed: list[Any] = []
    fast = ScaledClock(WEDNESDAY, speed=20.0)  # a sim minute passes in 3 s of wall time
    with serve_in_thread(clock=fast, demo_history=False) as server:
        client = TerminalClient(
            WorkerSpec("bars", "sim", path=f"sim://{server.address}/bars"),
            on_ticks=lambda batches: [closed.extend(live.apply(b)) for b in batches if b.symbol == "EURUSD"],
        )
        await client.start()
        try:
            await _compare_closed_bars(client, closed)
        finally:
            await client.stop()


async def _compare_closed_bars(client: Any, closed: list[Any]) -> None:
    await client.stream_ticks(["EURUSD"], 0.01)
    await wait_until(lambda: len(closed) >= 3, within_s=30)
    complete = closed[1:]  # the first bar began before the stream did
    series = await client.call("rates_from", "EURUSD", Timeframe.M1, complete[-1].time, len(complete))
    assert [b.time for b in series.bars()] == [b.time for b in complete]
    for ours, theirs in zip(complete, series.bars(), strict=True):
        assert ours.same_prices(theirs, digits=5)
        assert ours.tick_volume == theirs.tick_volume


def test_terminal_calls_never_run_in_the_app_process(sim_server: Any, tmp_path: Any) -> None:
    """An app process that cannot import any terminal module still trades and streams: every terminal
    call ran in a worker process."""
    from tests.conftest import subprocess_env

    script = tmp_path / "probe.py"
    script.write_text(
        f"""
import asyncio, os, sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name in ("MetaTrader5", "app.mt5.sim") or name.startswith("app.mt5.sim."):
            raise ImportError(f"{{name}} must not be imported in the app process")
        return None

async def main():
    from app.models import OrderRequest, OrderType, TradeAction
    from app.mt5.client import TerminalClient
    from app.mt5.protocol import WorkerSpec
    got = []
    client = TerminalClient(WorkerSpec("probe", "sim", path="sim://{sim_server.address}/probe"),
                            on_ticks=lambda b: got.extend(b))
    await client.start()
    assert await client.call("pid") != os.getpid()
    await client.stream_ticks(["EURUSD"], 0.01)
    tick = await client.call("tick", "EURUSD")
    result = await client.call("order_send", OrderRequest(TradeAction.DEAL, "EURUSD", 0.01, OrderType.BUY,
                                                          price=tick.ask))
    assert result.ok, result
    while not got:
        await asyncio.sleep(0.05)
    await client.stop()
    loaded = [m for m in sys.modules if "sim" in m.split(".") or m == "MetaTrader5"]
    print("terminal modules in app process:", loaded)

if __name__ == "__main__":
    sys.meta_path.insert(0, Blocked())
    asyncio.run(main())
""",
        encoding="utf-8",
    )
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(script)], env=subprocess_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "terminal modules in app process: []" in result.stdout
