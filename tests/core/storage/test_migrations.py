"""Schema migrations: a populated database upgrades from every older version without losing a row."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.storage import (
    LATEST_VERSION,
    MIGRATIONS,
    Database,
    Migration,
    SchemaTooNewError,
    database_path,
    migrate,
    schema_version,
)
from app.core.storage.migrations import backup_path

MS = 1_780_000_000_000  # a time, in ms


def _seed_v1(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO accounts (id, login, server, broker, alias, terminal_id, enabled, status, "
        "status_reason, created_ms, updated_ms) VALUES "
        "(1, 5001, 'Broker-Demo', 'Broker', 'main', 'T1', 1, 'ok', '', ?, ?),"
        "(2, 5002, 'Broker-Live', '', '', NULL, 0, 'error', 'invalid account', ?, ?)",
        (MS, MS, MS, MS),
    )


def _seed_v2(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO snapshots (account_id, taken_ms, balance, equity, margin, margin_free, margin_level, "
        "currency, open_positions, open_pl, pending_orders, day_pl, week_pl, month_pl, total_pl, positions) "
        "VALUES (1, ?, 1000, 1010, 50, 960, 2020, 'USD', 1, 10, 0, 1, 2, 3, 4, "
        """'[{"symbol":"EURUSD","side":"buy","volume":0.1,"price_open":1.1,"profit":10,"swap":0,"ticket":9}]')""",
        (MS,),
    )


def _seed_v3(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO deals VALUES (1, 77, 78, 79, 'EURUSD', 'sell', 'out', 0.1, 1.2, 12.5, -0.1, -0.7, 0, ?, "
        "0, 'tp')",
        (MS,),
    )


def _seed_v4(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO client_orders (client_id, account, action, tag, state, request, result, message, code, "
        "created_ms, updated_ms) VALUES ('c1', '5001@Broker-Demo', 'deal', '#AAAAAAAAAA', 'rejected', "
        """'{"action": "deal"}', NULL, 'INVALID_STOPS', 10016, ?, ?)""",
        (MS, MS),
    )
    conn.execute("INSERT INTO kill_switches VALUES ('5001@Broker-Demo', ?, 250.0, 'daily loss')", (MS,))


def _seed_v5(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO client_orders (client_id, account, action, tag, state, request, result, message, code, "
        "created_ms, updated_ms, sent_ms, verdict) VALUES ('c2', '5001@Broker-Demo', 'deal', '#BBBBBBBBBB', "
        """'unknown', '{"action": "deal"}', NULL, '', NULL, ?, ?, ?, 'unknown')""",
        (MS, MS, MS),
    )


# One entry per migration: rows that exercise what it added. A new migration needs one here.
SEEDS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _seed_v1,
    2: _seed_v2,
    3: _seed_v3,
    4: _seed_v4,
    5: _seed_v5,
}


def _database_at(path: Path, version: int) -> None:
    """A database file at schema ``version``, holding the fixture rows of every version up to it."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=version)
    for seeded in range(1, version + 1):
        SEEDS[seeded](conn)
    conn.close()


def _schema(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall()
    conn.close()
    return rows


def test_every_migration_has_fixture_rows() -> None:
    assert set(SEEDS) == {m.version for m in MIGRATIONS}
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


@pytest.mark.parametrize("old", range(LATEST_VERSION))
def test_upgrade_from_every_older_version(old: int, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    with Database(fresh):
        pass
    path = tmp_path / "old.db"
    _database_at(path, old)

    database = Database(path)
    with database:
        assert database.previous_version == old
        accounts = database.call(lambda tx: tx.accounts.list())
        snapshots = database.call(lambda tx: tx.snapshots.history(1))
        deals = database.call(lambda tx: tx.deals.list(1))
    assert _schema(path) == _schema(fresh)
    with sqlite3.connect(path) as conn:
        assert schema_version(conn) == LATEST_VERSION
    conn.close()

    if old >= 1:
        assert [(a.login, a.server, a.alias, a.terminal_id, a.enabled) for a in accounts] == [
            (5001, "Broker-Demo", "main", "T1", True),
            (5002, "Broker-Live", "", None, False),
        ]
        assert accounts[1].status_reason == "invalid account"
        assert backup_path(path, old).is_file()  # the file as it was, kept aside
    else:
        assert accounts == []
        assert not backup_path(path, old).exists()
    if old >= 2:
        assert [(s.equity, s.pnl.total, s.positions[0].symbol) for s in snapshots] == [(1010, 4, "EURUSD")]
    if old >= 3:
        assert [(d.ticket, d.profit, d.comment) for d in deals] == [(77, 12.5, "tp")]
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT client_id, state, code FROM client_orders").fetchall()
        switches = conn.execute("SELECT account, loss FROM kill_switches").fetchall()
    conn.close()
    assert rows == ([("c1", "rejected", 10016)] if old >= 4 else [])
    assert switches == ([("5001@Broker-Demo", 250.0)] if old >= 4 else [])


def test_the_backup_holds_the_old_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _database_at(path, 1)
    with Database(path):
        pass
    with sqlite3.connect(backup_path(path, 1)) as copy:
        assert schema_version(copy) == 1
        assert copy.execute("SELECT login FROM accounts ORDER BY id").fetchall() == [(5001,), (5002,)]
    copy.close()


def test_a_database_from_a_newer_app_is_refused_and_left_alone(data_dir: Path) -> None:
    path = database_path(data_dir)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE future (x)")
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    before = path.read_bytes()
    database = Database(path)
    with pytest.raises(SchemaTooNewError, match="newer mt5-console"):
        database.open()
    assert not database.is_open
    assert path.read_bytes() == before


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _database_at(path, LATEST_VERSION)
    broken = (
        *MIGRATIONS,
        Migration(LATEST_VERSION + 1, "adds a column", ("ALTER TABLE accounts ADD COLUMN note TEXT",)),
        Migration(LATEST_VERSION + 2, "a typo", ("CREATE TABLE oops (",)),
    )
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, migrations=broken)
    assert schema_version(conn) == LATEST_VERSION
    assert "note" not in [row[1] for row in conn.execute("PRAGMA table_info(accounts)")]
    conn.close()


def test_migrations_must_be_numbered_in_order(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    with pytest.raises(ValueError, match="numbered"):
        migrate(conn, migrations=(MIGRATIONS[1], MIGRATIONS[0]))
    conn.close()
