"""Store throughput on SQLite (and, with --postgres, on a private PostgreSQL cluster): carousel visits
recorded, deals upserted, snapshots added, one-statement jobs, the Exposure read (figures go to
docs/performance.md).

It uses only the stores' public API, so the same file runs on an older checkout too (that is how the
move to SQLAlchemy and Alembic was measured: this file against the code before and after)::

    .venv/bin/python bench/bench_storage.py                 # SQLite, the app's real file settings
    .venv/bin/python bench/bench_storage.py --postgres      # also PostgreSQL (needs initdb/pg_ctl)

Each figure is the median of ``--rounds`` rounds, each on a fresh database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.storage import Database  # noqa: E402
from app.models import AccountSnapshot, NewAccount  # noqa: E402
from tests.support.factories import deal, snapshot  # noqa: E402

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _visits(db: Database, accounts: int, deals_per_visit: int) -> float:
    """Visits recorded per second: every account's snapshot with its new deals, one job each."""
    ids = [
        db.call(lambda tx, n=n: tx.accounts.insert(NewAccount(10_000 + n, "Bench"), T0).id)
        for n in range(accounts)
    ]
    started = time.perf_counter()
    for cycle in range(3):
        for account_id in ids:
            at = T0 + timedelta(minutes=cycle)
            new = [deal(at - timedelta(seconds=i)) for i in range(deals_per_visit)]
            seen = snapshot(at)
            db.call(lambda tx, a=account_id, s=seen, d=new: tx.record_visit(a, s, d))
    return 3 * accounts / (time.perf_counter() - started)


def _deals(db: Database, count: int) -> tuple[float, float]:
    """Deals per second: a first sync of ``count`` deals, then the same fetched again (unchanged)."""
    account_id = db.call(lambda tx: tx.accounts.insert(NewAccount(1, "Bench"), T0).id)
    fetched = [deal(T0 + timedelta(seconds=i)) for i in range(count)]
    started = time.perf_counter()
    db.call(lambda tx: tx.deals.upsert(account_id, fetched))
    first = count / (time.perf_counter() - started)
    started = time.perf_counter()
    db.call(lambda tx: tx.deals.upsert(account_id, fetched))
    return first, count / (time.perf_counter() - started)


def _snapshots(db: Database, count: int) -> float:
    """Snapshots added per second, in one job."""
    account_id = db.call(lambda tx: tx.accounts.insert(NewAccount(1, "Bench"), T0).id)
    taken: list[AccountSnapshot] = [snapshot(T0 + timedelta(seconds=i)) for i in range(count)]
    started = time.perf_counter()
    db.call(lambda tx: [tx.snapshots.add(account_id, s) for s in taken])
    return count / (time.perf_counter() - started)


def _jobs(db: Database, count: int) -> tuple[float, float]:
    """Jobs per second: a read-only one-row read, and a one-row write, each its own transaction."""
    account_id = db.call(lambda tx: tx.accounts.insert(NewAccount(1, "Bench"), T0).id)
    started = time.perf_counter()
    for _ in range(count):
        db.call(lambda tx: tx.accounts.get(account_id), readonly=True)
    reads = count / (time.perf_counter() - started)
    started = time.perf_counter()
    for n in range(count):
        db.call(lambda tx, n=n: tx.snapshots.add(account_id, snapshot(T0 + timedelta(seconds=n))))
    return reads, count / (time.perf_counter() - started)


def _exposure(db: Database, accounts: int) -> float:
    """Milliseconds for the Exposure view's read: the latest snapshot of every account."""
    ids = [
        db.call(lambda tx, n=n: tx.accounts.insert(NewAccount(20_000 + n, "Bench"), T0).id)
        for n in range(accounts)
    ]
    db.call(
        lambda tx: [tx.snapshots.add(a, snapshot(T0 + timedelta(minutes=m))) for a in ids for m in range(10)]
    )
    times = []
    for _ in range(20):
        started = time.perf_counter()
        db.call(lambda tx: tx.snapshots.latest_all(), readonly=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _median(rounds: int, make: Callable[[], Database], measure: Callable[[Database], object]) -> object:
    results = []
    for _ in range(rounds):
        db = make()
        db.open()
        try:
            results.append(measure(db))
        finally:
            db.close()
    if isinstance(results[0], tuple):
        return tuple(statistics.median(r[i] for r in results) for i in range(len(results[0])))
    return statistics.median(results)  # type: ignore[type-var]


def run(name: str, make: Callable[[], Database], rounds: int) -> None:
    visits = _median(rounds, make, lambda db: _visits(db, 200, 20))
    first, again = _median(rounds, make, lambda db: _deals(db, 20_000))  # type: ignore[misc]
    snaps = _median(rounds, make, lambda db: _snapshots(db, 5_000))
    reads, writes = _median(rounds, make, lambda db: _jobs(db, 2_000))  # type: ignore[misc]
    exposure = _median(rounds, make, lambda db: _exposure(db, 200))
    print(f"{name}: visits recorded (snapshot + 20 new deals)  {visits:8.0f} /s")
    print(f"{name}: deals, first sync of 20,000                {first:8.0f} /s")
    print(f"{name}: deals, the same 20,000 again (unchanged)   {again:8.0f} /s")
    print(f"{name}: snapshots added (5,000 in one job)         {snaps:8.0f} /s")
    print(f"{name}: read-only one-row jobs                     {reads:8.0f} /s")
    print(f"{name}: one-snapshot write jobs (each committed)   {writes:8.0f} /s")
    print(f"{name}: latest snapshot of 200 accounts            {exposure:8.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="also on a private PostgreSQL cluster")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        counter = iter(range(1_000_000))
        run("sqlite", lambda: Database(Path(scratch) / f"bench-{next(counter)}.db"), args.rounds)
    if args.postgres:
        from tests.support.postgres import running_cluster

        with running_cluster() as cluster:
            run("postgresql", lambda: Database(cluster.create_database()), args.rounds)


if __name__ == "__main__":
    main()
