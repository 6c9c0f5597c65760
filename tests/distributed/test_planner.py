"""The planner on a real store, with nodes announced in it (no terminals needed): the cycle's order
as job priorities, a lock per account, accounts no node can log in to, backoff, stalled visits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.config import CarouselSettings, DistributedSettings
from app.core.storage import Database
from app.core.times import utc_now
from app.distributed.jobs import ensure_job_schema, job_app
from app.distributed.planner import Planner
from app.models import AccountStatus, NewAccount, Side
from tests.support.factories import position, snapshot

pytestmark = pytest.mark.postgres


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[tuple[Database, Planner]]:
    await ensure_job_schema(postgres_url)
    db = Database(postgres_url)
    await db.start()
    app = job_app(postgres_url)
    await app.open_async()
    planner = Planner(
        postgres_url,
        "n1",
        db,
        app,
        CarouselSettings(cycle_interval_s=0, retry_initial_s=60),
        DistributedSettings(heartbeat_interval_s=1, heartbeat_timeout_s=5),
    )
    try:
        yield db, planner
    finally:
        await app.close_async()
        await db.stop()


async def _account(db: Database, login: int, *, terminal: str | None = None) -> int:
    account = await db.run(
        lambda tx: tx.accounts.insert(NewAccount(login, "SimBroker-Demo", terminal_id=terminal), utc_now())
    )
    return account.id


async def _announce(
    db: Database, node: str, accounts: list[int], terminals: tuple[str, ...] = ("sim-1",)
) -> None:
    now = utc_now()
    await db.run(
        lambda tx: tx.nodes.announce(
            node,
            host="h",
            pid=1,
            version="v",
            terminals=terminals,
            accounts=accounts,
            started_at=now,
            now=now,
        )
    )


async def _jobs(db: Database) -> list[tuple[int, str, str, int, str]]:
    rows = await db.run(
        lambda tx: tx.conn.execute(
            text(
                "SELECT (args->>'account_id')::int, queue_name, lock, priority, status "
                "FROM procrastinate_jobs ORDER BY priority DESC"
            )
        ).all(),
        readonly=True,
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_a_cycle_becomes_jobs_in_the_carousels_order_each_under_its_accounts_lock(
    store: tuple[Database, Planner],
) -> None:
    db, planner = store
    quiet, busy, never = (await _account(db, 9001), await _account(db, 9002), await _account(db, 9003))
    orphan = await _account(db, 9004)
    now = utc_now()
    # quiet: seen a minute ago, no positions; busy: seen just now, with an open position; never: new.
    await db.run(lambda tx: tx.record_visit(quiet, snapshot(now - timedelta(minutes=1))))
    await db.run(
        lambda tx: tx.record_visit(
            busy, snapshot(now, positions=(position("EURUSD", Side.BUY, 0.1, 1.1, 5.0),))
        )
    )
    await _announce(db, "n1", [quiet, busy, never])
    await db.run(lambda tx: tx.cycles.set_control(running=True, by="test", now=now))

    assert await planner.tick() == 1
    jobs = await _jobs(db)
    # open positions first, then the never-seen (stale), then the quiet one; the orphan gets no job
    assert [(a, q, lock) for a, q, lock, _, _ in jobs] == [
        (busy, f"visit.{busy}", f"account.{busy}"),
        (never, f"visit.{never}", f"account.{never}"),
        (quiet, f"visit.{quiet}", f"account.{quiet}"),
    ]
    visits = {v.account_id: v for v in await db.run(lambda tx: tx.cycles.visits(1), readonly=True)}
    assert visits[orphan].state == "failed" and "no node can log in to it" in visits[orphan].reason
    orphaned = await db.run(lambda tx: tx.accounts.get(orphan), readonly=True)
    assert orphaned.status is AccountStatus.ERROR and "set-password" in orphaned.status_reason

    assert await planner.tick() is None  # the cycle is open: no second one
    assert len(await _jobs(db)) == 3


async def test_accounts_waiting_out_a_backoff_are_left_for_a_later_cycle(
    store: tuple[Database, Planner],
) -> None:
    db, planner = store
    ok, failing = await _account(db, 9101), await _account(db, 9102)
    now = utc_now()
    await db.run(lambda tx: tx.cycles.failed(failing, now, 60, 600))
    await _announce(db, "n1", [ok, failing])
    await db.run(lambda tx: tx.cycles.set_control(running=True, by="test", now=now))
    await planner.tick()
    assert [a for a, *_ in await _jobs(db)] == [ok]


async def test_a_visit_no_running_node_can_make_ends_as_failed_and_the_cycle_ends(
    store: tuple[Database, Planner],
) -> None:
    db, planner = store
    account = await _account(db, 9201)
    await _announce(db, "n1", [account])
    await db.run(lambda tx: tx.cycles.set_control(running=True, by="test", now=utc_now()))
    await planner.tick()
    await db.run(lambda tx: tx.nodes.stopped("n1", utc_now()))  # its only node went away
    planner._checked_at = None  # look closely at once (it does every CHECK_EVERY_S)
    await planner.tick()
    visit = await db.run(lambda tx: tx.cycles.visit(1, account), readonly=True)
    assert visit.state == "failed" and "no node can log in" in visit.reason
    assert [status for *_, status in await _jobs(db)] == ["cancelled"]
    await planner.tick()
    assert (await db.run(lambda tx: tx.cycles.latest(), readonly=True)).finished_at is not None


async def test_an_account_assigned_to_a_terminal_needs_a_node_with_that_terminal(
    store: tuple[Database, Planner],
) -> None:
    db, planner = store
    pinned = await _account(db, 9301, terminal="sim-3")
    await _announce(db, "n1", [pinned], terminals=("sim-1", "sim-2"))
    await db.run(lambda tx: tx.cycles.set_control(running=True, by="test", now=utc_now()))
    await planner.tick()
    visit = await db.run(lambda tx: tx.cycles.visit(1, pinned), readonly=True)
    assert visit.state == "failed" and "terminal 'sim-3'" in visit.reason
