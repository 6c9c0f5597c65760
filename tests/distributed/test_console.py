"""A console pointed at the store shows the nodes' carousel live and drives it."""

from __future__ import annotations

import asyncio

import pytest

from app.config import CarouselSettings, DistributedSettings
from app.core.accounts import AccountRegistry
from app.core.credentials import CredentialStore
from app.core.hub import EventHub, Topic
from app.distributed.console import DistributedCarousel
from app.models import AccountAction, AccountStatus, AccountUpdate, CarouselStatus, NewAccount
from tests.distributed.conftest import FAST, SERVER, Cluster
from tests.support.keyrings import MemoryKeyring
from tests.support.postgres import PostgresCluster
from tests.support.sim_fixtures import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


async def _console(cluster: Cluster, hub: EventHub) -> DistributedCarousel:
    console = DistributedCarousel(
        cluster.url,
        cluster.db,
        hub,
        CarouselSettings(**FAST["carousel"]),
        DistributedSettings(**FAST["distributed"]),
    )
    await console.start()
    await asyncio.wait_for(console.listener.connected.wait(), 30)
    return console


async def test_a_console_shows_every_visit_and_the_progress_as_the_nodes_make_them(cluster: Cluster) -> None:
    accounts = [await cluster.account() for _ in range(4)]
    cluster.give("n1", *accounts[:2])
    cluster.give("n2", *accounts[2:])
    hub = EventHub()
    console = await _console(cluster, hub)
    seen = hub.subscribe([Topic.ACCOUNTS, Topic.CAROUSEL])
    try:
        await cluster.db.run(lambda tx: tx.cycles.set_control(running=False, by="test", now=_now()))
        await cluster.node("n1", terminals=1, carousel={"autostart": False})
        await cluster.node("n2", terminals=1, carousel={"autostart": False})
        # n1's logins take 3 s: its visit is under way long enough to be seen from here.
        cluster.admin.set_faults("n1-sim-1", login_latency_s=3.0)
        await console.run("gui")
        await wait_until(lambda: any(t == "n1/sim-1" for t, _ in console.status().current), within_s=30)
        visited: dict[int, AccountUpdate] = {}
        statuses: list[CarouselStatus] = []

        def collect() -> bool:
            for event in seen.drain():
                if event.topic is Topic.ACCOUNTS and event.value.action is AccountAction.VISITED:
                    visited[event.key] = event.value
                elif event.topic is Topic.CAROUSEL:
                    statuses.append(event.value)
            status = console.status()
            return len(visited) == 4 and status.cycle >= 1 and status.visited_in_cycle == 4

        await wait_until(collect, within_s=60)
        assert {update.account.id for update in visited.values()} == {a.id for a in accounts}
        assert all(u.account.status is AccountStatus.OK and u.snapshot is not None for u in visited.values())
        assert any(s.current for s in statuses), "the visit under way was published on the hub"
        status = console.status()
        assert status.running and status.accounts_in_cycle == 4 and status.errors_in_cycle == 0
        assert sorted(status.terminals) == ["n1/sim-1", "n2/sim-1"]

        halted = await console.halt("gui")
        assert not halted.running
        snapshot = await console.sync_now(accounts[0].id)  # a Sync now runs with the carousel stopped
        assert snapshot.account_key == accounts[0].key
    finally:
        seen.close()
        await console.stop()


async def test_a_password_added_on_a_console_is_checked_at_once_by_a_node_that_holds_it(
    cluster: Cluster,
) -> None:
    """Adding an account on a console (the registry's verifier is the console's) has a node log in to
    it now, with the password that node's keyring holds: a wrong one is an error at once, never ok;
    the right one is ok — with the carousel stopped, so no cycle did it."""
    hub = EventHub()
    console = await _console(cluster, hub)
    registry = AccountRegistry(cluster.db, CredentialStore(MemoryKeyring()), hub=hub)
    registry.verifier = console.verify
    right, wrong = cluster.next_login, cluster.next_login + 1
    cluster.next_login += 2
    for login in (right, wrong):
        cluster.admin.create_account(login, f"Pw-{login}", server=SERVER, balance=1_000.0)
    node_keyring = CredentialStore(cluster.keyring("n1"))
    node_keyring.store(right, SERVER, f"Pw-{right}")
    node_keyring.store(wrong, SERVER, "not-the-password")
    try:
        await cluster.node("n1", terminals=1, carousel={"autostart": False})
        added = [await registry.add(NewAccount(login, SERVER), f"Pw-{login}") for login in (right, wrong)]
        assert [a.status for a in added] == [AccountStatus.PENDING] * 2

        async def statuses() -> list[AccountStatus]:
            rows = await cluster.db.run(lambda tx: [tx.accounts.get(a.id) for a in added], readonly=True)
            return [row.status for row in rows if row is not None]

        settled: list[AccountStatus] = []

        async def poll() -> bool:
            settled[:] = await statuses()
            return AccountStatus.PENDING not in settled

        deadline = asyncio.get_running_loop().time() + 60
        while not await poll():
            assert asyncio.get_running_loop().time() < deadline, f"still {settled}"
            await asyncio.sleep(0.2)
        assert settled == [AccountStatus.OK, AccountStatus.ERROR]
        control = await cluster.db.run(lambda tx: tx.cycles.control(), readonly=True)
        latest = await cluster.db.run(lambda tx: tx.cycles.latest(), readonly=True)
        assert not control.running and latest is None  # a Sync now did it, no cycle
    finally:
        await console.stop()


async def test_a_console_hears_the_store_again_after_postgresql_restarts_and_reads_what_it_missed(
    cluster: Cluster, postgres_cluster: PostgresCluster
) -> None:
    hub = EventHub()
    console = await _console(cluster, hub)
    seen = hub.subscribe([Topic.ACCOUNTS])
    published: set[int] = set()

    def heard(account_id: int) -> bool:
        published.update(event.key for event in seen.drain())
        return account_id in published

    try:
        before = await cluster.account()
        await wait_until(lambda: heard(before.id), within_s=30)
        await asyncio.to_thread(postgres_cluster.restart)
        # Made as soon as the store is back, perhaps before the console listens again: its NOTIFY may be
        # lost, and reading everything after reconnecting must find it.
        missed = await cluster.account()
        await wait_until(lambda: console.listener.connections >= 2, within_s=60)
        await wait_until(lambda: heard(missed.id), within_s=30)
        later = await cluster.account()  # and it hears the store's NOTIFY again
        await wait_until(lambda: heard(later.id), within_s=30)
        status = await console.refresh()
        assert status.terminals == ()  # no node runs: the progress is read again all the same
    finally:
        seen.close()
        await console.stop()


def _now():  # type: ignore[no-untyped-def]
    from app.core.times import utc_now

    return utc_now()
