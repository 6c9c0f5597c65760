"""Distributed carousel benchmark: one cycle over N accounts with a slow broker (S s per login), on
1, 2, 4 ... nodes of T sim terminals each — every node a process of its own standing for a machine,
all against one sim trade server and one private PostgreSQL cluster that this script starts.

For each node count it makes a fresh store, registers the accounts, starts the nodes
(``mt5-console node``), waits until every node's workers are up, starts the carousel and times its
first cycle (from the moment the planner started it to the end of its last visit, as the store
records them). Passwords come from a keyring backend that derives them from the login
(bench/bench_keyring.py): the OS keyring is not what is measured. Prints one line per node count:

    K node(s): cycle X s, ideal Y s (+Z%)

where the ideal is N × S / (T × K): the logins alone, spread over every terminal. The goal: within
10 % of it (docs/performance.md).

    .venv/bin/python bench/bench_distributed.py --accounts 1000 --latency 1 --nodes 1,2,4 --terminals 4
    .venv/bin/python bench/bench_distributed.py --accounts 40 --latency 0.5 --nodes 1,2 --terminals 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from app.core.storage import Database  # noqa: E402
from app.core.storage.schema import accounts as accounts_table  # noqa: E402
from app.core.times import to_ms, utc_now  # noqa: E402
from app.mt5.sim.admin import SimAdmin  # noqa: E402
from app.mt5.sim.process import start_server_process  # noqa: E402
from bench.bench_keyring import bench_password  # noqa: E402
from tests.support.postgres import running_cluster  # noqa: E402

SERVER = "SimBroker-Demo"
FIRST_LOGIN = 8_000_001
WEDNESDAY = ("--start", "2026-11-18T09:00:00+00:00", "--no-history")
CONFIG = """
[carousel]
autostart = false
cycle_interval_s = 86400
login_timeout_s = 60
[distributed]
heartbeat_interval_s = 5
heartbeat_timeout_s = 90
planner_interval_s = 0.5
[logging]
level = "WARNING"
"""


def open_accounts(admin: SimAdmin, count: int) -> list[int]:
    logins = [FIRST_LOGIN + n for n in range(count)]
    for login in logins:
        admin.create_account(login, bench_password(login), server=SERVER, balance=10_000.0)
    return logins


def register(url: str, logins: list[int]) -> None:
    with Database(url) as db:
        now = to_ms(utc_now())
        rows = [{"login": login, "server": SERVER, "created_ms": now, "updated_ms": now} for login in logins]
        db.call(lambda tx: tx.conn.execute(insert(accounts_table), rows))


def start_nodes(
    url: str, address: str, count: int, terminals: int, root: Path
) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "MT5C_STORAGE__URL": url,
        "PYTHON_KEYRING_BACKEND": "bench_keyring.DerivedKeyring",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
    }
    processes = []
    for n in range(1, count + 1):
        data_dir = root / f"node-{n}"
        data_dir.mkdir(parents=True, exist_ok=True)
        config = data_dir / "config.toml"
        config.write_text(CONFIG)
        command = [
            sys.executable, "-m", "app", "--config", str(config), "--data-dir", str(data_dir),
            "node", "--name", f"node-{n}", "--sim", "--sim-terminals", str(terminals),
            "--sim-server", address,
        ]  # fmt: skip
        with (data_dir / "stderr.txt").open("wb") as errors:  # a pipe nobody reads would block the node
            processes.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)  # noqa: S603
            )
    return processes


def wait_for_workers(db: Database, wanted: int, processes: list[subprocess.Popen[bytes]], root: Path) -> None:
    deadline = time.monotonic() + 600
    while True:
        workers = db.call(
            lambda tx: (
                tx.conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one()
                if tx.conn.execute(text("SELECT to_regclass('procrastinate_workers')")).scalar() is not None
                else 0
            ),
            readonly=True,
        )
        if workers >= wanted:
            return
        for process in processes:
            if process.poll() is not None:
                errors = "".join(p.read_text(errors="replace") for p in root.glob("node-*/stderr.txt"))
                raise RuntimeError(f"a node exited: {errors[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {workers} of {wanted} workers up after 10 minutes")
        time.sleep(0.5)


def one_cycle(db: Database, accounts: int) -> tuple[float, int, int, int]:
    """Start the carousel; its first cycle's time, visits done and failed, and its number."""
    db.call(lambda tx: tx.cycles.set_control(running=True, paused=False, by="bench", now=utc_now()))
    deadline = time.monotonic() + accounts * 30 + 600
    while True:
        finished = db.call(lambda tx: tx.cycles.last_finished(), readonly=True)
        if finished is not None and finished.duration_s is not None:
            number = finished.cycle
            counts = db.call(lambda tx, number=number: tx.cycles.counts(number), readonly=True)
            return finished.duration_s, counts.get("done", 0), counts.get("failed", 0), number
        if time.monotonic() > deadline:
            raise RuntimeError("the cycle did not end")
        time.sleep(0.5)


