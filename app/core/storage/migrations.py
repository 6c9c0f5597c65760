"""The database schema as an ordered list of migrations; ``PRAGMA user_version`` is the version.

Rules, so that an upgrade never loses data:

* Migrations are append-only. Never edit one that has shipped; add the next.
* An upgrade runs all pending migrations in one transaction: the file ends up at the latest version
  or exactly as it was. A file that already holds a schema is first copied aside
  (``<db>.v<old>.bak``).
* A file from a newer app (a higher version than this code knows) is refused, never touched.
* Migrations run with foreign keys off (so a table can be rebuilt under the tables that reference
  it; the database turns them on afterwards), and :func:`migrate` commits only if
  ``PRAGMA foreign_key_check`` is clean.
* Times are integer milliseconds since the epoch, UTC; money and volumes are REAL.
* ``tests/core/storage/test_migrations.py`` upgrades a populated database from every older version
  and compares the result with a fresh one: give it fixture rows for each new version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.storage.errors import SchemaTooNewError


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    summary: str
    statements: tuple[str, ...] = ()
    data: Callable[[sqlite3.Connection], None] | None = None  # for changes SQL alone cannot make


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "the account registry",
        (
            """
            CREATE TABLE accounts (
                id                INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids are never reused
                login             INTEGER NOT NULL CHECK (login > 0),
                server            TEXT    NOT NULL COLLATE NOCASE CHECK (length(server) > 0),
                broker            TEXT    NOT NULL DEFAULT '',
                alias             TEXT    NOT NULL DEFAULT '',
                terminal_id       TEXT,
                enabled           INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
                status            TEXT    NOT NULL DEFAULT 'pending'
                                          CHECK (status IN ('pending', 'ok', 'error')),
                status_reason     TEXT    NOT NULL DEFAULT '',
                last_snapshot_ms  INTEGER,
                last_deal_sync_ms INTEGER,
                created_ms        INTEGER NOT NULL,
                updated_ms        INTEGER NOT NULL,
                UNIQUE (login, server)
            ) STRICT
            """,
        ),
    ),
    Migration(
        2,
        "snapshot history (equity curves; open positions for exposure)",
        (
            """
            CREATE TABLE snapshots (
                id             INTEGER PRIMARY KEY,
                account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                taken_ms       INTEGER NOT NULL,
                balance        REAL    NOT NULL,
                equity         REAL    NOT NULL,
                margin         REAL    NOT NULL,
                margin_free    REAL    NOT NULL,
                margin_level   REAL    NOT NULL,
                currency       TEXT    NOT NULL,
                open_positions INTEGER NOT NULL,
                open_pl        REAL    NOT NULL,
                pending_orders INTEGER NOT NULL,
                day_pl         REAL    NOT NULL,
                week_pl        REAL    NOT NULL,
                month_pl       REAL    NOT NULL,
                total_pl       REAL    NOT NULL,
                positions      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(positions))
            ) STRICT
            """,
            "CREATE INDEX snapshots_by_account_time ON snapshots (account_id, taken_ms)",
        ),
    ),
    Migration(
        3,
        "deals, one row per account and ticket",
        (
            """
            CREATE TABLE deals (
                account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                ticket       INTEGER NOT NULL,
                order_ticket INTEGER NOT NULL,
                position_id  INTEGER NOT NULL,
                symbol       TEXT    NOT NULL,
                type         TEXT    NOT NULL,
                entry        TEXT    NOT NULL,
                volume       REAL    NOT NULL,
                price        REAL    NOT NULL,
                profit       REAL    NOT NULL,
                swap         REAL    NOT NULL,
                commission   REAL    NOT NULL,
                fee          REAL    NOT NULL,
                time_ms      INTEGER NOT NULL,
                magic        INTEGER NOT NULL,
                comment      TEXT    NOT NULL,
                PRIMARY KEY (account_id, ticket)
            ) STRICT, WITHOUT ROWID
            """,
            "CREATE INDEX deals_by_account_time ON deals (account_id, time_ms)",
        ),
    ),
    Migration(
        4,
        "client order ids (one order per id, also across restarts) and risk kill switches",
        (
            """
            CREATE TABLE client_orders (
                client_id   TEXT    PRIMARY KEY,
                account     TEXT    NOT NULL,
                action      TEXT    NOT NULL,
                tag         TEXT    NOT NULL,
                state       TEXT    NOT NULL CHECK (state IN ('sending', 'done', 'rejected', 'unknown')),
                request     TEXT    NOT NULL CHECK (json_valid(request)),
                result      TEXT    CHECK (result IS NULL OR json_valid(result)),
                message     TEXT    NOT NULL DEFAULT '',
                code        INTEGER,
                created_ms  INTEGER NOT NULL,
                updated_ms  INTEGER NOT NULL
            ) STRICT, WITHOUT ROWID
            """,
            "CREATE INDEX client_orders_by_time ON client_orders (created_ms)",
            """
            CREATE TABLE kill_switches (
                account     TEXT    PRIMARY KEY COLLATE NOCASE,
                tripped_ms  INTEGER NOT NULL,
                loss        REAL    NOT NULL,
                reason      TEXT    NOT NULL
            ) STRICT, WITHOUT ROWID
            """,
        ),
    ),
)

MIGRATIONS += (
    Migration(
        5,
        "client orders: when each was handed to order_send, and what reconciliation found",
        (
            # NULL: order_send was never called for it, so an order cut off by a crash provably never left
            "ALTER TABLE client_orders ADD COLUMN sent_ms INTEGER",
            # NULL, or not_sent (the id may be sent again) / filled / pending / done / rejected / unknown
            "ALTER TABLE client_orders ADD COLUMN verdict TEXT",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def backup_path(db_path: Path, version: int) -> Path:
    return db_path.with_name(f"{db_path.name}.v{version}.bak")


def migrate(
    conn: sqlite3.Connection,
    *,
    target: int | None = None,
    backup_to: Callable[[int], Path] | None = None,
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> int:
    """Bring the database up to ``target`` (default: the last migration); return the version it had
    before.

    ``conn`` must be in autocommit mode (``isolation_level=None``). With ``backup_to``, a database
    that already holds a schema is first copied to ``backup_to(its version)``.
    """
    _check_order(migrations)
    known = migrations[-1].version if migrations else 0
    target = known if target is None else target
    current = _checked_version(conn, known)
    if not any(current < m.version <= target for m in migrations):
        return current
    if backup_to is not None and current > 0:
        _backup(conn, backup_to(current))  # outside the transaction: a backup inside it would wait on itself
    conn.execute("BEGIN IMMEDIATE")  # also serialises two processes opening the same file at once
    try:
        current = _checked_version(conn, known)  # another process may have upgraded it meanwhile
        for migration in (m for m in migrations if current < m.version <= target):
            for statement in migration.statements:
                conn.execute(statement)
            if migration.data is not None:
                migration.data(conn)
            conn.execute(f"PRAGMA user_version = {int(migration.version)}")
        violations = conn.execute("PRAGMA foreign_key_check").fetchall()
        if violations:
            raise sqlite3.IntegrityError(f"migration left foreign key violations: {violations[:5]}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return current


def check_not_newer(conn: sqlite3.Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """The file's schema version; :class:`SchemaTooNewError` if this code does not know it. Reads
    only: call it before changing anything about a file (even its journal mode)."""
    return _checked_version(conn, migrations[-1].version if migrations else 0)


def _checked_version(conn: sqlite3.Connection, known: int) -> int:
    current = schema_version(conn)
    if current > known:
        raise SchemaTooNewError(
            f"the database was written by a newer mt5-console (schema version {current}; this one knows "
            f"up to {known}): upgrade the app, or use another --data-dir"
        )
    return current


def _backup(conn: sqlite3.Connection, destination: Path) -> None:
    """Copy the database (as of this transaction) to ``destination``, replacing an older copy."""
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(partial) as copy:
        conn.backup(copy)
    copy.close()
    partial.replace(destination)


def _check_order(migrations: tuple[Migration, ...]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1, 2, 3, ... in order, not {versions}")
