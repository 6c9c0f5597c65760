"""Benchmark of seed 002's live data on the Socket.IO: ticks and live M1 candles at the storm rate.

The app runtime (sim trade server and terminal worker on a Wednesday clock, audit trail, database, the
API server on a free loopback port) runs in this process as ``--serve`` runs it. Its market data is
fed the storm rate of 8 symbols × 50 ticks/s through its own tick listener (the terminal's stream is
paused, so only these ticks flow): each tick is stamped with the wall clock in its bid (ms / 100, two
decimals: every symbol keeps them), so a client's latency is its receive time minus the stamp of the
newest tick in what it got — for a ``tick`` its bid, for a ``candles`` update its bar's close. The
ticks go through the real path: market data → hub → live bars → the live feed → each client's outbox
and sender.

The load comes from ``--processes`` other processes (this script with ``--client``): C clients in all,
raw Engine.IO 4 / Socket.IO 5 over WebSocket (aiohttp, light enough that many in one process measure
the server), each sending one seed 002 ``subscribe`` for the 8 symbols' M1 candles (which brings their
ticks too). Server CPU is this process's CPU time over the measuring window.

    .venv/bin/python bench/bench_live_data.py                      # 100 clients, 3 rounds of 10 s
    .venv/bin/python bench/bench_live_data.py --clients 20 --rounds 1 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(ROOT))

SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "XAUUSD", "US500", "BTCUSD"]
STORM_RATE = 50.0  # ticks per second per symbol: the storm the other benchmarks use


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


# ----------------------------------------------------------------------------- load (other processes)


class Meter:
    """Latencies of what the clients get: now minus the stamp of the newest tick in it (ms)."""

    TICK, CANDLES = '42["tick",', '42["candles",'

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.candles: list[float] = []
        self.closed = 0

    def measure(self, data: str) -> None:
        if data.startswith(self.TICK):
            self.ticks.append(time.time() * 1000 - json.loads(data[2:])[1]["bid"] * 100)
        elif data.startswith(self.CANDLES):
            event = json.loads(data[2:])[1]
            if "bar" in event:
                self.candles.append(time.time() * 1000 - event["bar"]["close"] * 100)
                self.closed += event["closed"]


async def clients_main(url: str, token: str, clients: int, warmup: float, seconds: float) -> dict[str, Any]:
    import aiohttp

    meter = Meter()
    measuring = asyncio.Event()
    done = asyncio.Event()
    ready = 0
    ws_url = url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
    subscribe = "42" + json.dumps(["subscribe", [{"symbol": s, "timeframe": "M1"} for s in SYMBOLS]])

    async def one(session: aiohttp.ClientSession) -> None:
        nonlocal ready
        async with session.ws_connect(ws_url, max_msg_size=0) as ws:
            assert (await ws.receive_str()).startswith("0")
            await ws.send_str("40" + json.dumps({"token": token}))
            while not (reply := await ws.receive_str()).startswith("40"):
                if reply.startswith("44"):
                    raise RuntimeError(f"refused: {reply}")
            await ws.send_str(subscribe)
            ready += 1
            while not done.is_set():
                try:
                    message = await asyncio.wait_for(ws.receive(), 0.5)
                except TimeoutError:
                    continue
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                if message.data == "2":
                    await ws.send_str("3")
                elif measuring.is_set():
                    meter.measure(message.data)

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks: list[asyncio.Task[None]] = []
        for start in range(0, clients, 50):  # connect in waves
            tasks += [asyncio.create_task(one(session)) for _ in range(start, min(clients, start + 50))]
            while ready < len(tasks) and not any(t.done() for t in tasks):  # noqa: ASYNC110 - counts
                await asyncio.sleep(0.05)
        print(json.dumps({"ready": ready}), flush=True)
        await asyncio.sleep(warmup)
        measuring.set()
        await asyncio.sleep(seconds)
        measuring.clear()
        done.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    return {
        "clients": clients - len(failures),
        "ticks": meter.ticks,
        "candles": meter.candles,
        "closed": meter.closed,
    }


# ----------------------------------------------------------------------------- the app side (this process)


async def inject(market: Any, rate: float, stop: asyncio.Event) -> int:
    """The storm rate on every symbol, through market data's own tick listener, stamped in the bid."""
    import numpy as np

    from app.models import TickBatch

    period = 1.0 / rate
    sent = 0
    next_at = time.perf_counter()
    while not stop.is_set():
        now_ms = int(time.time() * 1000)
        batches = []
        for symbol in SYMBOLS:
            bid = now_ms / 100  # the stamp: ms / 100, two decimals
            batches.append(
                TickBatch(
                    symbol,
                    np.array([now_ms], dtype=np.int64),
                    np.array([bid]),
                    np.array([bid + 0.02]),
                    np.zeros(1),
                    np.ones(1),
                    np.zeros(1, dtype=np.int64),
                )
            )
        market._on_ticks(tuple(batches))  # the terminal worker's tick listener, as the stream calls it
        sent += len(batches)
        next_at += period
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    return sent


