"""A node in this process: it visits the accounts its keyring can log in to, through jobs."""

from __future__ import annotations

import pytest

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
