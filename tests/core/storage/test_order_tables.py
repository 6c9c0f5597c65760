"""The idempotency memory (client order ids) and the kill switches, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from app.core.storage import Database
from app.core.storage.client_orders import KillSwitch
from app.models import OrderRequest, OrderResult, OrderType, TradeAction
from tests.support.factories import utc

T0 = utc(2026, 11, 2, 9)
REQUEST = OrderRequest(
    TradeAction.DEAL,
    "EURUSD",
    0.1,
    OrderType.SELL,
    price=1.1,
    sl=1.2,
    comment="x #AAAAAAAAAA",
    client_id="c1",
)
RESULT = OrderResult(10009, True, 77, 78, 0.1, 1.1, 1.1, 1.10002, "done", client_id="c1", extra={"k": 1})


def test_an_order_round_trips_and_is_settled(db: Database) -> None:
    db.call(lambda tx: tx.client_orders.start("c1", "5001@Demo", "#AAAAAAAAAA", REQUEST, T0))
    stored = db.call(lambda tx: tx.client_orders.get("c1"))
    assert stored is not None
    assert (stored.state, stored.request, stored.result, stored.created_at) == ("sending", REQUEST, None, T0)
    assert [o.client_id for o in db.call(lambda tx: tx.client_orders.unsettled())] == ["c1"]

    later = T0 + timedelta(seconds=1)
    db.call(lambda tx: tx.client_orders.finish("c1", "done", later, result=RESULT, message="ok", code=0))
    done = db.call(lambda tx: tx.client_orders.get("c1"))
    assert done is not None
    assert (done.state, done.result, done.message, done.code, done.updated_at) == (
        "done",
        RESULT,
        "ok",
        0,
        later,
    )
    assert db.call(lambda tx: tx.client_orders.unsettled()) == []
    assert db.call(lambda tx: tx.client_orders.get("other")) is None


def test_one_order_per_client_id(db: Database) -> None:
    db.call(lambda tx: tx.client_orders.start("c1", "5001@Demo", "#A", REQUEST, T0))
    with pytest.raises(IntegrityError):
        db.call(lambda tx: tx.client_orders.start("c1", "5001@Demo", "#B", REQUEST, T0))
    stored = db.call(lambda tx: tx.client_orders.get("c1"))
    assert stored is not None and stored.tag == "#A"


def test_pruning_forgets_only_old_settled_ids(db: Database) -> None:
    for client_id, state in (("old-done", "done"), ("old-rejected", "rejected"), ("old-unknown", "unknown")):
        db.call(lambda tx, c=client_id: tx.client_orders.start(c, "a", "#", REQUEST, T0))
        db.call(lambda tx, c=client_id, s=state: tx.client_orders.finish(c, s, T0))  # type: ignore[misc]
    db.call(lambda tx: tx.client_orders.start("new", "a", "#", REQUEST, T0 + timedelta(days=2)))
    db.call(lambda tx: tx.client_orders.finish("new", "done", T0 + timedelta(days=2)))
    assert db.call(lambda tx: tx.client_orders.prune(T0 + timedelta(days=1))) == 2
    left = {c: db.call(lambda tx, c=c: tx.client_orders.get(c)) is not None for c in ("old-unknown", "new")}
    assert left == {"old-unknown": True, "new": True}


def test_a_kill_switch_trips_once_per_account_whatever_the_case_and_resets(db: Database) -> None:
    first = KillSwitch("5001@Broker-Demo", T0, 250.0, "daily loss")
    again = KillSwitch("5001@BROKER-DEMO", T0 + timedelta(hours=1), 300.0, "daily loss again")
    db.call(lambda tx: tx.kill_switches.trip(first))
    db.call(lambda tx: tx.kill_switches.trip(again))  # replaces the first: one switch per account
    db.call(lambda tx: tx.kill_switches.trip(KillSwitch("5002@Broker-Demo", T0, 1.0, "x")))
    switches = sorted(db.call(lambda tx: tx.kill_switches.all()), key=lambda s: s.account.lower())
    assert switches == [again, KillSwitch("5002@Broker-Demo", T0, 1.0, "x")]
    assert db.call(lambda tx: tx.kill_switches.reset("5001@broker-demo")) is True
    assert db.call(lambda tx: tx.kill_switches.reset("5001@broker-demo")) is False
    assert [s.account for s in db.call(lambda tx: tx.kill_switches.all())] == ["5002@Broker-Demo"]
