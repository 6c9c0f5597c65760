"""Tick pipeline: ticks/s from a terminal worker to a hub subscriber, and the latency from the sim's
tick time to the hub event, with the trade server in its own process (as in the app).

    .venv/bin/python bench/bench_tick_pipeline.py [--seconds 20] [--rates 50,2500] [--poll-ms 10]

The server's clock starts on a weekday (every symbol trades) and runs at wall speed; its offset to the
wall clock is measured (the minimum of several round trips) so latency is wall time at the hub minus
the tick's own time. CPU is the app process plus its worker, as a share of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core.hub import Delivery, EventHub, Topic  # noqa: E402
from app.core.market_data import MarketData  # noqa: E402
from app.models import TickBatch  # noqa: E402
from app.mt5.client import TerminalClient  # noqa: E402
from app.mt5.pool import TerminalPool  # noqa: E402
from app.mt5.protocol import WorkerSpec  # noqa: E402
from app.mt5.sim.admin import SimAdmin  # noqa: E402
from app.mt5.sim.server import start_server_process  # noqa: E402

SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "XAUUSD", "US500", "BTCUSD"]
WEEKDAY_START = "2026-11-18T09:00:00Z"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    address: str, admin: SimAdmin, rate: int, seconds: float, poll_ms: float
) -> dict[str, float]:
    hub = EventHub()
    client = TerminalClient(WorkerSpec("bench", "sim", path=f"sim://{address}/bench"), call_timeout=10)
    pool = TerminalPool([client])
    market = MarketData(hub, pool, poll_interval_s=poll_ms / 1000)
    await client.start()
    await client.wait_ready(30)
    await market.start()
    await market.subscribe(SYMBOLS)
    subscriber = hub.subscribe(Topic.TICKS, Delivery.ALL, maxlen=100_000)
    gc.collect()
    gc.freeze()  # as the runtime does once started (app/runtime.py)
    admin.storm(rate, SYMBOLS)
    await asyncio.sleep(2.0)  # the storm starts on the next whole second; let it settle
    offset = admin.clock_offset_ms()
    subscriber.drain()
    worker_pid = client.worker_pid
    assert worker_pid is not None
    cpu_before = cpu_seconds(os.getpid()) + cpu_seconds(worker_pid)
    latencies: list[np.ndarray] = []
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        events = await subscriber.get()
        arrived = time.time() * 1000 - offset
        for event in events:
            batch: TickBatch = event.value
            count += len(batch)
            latencies.append(arrived - batch.time_msc)
    elapsed = time.perf_counter() - started
    cpu = (cpu_seconds(os.getpid()) + cpu_seconds(worker_pid) - cpu_before) / elapsed
    admin.storm(0)
    await market.stop()
    await client.stop()
    lat = np.concatenate(latencies)
    return {
        "rate_per_symbol": rate,
        "offered": rate * len(SYMBOLS),
        "ticks_per_s": count / elapsed,
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "cpu_share": cpu,
        "dropped": subscriber.dropped,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rates", default="50,2500")
    parser.add_argument("--poll-ms", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = start_server_process(None, extra_args=("--start", WEEKDAY_START, "--no-history"))
    try:
        with SimAdmin(server.address) as admin:
            for rate in (int(r) for r in args.rates.split(",")):
                rounds = [
                    await measure(server.address, admin, rate, args.seconds, args.poll_ms)
                    for _ in range(args.rounds)
                ]
                median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
                print(
                    f"storm {rate}/s x {len(SYMBOLS)} symbols (offered {median['offered']:.0f} ticks/s), "
                    f"poll {args.poll_ms:g} ms, median of {args.rounds}: "
                    f"{median['ticks_per_s']:,.0f} ticks/s, latency p50 {median['p50_ms']:.1f} ms "
                    f"p99 {median['p99_ms']:.1f} ms, CPU {median['cpu_share'] * 100:.0f}% of a core "
                    f"(app + worker), dropped {median['dropped']:.0f}"
                )
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
