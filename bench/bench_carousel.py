"""Carousel benchmark: cycle time over 100 accounts with a slow broker (1 s per login), on 1, 2 and 4
terminals of its own, and on one terminal shared with live trading (figures go to docs/performance.md).

The trade server runs as its own process with a login latency (``SimAdmin.set_login_latency``); the
accounts are opened there (``create_account``) and registered in a fresh database with their
passwords in an in-memory keyring (the OS keyring is not what is measured). Each scenario builds a pool
of real terminal workers — a live terminal plus N for the carousel, or the live terminal alone
(shared) — and times one full cycle (``Carousel.run_cycle``).

The goal: a cycle within 10 % of 100 × (login + snapshot) / N, where login and snapshot are measured
on their own first, on one terminal. The design this replaces waited a fixed 60 s per account:
100 minutes per cycle.

    .venv/bin/python bench/bench_carousel.py                      # 100 accounts, 1 s logins
    .venv/bin/python bench/bench_carousel.py --accounts 20 --latency 0.2 --terminals 1,2   # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from keyring.backend import KeyringBackend  # noqa: E402

from app.config import CarouselSettings  # noqa: E402
from app.core.accounts import AccountRegistry  # noqa: E402
from app.core.carousel import Carousel  # noqa: E402
from app.core.credentials import CredentialStore  # noqa: E402
from app.core.hub import EventHub  # noqa: E402
from app.core.storage import Database, database_path  # noqa: E402
from app.models import NewAccount  # noqa: E402
from app.mt5.client import TerminalClient  # noqa: E402
from app.mt5.pool import TerminalPool  # noqa: E402
from app.mt5.protocol import WorkerSpec  # noqa: E402
from app.mt5.sim.admin import SimAdmin  # noqa: E402
from app.mt5.sim.process import start_server_process  # noqa: E402
from app.mt5.sim_service import SimTradeServer  # noqa: E402

SERVER = "SimBroker-Demo"
FIRST_LOGIN = 6_000_001
WEDNESDAY = ("--start", "2026-11-18T09:00:00+00:00", "--no-history")
OLD_DESIGN_WAIT_S = 60.0  # the fixed wait per account of the design the carousel replaces


class BenchKeyring(KeyringBackend):
    """Passwords in a dict: the OS keyring is not what is measured here."""

    priority = 0  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


def password(login: int) -> str:
    return f"Bench-{login}"


async def terminals(address: str, names: list[str]) -> list[TerminalClient]:
    specs = [WorkerSpec(name, "sim", path=f"sim://{address}/{name}") for name in names]
    clients = [TerminalClient(spec, call_timeout=30, login_timeout=60) for spec in specs]
    await asyncio.gather(*(client.start() for client in clients))
    async with asyncio.timeout(120):
        while not all(client.state.connected for client in clients):  # noqa: ASYNC110 - polled state
            await asyncio.sleep(0.05)
    return clients


async def step_times(client: TerminalClient, logins: list[int]) -> tuple[float, float]:
    """Median login and snapshot (account, positions, orders) time on one terminal."""
    login_s, snapshot_s = [], []
    for login in logins:
        started = time.perf_counter()
        await client.login(login, password(login), SERVER)
        logged_in = time.perf_counter()
        await client.call("account")
        await client.call("positions")
        await client.call("orders")
        login_s.append(logged_in - started)
        snapshot_s.append(time.perf_counter() - logged_in)
    return statistics.median(login_s), statistics.median(snapshot_s)


async def cycle(registry: AccountRegistry, clients: list[TerminalClient], shared: bool) -> dict[str, float]:
    pool = TerminalPool(clients)
    settings = CarouselSettings(autostart=False, shared_pause_s=0.0, login_timeout_s=60)
    carousel = Carousel(
        registry, pool, EventHub(), settings, home_passwords=SimTradeServer.demo_password if shared else None
    )
    started = time.perf_counter()
    report = await carousel.run_cycle()
    took = time.perf_counter() - started
    if report.failures:
        raise RuntimeError(f"{len(report.failures)} visit(s) failed: {next(iter(report.failures.values()))}")
    return {"cycle_s": took, "visits": len(report.visits), "lends": pool.lends}


async def run(args: argparse.Namespace) -> dict[str, object]:
    results: dict[str, object] = {
        "accounts": args.accounts,
        "login_latency_s": args.latency,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {platform.system()}",
        "scenarios": [],
    }
    with tempfile.TemporaryDirectory() as scratch, start_server_process(None, extra_args=WEDNESDAY) as server:
        admin = SimAdmin(server.address)
        logins = [FIRST_LOGIN + n for n in range(args.accounts)]
        for login in logins:
            admin.create_account(login, password(login), balance=10_000.0)
        admin.set_login_latency(args.latency)
        db = Database(database_path(Path(scratch)))
        await db.start()
        registry = AccountRegistry(db, CredentialStore(BenchKeyring()))
        for login in logins:
            await registry.add(NewAccount(login, SERVER), password(login))

        (probe,) = await terminals(server.address, ["bench-probe"])
        login_s, snapshot_s = await step_times(probe, logins[:5])
        await probe.stop()
        results.update(login_s=login_s, snapshot_s=snapshot_s)
        print(f"login {login_s:.3f} s, snapshot {snapshot_s * 1000:.1f} ms (medians of 5, one terminal)")

        for count in args.terminal_counts:
            clients = await terminals(server.address, ["bench-live"] + [f"bench-{n}" for n in range(count)])
            try:
                measured = await cycle(registry, clients, shared=False)
            finally:
                await asyncio.gather(*(client.stop() for client in clients))
            ideal = args.accounts * (login_s + snapshot_s) / count
            row = {"terminals": count, "shared": False, "ideal_s": ideal, **measured}
            row["over_ideal"] = measured["cycle_s"] / ideal - 1
            results["scenarios"].append(row)  # type: ignore[union-attr]
            print(f"{count} terminal(s): cycle {measured['cycle_s']:.1f} s, ideal {ideal:.1f} s "
                  f"({row['over_ideal']:+.1%})")  # fmt: skip
        if args.shared:
            (live,) = await terminals(server.address, ["bench-shared"])
            try:
                measured = await cycle(registry, [live], shared=True)
            finally:
                await live.stop()
            # each visit: log in to the account, snapshot, log back in to the live account
            ideal = args.accounts * (2 * login_s + snapshot_s)
            row = {"terminals": 1, "shared": True, "ideal_s": ideal, **measured}
            row["over_ideal"] = measured["cycle_s"] / ideal - 1
            results["scenarios"].append(row)  # type: ignore[union-attr]
            print(f"1 shared terminal: cycle {measured['cycle_s']:.1f} s, ideal {ideal:.1f} s "
                  f"({row['over_ideal']:+.1%}), {measured['lends']} lends")  # fmt: skip
        await db.stop()
        admin.close()
    old = args.accounts * OLD_DESIGN_WAIT_S
    results["old_design_cycle_s"] = old
    print(f"old fixed-wait design: {old:.0f} s ({old / 60:.0f} minutes) per cycle")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--latency", type=float, default=1.0, help="login latency of the broker, seconds")
    parser.add_argument("--terminals", default="1,2,4", help="carousel terminal counts to measure")
    parser.add_argument(
        "--no-shared", dest="shared", action="store_false", help="skip the shared-terminal run"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    args.terminal_counts = [int(n) for n in args.terminals.split(",")]
    results = asyncio.run(run(args))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
