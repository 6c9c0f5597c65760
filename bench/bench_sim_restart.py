"""Sim server recovery benchmark: how long after a ``kill -9`` of the app's sim trade server do quotes
move again (figures go to docs/performance.md; the target is 5 s).

The whole runtime runs on the simulator as the window or ``--serve`` runs it (one terminal, a
Wednesday clock so EURUSD trades, the demo accounts' six months of history in the state dir unless
``--no-history``). Each round waits for the quote stream, kills the server process outright, and times
from the kill to: the dead process reaped and a new one listening, the live terminal logged in again,
and the first EURUSD quote newer than the kill on the hub (what the window and the dashboard show).
Each server runs ``STABLE_S`` before it is killed, so each death counts as a first one (the service
restarts a server that keeps dying with a growing backoff: that is not what is measured).

    .venv/bin/python bench/bench_sim_restart.py                 # 10 kills
    .venv/bin/python bench/bench_sim_restart.py --rounds 3 --no-history
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import load_settings  # noqa: E402
from app.core.credentials import CredentialStore  # noqa: E402
from app.core.hub import Topic  # noqa: E402
from app.logs import LogBus  # noqa: E402
from app.models import TerminalStatus  # noqa: E402
from app.mt5.backend import plan_terminals  # noqa: E402
from app.mt5.sim.admin import SimAdmin  # noqa: E402
from app.runtime import Runtime  # noqa: E402
from tests.support.keyrings import MemoryKeyring  # noqa: E402

SYMBOL = "EURUSD"
STABLE_S = 3.0


async def until(predicate: Callable[[], bool], limit_s: float = 120.0) -> float:
    """Poll ``predicate`` every 5 ms; the monotonic time it became true."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.005)
    return time.monotonic()


async def measure(rounds: int, history: bool) -> dict[str, object]:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-sim-restart-"))
    settings = load_settings(
        {
            "data_dir": data_dir,
            "terminals": {"sim": True, "sim_terminals": 1},
            "sim": {"start": "2026-11-18T09:00:00Z"},
            "carousel": {"autostart": False},
        },
        env_file=None,
    )
    runtime = Runtime(
        settings,
        LogBus(),
        plan_terminals(settings.terminals),
        credentials=CredentialStore(MemoryKeyring()),  # the OS keyring is not measured here
    )
    service = runtime.sim_server
    assert service is not None
    service.stable_after_s = STABLE_S
    if not history:
        service.extra_args = ("--no-history",)
    await runtime.start()
    live = runtime.pool.live
    rows: list[dict[str, float]] = []
    try:
        await until(lambda: live.state.status is TerminalStatus.LOGGED_IN)
        for n in range(1, rounds + 1):
            await until(lambda: runtime.hub.latest(Topic.QUOTES, SYMBOL) is not None)
            await asyncio.sleep(STABLE_S + 0.5)  # let the stream run; the server has run long enough
            with SimAdmin(service.address) as admin:
                server_now = int(admin.stats()["now"])
            pid = service.pid
            assert pid is not None
            killed = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            listening = await until(lambda n=n: service.restarts == n and service.running)  # type: ignore[misc]
            logged_in = await until(lambda: live.state.status is TerminalStatus.LOGGED_IN)
            quoted = await until(
                lambda since=server_now: runtime.hub.latest(Topic.QUOTES, SYMBOL).time_msc > since + 500
            )
            rows.append(
                {
                    "restarted_s": listening - killed,
                    "logged_in_s": logged_in - killed,
                    "quotes_s": quoted - killed,
                }
            )
            print(json.dumps({"round": n, **{k: round(v, 3) for k, v in rows[-1].items()}}), flush=True)
    finally:
        await runtime.stop()
    summary: dict[str, object] = {
        "rounds": rounds,
        "history": history,
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }
    for key in ("restarted_s", "logged_in_s", "quotes_s"):
        values = [row[key] for row in rows]
        summary[key] = {"median": round(statistics.median(values), 3), "max": round(max(values), 3)}
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-history", action="store_true", help="demo accounts without months of history")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.rounds, not args.no_history)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
