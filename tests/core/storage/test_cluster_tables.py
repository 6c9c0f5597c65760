"""The distributed carousel's tables, on both backends: nodes and what each can log in to, the
carousel's switch, cycles and the life of a visit, the retry backoff."""

from __future__ import annotations

from datetime import timedelta

from app.core.storage import Database
from app.core.storage.cycles import PlannedVisit
from app.models import ManagedAccount, NewAccount
from tests.support.factories import utc

T0 = utc(2026, 11, 2, 9)


def _accounts(db: Database, count: int) -> list[ManagedAccount]:
    return [
        db.call(lambda tx, n=n: tx.accounts.insert(NewAccount(6000 + n, "Broker-Demo"), T0))
        for n in range(count)
    ]


def _announce(
    db: Database, name: str, accounts: list[int], *, at: object = T0, terminals: tuple[str, ...] = ("sim-1",)
) -> None:
    db.call(
        lambda tx: tx.nodes.announce(
            name,
            host="h",
            pid=1,
            version="v",
            terminals=terminals,
            accounts=accounts,
            started_at=T0,
            now=at,  # type: ignore[arg-type]
        )
    )


def test_a_node_announces_what_it_can_log_in_to_and_is_alive_while_it_beats(db: Database) -> None:
    a, b, c = _accounts(db, 3)
    _announce(db, "n1", [a.id, b.id, 999])  # 999: no such account (removed meanwhile): left out
    _announce(db, "n2", [c.id], terminals=("sim-1", "sim-2"))
    nodes = {n.name: n for n in db.call(lambda tx: tx.nodes.all())}
    assert nodes["n1"].accounts == {a.id, b.id} and nodes["n2"].terminals == ("sim-1", "sim-2")
    _announce(db, "n1", [b.id])  # its keyring lost a's password
    assert db.call(lambda tx: tx.nodes.all())[0].accounts == {b.id}

    later = T0 + timedelta(seconds=30)
    assert db.call(lambda tx: tx.nodes.beat("n1", later))
    assert [n.name for n in db.call(lambda tx: tx.nodes.live(later, timeout_s=10))] == ["n1"]  # n2 silent
    db.call(lambda tx: tx.nodes.stopped("n1", later))
    assert db.call(lambda tx: tx.nodes.live(later, timeout_s=10)) == []
    assert not db.call(lambda tx: tx.nodes.beat("n1", later))  # a stopped node announces itself again
    assert db.call(lambda tx: tx.nodes.all())[0].accounts == frozenset()
    db.call(lambda tx: tx.accounts.delete(c.id))
    assert db.call(lambda tx: tx.nodes.all())[1].accounts == frozenset()  # removed with the account


def test_the_carousel_switch_is_one_row(db: Database) -> None:
    assert db.call(lambda tx: tx.cycles.control()).changed_at is None
    db.call(lambda tx: tx.cycles.set_control(running=True, by="gui", now=T0))
    paused = db.call(lambda tx: tx.cycles.set_control(paused=True, by="api:admin", now=T0))
    assert (paused.running, paused.paused, paused.changed_by) == (True, True, "api:admin")


def test_a_visit_is_claimed_ended_once_and_its_cycle_finishes_with_the_last(db: Database) -> None:
    a, b, c = _accounts(db, 3)
    cycle = db.call(
        lambda tx: tx.cycles.start(
            "n1", T0, [PlannedVisit(b.id), PlannedVisit(a.id), PlannedVisit(c.id, "failed", "no node")]
        )
    )
    assert cycle == 1
    assert [(v.account_id, v.position, v.state) for v in db.call(lambda tx: tx.cycles.visits(1))] == [
        (b.id, 0, "queued"),
        (a.id, 1, "queued"),
        (c.id, 2, "failed"),
    ]
    at = T0 + timedelta(seconds=5)
    assert db.call(lambda tx: tx.cycles.claim(1, a.id, "n1", "sim-1", at))
    db.call(lambda tx: tx.cycles.requeue(1, a.id, "terminal restarting"))  # back for another terminal
    assert db.call(lambda tx: tx.cycles.visit(1, a.id)).state == "queued"
    assert db.call(lambda tx: tx.cycles.claim(1, a.id, "n2", "sim-1", at))  # a dead node's, taken over
    assert db.call(lambda tx: tx.cycles.end(1, a.id, "done", at))
    assert not db.call(lambda tx: tx.cycles.end(1, a.id, "done", at))  # a second run stores nothing
    assert not db.call(lambda tx: tx.cycles.claim(1, a.id, "n3", "sim-1", at))  # ... nor starts again
    assert db.call(lambda tx: tx.cycles.counts(1)) == {"done": 1, "queued": 1, "failed": 1}
    last = T0 + timedelta(seconds=9)
    db.call(lambda tx: tx.cycles.end(1, b.id, "done", last))
    db.call(lambda tx: tx.cycles.finish(1, T0 + timedelta(seconds=30)))
    finished = db.call(lambda tx: tx.cycles.last_finished())
    assert finished is not None and finished.duration_s == 9.0  # it ended with its last visit
    assert db.call(lambda tx: tx.cycles.start("n1", last, [])) == 2
    assert db.call(lambda tx: tx.cycles.prune(keep=1)) == 1
    assert db.call(lambda tx: tx.cycles.visits(1)) == []


def test_a_failing_account_waits_longer_after_each_failure(db: Database) -> None:
    (a,) = _accounts(db, 1)
    first = db.call(lambda tx: tx.cycles.failed(a.id, T0, 30, 100))
    second = db.call(lambda tx: tx.cycles.failed(a.id, T0, 30, 100))
    third = db.call(lambda tx: tx.cycles.failed(a.id, T0, 30, 100))
    assert [t - T0 for t in (first, second, third)] == [timedelta(seconds=s) for s in (30, 60, 100)]
    assert db.call(lambda tx: tx.cycles.not_due(T0 + timedelta(seconds=99))) == {a.id}
    db.call(lambda tx: tx.cycles.succeeded(a.id))
    assert db.call(lambda tx: tx.cycles.retry_schedule()) == {}


def test_the_planners_lease_is_one_nodes_until_it_runs_out(db: Database) -> None:
    assert db.call(lambda tx: tx.cycles.take_lease("n1", T0, 10))
    assert not db.call(lambda tx: tx.cycles.take_lease("n2", T0 + timedelta(seconds=5), 10))
    assert db.call(lambda tx: tx.cycles.take_lease("n1", T0 + timedelta(seconds=9), 10))  # renewed
    later = T0 + timedelta(seconds=20)  # n1 stopped renewing (dead, or cut off): n2 takes over
    assert db.call(lambda tx: tx.cycles.take_lease("n2", later, 10))
    assert db.call(lambda tx: tx.cycles.lease_holder(later)) == "n2"
    db.call(lambda tx: tx.cycles.give_up_lease("n2"))
    assert db.call(lambda tx: tx.cycles.take_lease("n1", later, 10))  # at once
