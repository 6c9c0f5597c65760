"""The database thread: every statement runs there, one job at a time; the event loop never waits."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError

from app.core.storage import Database, DatabaseClosedError, Tx, database_path
from app.models import NewAccount
from tests.support.factories import deal, utc


async def _max_loop_stall(work: asyncio.Future[Any], tick_s: float = 0.005) -> tuple[float, float]:
    """Run a heartbeat on the loop until ``work`` is done; return the longest gap between beats and
    the time the work took. A loop blocked by the work would show one gap as long as the work itself;
    a loop that only waits for a busy, shared CPU shows gaps much shorter than that."""
    started = last = time.perf_counter()
    worst = 0.0
    while not work.done():
        await asyncio.sleep(tick_s)
        now = time.perf_counter()
        worst, last = max(worst, now - last - tick_s), now
    return worst, last - started


async def test_a_slow_statement_does_not_block_the_event_loop(adb: Database) -> None:
    def slow(tx: Tx) -> str:
        time.sleep(0.5)  # a long fsync, a big query, another process holding the lock ...
        return "done"

    started = time.perf_counter()
    work = asyncio.ensure_future(adb.run(slow))
    stall, took = await _max_loop_stall(work)
    assert await work == "done"
    assert time.perf_counter() - started >= 0.5
    assert stall < took / 3, f"the loop stalled for {stall:.3f} s of the job's {took:.3f} s"


async def test_a_big_write_does_not_block_the_event_loop(adb: Database) -> None:
    account = await adb.run(lambda tx: tx.accounts.insert(NewAccount(1, "Demo"), utc(2026, 1, 1)))
    deals = [deal(utc(2026, 1, 1), ticket=t) for t in range(20_000)]
    work = asyncio.ensure_future(adb.run(lambda tx: tx.deals.upsert(account.id, deals)))
    stall, took = await _max_loop_stall(work)
    assert (await work).inserted == 20_000
    assert stall < took / 3, f"the loop stalled for {stall:.3f} s of the job's {took:.3f} s"


async def test_every_job_runs_on_the_one_database_thread_in_order(adb: Database) -> None:
    seen: list[tuple[int, int]] = []

    def job(n: int) -> int:
        seen.append((n, threading.get_ident()))
        return n

    results = await asyncio.gather(*(adb.run(lambda tx, n=n: job(n)) for n in range(50)))
    assert results == list(range(50))
    assert [n for n, _ in seen] == list(range(50))
    assert {ident for _, ident in seen} == {adb.thread_id}
    assert adb.thread_id != threading.get_ident()


def test_a_failing_job_rolls_back_everything_it_did(db: Database) -> None:
    def half_done(tx: Tx) -> None:
        tx.accounts.insert(NewAccount(1, "Demo"), utc(2026, 1, 1))
        raise ValueError("changed my mind")

    with pytest.raises(ValueError, match="changed my mind"):
        db.call(half_done)
    assert db.call(lambda tx: tx.accounts.list()) == []
    db.call(lambda tx: tx.accounts.insert(NewAccount(1, "Demo"), utc(2026, 1, 1)))  # still usable
    assert len(db.call(lambda tx: tx.accounts.list())) == 1


async def test_a_cancelled_caller_skips_a_job_that_has_not_started(adb: Database) -> None:
    release, ran = threading.Event(), threading.Event()
    blocker = asyncio.ensure_future(adb.run(lambda tx: release.wait(5)))
    waiting = asyncio.ensure_future(adb.run(lambda tx: ran.set()))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    release.set()
    await blocker
    await adb.run(lambda tx: None)  # everything queued before this has been handled
    assert not ran.is_set()


async def test_the_blocking_form_is_refused_on_the_event_loop(adb: Database) -> None:
    with pytest.raises(RuntimeError, match="would block the event loop"):
        adb.call(lambda tx: None)


def test_the_file_is_in_wal_mode_with_foreign_keys_on(data_dir: Path) -> None:
    with Database(database_path(data_dir)) as db:
        assert db.call(lambda tx: tx.conn.exec_driver_sql("PRAGMA journal_mode").scalar()) == "wal"
        assert db.call(lambda tx: tx.conn.exec_driver_sql("PRAGMA foreign_keys").scalar()) == 1
        assert db.call(lambda tx: tx.conn.exec_driver_sql("PRAGMA synchronous").scalar()) == 2  # FULL
        assert db.path == data_dir / "mt5-console.db"


def test_another_connection_can_read_while_the_app_holds_it(db: Database, target: Path | str) -> None:
    db.call(lambda tx: tx.accounts.insert(NewAccount(7, "Demo"), utc(2026, 1, 1)))
    if isinstance(target, Path):
        with sqlite3.connect(target) as other:
            assert other.execute("SELECT login FROM accounts").fetchall() == [(7,)]
        other.close()
    else:
        import psycopg

        with psycopg.connect(target) as pg:
            assert pg.execute("SELECT login FROM accounts").fetchall() == [(7,)]


def test_a_read_only_job_cannot_write(db: Database) -> None:
    with pytest.raises(DBAPIError, match="(?i)read.only|readonly"):
        db.call(lambda tx: tx.accounts.insert(NewAccount(1, "Demo"), utc(2026, 1, 1)), readonly=True)
    assert db.call(lambda tx: tx.accounts.list(), readonly=True) == []
    db.call(lambda tx: tx.accounts.insert(NewAccount(1, "Demo"), utc(2026, 1, 1)))  # a writer still can
    assert len(db.call(lambda tx: tx.accounts.list(), readonly=True)) == 1


def test_closed_database_refuses_work_and_reopens(target: Path | str) -> None:
    database = Database(target)
    with pytest.raises(DatabaseClosedError):
        database.call(lambda tx: None)
    with database:
        database.call(lambda tx: tx.accounts.insert(NewAccount(1, "Demo"), utc(2026, 1, 1)))
    database.close()  # twice is fine
    with pytest.raises(DatabaseClosedError):
        database.call(lambda tx: None)
    with database:
        assert [a.login for a in database.call(lambda tx: tx.accounts.list())] == [1]


def test_an_unusable_path_fails_to_open_and_leaves_no_thread(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    database = Database(blocker / "sub" / "mt5-console.db")
    with pytest.raises(OSError):
        database.open()
    assert not database.is_open


def test_reopening_while_other_threads_call_never_mixes_connections(target: Path | str) -> None:
    database = Database(target)
    database.open()
    database.call(lambda tx: tx.accounts.insert(NewAccount(1, "Demo"), utc(2026, 1, 1)))
    errors: list[BaseException] = []
    stop = threading.Event()

    def caller() -> None:
        while not stop.is_set():
            try:
                assert len(database.call(lambda tx: tx.accounts.list(), readonly=True)) == 1
            except DatabaseClosedError:
                pass
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)

    callers = [threading.Thread(target=caller) for _ in range(4)]
    for thread in callers:
        thread.start()
    for _ in range(30):
        database.close()
        database.open()
    stop.set()
    for thread in callers:
        thread.join()
    database.close()
    assert errors == []
