"""A node in this process: it visits the accounts its keyring can log in to, through jobs."""

from __future__ import annotations

import asyncio

import pytest

from app.core.storage.cycles import PlannedVisit
from app.distributed.visits import VisitPlace
from app.models import AccountStatus
from tests.distributed.conftest import Cluster
from tests.support.sim_fixtures import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


async def _cycle_done(cluster: Cluster, number: int, within_s: float = 60) -> None:
    async def done() -> bool:
        latest = await cluster.db.run(lambda tx: tx.cycles.latest(), readonly=True)
        return latest is not None and latest.cycle >= number and latest.finished_at is not None

    flag = {"v": False}

    async def poll() -> None:
        flag["v"] = await done()

    import asyncio

    deadline = asyncio.get_running_loop().time() + within_s
    while not flag["v"]:
        await poll()
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"cycle {number} did not end within {within_s} s")
        await asyncio.sleep(0.1)


async def test_a_node_visits_what_its_keyring_holds_and_marks_the_rest(cluster: Cluster) -> None:
    served = [await cluster.account() for _ in range(3)]
    orphan = await cluster.account()
    cluster.give("n1", *served)
    node = await cluster.node("n1", terminals=2)
    assert node.served == {a.id for a in served}
    await _cycle_done(cluster, 1)
    accounts = {a.id: a for a in await cluster.db.run(lambda tx: tx.accounts.list(), readonly=True)}
    assert [accounts[a.id].status for a in served] == [AccountStatus.OK] * 3
    assert accounts[orphan.id].status is AccountStatus.ERROR
    assert "no node can log in to it" in accounts[orphan.id].status_reason
    visits = await cluster.db.run(lambda tx: tx.cycles.visits(1), readonly=True)
    assert {v.account_id: v.state for v in visits} == {
        **{a.id: "done" for a in served},
        orphan.id: "failed",
    }
    assert {v.node for v in visits if v.state == "done"} == {"n1"}
    await wait_until(lambda: node.visits.stored >= 3)


async def test_a_visit_run_twice_stores_nothing_twice(cluster: Cluster) -> None:
    account = await cluster.account()
    cluster.admin.deposit(account.login, 50.0, "a deal to fetch")
    cluster.give("n1", account)
    node = await cluster.node("n1", terminals=1, carousel={"autostart": False})
    await cluster.db.run(lambda tx: tx.cycles.start("test", _now(), [PlannedVisit(account.id)]))
    place = VisitPlace("n1", node.pool.clients[0])

    first = await node.visits.run(place, account.id, 1, 0)
    # The same job again: its node died after storing, before the job engine heard of it.
    again = await node.visits.run(place, account.id, 1, 0)
    assert first.startswith("stored") and again == "ended already"
    counts = await cluster.db.run(
        lambda tx: (tx.snapshots.count(account.id), tx.deals.count(account.id)), readonly=True
    )
    assert counts == (1, 2)  # one snapshot; the opening balance and the deposit, once each
    # A visit that is not a cycle's (a "Sync now") stores a new snapshot; the deals stay one row each.
    assert (await node.visits.run(place, account.id, 0, 0)).startswith("stored")
    assert await cluster.db.run(lambda tx: tx.deals.count(account.id), readonly=True) == 2


async def test_a_password_set_on_a_running_node_is_served_at_once(cluster: Cluster) -> None:
    account = await cluster.account()
    node = await cluster.node("n1", terminals=1, carousel={"autostart": False})
    assert node.served == set()
    cluster.give("n1", account)  # what `accounts set-password` does, then it tells the nodes:
    await cluster.db.run(
        lambda tx: tx.conn.exec_driver_sql(f"SELECT pg_notify('mt5c_accounts', '{account.id}')")
    )

    async def announced() -> bool:
        nodes = await cluster.db.run(lambda tx: tx.nodes.all(), readonly=True)
        return nodes[0].accounts == {account.id}

    flag = {"ok": False}

    async def poll() -> None:
        flag["ok"] = await announced()

    for _ in range(100):
        await poll()
        if flag["ok"]:
            break
        await asyncio.sleep(0.1)
    assert flag["ok"], "the node announced the account it can log in to now"
    assert node.served == {account.id}


def _now():  # type: ignore[no-untyped-def]
    from app.core.times import utc_now

    return utc_now()
