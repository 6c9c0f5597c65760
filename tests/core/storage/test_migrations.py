"""Schema migrations: a populated database upgrades from every older schema without losing a row —
every Alembic revision on both backends, and every pre-Alembic SQLite file (``user_version`` 1-4) —
into exactly the schema a new database gets; a newer database is refused and left alone."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from app.core.storage import Database, SchemaTooNewError, database_path, head_revision, schema_state
from app.core.storage.backends import backend_for
from app.core.storage.migrate import (
    ALEMBIC_USER_VERSION,
    LEGACY_TABLES,
    MIGRATIONS_DIR,
    backup_path,
    legacy_revision,
    migrate,
    script_directory,
)
from app.core.storage.schema import metadata
from app.models import NewAccount
from tests.core.storage.legacy_schema import LEGACY_LATEST, legacy_database
from tests.support.factories import utc

MS = 1_780_000_000_000  # a time, in ms


def _seed_accounts(conn: Connection, at: str) -> None:
    conn.execute(
        text(
            "INSERT INTO accounts (id, login, server, broker, alias, terminal_id, enabled, status, "
            "status_reason, created_ms, updated_ms) VALUES "
            "(1, 5001, 'Broker-Demo', 'Broker', 'main', 'T1', 1, 'ok', '', :ms, :ms),"
            "(2, 5002, 'Broker-Live', '', '', NULL, 0, 'error', 'invalid account', :ms, :ms),"
            "(3, 5003, 'Broker-Gone', '', '', NULL, 1, 'pending', '', :ms, :ms)"
        ),
        {"ms": MS},
    )
    conn.execute(text("DELETE FROM accounts WHERE id = 3"))  # its id must never be given again
    if conn.dialect.name == "postgresql":  # explicit ids do not move an identity on: as the app would
        conn.execute(text("SELECT setval(pg_get_serial_sequence('accounts', 'id'), 3)"))


def _seed_snapshots(conn: Connection, at: str) -> None:
    # The same moment stored twice, where the schema allowed it (before r0005 made that one row).
    for equity in (1005, 1010) if at < "0005" else (1010,):
        conn.execute(
            text(
                "INSERT INTO snapshots (account_id, taken_ms, balance, equity, margin, margin_free, "
                "margin_level, currency, open_positions, open_pl, pending_orders, day_pl, week_pl, "
                "month_pl, total_pl, positions) "
                "VALUES (1, :ms, 1000, :equity, 50, 960, 2020, 'USD', 1, 10, 0, 1, 2, 3, 4, :positions)"
            ),
            {
                "ms": MS,
                "equity": equity,
                "positions": '[{"symbol":"EURUSD","side":"buy","volume":0.1,"price_open":1.1,"profit":10,'
                '"swap":0,"ticket":9}]',
            },
        )


def _seed_deals(conn: Connection, at: str) -> None:
    conn.execute(
        text(
            "INSERT INTO deals VALUES "
            "(1, 77, 78, 79, 'EURUSD', 'sell', 'out', 0.1, 1.2, 12.5, -0.1, -0.7, 0, :ms, 0, 'tp')"
        ),
        {"ms": MS},
    )


def _seed_orders_and_switches(conn: Connection, at: str) -> None:
    conn.execute(
        text(
            "INSERT INTO client_orders (client_id, account, action, tag, state, request, result, message, "
            "code, created_ms, updated_ms) VALUES ('c1', '5001@Broker-Demo', 'deal', '#AAAAAAAAAA', "
            """'rejected', '{"action": "deal"}', NULL, 'INVALID_STOPS', 10016, :ms, :ms)"""
        ),
        {"ms": MS},
    )
    conn.execute(
        text("INSERT INTO kill_switches VALUES ('5001@Broker-Demo', :ms, 250.0, 'daily loss')"), {"ms": MS}
    )


def _seed_second_snapshot(conn: Connection, at: str) -> None:
    conn.execute(
        text(
            "INSERT INTO snapshots (account_id, taken_ms, balance, equity, margin, margin_free, "
            "margin_level, currency, open_positions, open_pl, pending_orders, day_pl, week_pl, month_pl, "
            "total_pl) "
            "VALUES (2, :ms, 500, 500, 0, 500, 0, 'EUR', 0, 0, 0, 0, 0, 0, 0)"
        ),
        {"ms": MS + 1},
    )


def _seed_order_verdicts(conn: Connection, at: str) -> None:
    conn.execute(
        text(
            "INSERT INTO client_orders (client_id, account, action, tag, state, request, result, message, "
            "code, created_ms, updated_ms, sent_ms, verdict) VALUES ('c2', '5001@Broker-Demo', 'deal', "
            """'#BBBBBBBBBB', 'unknown', '{"action": "deal"}', NULL, '', NULL, :ms, :ms, :ms, 'unknown')"""
        ),
        {"ms": MS},
    )


def _seed_nodes_and_cycles(conn: Connection, at: str) -> None:
    conn.execute(
        text(
            "INSERT INTO nodes (name, host, terminals, started_ms, seen_ms) "
            "VALUES ('n1', 'h', '[\"sim-1\"]', :ms, :ms)"
        ),
        {"ms": MS},
    )
    conn.execute(text("INSERT INTO node_accounts VALUES ('n1', 1)"))
    conn.execute(
        text("INSERT INTO carousel_control (id, running, changed_ms) VALUES (1, 1, :ms)"), {"ms": MS}
    )
    conn.execute(text("INSERT INTO cycles (cycle, started_ms) VALUES (1, :ms)"), {"ms": MS})
    conn.execute(
        text("INSERT INTO cycle_visits (cycle, account_id, position, state) VALUES (1, 1, 0, 'queued')")
    )
    conn.execute(text("INSERT INTO visit_retries VALUES (2, 1, :ms)"), {"ms": MS})


def _seed_alerts(conn: Connection, at: str) -> None:
    conn.execute(
        text(
            "INSERT INTO alerts (symbol, condition, price, repeat, note, created_by, created_ms, fired_ms, "
            "fired_price, fire_count) VALUES ('EURUSD', 'bid_above', 1.085, 1, 'breakout', 'gui', :ms, :ms, "
            "1.0851, 2)"
        ),
        {"ms": MS},
    )


def _seed_users(conn: Connection, at: str) -> None:
    conn.execute(
        text(
            "INSERT INTO users (id, username, password_hash, role, accounts, version, created_ms, "
            "updated_ms) VALUES (1, 'Ann', '$argon2id$fake', 'viewer', '[1]', 3, :ms, :ms),"
            "(2, 'bob', '$argon2id$fake', 'trader', NULL, 1, :ms, :ms)"
        ),
        {"ms": MS},
    )
    conn.execute(
        text(
            "INSERT INTO api_keys (id, prefix, hash, name, role, accounts, created_by, created_ms, "
            "expires_ms, revoked_ms, last_used_ms) VALUES "
            "(1, 'mt5c_abcdefgh', 'ff00', 'grafana', 'viewer', '[1, 2]', 'cli', :ms, NULL, NULL, :ms)"
        ),
        {"ms": MS},
    )
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), 2)"))
        conn.execute(text("SELECT setval(pg_get_serial_sequence('api_keys', 'id'), 1)"))


def _seed_signals(conn: Connection, at: str) -> None:
    conn.execute(
        text(
            "INSERT INTO signals (uuid, source, action, symbol, side, volume, sl, tp, confidence, mode, "
            "status, message, ticket, validators, signal, created_ms, updated_ms, expires_ms) VALUES "
            "('s1', 'webhook:tv', 'buy', 'EURUSD', 'buy', 0.1, NULL, 1.2, 0.9, 'auto', 'executed', "
            "'DONE: order 5', 5, :validators, :signal, :ms, :ms, NULL)"
        ),
        {
            "ms": MS,
            "validators": '[{"name":"symbol","type":"rule","approved":true,"confidence":null,'
            '"reason":"ok","timestamp":"2026-05-28T20:26:40Z"}]',
            "signal": '{"uuid":"s1","source":"webhook:tv","action":"buy","symbol":"EURUSD","volume":0.1,'
            '"tp":1.2,"confidence":0.9,"timestamp":"2026-05-28T20:26:40Z","comment":""}',
        },
    )
    conn.execute(
        text(
            "INSERT INTO webhooks (name, secret_sha256, mode, symbols, volume, symbol_map, created_ms, "
            "updated_ms) VALUES ('tv', 'ab12', 'auto', :symbols, 0.1, :map, :ms, :ms)"
        ),
        {"ms": MS, "symbols": '["EURUSD"]', "map": '{"FX:EURUSD": "EURUSD"}'},
    )
    conn.execute(
        text(
            "INSERT INTO strategies (id, kind, symbol, timeframe, params, enabled, mode, volume, updated_ms) "
            """VALUES ('sma-eu', 'sma_cross', 'EURUSD', 'M1', '{"fast": 5}', 1, 'confirm', 0.01, :ms)"""
        ),
        {"ms": MS},
    )


def _seed_trailing_stops(conn: Connection, at: str) -> None:
    conn.execute(
        text(
            "INSERT INTO trailing_stops (account, ticket, points, created_by, updated_ms) "
            "VALUES ('5001@Broker-Demo', 77, 20, 'gui', :ms)"
        ),
        {"ms": MS},
    )


# One entry per revision: rows that exercise what it added, given the revision the database is at.
# A new migration needs one here.
SEEDS: dict[str, Callable[[Connection, str], None]] = {
    "0001": _seed_accounts,
    "0002": _seed_snapshots,
    "0003": _seed_deals,
    "0004": _seed_orders_and_switches,
    "0005": _seed_second_snapshot,
    "0006": _seed_order_verdicts,
    "0007": _seed_alerts,
    "0008": _seed_signals,
    "0009": _seed_users,
    "0010": _seed_nodes_and_cycles,
    "0011": _seed_trailing_stops,
}
REVISIONS = list(SEEDS)


def _seed_up_to(conn: Connection, revision: str | None) -> None:
    for name in REVISIONS[: 0 if revision is None else REVISIONS.index(revision) + 1]:
        SEEDS[name](conn, revision or "")


def _database_at(target: Path | str, revision: str | None) -> None:
    """A database at Alembic ``revision`` (None: empty), holding the fixture rows up to it."""
    backend = backend_for(target)
    engine = backend.create_engine()
    with engine.connect() as conn:
        backend.prepare(conn)
        if revision is not None:
            migrate(conn, backend, target=revision)
        with conn.begin():
            _seed_up_to(conn, revision)
    engine.dispose()


def _legacy_at(path: Path, version: int) -> None:
    """A pre-Alembic file at ``version`` holding the fixture rows of every version up to it."""
    legacy_database(path, version)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.close()
    backend = backend_for(path)
    engine = backend.create_engine()
    with engine.connect() as sa_conn, sa_conn.begin():
        _seed_up_to(sa_conn, legacy_revision(version) if version else None)
    engine.dispose()


def _sqlite_schema(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall()
    conn.close()
    return rows


def _check_rows(database: Database, seeded: int) -> None:
    """The fixture rows of the first ``seeded`` revisions are all there, read through the stores."""
    accounts = database.call(lambda tx: tx.accounts.list())
    snapshots = database.call(lambda tx: [tx.snapshots.history(1), tx.snapshots.history(2)])
    deals = database.call(lambda tx: tx.deals.list(1))
    switches = database.call(lambda tx: tx.kill_switches.all())
    orders = database.call(
        lambda tx: tx.conn.execute(text("SELECT client_id, state, code FROM client_orders")).all()
    )
    if seeded >= 1:
        assert [(a.id, a.login, a.server, a.alias, a.terminal_id, a.enabled) for a in accounts] == [
            (1, 5001, "Broker-Demo", "main", "T1", True),
            (2, 5002, "Broker-Live", "", None, False),
        ]
        assert accounts[1].status_reason == "invalid account"
        fresh = database.call(lambda tx: tx.accounts.insert(NewAccount(6000, "New"), utc(2026, 1, 1)))
        assert fresh.id == 4  # not 3: that one was given before the upgrade
        assert database.call(lambda tx: tx.accounts.find(5001, "BROKER-DEMO")) == accounts[0]
    else:
        assert accounts == []
    if seeded >= 2:  # the moment stored twice is one snapshot now: the last written
        assert [(s.equity, s.pnl.total, s.positions[0].symbol) for s in snapshots[0]] == [(1010, 4, "EURUSD")]
    if seeded >= 3:
        assert [(d.ticket, d.profit, d.comment) for d in deals] == [(77, 12.5, "tp")]
    expected_orders = [("c1", "rejected", 10016)] if seeded >= 4 else []
    expected_orders += [("c2", "unknown", None)] if seeded >= 6 else []
    assert sorted(tuple(row) for row in orders) == expected_orders
    assert [(s.account, s.loss) for s in switches] == ([("5001@Broker-Demo", 250.0)] if seeded >= 4 else [])
    assert [s.currency for s in snapshots[1]] == (["EUR"] if seeded >= 5 else [])
    stored_alerts = database.call(lambda tx: tx.alerts.all())
    seeded_alerts = seeded > REVISIONS.index("0007")
    assert [(a.symbol, a.condition, a.repeat, a.fire_count) for a in stored_alerts] == (
        [("EURUSD", "bid_above", True, 2)] if seeded_alerts else []
    )
    nodes = database.call(lambda tx: tx.nodes.all())
    seeded_nodes = seeded > REVISIONS.index("0010")
    assert [(n.name, n.terminals, n.accounts) for n in nodes] == (
        [("n1", ("sim-1",), frozenset({1}))] if seeded_nodes else []
    )
    assert database.call(lambda tx: tx.cycles.control().running) == seeded_nodes
    people = database.call(lambda tx: tx.users.list())
    keys = database.call(lambda tx: tx.api_keys.list())
    if seeded > REVISIONS.index("0009"):
        assert [(u.username, u.role.value, u.scope.to_json(), u.version) for u in people] == [
            ("Ann", "viewer", [1], 3),
            ("bob", "trader", None, 1),
        ]
        assert database.call(lambda tx: tx.users.get("ANN")) == people[0]  # names ignore case
        assert [(k.prefix, k.name, k.scope.to_json(), k.revoked_at) for k in keys] == [
            ("mt5c_abcdefgh", "grafana", [1, 2], None)
        ]
    else:
        assert people == [] and keys == []
    _check_signal_rows(database, seeded > REVISIONS.index("0008"))
    trailing = database.call(lambda tx: tx.trailing.all())
    assert trailing == ({("5001@Broker-Demo", 77): 20} if seeded > REVISIONS.index("0011") else {})


def _check_signal_rows(database: Database, seeded: bool) -> None:
    signal = database.call(lambda tx: tx.signals.get("s1"))
    hooks = database.call(lambda tx: tx.webhooks.all())
    strategies = database.call(lambda tx: tx.strategies.all())
    if not seeded:
        assert (signal, hooks, strategies) == (None, [], [])
        return
    assert signal is not None
    assert (signal.status.value, signal.ticket, signal.signal.symbol, signal.validators[0].name) == (
        "executed", 5, "EURUSD", "symbol"
    )  # fmt: skip
    assert [(h.name, h.symbols, h.symbol_map) for h in hooks] == [
        ("tv", ("EURUSD",), {"FX:EURUSD": "EURUSD"})
    ]
    assert database.call(lambda tx: tx.webhooks.get("TV")) == hooks[0]  # names ignore case
    assert [(s.id, s.params, s.enabled) for s in strategies] == [("sma-eu", {"fast": 5}, True)]


def test_every_revision_has_fixture_rows_and_the_first_four_are_the_old_versions() -> None:
    script = script_directory()
    chain = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert chain == REVISIONS
    assert head_revision() == REVISIONS[-1]
    assert [legacy_revision(v) for v in LEGACY_TABLES] == REVISIONS[:LEGACY_LATEST]


@pytest.mark.parametrize("old", [None, *REVISIONS[:-1]])
def test_upgrade_from_every_older_revision(old: str | None, target: Path | str) -> None:
    _database_at(target, old)
    database = Database(target)
    with database:
        assert database.previous_schema is not None
        assert database.previous_schema.revision == old
        assert database.call(lambda tx: schema_state(tx.conn)).revision == head_revision()
        _check_rows(database, 0 if old is None else REVISIONS.index(old) + 1)
    if database.path is not None and old is not None:
        assert backup_path(database.path, database.previous_schema).is_file()  # the file as it was


@pytest.mark.parametrize("old", range(LEGACY_LATEST + 1))
def test_a_file_from_before_alembic_upgrades_into_the_schema_of_a_new_one(old: int, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    with Database(fresh):
        pass
    path = tmp_path / "old.db"
    _legacy_at(path, old)

    database = Database(path)
    with database:
        assert database.previous_schema is not None
        assert database.previous_schema.legacy_version == old
        _check_rows(database, old)
    assert _sqlite_schema(path) == _sqlite_schema(fresh)
    with sqlite3.connect(path) as conn:
        # The older apps read this as "a newer schema" and refuse the file rather than misread it.
        assert conn.execute("PRAGMA user_version").fetchone()[0] == ALEMBIC_USER_VERSION > LEGACY_LATEST
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
    assert backup_path(path, database.previous_schema).is_file() == (old > 0)


def test_the_backup_holds_the_old_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _legacy_at(path, 1)
    with Database(path):
        pass
    backup = path.with_name("old.db.v1.bak")
    with sqlite3.connect(backup) as copy:
        assert copy.execute("PRAGMA user_version").fetchone()[0] == 1
        assert copy.execute("SELECT login FROM accounts ORDER BY id").fetchall() == [(5001,), (5002,)]
    copy.close()


def test_the_schema_module_matches_the_migrations(db: Database) -> None:
    def differences(tx: object) -> list[object]:
        context = MigrationContext.configure(tx.conn)  # type: ignore[attr-defined]
        return list(compare_metadata(context, metadata))

    assert db.call(differences) == []


def _refused_untouched(target: Path | str, read: Callable[[], object]) -> None:
    before = read()
    database = Database(target)
    with pytest.raises(SchemaTooNewError, match="newer mt5-console"):
        database.open()
    assert not database.is_open
    assert read() == before


def test_a_file_from_a_newer_app_before_alembic_is_refused_and_left_alone(data_dir: Path) -> None:
    path = database_path(data_dir)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE future (x)")
        conn.execute(f"PRAGMA user_version = {LEGACY_LATEST + 1}")
    conn.close()
    _refused_untouched(path, path.read_bytes)


def test_a_database_at_an_unknown_revision_is_refused_and_left_alone(target: Path | str) -> None:
    _database_at(target, REVISIONS[-1])
    backend = backend_for(target)
    engine = backend.create_engine()
    with engine.connect() as conn, conn.begin():
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        conn.execute(text("CREATE TABLE future (x INTEGER)"))

    def snapshot() -> object:
        if isinstance(target, Path):
            return target.read_bytes()
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).all()

    _refused_untouched(target, snapshot)
    engine.dispose()


def _broken_migrations(tmp_path: Path) -> ScriptDirectory:
    """This app's migrations plus one that adds a column and one after it that fails."""
    versions = tmp_path / "migrations" / "versions"
    shutil.copytree(MIGRATIONS_DIR, tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    head = head_revision()
    (versions / "r9001_note.py").write_text(
        f'"""adds a column"""\nfrom alembic import op\nimport sqlalchemy as sa\nrevision = "9001"\n'
        f'down_revision = "{head}"\n\ndef upgrade():\n'
        '    op.add_column("accounts", sa.Column("note", sa.Text))\n',
        encoding="utf-8",
    )
    (versions / "r9002_typo.py").write_text(
        '"""a typo"""\nfrom alembic import op\nrevision = "9002"\ndown_revision = "9001"\n\n'
        'def upgrade():\n    op.execute("CREATE TABLE oops (")\n',
        encoding="utf-8",
    )
    return ScriptDirectory(str(tmp_path / "migrations"))


def test_a_failing_migration_leaves_the_database_as_it_was(target: Path | str, tmp_path: Path) -> None:
    _database_at(target, REVISIONS[-1])
    backend = backend_for(target)
    engine = backend.create_engine()
    with engine.connect() as conn:
        backend.prepare(conn)
        with pytest.raises((OperationalError, ProgrammingError)):
            migrate(conn, backend, script=_broken_migrations(tmp_path))
        assert schema_state(conn).revision == head_revision()
        columns = conn.execute(text("SELECT * FROM accounts")).keys()
        assert "note" not in columns
        conn.rollback()
    engine.dispose()
    with Database(target) as database:  # still opens, rows intact
        assert [a.login for a in database.call(lambda tx: tx.accounts.list())] == [5001, 5002]


def test_a_failing_adoption_of_an_old_file_leaves_it_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _legacy_at(path, LEGACY_LATEST)
    with sqlite3.connect(path) as conn:  # a row the new schema's CHECK refuses (the old one had none)
        conn.execute("PRAGMA ignore_check_constraints = ON")
        conn.execute("UPDATE accounts SET status = 'weird' WHERE id = 2")
    conn.close()
    before = _sqlite_schema(path)
    database = Database(path)
    with pytest.raises(Exception, match="CHECK constraint failed"):
        database.open()
    assert _sqlite_schema(path) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LEGACY_LATEST
        assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 2
    conn.close()


def test_processes_opening_a_new_database_at_once_migrate_it_once(target: Path | str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def open_and_add(login: int) -> None:
        try:
            start.wait(10)
            with Database(target) as database:
                database.call(lambda tx: tx.accounts.insert(NewAccount(login, "Demo"), utc(2026, 1, 1)))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    openers = [threading.Thread(target=open_and_add, args=(login,)) for login in (1, 2, 3)]
    for opener in openers:
        opener.start()
    for opener in openers:
        opener.join()
    assert errors == []
    with Database(target) as database:
        assert sorted(a.login for a in database.call(lambda tx: tx.accounts.list())) == [1, 2, 3]
        versions = database.call(
            lambda tx: tx.conn.execute(text("SELECT version_num FROM alembic_version")).all()
        )
    assert [tuple(v) for v in versions] == [(head_revision(),)]
