"""A built-in strategy in the whole app as ``--serve --sim`` runs it: the sim trade server on a manual
clock the test advances minute by minute, the terminal worker streaming its ticks, the hub building the
M1 bars from them, the strategy runner on the hub's closed bars, the signals service storing each
signal, and a real Socket.IO client subscribed to ``signals``. The signals are exactly the SMA crosses
an independent reading of the sim's own M1 closes shows — the same every run (a manual clock and a
seeded market: nothing moves unless the test moves it)."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest

from app.models import Timeframe
from app.mt5.sim.admin import SimAdmin
from tests.server.conftest import start_runtime, stop_runtime
from tests.server.test_socketio import Recorder
from tests.support.sim_fixtures import wait_until

pytestmark = pytest.mark.slow

FAST, SLOW = 2, 5
MINUTES = 90


def sma_crosses(times: list[int], closes: list[float], since: int) -> list[tuple[int, str]]:
    """(bar time, call) of every bar after ``since`` whose close makes SMA(FAST) cross SMA(SLOW)."""
    values = np.asarray(closes, dtype=np.float64)

    def gap(i: int) -> float:
        return float(np.mean(values[i - FAST + 1 : i + 1]) - np.mean(values[i - SLOW + 1 : i + 1]))

    found = []
    for i in range(SLOW, len(values)):
        if times[i] <= since:
            continue
        before, now = round(gap(i - 1), 10), round(gap(i), 10)
        if before <= 0 < now:
            found.append((times[i], "buy"))
        elif before >= 0 > now:
            found.append((times[i], "sell"))
    return found


async def test_an_sma_cross_on_the_hubs_bars_is_stored_and_published(tmp_path: Path) -> None:
    sections = {
        "signals": {"max_per_minute": 1000},
        "market": {"symbols": ["EURUSD"], "account_refresh_s": 0.5},
    }
    running = await start_runtime(tmp_path, sim={"manual_clock": True}, sections=sections)
    runtime = running.runtime
    client = Recorder()
    stack = ExitStack()
    try:
        assert runtime.sim_server is not None and runtime.strategies is not None
        admin = stack.enter_context(SimAdmin(runtime.sim_server.address))
        token = await running.login()
        client.sio.on("signals_update", client._recorder("signals_update"))  # noqa: SLF001
        await client.connect(running, token)
        await client.sio.call("subscribe", {"channels": ["signals"]}, timeout=10)
        async with running.client(token) as http:
            made = await http.put(
                "/api/strategies/sma-eu",
                json={"kind": "sma_cross", "symbol": "EURUSD", "timeframe": "M1",
                      "params": {"fast": FAST, "slow": SLOW}, "mode": "notify", "volume": 0.01},
            )  # fmt: skip
            assert made.status_code == 200, made.text
            enabled = await http.post("/api/strategies/sma-eu/enable")
            assert enabled.status_code == 200 and enabled.json()["enabled"], enabled.text
            await wait_until(lambda: [c.id for c in runtime.strategies.running] == ["sma-eu"])  # type: ignore[union-attr]
            live = runtime.market_data.live_bar("EURUSD", Timeframe.M1)
            assert live is not None and live.current is not None
            started_on = live.current.time  # the bar forming when the strategy began: not called
            runner = runtime.strategies

            def seen() -> int:
                """The newest bar the strategy has judged."""
                return runner._running["sma-eu"].history[-1].time  # noqa: SLF001

            def decided() -> set[str]:
                return {u["uuid"] for u in client.got("signals_update") if u["status"] != "received"}

            for _ in range(MINUTES):
                await asyncio.to_thread(admin.advance, 60)
                forming = await runtime.pool.live.call("rates_from_pos", "EURUSD", Timeframe.M1, 0, 1)
                newest = int(forming.time[-1])
                # The hub has the server's forming bar: every bar before it has closed and gone by.
                await wait_until(lambda n=newest: live.current is not None and live.current.time == n)
                # ... and the strategy has judged the bar that closed, its signal decided: the market
                # moves on only then (an order_check on the next minute's prices would be a requote).
                await wait_until(lambda n=newest: seen() == n - 60 and runner.emitted == len(decided()))

            history = await runtime.pool.live.call("rates_from_pos", "EURUSD", Timeframe.M1, 1, MINUTES + 50)
            times = [int(t) for t in history.time]
            expected = sma_crosses(times, [float(c) for c in history.close], since=started_on - 1)
            assert expected, f"{MINUTES} minutes of EURUSD without one SMA({FAST})/SMA({SLOW}) cross"
            assert times[-1] == newest - 60  # every closed bar up to the forming one was read
            uuids = {f"sma-eu-{t}" for t, _ in expected}

            await wait_until(lambda: uuids <= decided())  # the last bars' signals through the chain
            stored = (await http.get("/api/signals")).json()
            mine = [s for s in stored if s["source"] == "strategy:sma-eu"]
            got = [(int(s["uuid"].rsplit("-", 1)[1]), s["side"], s["status"]) for s in reversed(mine)]
            assert got == [(t, side, "notified") for t, side in expected], [s["message"] for s in mine]
            first = mine[-1]
            assert (first["symbol"], first["volume"], first["mode"]) == ("EURUSD", 0.01, "notify")
            assert all(v["approved"] for v in first["validators"])

        published = [u for u in client.got("signals_update") if u["uuid"] == first["uuid"]]
        assert [u["status"] for u in published] == ["received", "notified"]
        assert [v["name"] for v in published[-1]["validators"]][:1] == ["symbol"]
    finally:
        stack.close()
        if client.sio.connected:
            await client.sio.disconnect()
        await stop_runtime(running)
