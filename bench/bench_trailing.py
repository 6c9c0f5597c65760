"""Client-side trailing stops: the CPU time each tick batch costs the trailing service, with 1 to 500
trailed positions on the batch's symbol, when no SL moves (the steady state: the price is not beyond
the distance) and when every position's SL moves (each then starts one modify; the modify itself is
the trading service's and not counted here).

    .venv/bin/python bench/bench_trailing.py [--batches 20000]

CPU time (``time.process_time``) per batch, the median of 5 runs; the machine load is printed with it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core.hub import EventHub  # noqa: E402
from app.core.trailing import TrailingService  # noqa: E402
from app.models import FillPolicy, OrderResult, Position, Side, SymbolSpec, SymbolTradeMode, TickBatch  # noqa: E402

SPEC = SymbolSpec(
    "EURUSD", "Euro vs US Dollar", 5, 0.00001, 100_000, 0.01, 100, 0.01, 10, 0, 0.00001, 1.0,
    "EUR", "USD", "EUR", SymbolTradeMode.FULL, frozenset({FillPolicy.FOK}),
)  # fmt: skip
NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)


class NoModify:
    async def modify_position(self, ticket: int, sl: float, tp: float, **_: Any) -> OrderResult:
        raise AssertionError("not reached: the bench runs no loop")


def service(count: int) -> TrailingService:
    positions = tuple(
        Position(i, "EURUSD", Side.BUY, 0.1, 1.10000, 1.1, 0.0, 0.0, 0.0, 0.0, NOW, NOW) for i in range(count)
    )
    market = SimpleNamespace(cached_spec=lambda _s: SPEC, hold=lambda *_a: None, subscribed=["EURUSD"])
    account = SimpleNamespace(positions=positions, account=SimpleNamespace(key="5001@Demo"))
    trailing = TrailingService(None, EventHub(), market, NoModify(), account)  # type: ignore[arg-type]
    trailing._stops = {("5001@Demo", p.ticket): 20 for p in positions}  # noqa: SLF001 - set up directly
    trailing.observe_positions(positions)
    return trailing


def batch(bid: float, ticks: int = 5) -> TickBatch:
    bids = np.full(ticks, bid)
    return TickBatch("EURUSD", np.arange(ticks, dtype=np.int64), bids, bids + 0.0001, np.zeros(ticks),
                     np.zeros(ticks), np.full(ticks, 6, dtype=np.int64))  # fmt: skip


def per_batch_us(count: int, batches: int, moving: bool) -> float:
    trailing = service(count)
    quiet = batch(1.10010)  # 10 points in profit: under the 20-point distance, nothing moves
    runs = []
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    for _ in range(5):
        start = time.process_time()
        if moving:
            for i in range(batches):
                trailing.in_flight.clear()
                trailing._sent.clear()  # noqa: SLF001 - every batch moves every SL again
                trailing._spawn = lambda coro, _name: coro.close()  # type: ignore[method-assign]  # noqa: SLF001
                trailing.check(batch(1.10030 + (i % 50) * 1e-5))
        else:
            for _ in range(batches):
                trailing.check(quiet)
        runs.append((time.process_time() - start) / batches * 1e6)
    loop.close()
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=20_000)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print("trailed positions | CPU µs per batch, nothing moves | CPU µs per batch, every SL moves")
    for count in (1, 50, 500):
        batches = max(200, args.batches // count)
        quiet = per_batch_us(count, batches, moving=False)
        moving = per_batch_us(count, max(100, batches // 4), moving=True)
        print(f"{count:17d} | {quiet:31.1f} | {moving:31.1f}")


if __name__ == "__main__":
    main()