async def one_round(running: Any, token: str, args: argparse.Namespace) -> dict[str, Any]:
    per = [
        args.clients // args.processes + (i < args.clients % args.processes) for i in range(args.processes)
    ]
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            "--client",
            "--url",
            running.url,
            "--token",
            token,
            "--clients",
            str(n),
            "--seconds",
            str(args.seconds),
            "--warmup",
            "2",
            stdout=subprocess.PIPE,
        )  # fmt: skip
        for n in per
    ]
    for process in processes:  # every client connected and subscribed
        assert process.stdout is not None
        json.loads(await process.stdout.readline())
    stop = asyncio.Event()
    injector = asyncio.create_task(inject(running.runtime.market_data, STORM_RATE, stop))
    await asyncio.sleep(2.0)  # the clients' warm-up
    cpu, wall = time.process_time(), time.perf_counter()
    feed = running.runtime.server.gateway.feed
    packets = feed.candle_packets
    await asyncio.sleep(args.seconds)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    packets = feed.candle_packets - packets
    outs = [await p.communicate() for p in processes]
    stop.set()
    offered = await injector
    results = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outs]
    ticks = [x for r in results for x in r["ticks"]]
    candles = [x for r in results for x in r["candles"]]
    return {
        "clients": sum(r["clients"] for r in results),
        "offered_ticks_s": offered / (wall + 4.0),
        "tick_events_s": len(ticks) / args.seconds,
        "candle_events_s": len(candles) / args.seconds,
        "candle_packets_encoded_s": packets / wall,
        "closed_bars": sum(r["closed"] for r in results),
        "tick_p50_ms": percentile(ticks, 50),
        "tick_p99_ms": percentile(ticks, 99),
        "candle_p50_ms": percentile(candles, 50),
        "candle_p99_ms": percentile(candles, 99),
        "event_p99_ms": percentile(ticks + candles, 99),
        "server_cpu_pct": cpu / wall * 100,
        # the primary figure on a shared machine: server CPU per event delivered (µs)
        "server_cpu_us_per_event": cpu / max(1, len(ticks) + len(candles)) * 1e6,
    }


async def main_async(args: argparse.Namespace) -> None:
    from tests.server.conftest import start_runtime, stop_runtime

    logging.basicConfig(level=logging.WARNING)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        running = await start_runtime(Path(tmp), max_subscriptions=max(50, len(SYMBOLS)))
        token = await running.login()
        try:
            market = running.runtime.market_data
            await market.subscribe(SYMBOLS)
            await running.runtime.pool.live.pause_stream(True)  # only the injected ticks flow
            for _ in range(args.rounds):
                results.append(await one_round(running, token, args))
                print(json.dumps({k: round(v, 1) for k, v in results[-1].items()}), flush=True)
        finally:
            await stop_runtime(running)
    medians = {k: statistics.median(r[k] for r in results) for k in results[0]}
    shown = ", ".join(f"{k}={v:,.1f}" for k, v in medians.items())
    print(f"{args.clients} clients x {len(SYMBOLS)} symbols M1 + ticks at {STORM_RATE:g}/s each: {shown}"
          f"  (median of {len(results)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=float, default=2.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        result = asyncio.run(clients_main(args.url, args.token, args.clients, args.warmup, args.seconds))
        print(json.dumps(result))
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
