"""The tables: the registry's rules, snapshots for curves and exposure, deals stored once, retention."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from app.core.pnl import PnLCalendar
from app.core.storage import ConflictError, Database, RetentionPolicy, Tx
from app.models import AccountEdit, AccountStatus, DealType, ManagedAccount, NewAccount, Side
from tests.support.factories import deal, position, snapshot, utc

T0 = utc(2026, 11, 2, 9)


def add(db: Database, login: int = 5001, server: str = "Broker-Demo", **fields: object) -> ManagedAccount:
    new = NewAccount(login, server, **fields)  # type: ignore[arg-type]
    return db.call(lambda tx: tx.accounts.insert(new, T0))


# ----------------------------------------------------------------------------- accounts


def test_an_account_row_round_trips(db: Database) -> None:
    account = add(db, broker="Broker Ltd", alias="main", terminal_id="T1", enabled=False)
    assert (account.login, account.server, account.broker, account.alias) == (
        5001,
        "Broker-Demo",
        "Broker Ltd",
        "main",
    )
    assert (account.terminal_id, account.enabled, account.status) == ("T1", False, AccountStatus.PENDING)
    assert account.created_at == account.updated_at == T0
    assert account.last_snapshot_at is None and account.last_deal_sync_at is None
    assert db.call(lambda tx: tx.accounts.get(account.id)) == account
    assert db.call(lambda tx: tx.accounts.find(5001, "broker-demo")) == account  # server: any case


def test_login_and_server_are_unique_whatever_the_case(db: Database) -> None:
    add(db)
    with pytest.raises(ConflictError, match="5001@BROKER-DEMO is already registered"):
        add(db, server="BROKER-DEMO")
    add(db, server="Broker-Live")
    add(db, login=5002)
    assert len(db.call(lambda tx: tx.accounts.list())) == 3


def test_edit_keeps_clears_and_sets(db: Database) -> None:
    account = add(db, broker="B", alias="main", terminal_id="T1")
    later = T0 + timedelta(hours=1)
    edited = db.call(lambda tx: tx.accounts.update(account.id, AccountEdit(alias="", terminal_id=""), later))
    assert edited is not None
    assert (edited.broker, edited.alias, edited.terminal_id) == ("B", "", None)
    assert edited.updated_at == later and edited.created_at == T0
    edited = db.call(
        lambda tx: tx.accounts.update(account.id, AccountEdit(enabled=False, terminal_id="T2"), later)
    )
    assert edited is not None and (edited.enabled, edited.terminal_id) == (False, "T2")
    assert db.call(lambda tx: tx.accounts.update(999, AccountEdit(alias="x"), later)) is None


def test_an_id_is_never_given_again(db: Database) -> None:
    # Audit entries, API clients and in-flight carousel visits name accounts by id: a removed
    # account's id must never come to mean another account.
    first = add(db)
    db.call(lambda tx: tx.accounts.delete(first.id))
    second = add(db)
    assert second.id > first.id


def test_status_and_enabled_filter(db: Database) -> None:
    first, second = add(db), add(db, login=5002, enabled=False)
    failed = db.call(lambda tx: tx.accounts.set_status(first.id, AccountStatus.ERROR, "invalid password", T0))
    assert failed is not None and (failed.status, failed.status_reason) == (
        AccountStatus.ERROR,
        "invalid password",
    )
    assert [a.id for a in db.call(lambda tx: tx.accounts.list(enabled_only=True))] == [first.id]
    assert [a.id for a in db.call(lambda tx: tx.accounts.list())] == [first.id, second.id]


def test_deleting_an_account_deletes_its_history(db: Database) -> None:
    account, other = add(db), add(db, login=5002)
    for target in (account, other):
        db.call(lambda tx, a=target: tx.record_visit(a.id, snapshot(T0), [deal(T0, profit=1.0)]))
    assert db.call(lambda tx: tx.accounts.delete(account.id)) is True
    assert db.call(lambda tx: tx.accounts.delete(account.id)) is False
    assert db.call(lambda tx: (tx.snapshots.count(account.id), tx.deals.count(account.id))) == (0, 0)
    assert db.call(lambda tx: (tx.snapshots.count(other.id), tx.deals.count(other.id))) == (1, 1)


def test_rows_for_an_unknown_account_are_refused(db: Database) -> None:
    with pytest.raises(IntegrityError, match="(?i)foreign key"):
        db.call(lambda tx: tx.snapshots.add(999, snapshot(T0)))
    with pytest.raises(IntegrityError, match="(?i)foreign key"):
        db.call(lambda tx: tx.deals.upsert(999, [deal(T0)]))
    assert db.call(lambda tx: (tx.snapshots.count(), tx.deals.count())) == (0, 0)


# ----------------------------------------------------------------------------- deals


def test_a_deal_fetched_twice_is_stored_once(db: Database) -> None:
    account = add(db)
    fetched = [deal(T0 + timedelta(minutes=i), profit=float(i)) for i in range(5)]
    first = db.call(lambda tx: tx.deals.upsert(account.id, fetched))
    again = db.call(lambda tx: tx.deals.upsert(account.id, fetched[2:] + [deal(T0 + timedelta(hours=1))]))
    assert (first.inserted, first.updated, first.unchanged) == (5, 0, 0)
    assert (again.inserted, again.updated, again.unchanged) == (1, 0, 3)
    assert db.call(lambda tx: tx.deals.count(account.id)) == 6
    assert db.call(lambda tx: tx.deals.list(account.id))[:5] == fetched


def test_the_same_ticket_on_two_accounts_is_two_deals_and_a_changed_deal_is_updated(db: Database) -> None:
    first, second = add(db), add(db, server="Broker-Live")
    original = deal(T0, ticket=42, profit=10.0)
    db.call(lambda tx: (tx.deals.upsert(first.id, [original]), tx.deals.upsert(second.id, [original])))
    corrected = replace(original, comment="[tp 1.1000]", swap=-0.3)
    result = db.call(lambda tx: tx.deals.upsert(first.id, [corrected]))
    assert (result.inserted, result.updated) == (0, 1)
    assert db.call(lambda tx: tx.deals.get(first.id, 42)) == corrected
    assert db.call(lambda tx: tx.deals.get(second.id, 42)) == original


def test_every_field_of_a_deal_survives(db: Database) -> None:
    account = add(db)
    for kind in DealType:
        original = deal(T0 + timedelta(milliseconds=123), type=kind, profit=-1.25, swap=0.5, fee=-0.01)
        original = replace(original, magic=77, comment="ünïcode ✓")
        db.call(lambda tx, d=original: tx.deals.upsert(account.id, [d]))
        assert db.call(lambda tx, d=original: tx.deals.get(account.id, d.ticket)) == original


def test_deals_by_time_range_and_latest_time(db: Database) -> None:
    account = add(db)
    deals = [
        deal(utc(2026, 11, 1), type=DealType.BALANCE, profit=1000.0),
        deal(utc(2026, 11, 2), profit=1.0),
        deal(utc(2026, 11, 3), profit=2.0),
    ]
    db.call(lambda tx: tx.deals.upsert(account.id, reversed(deals)))
    assert db.call(lambda tx: tx.deals.latest_time(account.id)) == utc(2026, 11, 3)
    in_range = db.call(lambda tx: tx.deals.list(account.id, utc(2026, 11, 1), utc(2026, 11, 3)))
    assert in_range == deals[:2]
    assert db.call(lambda tx: tx.deals.list(account.id, trades_only=True)) == deals[1:]
    assert db.call(lambda tx: tx.deals.latest_time(999)) is None


# ----------------------------------------------------------------------------- snapshots, visits


def test_record_visit_stores_deals_snapshot_pnl_and_marks_the_account(db: Database) -> None:
    account = add(db)
    taken = utc(2026, 12, 1, 22, 30)
    deals = [
        deal(utc(2026, 11, 1), type=DealType.BALANCE, profit=10_000.0),
        deal(utc(2026, 11, 30, 23), profit=75.25, commission=-2.0),
        deal(utc(2026, 12, 1, 22, 10), profit=40.0, commission=-1.0, swap=0.5),
    ]
    seen = snapshot(taken, positions=(position("EURUSD", Side.BUY, 0.5, 1.1, 12.0, -0.5),))
    calendar = PnLCalendar(utc_offset=timedelta(hours=2))

    visit = db.call(lambda tx: tx.record_visit(account.id, seen, deals[:2], calendar=calendar))
    assert visit is not None
    again = db.call(lambda tx: tx.record_visit(account.id, seen, deals[1:], calendar=calendar))
    assert again is not None and (again.deals.inserted, again.deals.unchanged) == (1, 1)

    pnl = again.snapshot.pnl
    assert (pnl.day, pnl.week, pnl.month, pnl.total) == pytest.approx((39.5, 112.75, 112.75, 112.75))
    assert again.snapshot.account_key == "5001@Broker-Demo"
    assert again.account.status is AccountStatus.OK and again.account.status_reason == ""
    assert again.account.last_snapshot_at == taken == again.account.last_deal_sync_at
    assert db.call(lambda tx: tx.snapshots.latest(account.id)) == again.snapshot
    assert db.call(lambda tx: tx.deals.count(account.id)) == 3


def test_a_visit_to_a_removed_account_stores_nothing(db: Database) -> None:
    account = add(db)
    db.call(lambda tx: tx.accounts.delete(account.id))
    assert db.call(lambda tx: tx.record_visit(account.id, snapshot(T0), [deal(T0)])) is None
    assert db.call(lambda tx: (tx.snapshots.count(), tx.deals.count())) == (0, 0)


def test_latest_snapshots_of_all_accounts_carry_positions_for_exposure(db: Database) -> None:
    a, b, c = add(db), add(db, login=5002), add(db, login=5003, enabled=False)
    eur_long = position("EURUSD", Side.BUY, 1.0, 1.1000, 50.0, -1.0)
    eur_short = position("EURUSD", Side.SELL, 0.4, 1.1050, -20.0)
    gold = position("XAUUSD", Side.BUY, 0.1, 2400.0, 7.5)

    def store(tx: Tx) -> None:
        tx.snapshots.add(a.id, snapshot(T0, positions=(gold,)))
        tx.snapshots.add(a.id, snapshot(T0 + timedelta(minutes=5), positions=(eur_long,)))
        tx.snapshots.add(b.id, snapshot(T0, positions=(eur_short, gold)))
        tx.snapshots.add(c.id, snapshot(T0))

    db.call(store)
    latest = db.call(lambda tx: tx.snapshots.latest_all())
    assert set(latest) == {a.id, b.id, c.id}
    assert latest[a.id].positions == (eur_long,) and latest[a.id].taken_at == T0 + timedelta(minutes=5)
    assert latest[b.id].positions == (eur_short, gold)
    assert latest[b.id].account_key == "5002@Broker-Demo"
    assert set(db.call(lambda tx: tx.snapshots.latest_all(enabled_only=True))) == {a.id, b.id}
    assert db.call(lambda tx: tx.snapshots.latest(999)) is None


def test_history_for_an_equity_curve(db: Database) -> None:
    account = add(db)
    times = [T0 + timedelta(minutes=m) for m in range(10)]
    db.call(
        lambda tx: [tx.snapshots.add(account.id, snapshot(t, equity=float(i))) for i, t in enumerate(times)]
    )
    curve = db.call(lambda tx: tx.snapshots.history(account.id))
    assert [s.equity for s in curve] == [float(i) for i in range(10)]
    newest = db.call(lambda tx: tx.snapshots.history(account.id, limit=3))
    assert [s.taken_at for s in newest] == times[-3:]
    ranged = db.call(lambda tx: tx.snapshots.history(account.id, since=times[2], until=times[4]))
    assert [s.taken_at for s in ranged] == times[2:5]


# ----------------------------------------------------------------------------- retention


def test_retention_thins_old_snapshots_expires_older_ones_and_keeps_each_latest(db: Database) -> None:
    busy, idle = add(db), add(db, login=5002)
    now = utc(2026, 12, 1, 12)
    policy = RetentionPolicy(
        keep_all=timedelta(days=7), thin_every=timedelta(hours=1), keep_for=timedelta(days=30)
    )

    def store(tx: Tx) -> None:
        start = now - timedelta(days=40)
        for step in range(40 * 24 * 6):  # every 10 minutes for 40 days
            tx.snapshots.add(busy.id, snapshot(start + timedelta(minutes=10 * step)))
        tx.snapshots.add(idle.id, snapshot(now - timedelta(days=100)))  # its only one, long ago

    db.call(store)
    result = db.call(lambda tx: tx.snapshots.prune(now, policy))
    history = db.call(lambda tx: tx.snapshots.history(busy.id))
    recent = [s for s in history if s.taken_at >= now - timedelta(days=7)]
    thinned = [s for s in history if s.taken_at < now - timedelta(days=7)]

    assert len(recent) == 7 * 24 * 6  # untouched
    assert len(thinned) == 23 * 24  # one an hour for days 8..30
    assert all(s.taken_at.minute == 50 for s in thinned)  # the last of each hour
    assert min(s.taken_at for s in history) >= now - timedelta(days=30)
    assert result.expired == 10 * 24 * 6 and result.thinned == 23 * 24 * 5
    assert [s.taken_at for s in db.call(lambda tx: tx.snapshots.history(idle.id))] == [
        now - timedelta(days=100)
    ]
    assert db.call(lambda tx: tx.snapshots.prune(now, policy)) == type(result)(0, 0)  # idempotent


def test_retention_can_keep_thinned_history_for_ever(db: Database) -> None:
    account = add(db)
    now = utc(2026, 12, 1)
    policy = RetentionPolicy(keep_all=timedelta(days=1), thin_every=timedelta(days=1), keep_for=None)
    db.call(
        lambda tx: [tx.snapshots.add(account.id, snapshot(now - timedelta(hours=h))) for h in range(24 * 400)]
    )
    db.call(lambda tx: tx.snapshots.prune(now, policy))
    assert db.call(lambda tx: tx.snapshots.count(account.id)) == 24 + 399 + 1  # last day, then one a day


def test_a_snapshot_stored_again_replaces_the_first(db: Database) -> None:
    account = add(db)
    first = db.call(lambda tx: tx.snapshots.add(account.id, snapshot(T0, equity=1.0)))
    again = db.call(lambda tx: tx.snapshots.add(account.id, snapshot(T0, equity=2.0)))
    other = db.call(lambda tx: tx.snapshots.add(account.id, snapshot(T0 + timedelta(seconds=1))))
    assert again == first != other
    assert [s.equity for s in db.call(lambda tx: tx.snapshots.history(account.id))] == [2.0, 10_000.0]


def test_a_visit_stored_twice_stores_nothing_twice(db: Database) -> None:
    # A carousel visit retried after an ambiguous failure (its commit lost, its worker killed) stores
    # the same snapshot and deals again: one row per account and deal, one snapshot.
    account = add(db)
    seen, deals = snapshot(T0), [deal(T0 - timedelta(minutes=i), profit=float(i)) for i in range(3)]
    first = db.call(lambda tx: tx.record_visit(account.id, seen, deals))
    second = db.call(lambda tx: tx.record_visit(account.id, seen, deals))
    assert first is not None and second is not None
    assert (second.deals.inserted, second.deals.unchanged) == (0, 3)
    assert db.call(lambda tx: (tx.snapshots.count(account.id), tx.deals.count(account.id))) == (1, 3)
    assert second.snapshot == first.snapshot


def test_many_deals_at_once_some_known_some_changed_some_repeated(db: Database) -> None:
    account = add(db)
    known = [deal(T0 + timedelta(seconds=i), ticket=i, profit=1.0) for i in range(1_200)]
    db.call(lambda tx: tx.deals.upsert(account.id, known))
    batch = [
        *(replace(d, profit=2.0) for d in known[:700]),  # changed
        *known[700:],  # unchanged
        *(deal(T0, ticket=5_000 + i) for i in range(600)),  # new
        replace(known[0], profit=3.0),  # the same ticket again, later in the batch: it ends as this
    ]
    result = db.call(lambda tx: tx.deals.upsert(account.id, batch))
    assert (result.inserted, result.updated, result.unchanged) == (600, 701, 500)
    assert db.call(lambda tx: tx.deals.count(account.id)) == 1_800
    stored = {d.ticket: d.profit for d in db.call(lambda tx: tx.deals.list(account.id))}
    assert (stored[0], stored[1], stored[699], stored[700], stored[5_000]) == (3.0, 2.0, 2.0, 1.0, 0.0)
