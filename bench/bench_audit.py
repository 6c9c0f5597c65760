"""Audit trail append benchmark: appends/s and p50/p99 latency, each append written and fsynced.

Three ways the app appends:

* ``sync``: ``append_sync`` one after another (the CLI);
* ``async``: ``await trail.append`` one after another (one order at a time through the trading service);
* ``async xN``: N tasks appending at once (many orders, logins, carousel events): the writer thread
  commits whatever queued up with one fsync (group commit).

Each scenario runs ``--rounds`` times on a fresh trail; the figures are the medians over the rounds (the
reference machine's disk is shared and noisy). Run: ``.venv/bin/python bench/bench_audit.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.audit import AuditTrail, verify_trail  # noqa: E402 - after the path set-up
from app.audit.writer import Fsync, full_fsync  # noqa: E402

PAYLOAD = {
    "client_id": "5c0f6c3e-3d0b-4a59-9a43-3a0d5b3f4e21",
    "symbol": "EURUSD",
    "side": "buy",
    "type": "market",
    "volume": 0.1,
    "price": 1.08423,
    "sl": 1.07923,
    "tp": 1.09423,
    "deviation": 10,
    "comment": "bench",
}


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def stats(latencies: list[float], elapsed: float) -> dict[str, float]:
    return {
        "appends_per_s": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
    }


def slow_fsync(extra_s: float) -> Fsync:
    """The real fsync plus ``extra_s``: what a slower disk (a laptop SSD, a spinning disk) would cost."""

    def fsync(fd: int) -> None:
        full_fsync(fd)
        time.sleep(extra_s)

    return fsync


FSYNC: Fsync = full_fsync


def run_sync(directory: Path, count: int) -> dict[str, float]:
    with AuditTrail(directory, fsync=FSYNC) as trail:
        latencies = []
        started = time.perf_counter()
        for n in range(count):
            t0 = time.perf_counter()
            trail.append_sync("cli", "order.intent", account="5001@Sim-Demo", payload={**PAYLOAD, "n": n})
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
    return stats(latencies, elapsed)


def run_async(directory: Path, count: int, tasks: int) -> dict[str, float]:
    async def main() -> dict[str, float]:
        trail = AuditTrail(directory, fsync=FSYNC)
        await trail.start()
        latencies: list[float] = []

        async def producer(first: int) -> None:
            for n in range(first, count, tasks):
                t0 = time.perf_counter()
                await trail.append(
                    "gui", "order.intent", account="5001@Sim-Demo", payload={**PAYLOAD, "n": n}
                )
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(producer(first) for first in range(tasks)))
        elapsed = time.perf_counter() - started
        await trail.stop()
        return stats(latencies, elapsed)

    return asyncio.run(main())


def filesystem_of(path: Path) -> str:
    """The mount (device and type) holding ``path``, from /proc/mounts where there is one."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown"
    best = max(
        (m for m in mounts if str(path.resolve()).startswith(m[1])), key=lambda m: len(m[1]), default=None
    )
    return f"{best[0]} ({best[2]}) on {best[1]}" if best else "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temporary dir)")
    parser.add_argument("--count", type=int, default=2_000, help="appends per scenario and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16, help="tasks in the concurrent scenario")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--extra-fsync-ms", type=float, default=0.0, help="add this to every fsync (simulate a slower disk)"
    )
    args = parser.parse_args()
    global FSYNC
    if args.extra_fsync_ms:
        FSYNC = slow_fsync(args.extra_fsync_ms / 1000)

    base = Path(tempfile.mkdtemp(prefix="bench-audit-", dir=args.dir))
    scenarios: dict[str, Callable[[Path], dict[str, float]]] = {
        "sync": lambda d: run_sync(d, args.count),
        "async": lambda d: run_async(d, args.count, 1),
        f"async x{args.concurrency}": lambda d: run_async(d, args.count, args.concurrency),
    }
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "filesystem": filesystem_of(base),
            "extra_fsync_ms": args.extra_fsync_ms,
        },
        "count": args.count,
        "rounds": args.rounds,
        "scenarios": {},
    }
    for name, scenario in scenarios.items():
        rounds = []
        for index in range(args.rounds):
            directory = base / f"{name.replace(' ', '_')}-{index}" / "audit"
            rounds.append(scenario(directory))
            assert verify_trail(directory).entries == args.count
        results["scenarios"][name] = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    machine = results["machine"]
    print(f"{machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']}")
    extra = f" + {args.extra_fsync_ms:g} ms simulated per fsync" if args.extra_fsync_ms else ""
    print(f"disk: {machine['filesystem']}{extra}; {args.count} appends x {args.rounds} rounds, medians")
    print(f"{'scenario':<12} {'appends/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, figures in results["scenarios"].items():
        print(
            f"{name:<12} {figures['appends_per_s']:>10.0f} {figures['p50_ms']:>8.2f} "
            f"{figures['p99_ms']:>8.2f} {figures['max_ms']:>8.2f}"
        )


if __name__ == "__main__":
    main()
