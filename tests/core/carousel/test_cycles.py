"""The carousel over real terminal workers and the simulated trade server: parallel cycles, failing
accounts that hold nobody up, deals stored once, terminal assignment, backoff, start/stop/pause."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from app.audit import AuditQuery, AuditReader, AuditTrail
from app.core.accounts import UnknownAccountError
from app.core.carousel import NoTerminalError, VisitFailed
from app.core.hub import Topic
from app.models import AccountAction, AccountStatus, AccountUpdate, CarouselStatus, OrderType
from tests.core.carousel.conftest import Harness
from tests.support.sim_fixtures import wait_until

pytestmark = pytest.mark.slow


async def test_a_cycle_visits_every_account_on_the_terminals_in_parallel(harness: Harness) -> None:
    accounts = [await harness.account(balance=1_000.0 + n) for n in range(4)]
    live, *others = await harness.terminals("t1", "t2", "t3")
    carousel = harness.carousel(harness.pool([live, *others]))
    events = harness.subscribe(Topic.ACCOUNTS, Topic.CAROUSEL)
    harness.admin.set_login_latency(0.5)

    started = time.monotonic()
    report = await carousel.run_cycle()
    took = time.monotonic() - started

    assert sorted(v.account.id for v in report.visits) == [a.id for a in accounts] and not report.failures
    assert took < 1.9, f"4 logins of 0.5 s on 2 terminals took {took:.1f} s: not in parallel"
    for account in accounts:
        fresh = await harness.fresh(account)
        assert fresh.status is AccountStatus.OK and fresh.last_snapshot_at is not None
        assert fresh.last_deal_sync_at is not None
    by_account = {v.account.id: v.snapshot for v in report.visits}
    first = by_account[accounts[0].id]
    assert (first.balance, first.equity, first.currency) == (1_000.0, 1_000.0, "USD")
    assert (first.open_positions, first.pending_orders, first.margin) == (0, 0, 0.0)
    assert await harness.stored_deals(accounts[0].id) == 1  # the first deposit

    published = events.drain()
    visited = [e.value for e in published if e.topic is Topic.ACCOUNTS]
    assert {u.account.id for u in visited if u.action is AccountAction.VISITED} == {a.id for a in accounts}
    statuses: list[CarouselStatus] = [e.value for e in published if e.topic is Topic.CAROUSEL]
    assert {t for s in statuses for t, _ in s.current} == {"t2", "t3"}  # never the live terminal
    assert max(len(s.current) for s in statuses) == 2  # both terminals at once
    last = carousel.status()
    assert (last.cycle, last.visited_in_cycle, last.accounts_in_cycle, last.errors_in_cycle) == (1, 4, 4, 0)
    assert last.terminals == ("t2", "t3") and last.current == () and last.last_cycle_s is not None


async def test_a_wrong_password_marks_that_account_while_the_cycle_goes_on(harness: Harness) -> None:
    good = [await harness.account() for _ in range(3)]
    wrong = await harness.account(registered_password="not-the-password")
    pool = harness.pool(await harness.terminals("t1", "t2"))
    carousel = harness.carousel(pool)

    report = await carousel.run_cycle()

    assert sorted(v.account.id for v in report.visits) == [a.id for a in good]
    assert list(report.failures) == [wrong.id]
    marked = await harness.fresh(wrong)
    assert marked.status is AccountStatus.ERROR
    assert marked.status_reason.startswith("login refused (wrong password, login or server?)")
    assert "not-the-password" not in marked.status_reason
    assert carousel.status().errors_in_cycle == 1 and carousel.status().visited_in_cycle == 4
    assert [(await harness.fresh(a)).status for a in good] == [AccountStatus.OK] * 3

    retry_at = carousel.retry_schedule()[wrong.id]
    assert retry_at > marked.updated_at  # backed off: the next cycle leaves it out ...
    again = await carousel.run_cycle()
    assert wrong.id not in again.failures and again.accounts == 3
    with pytest.raises(VisitFailed, match=r"visit to 7100004@SimBroker-Demo failed: login refused"):
        await carousel.sync_now(wrong.id)  # ... but a user may try it at once


async def test_a_hung_login_times_out_without_holding_up_the_other_terminals(harness: Harness) -> None:
    accounts = [await harness.account() for _ in range(5)]
    live, fine, hung = await harness.terminals("t1", "t2", "t3")
    carousel = harness.carousel(harness.pool([live, fine, hung]), login_timeout_s=3.0)
    harness.admin.set_faults("t3", hang=True, functions=["login"])

    started = time.monotonic()
    task = asyncio.create_task(carousel.run_cycle())
    # The other terminal visits the other four accounts while t3's login hangs.
    await wait_until(lambda: carousel.status().visited_in_cycle >= 4, within_s=20)
    assert time.monotonic() - started < 3.0, "the other terminal waited for the hung login"
    assert [t for t, _ in carousel.status().current] == ["t3"]
    report = await task
    harness.admin.clear_faults()

    assert len(report.visits) == 4 and len(report.failures) == 1
    (failed_id, reason) = next(iter(report.failures.items()))
    assert reason == "login timed out after 3 s"
    assert (await harness.fresh(next(a for a in accounts if a.id == failed_id))).status is AccountStatus.ERROR


async def test_a_deal_fetched_twice_is_stored_once(harness: Harness) -> None:
    account = await harness.account()
    (client,) = await harness.terminals("t1")
    carousel = harness.carousel(harness.pool([client]), share_live_terminal=True)
    await client.login(account.login, f"Pw-{account.login}", account.server)  # the live account: no switch
    opened = await harness.trade(client, OrderType.BUY)
    await harness.trade(client, OrderType.SELL, position=opened.order)

    first = await carousel.sync_now(account.id)
    second = await carousel.sync_now(account.id)

    stored = await harness.db.run(lambda tx: tx.deals.list(account.id), readonly=True)
    tickets = [d.ticket for d in stored]
    assert len(tickets) == len(set(tickets)) == 3  # deposit, buy, sell: each once
    assert second.taken_at > first.taken_at
    assert second.pnl == first.pnl  # the second fetch overlapped the first; nothing counted twice


async def test_an_assigned_account_is_visited_only_on_its_terminal(harness: Harness) -> None:
    live, t2, t3 = await harness.terminals("t1", "t2", "t3")
    on_t3 = [await harness.account(terminal="t3") for _ in range(3)]
    on_nowhere = await harness.account(terminal="t9")
    carousel = harness.carousel(harness.pool([live, t2, t3]))
    events = harness.subscribe(Topic.CAROUSEL)

    report = await carousel.run_cycle()

    assert {v.account.id for v in report.visits} == {a.id for a in on_t3}
    seen = {(t, a) for e in events.drain() for t, a in e.value.current}
    assert {t for t, a in seen if a in {x.id for x in on_t3}} == {"t3"}
    reason = report.failures[on_nowhere.id]
    assert reason == "assigned to terminal 't9', which is not in the pool (t1, t2, t3)"
    assert (await harness.fresh(on_nowhere)).status_reason == reason
    with pytest.raises(NoTerminalError, match="'t9', which is not in the pool"):
        await carousel.sync_now(on_nowhere.id)


async def test_sync_now_names_an_unknown_account_and_returns_the_snapshot(harness: Harness) -> None:
    account = await harness.account(balance=2_500.0)
    pool = harness.pool(await harness.terminals("t1", "t2"))
    carousel = harness.carousel(pool)
    with pytest.raises(UnknownAccountError, match="no account with id 99"):
        await carousel.sync_now(99)
    snapshot = await carousel.sync_now(account.id)
    assert (snapshot.account_key, snapshot.balance) == (account.key, 2_500.0)
    assert (await harness.fresh(account)).last_snapshot_at == snapshot.taken_at


async def test_start_pause_and_stop_are_published_and_audited(harness: Harness, tmp_path: Path) -> None:
    accounts = [await harness.account() for _ in range(2)]
    pool = harness.pool(await harness.terminals("t1", "t2"))
    with AuditTrail(tmp_path / "audit") as trail:
        carousel = harness.carousel(pool, audit=trail, cycle_interval_s=0.3)
        statuses = harness.subscribe(Topic.CAROUSEL)
        await carousel.start()  # autostart is off here
        assert not carousel.status().running

        status = await carousel.run("gui")
        assert status.running and status.terminals == ("t2",)
        await wait_until(lambda: carousel.status().cycle >= 2)  # cycles follow one another ...
        # Between cycles the next one is due; during one, accounts are being visited.
        await wait_until(lambda: carousel.status().next_due is not None or bool(carousel.status().current))
        carousel.pause()
        await wait_until(lambda: not carousel.status().current)
        paused_at = carousel.status().cycle
        await asyncio.sleep(0.8)
        assert carousel.status().paused and carousel.status().cycle == paused_at  # ... not while paused
        carousel.resume()
        await wait_until(lambda: carousel.status().cycle > paused_at)

        stopped = await carousel.halt("api:alice")
        assert not stopped.running and stopped.next_due is None
        cycle = carousel.status().cycle
        await asyncio.sleep(0.6)
        assert carousel.status().cycle == cycle
        assert (await carousel.halt("gui")).running is False  # stopping twice: nothing more recorded
        entries = AuditReader(tmp_path / "audit").query(AuditQuery(action="carousel"))
    assert [(e.actor, e.action) for e in entries] == [
        ("gui", "carousel.start"),
        ("api:alice", "carousel.stop"),
    ]
    assert entries[0].payload == {"terminals": ["t2"]}
    seen = [e.value for e in statuses.drain()]
    assert any(s.paused for s in seen) and seen[-1].running is False
    assert [(await harness.fresh(a)).status for a in accounts] == [AccountStatus.OK] * 2


async def test_a_removed_account_is_left_alone(harness: Harness) -> None:
    account = await harness.account()
    other = await harness.account()
    pool = harness.pool(await harness.terminals("t1", "t2"))
    carousel = harness.carousel(pool)
    await harness.registry.remove(account.id)
    report = await carousel.run_cycle()
    assert [v.account.id for v in report.visits] == [other.id]
    updates: list[AccountUpdate] = list(harness.hub.latest_all(Topic.ACCOUNTS).values())
    assert {u.account.id for u in updates if u.action is AccountAction.VISITED} == {other.id}


async def test_a_terminal_that_is_not_connected_takes_no_account(harness: Harness) -> None:
    accounts = [await harness.account() for _ in range(3)]
    live, up, down = await harness.terminals("t1", "t2", "t3")
    harness.admin.set_faults("t3", disconnected=True)
    await wait_until(lambda: not down.state.connected)
    carousel = harness.carousel(harness.pool([live, up, down]))
    events = harness.subscribe(Topic.CAROUSEL)

    report = await carousel.run_cycle()
    harness.admin.clear_faults()

    assert {v.account.id for v in report.visits} == {a.id for a in accounts} and not report.failures
    assert {t for e in events.drain() for t, _ in e.value.current} == {"t2"}