def breakdown(db: Database, cycle: int) -> dict[str, float]:
    """Where the cycle's time went, from the store's record of its visits: the wait for the first
    visit to start, a visit (claimed to stored: median and mean), the median gap between two visits
    on one terminal (storing one, and the job engine's hand-over to the next), and the most visits
    one terminal made."""

    def read(tx: Any) -> tuple[int, list[tuple[str, int, int]]]:
        started = tx.conn.execute(
            text("SELECT started_ms FROM cycles WHERE cycle = :c"), {"c": cycle}
        ).scalar_one()
        rows = tx.conn.execute(
            text(
                "SELECT node || '/' || terminal, started_ms, finished_ms FROM cycle_visits "
                "WHERE cycle = :c AND state = 'done' ORDER BY started_ms"
            ),
            {"c": cycle},
        ).all()
        return int(started), [(str(t), int(a), int(b)) for t, a, b in rows]

    started, rows = db.call(read, readonly=True)
    if not rows:
        return {}
    visits = sorted(b - a for _, a, b in rows)
    per_terminal: dict[str, list[tuple[int, int]]] = {}
    for terminal, a, b in rows:
        per_terminal.setdefault(terminal, []).append((a, b))
    gaps = sorted(
        later[0] - earlier[1]
        for spans in per_terminal.values()
        for earlier, later in zip(spans, spans[1:], strict=False)
    )
    return {
        "first_visit_s": (rows[0][1] - started) / 1000,
        "visit_median_s": visits[len(visits) // 2] / 1000,
        "visit_mean_s": sum(visits) / len(visits) / 1000,
        "gap_median_s": (gaps[len(gaps) // 2] / 1000) if gaps else 0.0,
        "busiest_terminal_visits": max(len(spans) for spans in per_terminal.values()),
    }


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per login")
    parser.add_argument("--nodes", default="1,2,4", help="node counts to measure, comma-separated")
    parser.add_argument("--terminals", type=int, default=4, help="sim terminals per node")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", type=Path, help="keep the nodes' data dirs (their logs) under this dir")
    args = parser.parse_args()
    counts = [int(n) for n in args.nodes.split(",")]
    results: list[dict[str, float]] = []
    # Per node: its job pool, one listening connection per worker, its store connections, listener, planner.
    connections = 20 + max(counts) * (2 * args.terminals + 6)
    with running_cluster(max_connections=connections) as cluster, tempfile.TemporaryDirectory() as scratch:
        tmp = str(args.keep) if args.keep else scratch
        sim = start_server_process(None, port=0, extra_args=WEDNESDAY)
        try:
            with SimAdmin(str(sim.address)) as admin:
                logins = open_accounts(admin, args.accounts)
                admin.set_login_latency(args.latency)
                for count in counts:
                    url = cluster.create_database()
                    register(url, logins)
                    nodes_root = Path(tmp) / f"k{count}"
                    processes = start_nodes(url, str(sim.address), count, args.terminals, nodes_root)
                    try:
                        with Database(url) as db:
                            wait_for_workers(db, count * args.terminals, processes, nodes_root)
                            took, done, failed, number = one_cycle(db, args.accounts)
                            where = breakdown(db, number)
                    finally:
                        stop(processes)
                    cluster.drop_database(url)
                    ideal = args.accounts * args.latency / (args.terminals * count)
                    over = (took / ideal - 1) * 100
                    load = os.getloadavg()[0]
                    print(
                        f"{count} node(s): cycle {took:.1f} s, ideal {ideal:.1f} s ({over:+.1f}%)"
                        f"   [load average {load:.1f} at the end]",
                        flush=True,
                    )
                    if where:
                        print(
                            f"   first visit after {where['first_visit_s']:.1f} s; a visit "
                            f"{where['visit_median_s']:.2f} s (mean {where['visit_mean_s']:.2f} s), "
                            f"between two on a terminal {where['gap_median_s']:.3f} s (medians); "
                            f"busiest terminal "
                            f"{where['busiest_terminal_visits']:.0f} visits",
                            flush=True,
                        )
                    if failed or done != args.accounts:
                        print(f"   {done} visited, {failed} failed", flush=True)
                    results.append(
                        {
                            "nodes": count,
                            "cycle_s": took,
                            "ideal_s": ideal,
                            "done": done,
                            "failed": failed,
                            "load": load,
                        }
                    )
        finally:
            sim.stop()
    if args.json:
        meta = {"accounts": args.accounts, "latency_s": args.latency, "terminals": args.terminals,
                "python": platform.python_version(), "results": results}  # fmt: skip
        args.json.write_text(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
