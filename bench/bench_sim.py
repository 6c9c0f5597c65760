"""Benchmark of the simulated terminal and trade server (figures go to docs/performance.md).

Measures, with the trade server in another process and the terminal in this one (loopback TCP):
calls/s and p50/p99 latency of symbol_info_tick and of order_send (market orders, opened and closed in
turn), and the ticks/s the server sustains for 8 symbols in storm mode, with its CPU share.

    python bench/bench_sim.py                  # full run (about a minute)
    python bench/bench_sim.py --quick          # a smoke run
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import app.mt5.sim.constants as c  # noqa: E402
from app.mt5.sim.admin import SimAdmin  # noqa: E402
from app.mt5.sim.server import start_server_process  # noqa: E402
from app.mt5.sim.terminal import SimTerminal  # noqa: E402

STORM_SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "XAUUSD", "US500", "BTCUSD"]
# A Wednesday, so that every market is open whatever day the benchmark runs on.
START = ("--start", "2025-06-04T12:00:00+00:00")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(calls: int, call: Callable[[int], float | None]) -> dict[str, float]:
    """Run ``call`` ``calls`` times; it may return its own latency (µs) to leave set-up out of it."""
    latencies: list[float] = []
    for i in range(calls):
        t0 = time.perf_counter_ns()
        own = call(i)
        latencies.append(own if own is not None else (time.perf_counter_ns() - t0) / 1000)
    return {
        "calls_per_s": 1e6 / statistics.fmean(latencies),
        "p50_us": percentile(latencies, 0.50),
        "p99_us": percentile(latencies, 0.99),
    }


def bench_ticks(terminal: SimTerminal, calls: int) -> dict[str, float]:
    def call(_: int) -> None:
        if terminal.symbol_info_tick("EURUSD") is None:
            raise RuntimeError(terminal.last_error())
        return None

    return timed(calls, call)


def bench_orders(terminal: SimTerminal, calls: int) -> dict[str, float]:
    opened: list[int] = []

    def call(i: int) -> float:
        tick = terminal.symbol_info_tick("EURUSD")
        assert tick is not None
        request = {
            "action": c.TRADE_ACTION_DEAL,
            "symbol": "EURUSD",
            "volume": 0.01,
            "deviation": 100,
            "type_filling": c.ORDER_FILLING_FOK,
            "magic": 1,
        }
        if i % 2 == 0:
            request.update(type=c.ORDER_TYPE_BUY, price=tick.ask)
        else:
            request.update(type=c.ORDER_TYPE_SELL, price=tick.bid, position=opened.pop())
        t0 = time.perf_counter_ns()
        result = terminal.order_send(request)
        latency = (time.perf_counter_ns() - t0) / 1000
        if result is None or result.retcode != c.TRADE_RETCODE_DONE:
            raise RuntimeError((result, terminal.last_error()))
        if i % 2 == 0:
            opened.append(result.order)
        return latency

    return timed(calls, call)


def bench_storm(admin: SimAdmin, rate: float, seconds: float) -> dict[str, float]:
    admin.storm(rate, STORM_SYMBOLS)
    time.sleep(1.5)  # let it start (from the next second) and warm the caches
    before = admin.stats()
    time.sleep(seconds)
    after = admin.stats()
    admin.storm(0)
    wall = after["wall_s"] - before["wall_s"]
    return {
        "target_ticks_per_s": rate * len(STORM_SYMBOLS),
        "ticks_per_s": (after["ticks_processed"] - before["ticks_processed"]) / wall,
        "cpu_share": (after["cpu_s"] - before["cpu_s"]) / wall,
    }


def bench_poll(terminal: SimTerminal, admin: SimAdmin, rate: float, seconds: float) -> dict[str, float]:
    """The app's way of reading a storm: copy_ticks_from each symbol from the last time seen, in turn."""
    admin.storm(rate, STORM_SYMBOLS)
    time.sleep(1.5)
    cursors: dict[str, tuple[int, int]] = {}
    for symbol in STORM_SYMBOLS:
        tick = terminal.symbol_info_tick(symbol)
        assert tick is not None
        cursors[symbol] = (tick.time_msc, 0)
    received = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for symbol in STORM_SYMBOLS:
            since, seen_at_since = cursors[symbol]
            # MT5 takes whole seconds: ask from the second of the last tick seen, skip what came before
            ticks = terminal.copy_ticks_from(symbol, since // 1000, 1_000_000, c.COPY_TICKS_ALL)
            if ticks is None:
                raise RuntimeError(terminal.last_error())
            ticks = ticks[ticks["time_msc"] >= since]
            fresh = len(ticks) - seen_at_since
            if len(ticks):
                last = int(ticks["time_msc"][-1])
                cursors[symbol] = (last, int((ticks["time_msc"] == last).sum()))
            received += max(0, fresh)
    elapsed = time.perf_counter() - started
    admin.storm(0)
    return {"target_ticks_per_s": rate * len(STORM_SYMBOLS), "ticks_per_s": received / elapsed}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    tick_calls, order_calls, storm_s = (500, 200, 2.0) if args.quick else (5000, 2000, 8.0)
    results: dict[str, list[dict[str, float]]] = {"symbol_info_tick": [], "order_send": []}
    storms: dict[float, list[dict[str, float]]] = {}
    with start_server_process(None, seed=1, extra_args=START) as server:
        admin = SimAdmin(server.address)
        admin.create_account(9_900_001, "bench", balance=10_000_000.0, leverage=500)  # noqa: S106
        terminal = SimTerminal()
        if not terminal.initialize(f"{server.url}/bench", login=9_900_001, password="bench"):  # noqa: S106
            raise SystemExit(f"initialize failed: {terminal.last_error()}")
        for _ in range(rounds):
            results["symbol_info_tick"].append(bench_ticks(terminal, tick_calls))
            results["order_send"].append(bench_orders(terminal, order_calls))
        for rate in (250.0, 2500.0):
            storms[rate] = [bench_storm(admin, rate, storm_s) for _ in range(rounds)]
        polls = [bench_poll(terminal, admin, 2500.0, storm_s) for _ in range(rounds)]
        terminal.shutdown()
        admin.close()

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"rounds: {rounds} (medians)"
    )
    print("| call | calls/s | p50 | p99 |")
    print("| --- | ---: | ---: | ---: |")
    for name, rows in results.items():
        print(
            f"| {name} | {median(rows, 'calls_per_s'):,.0f} | {median(rows, 'p50_us'):,.0f} µs "
            f"| {median(rows, 'p99_us'):,.0f} µs |"
        )
    print()
    print("| storm (8 symbols) | target ticks/s | sustained ticks/s | server CPU share |")
    print("| --- | ---: | ---: | ---: |")
    for rate, rows in storms.items():
        print(
            f"| {rate:,.0f}/s per symbol | {median(rows, 'target_ticks_per_s'):,.0f} "
            f"| {median(rows, 'ticks_per_s'):,.0f} | {median(rows, 'cpu_share'):.0%} |"
        )
    print()
    print("| terminal polling copy_ticks_from, 8 symbols | storm ticks/s | ticks/s received |")
    print("| --- | ---: | ---: |")
    print(
        f"| one terminal, symbols in turn | {median(polls, 'target_ticks_per_s'):,.0f} "
        f"| {median(polls, 'ticks_per_s'):,.0f} |"
    )
    print(json.dumps({"calls": results, "storm": {str(k): v for k, v in storms.items()}}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
